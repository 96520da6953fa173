"""A campaign's targets as its page shows them: searched and filtered (outcome, the rule holding one back,
AC, state), a page at a time, and each target's attempts with the answers given on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.errors import Invalid, NotFound
from db.campaigns import Attempt, Target, TargetState
from db.ivr import IvrAnswer, IvrCall
from db.models import Committee, Person, Unit, UnitKind
from db.operators import CallDisposition
from dialer.campaigns import booth_status_expr

PAGE = 50
NO_OUTCOME = "none"  # the disposition filter's value for targets not called yet


@dataclass(frozen=True)
class TargetFilter:
    """Empty fields filter nothing. ``search`` matches a name (either script) or the digits of a phone;
    ``disposition`` is the last outcome (or ``none``); ``rule`` the calling rule holding a target back."""

    search: str = ""
    disposition: str = ""
    rule: str = ""
    ac: int | None = None
    state: str = ""

    def as_query(self) -> dict[str, str]:
        """The filter as a page's query string items (empty ones left out)."""
        items = {"q": self.search, "disposition": self.disposition, "rule": self.rule,
                 "ac": str(self.ac) if self.ac else "", "state": self.state}
        return {k: v for k, v in items.items() if v}


committee_unit = aliased(Unit, name="committee_unit")
booth_unit = aliased(Unit, name="booth_unit")


def ac_of() -> Any:
    """SQL: the AC of a target's committee (its ``ac_id``, or the committee's own unit when it is an AC)."""
    return func.coalesce(committee_unit.ac_id, case((committee_unit.kind == UnitKind.ac, committee_unit.id)))


def _where(query: Select[Any], campaign_id: int, flt: TargetFilter) -> Select[Any]:
    """``query`` joined to each target's person, committee unit and booth, with the filter's conditions."""
    query = (query.join(Person, Person.id == Target.person_id)
             .outerjoin(Committee, Committee.id == Target.committee_id)
             .outerjoin(committee_unit, committee_unit.id == Committee.unit_id)
             .outerjoin(booth_unit, booth_unit.id == Target.booth_id)
             .where(Target.campaign_id == campaign_id))
    text = flt.search.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        found = [func.lower(Person.name).contains(text.lower(), autoescape=True),
                 func.lower(Person.name_alt).contains(text.lower(), autoescape=True)]
        if len(digits) >= 3:
            found += [Person.phone.contains(digits, autoescape=True),
                      Person.alt_phone.contains(digits, autoescape=True)]
        query = query.where(or_(*found))
    if flt.disposition == NO_OUTCOME:
        query = query.where(Target.last_disposition.is_(None))
    elif flt.disposition:
        query = query.where(Target.last_disposition == flt.disposition)
    if flt.rule:
        query = query.where(Target.blocked_rule == flt.rule)
    if flt.ac:
        query = query.where(ac_of() == flt.ac)
    if flt.state:
        if flt.state not in {s.value for s in TargetState}:
            raise Invalid(f"state '{flt.state}': one of {', '.join(s.value for s in TargetState)}", field="state")
        query = query.where(Target.state == flt.state)
    return query


def target_query(campaign_id: int, flt: TargetFilter) -> Select[Any]:
    """Target, person, committee unit, booth unit and AC id of each target the filter keeps, in id order."""
    return _where(select(Target, Person, committee_unit, booth_unit, ac_of().label("ac_id")).select_from(Target),
                  campaign_id, flt).order_by(Target.id)


def _label(unit: Unit | None) -> str | None:
    if unit is None:
        return None
    return f"{unit.number} {unit.name}" if unit.number is not None else unit.name


def target_row(target: Target, person: Person, committee: Unit | None, booth: Unit | None,
               ac_name: str | None) -> dict[str, Any]:
    return {"id": target.id, "person_id": person.id, "name": person.name, "name_alt": person.name_alt,
            "phone": person.phone, "committee": _label(committee),
            "level": committee.kind.value if committee else None,
            "booth": _label(booth), "booth_status": booth.status.value if booth else None, "ac": ac_name,
            "state": target.state.value, "tries": target.tries, "disposition": target.last_disposition,
            "held_back": target.blocked_by if target.state in (TargetState.queued, TargetState.removed) else None,
            "rule": target.blocked_rule, "next_at": target.next_at.isoformat() if target.next_at else None}


def target_page(session: Session, campaign_id: int, flt: TargetFilter, page: int = 1,
                per_page: int = PAGE) -> dict[str, Any]:
    """One page of the filtered targets, with how many there are in all."""
    query = target_query(campaign_id, flt)
    total = session.scalar(_where(select(func.count(Target.id)).select_from(Target), campaign_id, flt)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.execute(query.offset((page - 1) * per_page).limit(per_page)).all()
    names = ac_names(session, {r.ac_id for r in rows if r.ac_id})
    return {"total": total, "page": page, "pages": pages,
            "rows": [target_row(t, p, c, b, names.get(ac)) for t, p, c, b, ac in rows]}


def ac_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {uid: f"{number} {name}" if number is not None else name for uid, number, name in session.execute(
        select(Unit.id, Unit.number, Unit.name).where(Unit.id.in_(ids)))}


def filter_choices(session: Session, campaign_id: int) -> dict[str, Any]:
    """What the filters offer for this campaign: its ACs, the outcomes and rules its targets have."""
    acs = session.scalars(_where(select(ac_of()).select_from(Target), campaign_id, TargetFilter()).distinct()).all()
    dispositions = session.scalars(select(Target.last_disposition).where(
        Target.campaign_id == campaign_id, Target.last_disposition.is_not(None)).distinct()).all()
    rules = session.scalars(select(Target.blocked_rule).where(
        Target.campaign_id == campaign_id, Target.blocked_rule.is_not(None)).distinct()).all()
    names = ac_names(session, {a for a in acs if a is not None})
    return {"acs": sorted(({"id": uid, "name": names[uid]} for uid in names), key=lambda a: a["name"]),
            "dispositions": sorted(dispositions), "rules": sorted(rules), "states": [s.value for s in TargetState]}


def answers_by_attempt(session: Session, attempt_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The answers given on each attempt's IVR call (valid keys, in order)."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not attempt_ids:
        return out
    for attempt_id, question, key, value in session.execute(
            select(IvrCall.attempt_id, IvrAnswer.question, IvrAnswer.key, IvrAnswer.value)
            .join(IvrCall, IvrCall.id == IvrAnswer.call_id)
            .where(IvrCall.attempt_id.in_(attempt_ids), IvrAnswer.valid.is_(True)).order_by(IvrAnswer.id)):
        if attempt_id is not None:
            out.setdefault(attempt_id, []).append({"question": question, "key": key, "value": value})
    return out


def target_detail(session: Session, campaign_id: int, target_id: int) -> dict[str, Any]:
    """One target of the campaign with every attempt (phone, outcome, result, talk time), the answers given
    on each, and what operators recorded about its calls."""
    row = session.execute(target_query(campaign_id, TargetFilter()).where(Target.id == target_id)).first()
    if row is None:
        raise NotFound(f"no target #{target_id} in campaign {campaign_id}")
    target, person, committee, booth, ac_id = row
    attempts = session.scalars(select(Attempt).where(Attempt.target_id == target_id).order_by(Attempt.id)).all()
    answers = answers_by_attempt(session, [a.id for a in attempts])
    notes = {cid: (d.value, n) for cid, d, n in session.execute(
        select(CallDisposition.channel_id, CallDisposition.disposition, CallDisposition.notes).where(
            CallDisposition.channel_id.in_([a.channel_id for a in attempts])))} if attempts else {}
    status = session.scalar(select(booth_status_expr()).where(Unit.id == booth.id)) if booth else None
    return {**target_row(target, person, committee, booth, ac_names(session, {ac_id} if ac_id else set()).get(ac_id)),
            "booth_status": status,
            "attempts": [{"id": a.id, "at": a.created_at.isoformat(), "phone": a.phone, "state": a.state.value,
                          "disposition": a.disposition.value if a.disposition else None, "result": a.result,
                          "sip_status": a.sip_status, "cause": a.cause, "talk_seconds": a.talk_seconds,
                          "answers": answers.get(a.id, []),
                          "operator": dict(zip(("disposition", "notes"), notes[a.channel_id], strict=True))
                          if a.channel_id in notes else None} for a in attempts]}

