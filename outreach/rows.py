"""One outreach list row, checked and normalised (pure: no database). Errors name the column."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from directory.rows import LANGUAGES, RowError, check_formulas, fold, phones_of, text

ALIASES: dict[str, set[str]] = {
    "phone": {"phone", "mobile", "mobile no", "phone number", "मोबाइल", "मोबाइल नंबर", "मोबाइल नं"},
    "alt_phone": {"alt_phone", "alternate mobile", "alternate phone", "alt mobile", "वैकल्पिक मोबाइल"},
    "name": {"name", "नाम"},
    "language": {"language", "भाषा"},
    "ac_no": {"ac_no", "ac", "ac no", "ac number", "assembly no", "विधानसभा क्रमांक", "विधानसभा"},
    "booth": {"booth", "booth no", "village", "booth or village", "बूथ", "बूथ क्रमांक", "गांव", "ग्राम"},
    "consent": {"consent", "consent source", "source", "सहमति", "स्रोत"},
}
REQUIRED = {"phone"}
COLUMNS = ["phone", "alt_phone", "name", "language", "ac_no", "booth", "consent"]
CONSENTS = {"missed call", "form", "event", "member referral", "web", "volunteer", "helpline"}
MAX_FIELD = 200


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A clean row: phones E.164, names NFC with single spaces, extra columns in ``fields``."""

    line: int
    phone: str
    alt_phone: str | None
    name: str
    language: str | None
    ac_no: int | None
    booth: str
    consent: str
    fields: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[tuple[str, str], ...] = ()

    def values(self) -> dict[str, Any]:
        """What is stored for a contact not linked to a committee member (compared to find changes)."""
        return {"alt_phone": self.alt_phone, "name": self.name or None, "language": self.language,
                "ac_no": self.ac_no, "booth": self.booth or None, "consent_source": self.consent,
                "fields": self.fields}


@functools.lru_cache(maxsize=256)
def consent_of(value: str) -> str:
    """A consent source as stored: lower case, single spaces ("Missed Call" -> "missed call")."""
    return " ".join(fold(value).replace("_", " ").split())


@functools.lru_cache(maxsize=256)
def _language(value: str) -> str | None:
    return LANGUAGES.get(fold(value))


def clean_contact(line: int, raw: dict[str, str], default_consent: str = "") -> ContactRow:
    """Check and normalise one row, or raise :class:`RowError` naming the column and the problem."""
    check_formulas(raw)
    phone, alt_phone, warnings = phones_of(raw)
    ac_text = text(raw.get("ac_no"))
    ac_no = None
    if ac_text:
        digits = ac_text[:-2] if ac_text.endswith(".0") else ac_text
        digits = digits.split("-")[0].strip()  # "152 - Bhopal Uttar"
        if not digits.isdigit() or int(digits) <= 0:
            raise RowError("ac_no", f"AC '{ac_text}' is not an AC number")
        ac_no = int(digits)
    language_text = text(raw.get("language"))
    language = _language(language_text) if language_text else None
    if language_text and language is None:
        raise RowError("language", f"unknown language '{language_text}' (use hi or en)")
    consent = consent_of(text(raw.get("consent")) or default_consent)
    if not consent:
        raise RowError("consent", "missing consent source (missed call, form, event, member referral...): "
                                  "give a consent column or a default for the import")
    if len(consent) > 100:
        raise RowError("consent", "consent source longer than 100 characters")
    extra = {k: v[:MAX_FIELD] for k, v in ((k, text(v)) for k, v in raw.items() if k not in ALIASES) if v}
    booth = text(raw.get("booth"))
    name = text(raw.get("name"))
    if len(name) > 200 or len(booth) > 200:
        raise RowError("name" if len(name) > 200 else "booth", "longer than 200 characters")
    return ContactRow(line, phone, alt_phone, name, language, ac_no, booth, consent, extra, warnings)
