"""Settings of the features beside the core (privacy, the SIP guard, reports, the cluster, outreach): each a
section of :class:`warroom.settings.Settings`, set from ``WARROOM_<SECTION>__<NAME>``."""

from __future__ import annotations

import ipaddress
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from reports.shifts import DEFAULT_SHIFTS, parse_shifts


class PrivacySettings(BaseModel):
    """How long personal data is kept (applied daily by the service and by ``warroom retention apply``)."""

    election_date: date | None = Field(None, description="polling day (YYYY-MM-DD): phones in call records "
                                                         "and the CDR are kept until phones_days after it")
    recordings_days: int = Field(90, ge=1, le=3650, description="voice notes and recordings are kept this long")
    phones_days: int = Field(180, ge=0, le=3650, description="days after the election that phones in call "
                                                             "records and Asterisk's CDR are kept")
    prompt_days: int = Field(7, ge=1, le=365, description="synthesised prompts no call has played for this long "
                                                          "are deleted (greetings say members' names); made "
                                                          "again when next needed")
    record_hotline: bool = Field(False, description="record operators' hotline calls (after telling the caller); "
                                                    "a campaign's calls follow its own switch")


class SipGuardSettings(BaseModel):
    """Banning addresses that keep failing SIP authentication (Asterisk's security events)."""

    max_failures: int = Field(5, ge=1, le=1000, description="failures from one address within window_seconds "
                                                           "that get it banned")
    window_seconds: float = Field(600.0, gt=0, description="how far back failures are counted")
    ban_seconds: float = Field(3600.0, gt=0, description="how long a ban lasts")
    never_ban: list[str] = Field(default_factory=lambda: ["127.0.0.1/32"],
                                 description="addresses or networks never banned (the trunks' always are)")

    @field_validator("never_ban")
    @classmethod
    def _never(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item}' is not an address or network") from None
        return v


class ReportSettings(BaseModel):
    """Reports: the operators' shifts, in local time (the dialer's time zone)."""

    shifts: str = Field(DEFAULT_SHIFTS, description="NAME=HH:MM-HH:MM, comma-separated; time outside every "
                                                    "shift is reported as off-shift")

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, v: str) -> str:
        parse_shifts(v)  # a ShiftError (ValueError) names the bad shift
        return v


class ClusterSettings(BaseModel):
    """Several nodes on one PostgreSQL (``warroom serve`` per Asterisk node; the node's name is
    ``asterisk.node``). The single-box default needs none of it."""

    lease_seconds: float = Field(30.0, ge=3, le=600, description="a node silent this long is dead: its claims "
                                                                 "expire and other nodes take its attempts over")
    heartbeat_seconds: float = Field(5.0, gt=0, le=60, description="how often a node says it is alive")
    max_clock_skew: float = Field(1.0, gt=0, description="seconds a node's clock may be off the database's")
    max_call_seconds: int = Field(900, ge=60, le=6 * 3600, description="Asterisk hangs up any of our calls after "
                                                                      "this long (so a dead node's calls surely end)")
    web_only: bool = Field(False, description="serve the web side only: no Asterisk, no dialing (several web "
                                              "processes behind a proxy)")
    sip_address: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})$",
                             description="the address the other nodes reach this node's SIP transport on (its "
                                         "trunks to them are rendered with it)")

    @model_validator(mode="after")
    def _beats_within_lease(self) -> ClusterSettings:
        if self.heartbeat_seconds * 2 > self.lease_seconds:
            raise ValueError(f"cluster: heartbeat_seconds ({self.heartbeat_seconds}) must be at most half of "
                             f"lease_seconds ({self.lease_seconds}), or a live node may look dead")
        return self


class OutreachSettings(BaseModel):
    """Voter outreach: the do-not-call file, the law's ban zone, missed-call numbers."""

    dnd_file: Path | None = Field(None, description="the do-not-call store (default: <state_dir>/dnd.bin)")
    ban_timezone: str = Field("Asia/Kolkata", description="where the 22:00-06:00 ban on campaign calls is kept")
    callbacks_per_day: int = Field(2, ge=1, le=20, description="missed calls: call backs per number per day")
    flood_calls: int = Field(5, ge=2, le=1000, description="missed calls from one number within flood_minutes "
                                                          "beyond which they are ignored (and counted)")
    flood_minutes: float = Field(10.0, gt=0, le=1440)
    missed_call_refuse: Literal["busy", "rejected"] = Field("busy", description="how a missed call is refused")
    missed_call_purposes: dict[str, Literal["join", "call_back", "hear_message"]] = Field(
        default_factory=dict, description="DID -> what a missed call on it asks for (default call_back)")
    lines: int = Field(0, ge=0, le=10000, description="broadcast calls going at once at most (0: the trunks' lines)")
