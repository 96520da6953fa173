"""The shape of an IVR script: a named list of steps, each of one kind, with text per language.

A script file (YAML) looks like::

    name: strong
    title: Strong booth - readiness and turnout
    languages: [hi, en]
    fields: [programme_date]          # campaign fields the templates use
    steps:
      - id: greet
        say: {hi: "नमस्ते {{ member.name }} जी ...", en: "Hello {{ member.name }} ..."}
      - id: ready
        ask: {hi: "...", en: "..."}
        keys: {"1": turnout, "2": needs, "9": optout}
      ...

Steps run in order unless one says where to go (``next``, an ``ask``'s keys, a ``branch``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STEP_ID = r"^[a-z][a-z0-9_]{0,39}$"
KEYS = set("0123456789*#")
KINDS = ("say", "ask", "number", "pin", "record", "branch", "transfer", "optout", "ticket", "end")
# after these the call does not fall through to the following step
FINAL_KINDS = {"transfer", "optout", "end"}

Text = dict[str, str]  # language -> Jinja2 template


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: Annotated[str, Field(pattern=STEP_ID)]
    next: str | None = Field(None, description="the step after this one (default: the following step)")
    file: Text = Field(default_factory=dict, description="recorded prompt per language; overrides the text")
    line: int = Field(0, exclude=True)
    key_lines: dict[str, int] = Field(default_factory=dict, exclude=True)
    kind: ClassVar[str] = ""

    def texts(self) -> dict[str, Text]:
        """Every text of the step by part name (``text``, ``invalid``...), for rendering and checks."""
        return {}

    def targets(self) -> list[tuple[str, str]]:
        """(field, step id) for every explicit jump out of this step."""
        return [("next", self.next)] if self.next else []


class Say(_Step):
    kind: ClassVar[str] = "say"
    text: Text

    def texts(self) -> dict[str, Text]:
        return {"text": self.text}


class Ask(_Step):
    """A keypad question. ``keys`` maps each valid key to the step it leads to (null: the next step)."""

    kind: ClassVar[str] = "ask"
    text: Text
    keys: dict[str, str | None]
    question: str | None = Field(None, description="how the answer is labelled in reports (default: the id)")
    values: dict[str, str] = Field(default_factory=dict, description="key -> stored meaning, e.g. 1: material")
    timeout: float = Field(6.0, gt=0, le=60, description="seconds to wait for a key after the question")
    retries: int = Field(2, ge=0, le=5, description="times the question is asked again after a wrong or no key")
    invalid: Text = Field(default_factory=dict, description="said after a key that is not offered")
    no_input: Text = Field(default_factory=dict, description="said when no key comes in time")
    on_fail: str | None = Field(None, description="where to go when retries run out (default: next step)")

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        if isinstance(v, list):
            v = {k: None for k in v}
        if isinstance(v, dict):
            v = {str(k): g for k, g in v.items()}
            bad = [k for k in v if len(k) != 1 or k not in KEYS]
            if bad:
                raise ValueError(f"keys must be single keypad keys 0-9, * or #: not {', '.join(bad)}")
        return v

    @field_validator("values", mode="before")
    @classmethod
    def _values(cls, v: Any) -> Any:
        return {str(k): str(g) for k, g in v.items()} if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _values_are_keys(self) -> Ask:
        extra = sorted(set(self.values) - set(self.keys))
        if extra:
            raise ValueError(f"values name keys that are not offered: {', '.join(extra)}")
        return self

    @property
    def label(self) -> str:
        return self.question or self.id

    def texts(self) -> dict[str, Text]:
        return {"text": self.text, "invalid": self.invalid, "no_input": self.no_input}

    def targets(self) -> list[tuple[str, str]]:
        out = super().targets() + [(f"keys.{k}", g) for k, g in self.keys.items() if g]
        return out + ([("on_fail", self.on_fail)] if self.on_fail else [])


class Pin(_Step):
    """The member's PIN, typed then ``#`` (hotline): caller ID can be spoofed, the PIN proves who calls. A right
    PIN goes to ``verified`` (a caller who gave it earlier in the call goes straight there); a wrong one is
    asked again (``retries``), then the call goes to ``on_fail`` (also at once when the PIN is locked or the
    member has none). The digits are never stored nor shown."""

    kind: ClassVar[str] = "pin"
    text: Text
    verified: str = Field(description="the step a right PIN leads to")
    timeout: float = Field(8.0, gt=0, le=60, description="seconds to wait for the next digit")
    retries: int = Field(2, ge=0, le=5, description="times the PIN is asked again after a wrong one")
    invalid: Text = Field(default_factory=dict, description="said after a wrong PIN")
    no_input: Text = Field(default_factory=dict, description="said when no PIN comes in time")
    on_fail: str | None = Field(None, description="where to go without a right PIN (default: next step)")

    def texts(self) -> dict[str, Text]:
        return {"text": self.text, "invalid": self.invalid, "no_input": self.no_input}

    def targets(self) -> list[tuple[str, str]]:
        out = super().targets() + [("verified", self.verified)]
        return out + ([("on_fail", self.on_fail)] if self.on_fail else [])


class Number(_Step):
    """A number typed on the keypad, ended by ``#`` or a pause (``*`` starts it again), checked against
    ``min``/``max``, read back (``confirm``: "you entered {{ entered }}, press 1 to confirm, 2 to re-enter")
    and stored as an integer answer."""

    kind: ClassVar[str] = "number"
    text: Text
    confirm: Text = Field(default_factory=dict, description="the read-back; {{ entered }} is the number")
    min: int = Field(0, ge=0, description="the smallest number accepted")
    max: int = Field(99999, ge=0, le=999_999_999, description="the largest number accepted")
    question: str | None = Field(None, description="how the answer is labelled in reports (default: the id)")
    timeout: float = Field(6.0, gt=0, le=60, description="seconds to wait for the first key and between keys")
    retries: int = Field(2, ge=0, le=5, description="times the number is asked again (no number, out of range, "
                                                    "re-entered or no confirmation)")
    invalid: Text = Field(default_factory=dict, description="said after a number outside min-max")
    no_input: Text = Field(default_factory=dict, description="said when no number comes in time")
    on_fail: str | None = Field(None, description="where to go when retries run out (default: next step)")

    @model_validator(mode="after")
    def _range(self) -> Number:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    @property
    def label(self) -> str:
        return self.question or self.id

    @property
    def max_digits(self) -> int:
        return len(str(self.max))

    def texts(self) -> dict[str, Text]:
        return {"text": self.text, "confirm": self.confirm, "invalid": self.invalid, "no_input": self.no_input}

    def targets(self) -> list[tuple[str, str]]:
        return super().targets() + ([("on_fail", self.on_fail)] if self.on_fail else [])


class Record(_Step):
    """Voice feedback: the text is said, then a beep, then the caller speaks."""

    kind: ClassVar[str] = "record"
    text: Text
    max_seconds: int = Field(60, ge=1, le=600)
    silence_seconds: int = Field(3, ge=0, le=30, description="silence that ends the recording (0: off)")
    beep: bool = True

    def texts(self) -> dict[str, Text]:
        return {"text": self.text}


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    when: str | None = Field(None, alias="if", description="a Jinja2 expression; absent: always")
    goto: str


class Branch(_Step):
    kind: ClassVar[str] = "branch"
    cases: list[Case] = Field(min_length=1)

    def targets(self) -> list[tuple[str, str]]:
        return super().targets() + [(f"branch.{i}", c.goto) for i, c in enumerate(self.cases)]


class Transfer(_Step):
    """Say the text, then put the caller in the operators' queue with ``note`` for the operator."""

    kind: ClassVar[str] = "transfer"
    text: Text = Field(default_factory=dict)
    note: str | None = Field(None, description="a template shown to the operator")

    def texts(self) -> dict[str, Text]:
        return {"text": self.text}


class OptOut(_Step):
    """Mark the member do-not-call at once, say the confirmation, end the call."""

    kind: ClassVar[str] = "optout"
    text: Text

    def texts(self) -> dict[str, Text]:
        return {"text": self.text}


class Ticket(_Step):
    """Open a ticket for headquarters from the answers so far: ``category`` names an ask step (its
    ``values`` give the category), ``note`` a record step (its recording is the voice note)."""

    kind: ClassVar[str] = "ticket"
    category: str
    note: str | None = None


class End(_Step):
    kind: ClassVar[str] = "end"
    text: Text = Field(default_factory=dict)

    def texts(self) -> dict[str, Text]:
        return {"text": self.text}


Step = Say | Ask | Number | Pin | Record | Branch | Transfer | OptOut | Ticket | End
STEP_CLASSES: dict[str, type[_Step]] = {"say": Say, "ask": Ask, "number": Number, "pin": Pin, "record": Record,
                                        "branch": Branch, "transfer": Transfer, "optout": OptOut,
                                        "ticket": Ticket, "end": End}
# the YAML key of a step's kind holds this field
KIND_FIELD = {"say": "text", "ask": "text", "number": "text", "pin": "text", "record": "text", "branch": "cases",
              "transfer": "text", "optout": "text", "ticket": None, "end": "text"}


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,59}$")]
    title: str = ""
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2}$")]] = Field(min_length=1)
    fields: list[str] = Field(default_factory=list, description="campaign fields the templates use")
    steps: list[Step] = Field(min_length=1)
    source: str = Field("", exclude=True)

    def line_of(self, step_id: str, key: str | None = None) -> int:
        """The file line of a step (or of one of its settings), for error messages."""
        step = self.step(step_id)
        return step.key_lines.get(key, step.line) if key else step.line

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def following(self, step_id: str) -> str | None:
        """The step after ``step_id`` in file order (None at the end)."""
        ids = [s.id for s in self.steps]
        i = ids.index(step_id)
        return ids[i + 1] if i + 1 < len(ids) else None

    def next_of(self, step: Step) -> str | None:
        """Where a step goes when it does not jump: ``next``, else the following step (none after final
        kinds)."""
        if step.next:
            return step.next
        return None if step.kind in FINAL_KINDS else self.following(step.id)


def field_name(text: str) -> str:
    """A campaign field name as templates see it (``campaign.programme_date``)."""
    return re.sub(r"[^a-z0-9_]", "_", text.strip().lower())
