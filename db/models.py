"""The directory: organisation units, committees, people and their posts, candidates, booth results,
and the change feed the dialer follows. SQLAlchemy 2 typed models; migrations in ``db/migrations``."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UnitKind(enum.StrEnum):
    state = "state"
    district = "district"
    ac = "ac"          # assembly constituency, numbered
    mandal = "mandal"  # "mandalam" in some parties: the label is a setting
    sector = "sector"  # "shakti kendra" in some parties: the label is a setting
    booth = "booth"    # polling booth, numbered within its AC

    @property
    def depth(self) -> int:
        return list(UnitKind).index(self)


class BoothStatus(enum.StrEnum):
    strong = "strong"
    weak = "weak"
    swing = "swing"
    unknown = "unknown"


class MemberStatus(enum.StrEnum):
    active = "active"
    wrong_number = "wrong_number"
    unreachable = "unreachable"
    opted_out = "opted_out"


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its value in a short string column (portable: no native PG enum types)."""
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class Unit(Base):
    """One node of the organisation hierarchy. ``key`` is its natural key (unique), e.g. ``ac:112`` or
    ``booth:112:45``; booths also carry ``ac_id`` and ``number``."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    ac_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[int | None] = mapped_column(Integer)
    # booths
    area: Mapped[str | None] = mapped_column(Text)
    voter_count: Mapped[int | None] = mapped_column(Integer)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    computed_status: Mapped[BoothStatus | None] = mapped_column(enum_column(BoothStatus, "booth_status"))
    status_override: Mapped[BoothStatus | None] = mapped_column(enum_column(BoothStatus, "booth_status_override"))
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(100))
    override_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # assembly constituencies: close of poll, for the silence period before it
    poll_end_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id", foreign_keys=[parent_id])

    @property
    def status(self) -> BoothStatus:
        """The booth's status: the manual override if set, else the one derived from results."""
        return self.status_override or self.computed_status or BoothStatus.unknown


class Committee(Base):
    """The committee of one unit (district / mandal / sector / booth committee...)."""

    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    unit: Mapped[Unit] = relationship()


class Person(Base):
    """Someone the war room calls. Identified by their primary phone (E.164)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_alt: Mapped[str | None] = mapped_column(String(200))  # the name in the other script
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    alt_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    phone_invalid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    alt_phone_invalid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    language: Mapped[str] = mapped_column(String(5), default="hi")
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus, "member_status"),
                                                 default=MemberStatus.active, index=True)
    consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    consent_source: Mapped[str | None] = mapped_column(String(100))
    dnd: Mapped[bool] = mapped_column(default=False)
    dnd_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dnd_source: Mapped[str | None] = mapped_column(String(100))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="person")

    def dial_phone(self) -> str | None:
        """The phone to call: the primary unless marked invalid, then the alternate."""
        if self.phone_invalid_at is None:
            return self.phone
        if self.alt_phone and self.alt_phone_invalid_at is None:
            return self.alt_phone
        return None

    @property
    def reachable(self) -> bool:
        return self.status == MemberStatus.active and not self.dnd and self.dial_phone() is not None


class Membership(Base):
    """A person's post in a committee. One person can hold posts in several committees."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("person_id", "committee_id", name="uq_memberships_person_committee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    post: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")
    committee: Mapped[Committee] = relationship()


class Candidate(Base):
    """A candidate standing in an assembly constituency."""

    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("ac_id", "phone", name="uq_candidates_ac_phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ac_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_alt: Mapped[str | None] = mapped_column(String(200))
    party: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))
    alt_phone: Mapped[str | None] = mapped_column(String(20))


class Election(Base):
    __tablename__ = "elections"
    __table_args__ = (UniqueConstraint("year", "kind", name="uq_elections_year_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))  # assembly / loksabha / bye-election / local


class BoothResult(Base):
    """One booth's result in one election: electors, votes polled, and votes per party (JSON)."""

    __tablename__ = "booth_results"
    __table_args__ = (UniqueConstraint("booth_id", "election_id", name="uq_booth_results_booth_election"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booth_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    electors: Mapped[int | None] = mapped_column(Integer)
    votes_polled: Mapped[int | None] = mapped_column(Integer)
    party_votes: Mapped[dict[str, int]] = mapped_column(JSON)

    election: Mapped[Election] = relationship()

    @property
    def turnout(self) -> float | None:
        if not self.electors or self.votes_polled is None:
            return None
        return self.votes_polled / self.electors


class Change(Base):
    """The directory's change feed (outbox): one row per change to a person, their phones, status,
    consent or posts, written in the same transaction as the change. ``id`` only grows."""

    __tablename__ = "change_feed"
    __table_args__ = (Index("ix_change_feed_person", "person_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    person_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))  # created / updated / removed / dnd / status / phone
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
