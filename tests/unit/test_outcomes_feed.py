"""Call outcomes update the directory, and every change lands in the change feed in order."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.models import MemberStatus, Person
from directory.changes import last_change_id, read_changes, record_change
from directory.outcomes import Outcome, UnknownPerson, apply_outcome


def _person(sf: sessionmaker[Session], alt: str | None = "+919826012346") -> int:
    with sf.begin() as s:
        p = Person(name="राम", phone="+919826012345", alt_phone=alt)
        s.add(p)
        s.flush()
        return p.id


def test_wrong_number_moves_to_alternate_then_marks_person(session_factory: sessionmaker[Session]) -> None:
    pid = _person(session_factory)
    start = 0
    with session_factory.begin() as s:
        assert apply_outcome(s, pid, Outcome.wrong_number, phone="+919826012345") == ["phone_invalid_at"]
    with session_factory() as s:
        p = s.get(Person, pid)
        assert p is not None and p.dial_phone() == "+919826012346" and p.status == MemberStatus.active
        changes = read_changes(s, start)
        assert [(c.person_id, c.kind) for c in changes] == [(pid, "phone")]
        assert changes[0].data["dial_phone"] == "+919826012346"
        start = changes[-1].id
    with session_factory.begin() as s:
        assert apply_outcome(s, pid, Outcome.wrong_number, phone="+919826012346") == [
            "alt_phone_invalid_at", "status"]
    with session_factory() as s:
        p = s.get(Person, pid)
        assert p is not None and p.dial_phone() is None and p.status == MemberStatus.wrong_number
        assert not p.reachable
        assert [c.data["status"] for c in read_changes(s, start)] == ["wrong_number"]


def test_opt_out_sets_dnd_once(session_factory: sessionmaker[Session]) -> None:
    pid = _person(session_factory)
    with session_factory.begin() as s:
        changed = apply_outcome(s, pid, Outcome.opted_out, source="ivr key 9")
        assert "dnd" in changed and "status" in changed
    with session_factory.begin() as s:
        assert apply_outcome(s, pid, Outcome.opted_out) == []  # nothing new, no feed row
    with session_factory() as s:
        p = s.get(Person, pid)
        assert p is not None and p.dnd and p.dnd_source == "ivr key 9" and p.dnd_at is not None
        assert [c.kind for c in read_changes(s, 0)] == ["dnd"]


def test_completed_call_verifies(session_factory: sessionmaker[Session]) -> None:
    pid = _person(session_factory, alt=None)
    with session_factory.begin() as s:
        apply_outcome(s, pid, Outcome.unreachable)
    with session_factory.begin() as s:
        assert apply_outcome(s, pid, Outcome.completed) == ["verified_at", "status"]
    with session_factory() as s:
        p = s.get(Person, pid)
        assert p is not None and p.verified_at is not None and p.status == MemberStatus.active


def test_unknown_person_is_an_error(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s, pytest.raises(UnknownPerson, match="no person with id 999"):
        apply_outcome(s, 999, Outcome.completed)


def test_feed_ids_grow_and_rolled_back_changes_vanish(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        record_change(s, 1, "created")
        record_change(s, 2, "created")
    with session_factory() as s:
        first = last_change_id(s)
    with pytest.raises(RuntimeError), session_factory.begin() as s:
        record_change(s, 3, "created")
        raise RuntimeError("abort")
    with session_factory.begin() as s:
        record_change(s, 4, "updated")
    with session_factory() as s:
        rows = read_changes(s, 0)
        assert [r.person_id for r in rows] == [1, 2, 4]
        assert [r.id for r in rows] == sorted(r.id for r in rows) and rows[-1].id > first
        assert [r.person_id for r in read_changes(s, first)] == [4]
