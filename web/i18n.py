"""The consoles' words in English and Hindi."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {"title": "War room", "sign_in": "Sign in", "username": "User name", "password": "Password",
           "sign_out": "Sign out", "language": "हिन्दी", "other_lang": "hi"},
    "hi": {"title": "वार रूम", "sign_in": "साइन इन करें", "username": "उपयोगकर्ता नाम", "password": "पासवर्ड",
           "sign_out": "साइन आउट", "language": "English", "other_lang": "en"},
}


def texts(language: str | None) -> dict[str, str]:
    return TEXTS.get(language or "en", TEXTS["en"])
