"""Tickets, instructions and the hotline's caller lookup, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.models import Committee, Membership, Person, Unit, UnitKind, utcnow
from db.tickets import TicketStatus
from hotline.lookup import add_instruction, identify, latest_instruction
from tickets.service import TicketError, assign, list_tickets, open_ticket, resolve


def tree(s: Session) -> dict[str, int]:
    ac = Unit(key="ac:152", kind=UnitKind.ac, name="Bhopal Uttar", number=152)
    s.add(ac)
    s.flush()
    sector = Unit(key="sector:152:1", kind=UnitKind.sector, name="Sector 1", parent_id=ac.id, ac_id=ac.id)
    s.add(sector)
    s.flush()
    booth = Unit(key="booth:152:45", kind=UnitKind.booth, name="School", number=45, parent_id=sector.id, ac_id=ac.id)
    s.add(booth)
    s.flush()
    ids = {"ac": ac.id, "sector": sector.id, "booth": booth.id}
    for unit in (sector, booth):
        c = Committee(unit_id=unit.id)
        s.add(c)
        s.flush()
        ids[f"c:{unit.kind.value}"] = c.id
    p = Person(name="Asha", phone="+919826012345", alt_phone="+919425012345", language="en")
    s.add(p)
    s.flush()
    s.add_all([Membership(person_id=p.id, committee_id=ids["c:sector"], post="convenor"),
               Membership(person_id=p.id, committee_id=ids["c:booth"], post="BLA")])
    ids["asha"] = p.id
    return ids


def test_identify_by_either_phone_as_written_and_unknown_numbers(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = tree(s)
    with session_factory() as s:
        for raw in ("09826012345", "+91 98260 12345", "9425012345"):
            caller = identify(s, raw)
            assert (caller.person_id, caller.booth_id, caller.language) == (ids["asha"], ids["booth"], "en"), raw
        assert identify(s, "9826012345").status == "unknown"
        stranger = identify(s, "9000012345")
        assert not stranger.known and stranger.phone == "+919000012345" and stranger.language == "hi"
        assert identify(s, "garbage").phone is None


def test_newest_instruction_covering_the_booth_in_the_callers_language(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = tree(s)
        t0 = utcnow()
        add_instruction(s, "सबके लिए", unit_id=None, language="hi").created_at = t0
        add_instruction(s, "AC: be there by 7", unit_id=ids["ac"], language="en").created_at = t0 + timedelta(1)
        add_instruction(s, "सेक्टर: बैठक", unit_id=ids["sector"], language="hi").created_at = t0 + timedelta(2)
        with pytest.raises(ValueError, match="needs some text"):
            add_instruction(s, "  ", unit_id=None)
    with session_factory() as s:
        assert latest_instruction(s, ids["booth"], "hi") == "सेक्टर: बैठक"
        assert latest_instruction(s, ids["booth"], "en") == "AC: be there by 7"
        assert latest_instruction(s, None, "en") == "सबके लिए"  # nothing in English for everyone: newest


def test_ticket_life_cycle_and_bad_requests(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        ids = tree(s)
        t = open_ticket(s, category="material_shortage", source="hotline", booth_id=ids["booth"],
                        reporter_id=ids["asha"])
        other = open_ticket(s, category="other", source="operator")
        with pytest.raises(TicketError, match="unknown category 'food'"):
            open_ticket(s, category="food", source="hotline")
        tid, oid = t.id, other.id
    with session_factory.begin() as s:
        assert assign(s, tid, "ravi").status is TicketStatus.assigned
        with pytest.raises(TicketError, match="assign to whom"):
            assign(s, oid, " ")
        with pytest.raises(TicketError, match="say how it was resolved"):
            resolve(s, tid, "")
        done = resolve(s, tid, "200 slips sent")
        assert done.status is TicketStatus.resolved and done.resolved_at is not None
    with session_factory.begin() as s:
        with pytest.raises(TicketError, match=f"ticket #{tid} is already resolved"):
            assign(s, tid, "ravi")
        assert [x.id for x in list_tickets(s, status="open")] == [oid]
        assert [x.id for x in list_tickets(s, ac_id=ids["ac"])] == [tid]
        assert [x.id for x in list_tickets(s, category="material_shortage")] == [tid]
        with pytest.raises(TicketError, match="no ticket #999"):
            resolve(s, 999, "x")
