"""IVR scripts' use case that needs the database: every text of a script as a member would hear it (their
booth, AC, candidate... filled in as on a real hotline call)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound, Unavailable
from db.engine import Database
from db.models import Committee, Membership, Person
from dialer.campaigns import get_campaign
from ivr_scripts.context import sample_context
from ivr_scripts.engine import Engine
from ivr_scripts.library import ScriptLibrary
from ivr_scripts.loader import load_script
from ivr_scripts.model import Script, field_name


class CallInfo(Protocol):
    """What a call's handler knows before its first prompt (``ari_handlers.ivr_store.CallInfo``)."""

    language: str
    context: dict[str, Any]


# ``ari_handlers.ivr_store.inbound_info``: the context a hotline call from this member gets
InboundInfo = Callable[..., CallInfo]


class ScriptService:
    """``library`` holds the scripts; ``inbound_info`` builds a member's call context (passed in: the call
    handlers sit above this package); ``party`` is the war room's party (a context variable). Without ``db``
    only the made-up member can be previewed."""

    def __init__(self, db: Database | None, library: ScriptLibrary, *, inbound_info: InboundInfo,
                 party: str) -> None:
        self.db, self.library, self.inbound_info, self.party = db, library, inbound_info, party

    async def preview(self, script: str, *, member: int | None = None, language: str | None = None,
                      campaign: str | None = None) -> dict[str, Any]:
        """Every text of ``script`` (a name, or a ``.yaml`` file) rendered for ``member`` (a made-up member
        without one), in ``language`` (default: the member's, or the script's first), with a campaign's
        fields: ``{"script", "title", "language", "texts": [{"step", "kind", "part", "text"}]}``."""
        chosen: Script = load_script(Path(script)) if script.endswith((".yaml", ".yml")) else \
            self.library.get(script)
        if member is not None:
            if self.db is None:
                raise Unavailable("a member's preview needs the database")
            info = await self.db.run(self._member_context, member, language, campaign)
            context, lang = info.context, language or info.language
        else:
            lang = language or chosen.languages[0]
            context = sample_context(lang)
        engine = Engine(chosen, lang, context)
        texts = [{"step": step.id, "kind": step.kind, "part": part, "text": engine.prompt(step, part).text}
                 for step in chosen.steps for part, text in step.texts().items() if text]
        return {"script": chosen.name, "title": chosen.title, "language": engine.language, "texts": texts}

    def _member_context(self, session: Session, member: int, language: str | None, campaign: str | None) -> CallInfo:
        person = session.get(Person, member)
        if person is None:
            raise NotFound(f"no member with id {member}")
        booth_id = session.scalar(select(Committee.unit_id).join(Membership, Membership.committee_id == Committee.id)
                                  .where(Membership.person_id == member).order_by(Committee.unit_id.desc()))
        info = self.inbound_info(session, phone=person.phone, person_id=member, booth_id=booth_id,
                                 language=language, party=self.party)
        if campaign:
            c = get_campaign(session, campaign)
            info.context["campaign"] = {"name": c.name, **{field_name(k): v for k, v in (c.fields or {}).items()}}
        return info
