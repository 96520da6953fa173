"""What a call's templates see, built from plain values (the database side fills them in).

Every variable of :data:`ivr_scripts.render.VARIABLES` is always present with all its attributes, so a
template that mentions ``booth.number`` renders (as nothing) for a district committee member too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr_scripts.model import field_name
from ivr_scripts.render import VARIABLES


def _filled(name: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    attrs = VARIABLES[name] or frozenset()
    out: dict[str, Any] = {a: None for a in attrs}
    out.update(values or {})
    return out


def call_context(*, member: Mapping[str, Any] | None = None, committee: Mapping[str, Any] | None = None,
                 booth: Mapping[str, Any] | None = None, ac: Mapping[str, Any] | None = None,
                 district: Mapping[str, Any] | None = None, candidate: Mapping[str, Any] | None = None,
                 campaign_name: str | None = None, fields: Mapping[str, str] | None = None,
                 instructions: str | None = None, caller: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The template context of one call."""
    campaign = {"name": campaign_name}
    campaign.update({field_name(k): v for k, v in (fields or {}).items()})
    return {
        "member": _filled("member", member), "committee": _filled("committee", committee),
        "booth": _filled("booth", booth), "ac": _filled("ac", ac), "district": _filled("district", district),
        "candidate": _filled("candidate", candidate), "campaign": campaign, "answers": {},
        "instructions": instructions, "caller": _filled("caller", caller), "ticket": _filled("ticket", None),
    }


def sample_context(language: str = "hi") -> dict[str, Any]:
    """A made-up member of a booth committee, for previews and tests."""
    hindi = language == "hi"
    return call_context(
        member={"name": "रमेश कुमार" if hindi else "Ramesh Kumar", "post": "अध्यक्ष" if hindi else "president",
                "language": language, "phone_last4": "1234", "known": True},
        committee={"level": "booth", "name": "बूथ 45" if hindi else "Booth 45"},
        booth={"number": 45, "name": "शासकीय प्राथमिक शाला" if hindi else "Government Primary School",
               "status": "swing", "voters": 1120, "area": "वार्ड 12" if hindi else "Ward 12"},
        ac={"number": 152, "name": "भोपाल उत्तर" if hindi else "Bhopal Uttar"},
        district={"name": "भोपाल" if hindi else "Bhopal"},
        candidate={"name": "सुरेश शर्मा" if hindi else "Suresh Sharma", "party": "PARTY"},
        campaign_name="sample", fields={"programme": "जनसभा", "date": "5 नवंबर", "place": "लाल परेड मैदान",
                                        **_sample_count(hindi)},
        instructions=None, caller={"phone_last4": "1234", "known": True})


def _sample_count(hindi: bool) -> dict[str, str]:
    """A counting round's fields (the counting script): round 3 of a sheet of four parties."""
    names = ["सुरेश शर्मा (PARTY)" if hindi else "Suresh Sharma (PARTY)", "INC", "BSP", "NOTA"]
    return {"round": "3", "parties": str(len(names)),
            **{f"party{i}": names[i - 1] if i <= len(names) else f"{'दल' if hindi else 'party'} {i}"
               for i in range(1, 11)}}
