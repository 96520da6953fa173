"""What makes a password acceptable: at least ``MIN_PASSWORD`` characters, no spaces around it, and not a
common one. "Common" is judged by zxcvbn (Dropbox's estimator, kept up on PyPI), which knows the 30,000
most used passwords, words, names, keyboard walks, dates and l33t spellings, and is also given the user's
own name and the product's: a password it estimates guessable in under 10^8 tries (score below 3) is
refused, with its own hint."""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_PASSWORD = 10
MAX_PASSWORD = 200  # zxcvbn's work grows with the length; nobody types more
MIN_SCORE = 3       # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash scenario"
PRODUCT_WORDS = ("warroom", "war room", "election", "booth", "asterisk")


def password_problem(password: str, *, username: str = "", display_name: str = "") -> str | None:
    """Why ``password`` is refused, in words the user can act on; None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"the password is too short: at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password is too long: at most {MAX_PASSWORD} characters"
    if password.strip() != password or password.lower() == password and password.isalpha():
        return "the password must not start or end with spaces, nor be only lower-case letters"
    inputs = [w for w in (username, display_name, *display_name.split(), *PRODUCT_WORDS) if w]
    result = zxcvbn(password, user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        return f"the password is too common or easy to guess ({hint.rstrip('.')}): choose a longer, less usual one"
    return None
