"""What the web API accepts as text and as a moment, checked where the request comes in: input the
databases cannot take is refused with a 422 that names the field and says what is wrong, instead of failing
deeper down with a server error.

- Text: no NUL character (PostgreSQL refuses it in text). Lone surrogates (a JSON body may escape one,
  ``"\\ud800"``) are already refused by Pydantic for every ``str``.
- Moment: a time between 2000 and 2100 (0001-01-01 at +16:00 has no UTC time Python can hold); one without a
  zone is UTC, as the database keeps it, so that it compares with those that have one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)  # excluded


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


def in_range(value: datetime) -> datetime:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST.year - 1}-12-31 (UTC)")
    return value.astimezone(UTC)


Text = Annotated[str, AfterValidator(clean_text)]
Moment = Annotated[datetime, AfterValidator(in_range)]
