"""The IVR interpreter: a pure state machine over one script for one call.

It knows nothing of Asterisk. Inputs are what happened on the call (``start``, ``digit``, ``played``,
``timeout``, ``recorded``, ``ticket_opened``, ``hangup``); outputs are the actions to carry out (play a
prompt, wait for a key, record, store an answer, open a ticket, opt the member out, join the operators'
queue, hang up). The ARI handler
carries the actions out and feeds events back, so the whole call logic is unit- and property-tested here.

Phases: ``new`` -> ``playing`` (a prompt nobody may interrupt; keys pressed are kept for the next
question: type-ahead) / ``asking`` (a question: a key stops it) -> ``waiting`` (for a key, with a
timeout) / ``recording`` / ``ticketing`` / ``checking`` (a PIN) -> ... -> ``queued`` (handed to the operators) /
``closing`` (hanging up) ->
``done``. The result is ``completed`` (an end was reached), ``opted_out``, ``transferred`` or, when the
caller hangs up before any of those, ``partial``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivr_scripts.actions import (
    Action,
    CheckPin,
    HangUp,
    JoinQueue,
    OpenTicket,
    OptOutMember,
    Play,
    Prompt,
    SaveAnswer,
    StartRecording,
    StopPlay,
    WaitForKey,
)
from ivr_scripts.model import Ask, Branch, End, Number, OptOut, Pin, Record, Say, Script, Step, Ticket, Transfer
from ivr_scripts.render import evaluate, render

MAX_HOPS = 50          # steps taken without the caller doing anything (a guard; validation forbids loops)
MAX_TYPEAHEAD = 8
PIN_LENGTH = 8         # a PIN is checked at ``#`` or at this many digits
DIGITS = "0123456789"
PREVIEW_NUMBER = 412   # what a preview of a number step's read-back says


@dataclass
class Engine:
    """One call through one script. ``context`` is what the templates see; answers are added to it."""

    script: Script
    language: str
    context: dict[str, Any]
    phase: str = "new"
    step: Step | None = None
    result: str | None = None
    typeahead: list[str] = field(default_factory=list)
    _then: str = ""
    _tries: int = 0
    _pin: str = field(default="", repr=False)  # the PIN digits typed so far
    _digits: str = ""      # a number step: the keys typed so far
    _entered: int | None = None  # a number step: the number being read back for confirmation

    def __post_init__(self) -> None:
        if self.language not in self.script.languages:
            self.language = self.script.languages[0]
        self.context = {**self.context, "answers": dict(self.context.get("answers") or {})}

    @property
    def answers(self) -> dict[str, Any]:
        return dict(self.context["answers"])

    @property
    def done(self) -> bool:
        return self.phase == "done"

    @property
    def state(self) -> str:
        """Phase and step, e.g. ``waiting@ready``: what the call is doing now."""
        return f"{self.phase}@{self.step.id}" if self.step else self.phase

    # -- inputs -----------------------------------------------------------------------------------
    def start(self) -> list[Action]:
        if self.phase != "new":
            return []
        return self._enter(self.script.steps[0].id, 0)

    def digit(self, key: str) -> list[Action]:
        if self.phase == "asking":
            return [StopPlay(), *self._key(key)]
        if self.phase == "waiting":
            return self._key(key)
        if self.phase == "playing" and len(self.typeahead) < MAX_TYPEAHEAD:
            self.typeahead.append(key)
        return []

    def played(self) -> list[Action]:
        if self.phase not in ("playing", "asking"):
            return []
        step, then = self.step, self._then
        assert step is not None
        if then == "wait" and isinstance(step, Ask | Number | Pin):
            self.phase = "waiting"
            return [WaitForKey(step.timeout)]
        if then == "reask":
            return self._play(step, "text", "wait", barge_in=True)
        if then == "record" and isinstance(step, Record):
            self.phase = "recording"
            return [StartRecording(step.id, step.max_seconds, step.silence_seconds, step.beep)]
        if then == "queue":
            return self._queue(step)
        if then == "hangup":
            self.phase = "closing"
            return [HangUp()]
        return self._advance(step, 0)

    def timeout(self) -> list[Action]:
        if self.phase != "waiting":
            return []
        if isinstance(self.step, Pin) and self._pin:  # typed, but no #: check what was typed
            return self._check_pin()
        if isinstance(self.step, Number):
            if self._entered is not None:  # no 1 or 2 after the read-back: read it again
                return self._fail("confirm")
            if self._digits:  # a pause after some digits ends the number, as # does
                return self._number_done()
        return self._fail("no_input")

    def pin_checked(self, ok: bool, why: str = "", context: dict[str, Any] | None = None) -> list[Action]:
        """The PIN asked for by :class:`CheckPin` was right (``context``: what the caller may now hear, e.g.
        the instructions) or not (``why``: ``wrong``, or ``locked`` / ``no_pin``, which end the asking)."""
        step = self.step
        if self.phase != "checking" or not isinstance(step, Pin):
            return []
        if ok:
            self.context.update(context or {})
            self.context["caller"] = {**self.context.get("caller", {}), "verified": True}
            return self._enter(step.verified, 0)
        if why in ("locked", "no_pin"):
            return self._enter(step.on_fail, 0) if step.on_fail else self._advance(step, 0)
        return self._fail("invalid")

    def recorded(self) -> list[Action]:
        if self.phase != "recording":
            return []
        assert self.step is not None
        return self._advance(self.step, 0)

    def ticket_opened(self, number: int | None, category: str | None) -> list[Action]:
        """The ticket asked for by :class:`OpenTicket` exists (``number`` None: it could not be made)."""
        if self.phase != "ticketing":
            return []
        assert self.step is not None
        self.context["ticket"] = {"number": number, "category": category}
        return self._advance(self.step, 0)

    def hangup(self) -> str:
        """The call is over (either side hung up): the survey's result, decided once."""
        if self.phase != "done":
            self.result = self.result or "partial"
            self.phase = "done"
        assert self.result is not None
        return self.result

    # -- steps ------------------------------------------------------------------------------------
    def prompt(self, step: Step, part: str) -> Prompt:
        """A step's text (``text``, ``invalid``, ``no_input``) rendered in the call's language."""
        source = step.texts()[part][self.language]
        file = step.file.get(self.language) if part == "text" else None
        context = self.context
        if part == "confirm" and isinstance(step, Number) and "entered" not in context:  # a preview
            context = {**context, "entered": max(step.min, min(PREVIEW_NUMBER, step.max))}
        return Prompt(f"{self.script.name}/{step.id}/{part}", render(source, context), self.language, file)

    def _play(self, step: Step, part: str, then: str, *, barge_in: bool) -> list[Action]:
        self.phase, self._then = ("asking" if barge_in else "playing"), then
        return [Play(self.prompt(step, part), barge_in)]

    def _enter(self, step_id: str, hops: int) -> list[Action]:
        if hops > MAX_HOPS:
            self.phase = "closing"
            return [HangUp()]
        step = self.script.step(step_id)
        self.step, self._tries = step, 0
        if isinstance(step, Say):
            return self._play(step, "text", "next", barge_in=False)
        if isinstance(step, Ask):
            if self.typeahead:
                return self._key(self.typeahead.pop(0))
            return self._play(step, "text", "wait", barge_in=True)
        if isinstance(step, Pin):
            if (self.context.get("caller") or {}).get("verified"):
                return self._enter(step.verified, hops + 1)
            self._pin, self.typeahead = "", []  # keys pressed before the question are not a PIN
            return self._play(step, "text", "wait", barge_in=True)
        if isinstance(step, Number):
            self._digits, self._entered = "", None
            self.context.pop("entered", None)
            if self.typeahead:  # keys typed during the last prompt begin the number
                self.phase = "waiting"
                keys, self.typeahead, out = self.typeahead, [], []
                for key in keys:
                    out += self.digit(key)
                return out
            return self._play(step, "text", "wait", barge_in=True)
        if isinstance(step, Record):
            return self._play(step, "text", "record", barge_in=False)
        if isinstance(step, Branch):
            for case in step.cases:
                if case.when is None or evaluate(case.when, self.context):
                    return self._enter(case.goto, hops + 1)
            return self._advance(step, hops + 1)
        if isinstance(step, Transfer):
            self.result = "transferred"
            return self._play(step, "text", "queue", barge_in=False) if step.text else self._queue(step)
        if isinstance(step, OptOut):
            self.result = "opted_out"
            return [OptOutMember(), *self._play(step, "text", "hangup", barge_in=False)]
        if isinstance(step, Ticket):
            category = self.script.step(step.category)
            key = self.context["answers"].get(step.category)
            value = category.values.get(key, key) if isinstance(category, Ask) and key else None
            self.phase = "ticketing"
            return [OpenTicket(value, step.note)]
        assert isinstance(step, End)
        self.result = "completed"
        if step.text:
            return self._play(step, "text", "hangup", barge_in=False)
        self.phase = "closing"
        return [HangUp()]

    def _advance(self, step: Step, hops: int) -> list[Action]:
        nxt = self.script.next_of(step)
        if nxt is None:  # ran off the end of the script: that is a finished call too
            self.result = self.result or "completed"
            self.phase = "closing"
            return [HangUp()]
        return self._enter(nxt, hops)

    def _queue(self, step: Step) -> list[Action]:
        self.phase = "queued"
        note = render(step.note, self.context) if isinstance(step, Transfer) and step.note else ""
        return [JoinQueue(note)]

    def _key(self, key: str) -> list[Action]:
        step = self.step
        if isinstance(step, Pin):
            return self._pin_key(step, key)
        if isinstance(step, Number):
            return self._number_key(step, key)
        assert isinstance(step, Ask)
        valid = key in step.keys
        saved = SaveAnswer(step.id, step.label, key, step.values.get(key) if valid else None, valid)
        if not valid:
            return [saved, *self._fail("invalid")]
        self.context["answers"][step.id] = key
        goto = step.keys[key]
        return [saved, *(self._enter(goto, 0) if goto else self._advance(step, 0))]

    def _pin_key(self, step: Pin, key: str) -> list[Action]:
        """A key while a PIN is typed: a digit adds to it, ``#`` (or the longest PIN) checks it, ``*`` starts
        again."""
        if key == "#":
            return self._check_pin() if self._pin else self._fail("no_input")
        self._pin = "" if key == "*" else self._pin + key
        if len(self._pin) >= PIN_LENGTH:
            return self._check_pin()
        self.phase = "waiting"
        return [WaitForKey(step.timeout)]

    def _check_pin(self) -> list[Action]:
        assert self.step is not None
        digits, self._pin = self._pin, ""
        self.phase = "checking"
        return [CheckPin(self.step.id, digits)]

    def _number_key(self, step: Number, key: str) -> list[Action]:
        if self._entered is not None:  # the read-back: 1 confirms, 2 re-enters
            value = self._entered
            if key == "1":
                self.context["answers"][step.id] = value
                self.context.pop("entered", None)
                saved = SaveAnswer(step.id, step.label, "#", str(value), True, value)
                return [saved, *self._advance(step, 0)]
            return self._fail("reenter" if key == "2" else "confirm")
        if key in DIGITS:
            if len(self._digits) <= step.max_digits:  # one digit too many is kept: it makes the number too big
                self._digits += key
            self.phase = "waiting"
            return [WaitForKey(step.timeout)]
        if key == "*":  # start the number again
            self._digits = ""
            self.phase = "waiting"
            return [WaitForKey(step.timeout)]
        if key == "#":
            return self._number_done()
        self.phase = "waiting"
        return [WaitForKey(step.timeout)]

    def _number_done(self) -> list[Action]:
        step = self.step
        assert isinstance(step, Number)
        digits, self._digits = self._digits, ""
        if not digits:
            return self._fail("no_input")
        value = int(digits)
        if not step.min <= value <= step.max:
            return [SaveAnswer(step.id, step.label, "#", digits[:60], False, value), *self._fail("invalid")]
        self._entered = value
        self.context["entered"] = value
        return self._play(step, "confirm", "wait", barge_in=True)

    def _fail(self, why: str) -> list[Action]:
        step = self.step
        if isinstance(step, Number):
            return self._number_fail(step, why)
        assert isinstance(step, Ask | Pin)
        self._tries += 1
        if self._tries > step.retries:
            return self._enter(step.on_fail, 0) if step.on_fail else self._advance(step, 0)
        message = step.invalid if why == "invalid" else step.no_input
        if message:
            return self._play(step, why, "reask", barge_in=True)
        return self._play(step, "text", "wait", barge_in=True)

    def _number_fail(self, step: Number, why: str) -> list[Action]:
        """No number, a number out of range, a re-entry asked for (``reenter``) or no confirmation
        (``confirm``): each uses up one retry; a missed confirmation reads the number back again."""
        self._tries += 1
        if self._tries > step.retries:
            self._entered = None
            self.context.pop("entered", None)
            return self._enter(step.on_fail, 0) if step.on_fail else self._advance(step, 0)
        if why == "confirm":
            return self._play(step, "confirm", "wait", barge_in=True)
        self._entered, self._digits = None, ""
        self.context.pop("entered", None)
        message = {"invalid": step.invalid, "no_input": step.no_input}.get(why)
        if message:
            return self._play(step, why, "reask", barge_in=True)
        return self._play(step, "text", "wait", barge_in=True)
