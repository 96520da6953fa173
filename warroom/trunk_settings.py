"""A trunk's settings: the war room's phone lines as a provider (or a GSM gateway) sees them.

Every value is checked when the settings are read, so a trunk that cannot work stops start-up with a message
naming the setting (``asterisk.trunks.0.dial_prefix: ...``) instead of failing calls later. Passwords are
``SecretStr`` (never printed); they come from the settings, the secrets file or the environment
(:func:`warroom.settings.with_secrets`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,39}$"
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})$")
PREFIX = re.compile(r"^[0-9*#]{0,20}$")
DID = re.compile(r"^\+?[0-9]{2,20}$")
CALLER_ID = re.compile(r"^(?:[^;<>\"\r\n]{0,40} ?<\+?[0-9]{3,20}>|\+?[0-9]{3,20})$")
CODECS = ("ulaw", "alaw", "gsm", "g722", "g729", "opus")
NUMBER_FORMATS = ("e164", "international", "national", "ten")
DID_TARGETS = "hotline, missed_call (outreach lists only) or missed_call:<campaign name>"


class GsmPort(BaseModel):
    """One port (SIM) of a GSM gateway: the prefix the gateway routes to it, and its own SIP port when the
    gateway gives each port one (else the trunk's)."""

    prefix: str = Field("", description="digits, * or # dialed before the number to choose this port")
    port: int | None = Field(None, ge=1, le=65535, description="this port's own SIP port, if it has one")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not PREFIX.match(v):
            raise ValueError(f"prefix '{v}': only digits, * and # (at most 20)")
        return v


class TrunkSettings(BaseModel):
    """A SIP trunk: the war room's phone lines at a provider, a GSM gateway, or (in the sandbox) the phone
    farm. ``kind`` says how the far end knows us: ``ip`` (by our address), ``register`` (we register with a
    user name and password), ``gsm`` (a GSM gateway: ``ports`` are its lines, one call each)."""

    name: str = Field("lines", pattern=NAME, description="letters, digits, - and _ (it names the PJSIP endpoint)")
    kind: Literal["ip", "register", "gsm"] = Field("ip", description="ip, register or gsm")
    lines: int = Field(10, ge=1, le=1000, description="simultaneous calls the trunk carries")
    inbound_reserved: int = Field(0, ge=0, description="lines kept free for inbound calls")
    host: str = Field("127.0.0.1", description="the provider's host name or address")
    port: int = Field(5070, ge=1, le=65535)
    username: str | None = Field(None, description="the account at the provider (digest authentication)")
    password: SecretStr | None = Field(None, description="the account's password (better: the secrets file "
                                                         "or WARROOM_TRUNK_<NAME>_PASSWORD)")
    from_user: str | None = Field(None, description="the From user the provider expects (default: username)")
    from_domain: str | None = Field(None, description="the From domain the provider expects (default: host)")
    caller_id: str | None = Field(None, description="the number the provider lets us send, e.g. "
                                                    "'War Room <07554000000>' (default: the dialer's)")
    codecs: list[str] = Field(default_factory=lambda: ["ulaw", "alaw"], description=", ".join(CODECS))
    dial_prefix: str = Field("", description="digits, * or # dialed before every number")
    number_format: Literal["e164", "international", "national", "ten"] = Field(
        "e164", description="e164 (+919826012345), international (919826012345), national (09826012345) "
                            "or ten (9826012345)")
    dids: dict[str, str] = Field(default_factory=dict, description=f"DID -> {DID_TARGETS}; empty: every "
                                                                   "inbound call goes to the hotline")
    addresses: list[str] = Field(default_factory=list, description="addresses or networks the provider calls "
                                                                   "from (default: host, when it is an address)")
    ports: list[GsmPort] = Field(default_factory=list, description="gsm: the gateway's ports, one line each")
    qualify_seconds: int | None = Field(None, ge=0, le=3600,
                                        description="seconds between SIP OPTIONS pings that tell whether the far "
                                                    "end answers (0: never); default 30 for register and gsm "
                                                    "trunks, 0 for ip trunks")
    retry_seconds: int = Field(60, ge=1, le=3600, description="register: seconds between registration retries")
    expiry_seconds: int = Field(600, ge=60, le=86400, description="register: registration lifetime asked for")

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("missing: the provider's host name or address")
        if not HOST.match(v):
            raise ValueError(f"'{v[:60]}' is not a host name or address")
        return v

    @field_validator("username", "from_user")
    @classmethod
    def _user(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[A-Za-z0-9_.+*#-]{1,64}$", v):
            raise ValueError(f"'{v[:40]}': letters, digits and _ . + * # - only")
        return v

    @field_validator("from_domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and not HOST.match(v):
            raise ValueError(f"'{v[:60]}' is not a domain")
        return v

    @field_validator("caller_id")
    @classmethod
    def _caller_id(cls, v: str | None) -> str | None:
        if v is not None and not CALLER_ID.match(v):
            raise ValueError(f"'{v[:60]}': a number (+917554000000) or 'Name <number>'")
        return v

    @field_validator("codecs")
    @classmethod
    def _codecs(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in CODECS]
        if bad or not v:
            raise ValueError(f"{', '.join(bad) or 'none'}: choose from {', '.join(CODECS)}")
        return v

    @field_validator("dial_prefix")
    @classmethod
    def _dial_prefix(cls, v: str) -> str:
        if not PREFIX.match(v):
            raise ValueError(f"'{v[:30]}': a prefix is digits, * and # only (at most 20), no letters")
        return v

    @field_validator("dids")
    @classmethod
    def _dids(cls, v: dict[str, str]) -> dict[str, str]:
        for did, target in v.items():
            if not DID.match(did):
                raise ValueError(f"DID '{did[:30]}': digits, optionally a leading +")
            kind, _, campaign = target.partition(":")
            if not (target in ("hotline", "missed_call") or (kind == "missed_call" and campaign.strip())):
                raise ValueError(f"DID {did} -> '{target[:60]}': use {DID_TARGETS}")
        return v

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item[:60]}' is not an address or network (e.g. 203.0.113.5, "
                                 "203.0.113.0/28)") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> TrunkSettings:
        if self.password is not None and not self.username:
            raise ValueError(f"trunk '{self.name}': password is set without username (set username too)")
        if self.kind == "register" and not self.username:
            raise ValueError(f"trunk '{self.name}': kind register needs username (and a password)")
        if self.kind == "gsm":
            if not self.ports:
                raise ValueError(f"trunk '{self.name}': kind gsm needs ports (one prefix per port)")
            if "lines" not in self.model_fields_set:
                self.lines = len(self.ports)
            elif self.lines != len(self.ports):
                raise ValueError(f"trunk '{self.name}': lines ({self.lines}) must equal the number of ports "
                                 f"({len(self.ports)}): each port carries one call")
        elif self.ports:
            raise ValueError(f"trunk '{self.name}': ports are for kind gsm only")
        if self.inbound_reserved > self.lines:
            raise ValueError(f"trunk '{self.name}': inbound_reserved ({self.inbound_reserved}) is more than "
                             f"lines ({self.lines})")
        return self

    # -- what follows from the settings --------------------------------------------------------------
    @property
    def qualify(self) -> int:
        """Seconds between OPTIONS pings (0: the far end's reachability is not watched)."""
        if self.qualify_seconds is not None:
            return self.qualify_seconds
        return 0 if self.kind == "ip" else 30

    @property
    def registers(self) -> bool:
        return self.kind == "register"

    @property
    def match(self) -> list[str]:
        """Where the provider's calls come from: ``addresses``, else ``host`` when it is an address."""
        if self.addresses:
            return list(self.addresses)
        return [self.host] if is_address(self.host) else []

    @property
    def env_password(self) -> str:
        """The environment variable that may hold this trunk's password."""
        return f"WARROOM_TRUNK_{re.sub(r'[^A-Za-z0-9]', '_', self.name).upper()}_PASSWORD"


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def unique_names(trunks: list[TrunkSettings]) -> list[TrunkSettings]:
    """Trunk names must differ (each names a PJSIP endpoint)."""
    seen: set[str] = set()
    for t in trunks:
        if t.name in seen:
            raise ValueError(f"two trunks are named '{t.name}': each needs its own name")
        if t.name == "farm":
            raise ValueError("'farm' is the sandbox's test trunk: choose another name")
        seen.add(t.name)
    return trunks
