"""Which booth agents a round calls, pure: the plan's committee posts in order (e.g. BLA-2, then the
president), each member's own phone, then (if the plan allows) their alternate phones in the same order.
Members who opted out, are no longer active, or whose phone is marked invalid are left out; a phone is
called once even when two members share it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    person_id: int
    post: str
    phone: str | None
    alt_phone: str | None = None
    phone_ok: bool = True
    alt_ok: bool = True
    dnd: bool = False
    active: bool = True


@dataclass(frozen=True)
class Contact:
    person_id: int
    post: str
    phone: str
    alternate: bool


def _norm(post: str) -> str:
    return "".join(ch for ch in post.lower() if ch.isalnum())


def contacts(members: Iterable[Member], posts: Sequence[str], *, use_alternate: bool = True) -> list[Contact]:
    """The numbers to try for one booth, in order (posts compared without case, spaces or dashes)."""
    rank = {_norm(p): i for i, p in reversed(list(enumerate(posts)))}
    chosen = sorted((m for m in members if _norm(m.post) in rank and m.active and not m.dnd),
                    key=lambda m: (rank[_norm(m.post)], m.person_id))
    out: list[Contact] = []
    seen: set[str] = set()
    seen_people: set[int] = set()
    for m in chosen:
        if m.person_id not in seen_people and m.phone and m.phone_ok and m.phone not in seen:
            out.append(Contact(m.person_id, m.post, m.phone, False))
            seen.add(m.phone)
            seen_people.add(m.person_id)
    if use_alternate:
        for m in chosen:
            if m.alt_phone and m.alt_ok and m.alt_phone not in seen:
                out.append(Contact(m.person_id, m.post, m.alt_phone, True))
                seen.add(m.alt_phone)
    return out


def is_agent(post: str | None, posts: Sequence[str]) -> bool:
    """Whether a committee post is one the plan calls (for the rules' poll-day exemption)."""
    return post is not None and _norm(post) in {_norm(p) for p in posts}
