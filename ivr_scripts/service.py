"""IVR scripts' use cases: the scripts a war room has (built-in and its own, and which campaigns play them),
a script's source, checking and saving one from the pages (the same checks as ``warroom ivr validate``), and
every text of a script as a member would hear it (their booth, AC, candidate... filled in as on a real
call), as text and as the very sound file the call would play."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import Actor, record
from core.errors import Conflict, Invalid, NotFound, Unavailable
from db.campaigns import Campaign, CampaignState
from db.engine import Database
from db.models import Committee, Membership, Person, Unit, UnitKind
from dialer.campaigns import get_campaign, resolve_units
from hotline.lookup import latest_instruction
from ivr_scripts.actions import Prompt
from ivr_scripts.context import call_context, sample_context
from ivr_scripts.engine import Engine
from ivr_scripts.library import DEFAULT_BY_STATUS, STATUSES, ScriptLibrary
from ivr_scripts.loader import load_script, parse_script
from ivr_scripts.model import Script, field_name
from ivr_scripts.problems import Problem, ScriptInvalid

INSTRUCTIONS_STEP = "instructions"  # the hotline's step that reads a booth's latest instruction
LIVE = (CampaignState.running, CampaignState.paused)  # campaigns whose calls a saved script must not break


class CallInfo(Protocol):
    """What a call's handler knows before its first prompt (``ari_handlers.ivr_store.CallInfo``)."""

    language: str
    context: dict[str, Any]


# ``ari_handlers.ivr_store.inbound_info``: the context a hotline call from this member gets
InboundInfo = Callable[..., CallInfo]
# ``speech.prompts.PromptStore.made``: a prompt as (media URI, sound file), made once and cached
MakePrompt = Callable[[Prompt], Awaitable[tuple[str, Path]]]


class ScriptService:
    """``library`` holds the scripts; ``inbound_info`` builds a member's call context (passed in: the call
    handlers sit above this package); ``party`` is the war room's party (a context variable); ``make_prompt``
    makes a prompt's sound file as calls play it; ``hotline`` is the hotline's script. Without ``db`` only
    the made-up member can be previewed."""

    def __init__(self, db: Database | None, library: ScriptLibrary, *, inbound_info: InboundInfo,
                 party: str, make_prompt: MakePrompt | None = None, hotline: str = "hotline") -> None:
        self.db, self.library, self.inbound_info, self.party = db, library, inbound_info, party
        self.make_prompt, self.hotline = make_prompt, hotline
        self._saving = asyncio.Lock()

    def _database(self) -> Database:
        if self.db is None:
            raise Unavailable("this needs the database")
        return self.db

    async def preview(self, script: str, *, member: int | None = None, language: str | None = None,
                      campaign: str | None = None, fields: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Every text of ``script`` (a name, or a ``.yaml`` file) rendered for ``member`` (a made-up member
        without one), in ``language`` (default: the member's, or the script's first), with a campaign's
        fields (or ``fields`` given here): ``{"script", "title", "language", "texts": [{"step", "kind",
        "part", "text"}]}``."""
        chosen, engine = await self._engine(script, member, language, campaign, fields)
        texts = [{"step": step.id, "kind": step.kind, "part": part, "text": engine.prompt(step, part).text}
                 for step in chosen.steps for part, text in step.texts().items() if text]
        return {"script": chosen.name, "title": chosen.title, "language": engine.language, "texts": texts}

    async def audio(self, script: str, step: str, part: str = "text", *, member: int | None = None,
                    language: str | None = None, campaign: str | None = None,
                    fields: Mapping[str, str] | None = None) -> Path:
        """The sound file of one text of a preview: the very file a call would play (made once, cached)."""
        chosen, engine = await self._engine(script, member, language, campaign, fields)
        try:
            found = chosen.step(step)
        except KeyError:
            raise NotFound(f"script '{chosen.name}' has no step '{step}'") from None
        if not found.texts().get(part):
            raise NotFound(f"step '{step}' of '{chosen.name}' says nothing as '{part}'")
        return await self._sound(engine.prompt(found, part))

    async def _sound(self, prompt: Prompt) -> Path:
        if self.make_prompt is None:
            raise Unavailable("speech is not available in this service")
        return (await self.make_prompt(prompt))[1]

    async def _engine(self, script: str, member: int | None, language: str | None, campaign: str | None,
                      fields: Mapping[str, str] | None) -> tuple[Script, Engine]:
        chosen: Script = load_script(Path(script)) if script.endswith((".yaml", ".yml")) else \
            self.library.get(script)
        if member is not None:
            info = await self._database().run(self._member_context, member, language, campaign)
            context, lang = info.context, language or info.language
        else:
            lang = language or chosen.languages[0]
            context = sample_context(lang)
        if fields is not None:
            context["campaign"] = {"name": context["campaign"].get("name"),
                                   **{field_name(k): v for k, v in fields.items()}}
        for name in map(field_name, chosen.fields):  # a field no campaign gave: shown as its name
            context["campaign"].setdefault(name, f"[{name}]")
        return chosen, Engine(chosen, lang, context)  # a language the script lacks: its first, as on a call

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

    # -- the library -------------------------------------------------------------------------------
    async def scripts(self) -> dict[str, Any]:
        """Every script with where it comes from and the open campaigns that play it (per booth status), the
        files left out for their problems, and whether scripts can be saved here."""
        in_use = await self._database().run(self._in_use) if self.db is not None else {}
        rows = [{**s, "origin": self.library.origin(s["name"]), "campaigns": in_use.get(s["name"], []),
                 "hotline": s["name"] == self.hotline} for s in self.library.summaries()]
        return {"scripts": rows, "problems": [str(p) for p in self.library.problems],
                "own_dir": str(self.library.own_dir) if self.library.own_dir else None}

    def _in_use(self, session: Session, states: tuple[CampaignState, ...] = (*LIVE, CampaignState.draft)
                ) -> dict[str, list[dict[str, Any]]]:
        """Script name -> the campaigns (of ``states``) that would play it, with the booth statuses."""
        out: dict[str, list[dict[str, Any]]] = {}
        for c in session.scalars(select(Campaign).where(Campaign.state.in_(states)).order_by(Campaign.id)):
            if c.mode.value != "ivr":
                continue
            chosen = c.scripts or {}
            by_name: dict[str, list[str]] = {}
            for status in STATUSES:
                by_name.setdefault(chosen.get(status) or DEFAULT_BY_STATUS[status], []).append(status)
            for name, statuses in by_name.items():
                out.setdefault(name, []).append({"id": c.id, "name": c.name, "state": c.state.value,
                                                 "statuses": statuses, "fields": dict(c.fields or {})})
        return out

    def source(self, name: str) -> str:
        """The YAML text a script was loaded from."""
        path = Path(self.library.get(name).source)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise Unavailable(f"cannot read {path.name}: {exc.strerror}") from exc

    @staticmethod
    def check(text: str, source: str = "upload") -> list[Problem]:
        """Every problem of a script's text, each with its line (none: it can be saved) — the checks of
        ``warroom ivr validate``."""
        try:
            parse_script(text, source)
        except ScriptInvalid as exc:
            return exc.problems
        return []

    async def save(self, text: str, actor: Actor) -> dict[str, Any]:
        """Check a script and, if it has no problem, write it to the war room's folder and play it from now
        on: calls that start after this hear the new version, calls in progress keep theirs. A script a
        running or paused campaign plays is refused when the new version needs a campaign field that campaign
        does not give. Raises :class:`ScriptInvalid` (with each problem's line) and changes nothing."""
        script = parse_script(text, "upload")
        folder = self.library.own_dir
        if folder is None:
            raise Unavailable("scripts can be saved only with a folder of your own: set WARROOM_IVR__SCRIPTS_DIR")
        db = self._database()
        async with self._saving:
            for campaign in (await db.run(self._in_use, LIVE)).get(script.name, []):
                given = {field_name(k) for k in campaign["fields"]}
                missing = [f for f in script.fields if field_name(f) not in given]
                if missing:
                    raise Conflict(f"campaign '{campaign['name']}' ({campaign['state']}) plays '{script.name}' "
                                   f"for {', '.join(campaign['statuses'])} booths and does not give the field(s) "
                                   f"{', '.join(missing)} this version needs: nothing was saved")
            try:
                current = Path(self.library.get(script.name).source)
            except NotFound:
                current = None
            target = current if current is not None and current.parent == folder else folder / f"{script.name}.yaml"
            origin = "new" if current is None else self.library.origin(script.name)
            await asyncio.to_thread(_write, target, text)
            script.source = str(target)
            self.library.put(script)
            await db.run(lambda s: record(s, actor, "ivr_script.save", f"script:{script.name}",
                                          detail={"steps": len(script.steps), "was": origin}))
        return {"name": script.name, "file": str(target), "was": origin, "steps": len(script.steps)}

    # -- what the hotline reads to a booth ---------------------------------------------------------
    async def booth_hears(self, booth: str, language: str) -> dict[str, Any]:
        """What a booth worker of ``booth`` (a key like ``booth:152:4`` or an id) hears when they ask the
        hotline for instructions: the instruction, and the hotline's text around it as it is spoken."""
        script = self.library.get(self.hotline)
        if language not in script.languages:
            raise Invalid(f"the hotline speaks {', '.join(script.languages)}, not '{language}'", field="language")
        step = _instructions_step(script)
        context, instruction, unit = await self._database().run(self._booth_context, booth, language)
        prompt = Engine(script, language, context).prompt(step, "text")
        return {"booth": unit, "language": language, "instruction": instruction, "text": prompt.text,
                "script": script.name, "step": step.id}

    async def booth_audio(self, booth: str, language: str) -> Path:
        """The sound file of :meth:`booth_hears` (the very file the hotline call plays)."""
        heard = await self.booth_hears(booth, language)
        script = self.library.get(heard["script"])
        return await self._sound(Prompt(f"{script.name}/{heard['step']}/text", heard["text"], language,
                                        script.step(heard["step"]).file.get(language)))

    def _booth_context(self, session: Session, booth: str, language: str) -> tuple[dict[str, Any], str | None,
                                                                                    dict[str, Any]]:
        [unit_id] = resolve_units(session, [booth])
        unit = session.get(Unit, unit_id)
        assert unit is not None
        if unit.kind is not UnitKind.booth:
            raise Invalid(f"'{booth}' is a {unit.kind.value}, not a booth", field="booth")
        instruction = latest_instruction(session, unit.id, language)
        member = session.scalar(select(Membership.person_id).join(Committee, Committee.id == Membership.committee_id)
                                .where(Committee.unit_id == unit.id).order_by(Membership.id).limit(1))
        if member is not None:
            # as a member who gave their PIN hears it (a call has the instructions only after the PIN)
            context = {**self.inbound_info(session, phone=None, person_id=member, booth_id=unit.id,
                                           language=language, party=self.party).context, "instructions": instruction}
        else:
            sample = sample_context(language)
            context = call_context(member=sample["member"], booth={"number": unit.number, "name": unit.name,
                                                                   "status": unit.status.value},
                                   instructions=instruction, caller=sample["caller"])
        label = {"id": unit.id, "key": unit.key, "name": f"{unit.number} {unit.name}", "status": unit.status.value}
        return context, instruction, label


def _instructions_step(script: Script) -> Any:
    """The hotline's step that reads the instructions (by id, else the first whose text uses them)."""
    for step in script.steps:
        if step.id == INSTRUCTIONS_STEP:
            return step
    for step in script.steps:
        if any("instructions" in text for texts in step.texts().values() for text in texts.values()):
            return step
    raise NotFound(f"the hotline script '{script.name}' has no step that reads the instructions")


def _write(target: Path, text: str) -> None:
    """Write a script file whole (a reader never sees half of it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
