"""What the IVR engine asks its call handler to do: play a prompt, stop it, wait for a key, record, store an
answer, opt the member out, open a ticket, check a PIN, join the operators' queue, hang up."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Prompt:
    """Something to say: ``key`` names it for recorded prompts (``script/step/part``)."""

    key: str
    text: str
    language: str
    file: str | None = None


@dataclass(frozen=True)
class Play:
    prompt: Prompt
    barge_in: bool


@dataclass(frozen=True)
class StopPlay:
    pass


@dataclass(frozen=True)
class WaitForKey:
    seconds: float


@dataclass(frozen=True)
class StartRecording:
    step: str
    max_seconds: int
    silence_seconds: int
    beep: bool


@dataclass(frozen=True)
class SaveAnswer:
    step: str
    question: str
    key: str
    value: str | None
    valid: bool
    number: int | None = None  # a number step's confirmed (or refused: valid False) number


@dataclass(frozen=True)
class OptOutMember:
    pass


@dataclass(frozen=True)
class OpenTicket:
    category: str | None
    note_step: str | None


@dataclass(frozen=True)
class JoinQueue:
    note: str


@dataclass(frozen=True)
class HangUp:
    pass


@dataclass(frozen=True)
class CheckPin:
    """Check the PIN typed at ``step`` (the handler answers with :meth:`Engine.pin_checked`)."""

    step: str
    digits: str = field(repr=False)


Action = (Play | StopPlay | WaitForKey | StartRecording | SaveAnswer | OptOutMember | OpenTicket | JoinQueue | HangUp
          | CheckPin)
