"""A phone number in every way it is written, found and masked in text: ``+919826012345``,
``919826012345``, ``09826012345``, ``9826012345``, ``+91 98260 12345``, ``98260-12345``... all become
``XXXXXX2345`` (the last four digits, as operators see numbers)."""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATOR = r"[\s\-().]{0,2}"
MASK_PREFIX = "XXXXXX"


def mask(phone: str | None) -> str | None:
    """Keep the last four digits at most: ``+919826012345`` -> ``XXXXXX2345`` (None stays None)."""
    if phone is None:
        return None
    digits = "".join(c for c in phone if c.isdigit())
    return MASK_PREFIX + digits[-4:] if digits else phone


def is_masked(value: str | None) -> bool:
    return value is None or value.startswith(MASK_PREFIX)


@dataclass(frozen=True)
class PhonePattern:
    """One number (E.164, India: ``+91`` and ten national digits) as a pattern over free text."""

    e164: str
    regex: re.Pattern[str]

    @classmethod
    def of(cls, e164: str) -> PhonePattern:
        national = e164.removeprefix("+91") if e164.startswith("+91") else e164.lstrip("+")
        digits = SEPARATOR.join(re.escape(d) for d in national)
        prefix = rf"(?:(?:\+|00)?91{SEPARATOR}|0{SEPARATOR})?"
        return cls(e164, re.compile(rf"(?<![\d+]){prefix}{digits}(?!\d)"))

    @property
    def national(self) -> str:
        return self.e164.removeprefix("+91")

    @property
    def last4(self) -> str:
        return self.national[-4:]

    def masked(self) -> str:
        return MASK_PREFIX + self.last4

    def found(self, text: str) -> bool:
        return bool(self.regex.search(text))

    def scrub(self, text: str) -> str:
        """``text`` with every writing of the number masked."""
        return self.regex.sub(self.masked(), text)


def scrub_all(text: str, patterns: list[PhonePattern]) -> str:
    for p in patterns:
        text = p.scrub(text)
    return text
