"""How each trunk wants a number dialed (pure): the number's format, a dial prefix, and for a GSM gateway
the port (SIM) the call goes out on, chosen round robin by the line book.

A number is kept in E.164 (``+919826012345``); a provider may want it as ``919826012345``
(international), ``09826012345`` (national, with the trunk prefix 0) or ``9826012345`` (ten digits).
The Originate's channel is ``PJSIP/<number>@<trunk>``, or, for a gateway port with a SIP port of its own,
``PJSIP/<trunk>/sip:<number>@<host>:<port>``.
"""

from __future__ import annotations

from dataclasses import dataclass

INDIA = "91"


def format_number(e164: str, number_format: str) -> str:
    """``+919826012345`` in ``e164``, ``international``, ``national`` or ``ten`` form. A number from outside
    India keeps its international digits in the national forms (they have no trunk prefix of ours)."""
    digits = e164.lstrip("+")
    if number_format == "e164":
        return f"+{digits}"
    if number_format == "international":
        return digits
    indian = digits.startswith(INDIA) and len(digits) == 12
    national = digits[len(INDIA):] if indian else digits
    if number_format == "national":
        return f"0{national}" if indian else f"00{digits}"
    if number_format == "ten":
        return national
    raise ValueError(f"unknown number format '{number_format}'")


@dataclass(frozen=True)
class GatewayPort:
    """One port of a GSM gateway: its prefix, and its own SIP port when it has one."""

    prefix: str = ""
    sip_port: int | None = None


@dataclass(frozen=True)
class DialPlan:
    """How one trunk dials: ``prefix`` before every number, numbers in ``number_format``, the gateway's
    ``ports`` (empty: not a gateway), ``host`` (for ports with a SIP port of their own) and the caller ID the
    provider lets us send (None: the dialer's)."""

    trunk: str
    prefix: str = ""
    number_format: str = "e164"
    ports: tuple[GatewayPort, ...] = ()
    host: str = ""
    caller_id: str | None = None

    def number(self, phone: str, port: int | None = None) -> str:
        """What is dialed for ``phone`` (E.164), on gateway port ``port`` when the trunk has ports."""
        number = f"{self.prefix}{format_number(phone, self.number_format)}"
        if port is not None and self.ports:
            number = f"{self.ports[port].prefix}{number}"
        return number

    def channel(self, phone: str, port: int | None = None) -> str:
        """The Originate's channel for ``phone``."""
        number = self.number(phone, port)
        if port is not None and self.ports and self.ports[port].sip_port:
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"PJSIP/{self.trunk}/sip:{number}@{host}:{self.ports[port].sip_port}"
        return f"PJSIP/{number}@{self.trunk}"


def plain(trunk: str) -> DialPlan:
    """A trunk dialed as it always was: E.164, no prefix."""
    return DialPlan(trunk)
