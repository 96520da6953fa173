"""Indian phone numbers as people write them -> E.164, with a reason when they are not valid."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

_JUNK = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"^(?:\+91|91|0)?([6-9]\d{9})$")
# Whether a 10-digit Indian mobile number is valid depends only on its leading digits (the numbering
# plan's ranges): phonenumbers decides once per 6-digit prefix, and the answer is reused.
_PREFIX_VALID: dict[str, bool] = {}


class PhoneError(ValueError):
    """The text is not a valid Indian phone number; ``str()`` says why."""


_SEPARATORS = re.compile(r"\s*(?:/|,|;|\||&|\bor\b|\band\b|\bya\b|या|और)\s*", re.IGNORECASE)


def split_phones(raw: str) -> list[str]:
    """The numbers written in one cell: ``"98260-11125 / 94250-11126"`` -> two texts. One number (however
    written) gives a list of one; separators are / , ; | & and "or" (English or Hindi)."""
    if len(raw or "") < 20:  # the shortest two numbers ("9826011125/9425011126") take 21 characters
        return [raw]
    parts = [part for part in _SEPARATORS.split((raw or "").strip()) if part and part.strip()]
    if len(parts) <= 1:
        # "98260 11125 94250 11126": two 10-digit mobiles written one after the other
        digits = re.sub(r"[\s\-().]", "", raw or "")
        if len(digits) == 20 and digits.isdigit() and digits[0] in "6789" and digits[10] in "6789":
            return [digits[:10], digits[10:]]
        return [raw]
    return parts


def normalise_phone(raw: str, *, mobile_only: bool = False) -> str:
    """Return ``raw`` as E.164 (``+919826012345``) or raise :class:`PhoneError` with the reason.

    Accepts the usual ways of writing Indian numbers: ``98260 12345``, ``098260-12345``,
    ``+91 9826012345``, ``91-9826012345`` and landlines with their STD code (``0755-2551234``).
    """
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty phone number")
    if text.endswith(".0") and text[:-2].isdigit():  # spreadsheets turn numbers into floats
        text = text[:-2]
    compact = _JUNK.sub("", text)
    mobile = _MOBILE.match(compact)
    if mobile and not mobile_only:
        national = mobile.group(1)
        valid = _PREFIX_VALID.get(national[:6])
        if valid is None:
            valid = _PREFIX_VALID[national[:6]] = phonenumbers.is_valid_number(phonenumbers.parse(national, "IN"))
        if valid:
            return "+91" + national
    if not re.fullmatch(r"\+?\d+", compact):
        raise PhoneError(f"'{raw}' has characters that are not digits")
    if compact.startswith("91") and len(compact) == 12:
        compact = "+" + compact
    try:
        number = phonenumbers.parse(compact, "IN")
    except NumberParseException as exc:
        raise PhoneError(f"'{raw}' is not a phone number ({exc})") from exc
    if number.country_code != 91:
        raise PhoneError(f"'{raw}' is not an Indian number (+{number.country_code})")
    if not phonenumbers.is_valid_number(number):
        digits = str(number.national_number)
        raise PhoneError(f"'{raw}' is not a valid Indian number ({len(digits)} digits: {digits})")
    if mobile_only and phonenumbers.number_type(number) not in (PhoneNumberType.MOBILE,
                                                                PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise PhoneError(f"'{raw}' is not a mobile number")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))
