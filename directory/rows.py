"""One directory row, checked and normalised (pure: no database).

A row names a post in one committee: the committee's level, the units down to that level, and the
person (name, phones, language). Errors name the column and say what is wrong.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from db.models import UnitKind
from directory.phones import PhoneError, normalise_phone, split_phones
from directory.reader import formula_problem

# canonical column -> header aliases (English and Hindi); matching ignores case, spaces and nuktas
ALIASES: dict[str, set[str]] = {
    "state": {"state", "राज्य", "प्रदेश"},
    "district": {"district", "जिला", "ज़िला", "district name"},
    "ac_no": {"ac_no", "ac no", "ac number", "assembly no", "विधानसभा क्रमांक", "विधानसभा क्र", "विधानसभा संख्या"},
    "ac_name": {"ac_name", "ac", "ac name", "assembly", "assembly constituency", "विधानसभा", "विधानसभा क्षेत्र"},
    "mandal": {"mandal", "mandalam", "मंडल", "मंडलम", "मण्डल"},
    "sector": {"sector", "shakti kendra", "shaktikendra", "सेक्टर", "शक्ति केंद्र", "शक्ति केन्द्र"},
    "booth_no": {"booth_no", "booth no", "booth number", "polling station no", "बूथ क्रमांक", "बूथ क्र",
                 "बूथ नंबर", "मतदान केंद्र क्रमांक", "मतदान केन्द्र क्रमांक"},
    "booth_name": {"booth_name", "booth name", "polling station", "मतदान केंद्र", "मतदान केन्द्र", "बूथ का नाम"},
    "area": {"area", "villages", "क्षेत्र", "गांव"},
    "voters": {"voters", "voter count", "electors", "मतदाता", "मतदाता संख्या"},
    "level": {"level", "committee level", "स्तर", "समिति स्तर"},
    "post": {"post", "designation", "पद"},
    "name": {"name", "नाम"},
    "name_alt": {"name_alt", "name (english)", "name english", "english name", "name (hindi)", "नाम (अंग्रेज़ी)",
                 "नाम (अंग्रेजी)", "नाम (हिंदी)"},
    "phone": {"phone", "mobile", "mobile no", "phone number", "मोबाइल", "मोबाइल नंबर", "मोबाइल नं"},
    "alt_phone": {"alt_phone", "alternate mobile", "alternate phone", "alt mobile", "वैकल्पिक मोबाइल",
                  "दूसरा मोबाइल"},
    "language": {"language", "भाषा"},
}
REQUIRED = {"level", "name", "phone"}
COLUMNS = ["state", "district", "ac_no", "ac_name", "mandal", "sector", "booth_no", "booth_name", "area",
           "voters", "level", "post", "name", "name_alt", "phone", "alt_phone", "language"]

LEVELS: dict[str, UnitKind] = {
    "state": UnitKind.state, "राज्य": UnitKind.state, "प्रदेश": UnitKind.state,
    "district": UnitKind.district, "जिला": UnitKind.district, "ज़िला": UnitKind.district,
    "ac": UnitKind.ac, "assembly": UnitKind.ac, "विधानसभा": UnitKind.ac,
    "mandal": UnitKind.mandal, "mandalam": UnitKind.mandal, "मंडल": UnitKind.mandal, "मंडलम": UnitKind.mandal,
    "sector": UnitKind.sector, "shakti kendra": UnitKind.sector, "सेक्टर": UnitKind.sector,
    "शक्ति केंद्र": UnitKind.sector, "शक्ति केन्द्र": UnitKind.sector,
    "booth": UnitKind.booth, "बूथ": UnitKind.booth, "मतदान केंद्र": UnitKind.booth, "polling booth": UnitKind.booth,
}
LANGUAGES = {"hi": "hi", "hindi": "hi", "हिंदी": "hi", "हिन्दी": "hi", "en": "en", "english": "en",
             "अंग्रेज़ी": "en", "अंग्रेजी": "en"}
# the unit columns each level needs, and those it must not have (deeper than the level)
NEEDS = {
    UnitKind.state: (), UnitKind.district: ("district",), UnitKind.ac: ("ac_no",),
    UnitKind.mandal: ("ac_no", "mandal"), UnitKind.sector: ("ac_no", "sector"),
    UnitKind.booth: ("ac_no", "booth_no"),
}
DEEPER = {
    UnitKind.state: ("district", "ac_no", "mandal", "sector", "booth_no"),
    UnitKind.district: ("ac_no", "mandal", "sector", "booth_no"),
    UnitKind.ac: ("mandal", "sector", "booth_no"), UnitKind.mandal: ("sector", "booth_no"),
    UnitKind.sector: ("booth_no",), UnitKind.booth: (),
}


class RowError(ValueError):
    """A row cannot be imported: ``column`` is where, ``str()`` says why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column


@dataclass(frozen=True, slots=True)
class Row:
    """A clean row. Names are NFC with single spaces; phones E.164."""

    line: int
    level: UnitKind
    state: str
    district: str
    ac_no: int | None
    ac_name: str
    mandal: str
    sector: str
    booth_no: int | None
    booth_name: str
    area: str
    voters: int | None
    post: str
    name: str
    name_alt: str
    phone: str
    alt_phone: str | None
    language: str | None  # None: not given (a new person gets hi; a known one keeps theirs)
    warnings: tuple[tuple[str, str], ...] = ()  # (column, what was done) for a row imported with a change


def text(value: str | None) -> str:
    """Cell text: NFC, single spaces, a leading formula-escape quote removed."""
    if not value:
        return ""
    value = value.strip()
    if value.startswith("'"):
        value = value[1:].strip()
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    if "  " in value or "\t" in value or "\n" in value:
        value = " ".join(value.split())
    return value


def fold(value: str) -> str:
    """The form names are compared in: casefolded, nuktas dropped."""
    return unicodedata.normalize("NFC", value.replace("\u093c", "")).casefold()


def is_devanagari(value: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in value)


def _number(raw: dict[str, str], column: str, what: str) -> int | None:
    value = text(raw.get(column))
    if not value:
        return None
    if value.endswith(".0"):
        value = value[:-2]
    if not value.isdigit() or int(value) <= 0:
        raise RowError(column, f"{what} '{value}' is not a number")
    return int(value)


def check_formulas(raw: dict[str, str]) -> None:
    """Raise :class:`RowError` for a cell that is an XLSX formula with no saved value."""
    problem = formula_problem(raw)
    if problem is not None:
        raise RowError(*problem)


def phones_of(raw: dict[str, str]) -> tuple[str, str | None, tuple[tuple[str, str], ...]]:
    """(phone, alternate phone, warnings) of a row, E.164. Two numbers in the phone cell become the phone
    and the alternate phone (with a warning) when the alternate cell is empty."""
    written = text(raw.get("phone"))
    alt_raw = text(raw.get("alt_phone"))
    parts = split_phones(written) if written else [written]
    warnings: tuple[tuple[str, str], ...] = ()
    if len(parts) > 2:
        raise RowError("phone", f"'{written}' holds {len(parts)} numbers (at most two: phone and alternate)")
    if len(parts) == 2:
        if alt_raw:
            raise RowError("phone", f"'{written}' holds two numbers and the alternate phone is given too")
        written, alt_raw = parts
    try:
        phone = normalise_phone(written)
    except PhoneError as exc:
        raise RowError("phone", str(exc)) from None
    alt_phone = None
    if alt_raw:
        try:
            alt_phone = normalise_phone(alt_raw)
        except PhoneError as exc:
            raise RowError("phone" if len(parts) == 2 else "alt_phone", str(exc)) from None
        if alt_phone == phone:
            alt_phone = None
    if len(parts) == 2:
        warnings = (("phone", f"two numbers in the phone cell: {phone} kept as the phone, "
                              f"{alt_phone or 'the same number'} as the alternate phone"),)
    return phone, alt_phone, warnings


def clean_row(line: int, raw: dict[str, str], default_state: str = "State") -> Row:
    """Check and normalise one row, or raise :class:`RowError` naming the column and the problem."""
    check_formulas(raw)
    level_text = text(raw.get("level"))
    if not level_text:
        raise RowError("level", "missing level (district / mandal / sector / booth)")
    level = LEVELS.get(fold(level_text)) or LEVELS.get(level_text.lower())
    if level is None:
        raise RowError("level", f"unknown level '{level_text}' (use district, mandal, sector or booth)")
    name = text(raw.get("name"))
    if not name:
        raise RowError("name", "missing name")
    phone, alt_phone, warnings = phones_of(raw)
    ac_no = _number(raw, "ac_no", "AC number")
    booth_no = _number(raw, "booth_no", "booth number")
    voters = _number(raw, "voters", "voter count")
    district, mandal, sector = text(raw.get("district")), text(raw.get("mandal")), text(raw.get("sector"))
    values: dict[str, object] = {"district": district, "mandal": mandal, "sector": sector, "ac_no": ac_no,
                                 "booth_no": booth_no}
    for column in NEEDS[level]:
        if not values[column]:
            raise RowError(column, f"a {level.value}-level row needs {column.replace('_', ' ')}")
    for column in DEEPER[level]:
        if values[column]:
            raise RowError("level", f"level {level.value} does not fit a row that names {column.replace('_', ' ')} "
                                    f"'{values[column]}'")
    language_text = text(raw.get("language"))
    language = LANGUAGES.get(fold(language_text)) if language_text else None
    if language_text and language is None:
        raise RowError("language", f"unknown language '{language_text}' (use hi or en)")
    return Row(line, level, text(raw.get("state")) or default_state, district, ac_no,
               text(raw.get("ac_name")), mandal, sector, booth_no, text(raw.get("booth_name")),
               text(raw.get("area")), voters, text(raw.get("post")) or "member",
               name, text(raw.get("name_alt")), phone, alt_phone, language, warnings)
