"""Settings: environment variables (``WARROOM_...``, nested with ``__``) and an optional env file.

Nothing here is a secret baked into code: AMI and ARI secrets are generated on first run and kept in
``<state_dir>/secrets.json`` (mode 0600), outside the repository.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.files import private_dir, write_private
from warroom.feature_settings import (
    ClusterSettings,
    OutreachSettings,
    PrivacySettings,
    ReportSettings,
    SipGuardSettings,
)
from warroom.trunk_settings import TrunkSettings, unique_names

REPO_ROOT = Path(__file__).resolve().parent.parent


def _xdg(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / default)


class WebRtcSettings(BaseModel):
    """The phone in the browser (issue 19): SIP over a secure WebSocket on Asterisk's HTTPS server, media
    with DTLS-SRTP. ``cert_file``/``key_file`` are paths as Asterisk sees them; unset, the sandbox makes a
    self-signed certificate for itself (browsers must be told to trust it: see the README)."""

    enabled: bool = Field(True, description="render the browser phones' endpoints and offer the phone in the pages")
    port: int | None = Field(None, ge=1, le=65535, description="Asterisk's HTTPS port (the secure WebSocket, "
                                                               "/ws); unset: the node's http_port + 1")
    bind: str = Field("127.0.0.1", pattern=r"^[0-9A-Fa-f.:]{2,45}$",
                      description="the address Asterisk's HTTPS server listens on (0.0.0.0: every desk)")
    cert_file: str | None = Field(None, pattern=r"^/[^;\s]{1,250}$", description="PEM certificate (with its chain)")
    key_file: str | None = Field(None, pattern=r"^/[^;\s]{1,250}$", description="its PEM private key")
    ws_url: str | None = Field(None, pattern=r"^wss?://[^\s;\"'<>]{3,250}$",
                               description="the WebSocket URL browsers connect to; unset: "
                                           "wss://<the page's host name>:<port>/ws")

    @model_validator(mode="after")
    def _both_files(self) -> WebRtcSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("webrtc: give cert_file and key_file together (or neither: the sandbox's own)")
        return self


class AsteriskSettings(BaseModel):
    """How to reach Asterisk (the sandbox or an existing one) and how the sandbox is laid out."""

    node: str = Field("node1", pattern=r"^[a-z][a-z0-9_-]{0,30}$")
    host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = Field("warroom", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
    ami_secret: SecretStr | None = None
    http_port: int = 8088
    ari_user: str = Field("warroom", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
    ari_password: SecretStr | None = None
    ari_app: str = Field("warroom", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10999
    action_timeout: float = Field(5.0, gt=0, description="seconds to wait for any AMI/ARI reply")
    ping_interval: float = Field(5.0, gt=0, description="seconds between AMI pings (dead-link detection)")
    reconnect_max: float = Field(30.0, gt=0, description="longest back-off between reconnect attempts")
    trunks: list[TrunkSettings] = Field(default_factory=lambda: [TrunkSettings()])
    farm_port: int = Field(5070, description="the SIPp phone farm's port (sandbox test trunk)")
    config_dir: Path | None = Field(None, description="Asterisk's configuration directory as this host sees it "
                                                       "(operators' softphones are written there); unset: "
                                                       "the sandbox node's")
    cdr_dir: Path | None = Field(None, description="Asterisk's log directory as this host sees it (its CDR files "
                                                    "are under cdr-csv/ and cdr-custom/: erasure and retention "
                                                    "rewrite them); unset: the sandbox node's")
    agi_host: str = Field("127.0.0.1", description="where Asterisk reaches our FastAGI caller lookup (the "
                                                    "address the dialplan dials)")
    agi_port: int = Field(4573, description="our FastAGI caller lookup's port (the hotline dialplan uses it)")
    agi_bind: str = Field("127.0.0.1", description="the address our FastAGI server listens on")
    agi_allow: list[str] = Field(default_factory=lambda: ["127.0.0.1"],
                                 description="addresses (or networks) FastAGI connections are accepted from: "
                                             "Asterisk's")
    agi_max_connections: int = Field(32, ge=1, le=1000, description="FastAGI lookups served at once; more are "
                                                                    "closed at once")
    sandbox_cache: Path = Field(default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "warroom")
    transport: str = Field("transport-udp", pattern=r"^[A-Za-z0-9._-]{0,60}$",
                           description="the PJSIP transport trunks and softphones use (the sandbox's: "
                                       "transport-udp; FreePBX: 0.0.0.0-udp; empty: Asterisk chooses)")
    ami_permit: str = Field("127.0.0.1/255.255.255.255", pattern=r"^[0-9A-Fa-f.:/]{2,80}$",
                            description="where the AMI user may log in from (the service's address)")
    sip_bind: str = Field("127.0.0.1", description="the address SIP listens on (0.0.0.0 for softphones on the LAN)")
    operator_networks: list[str] = Field(default_factory=lambda: ["127.0.0.0/8"],
                                         description="networks operators' softphones may register from")
    tls_cert: Path | None = Field(None, description="a certificate (PEM, with its chain) for SIP over TLS; "
                                                    "with tls_key, softphones may use TLS")
    tls_key: Path | None = Field(None, description="the certificate's private key (PEM)")
    tls_port: int = Field(5061, ge=1, le=65535, description="the SIP over TLS port")
    webrtc: WebRtcSettings = Field(default_factory=WebRtcSettings)
    user: str = Field("asterisk", pattern=r"^[a-z_][a-z0-9_-]{0,31}$",
                      description="the user Asterisk runs as (directories it must write are checked for it)")

    @field_validator("trunks")
    @classmethod
    def _trunks(cls, v: list[TrunkSettings]) -> list[TrunkSettings]:
        return unique_names(v)

    @field_validator("operator_networks")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item}' is not an address or network (e.g. 192.168.1.0/24)") from None
        return v

    @model_validator(mode="after")
    def _tls_pair(self) -> AsteriskSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        return self

    @property
    def https_port(self) -> int:
        """Asterisk's HTTPS port: where browsers' phones connect (``/ws``)."""
        return self.webrtc.port or self.http_port + 1

    @field_validator("agi_allow")
    @classmethod
    def _agi_allow(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"agi_allow: '{item}' is not an address or network (e.g. 127.0.0.1, "
                                 "10.0.0.0/24)") from None
        return v

    @field_validator("rtp_end")
    @classmethod
    def _rtp_range(cls, v: int, info: object) -> int:
        start = getattr(info, "data", {}).get("rtp_start", 0)
        if v <= start:
            raise ValueError(f"rtp_end ({v}) must be above rtp_start ({start})")
        return v


class DirectorySettings(BaseModel):
    """The directory's vocabulary and the booth-status thresholds (see ``directory/status.py``)."""

    mandal_label: str = Field("mandal", description='"mandal" (BJP) or "mandalam" (Congress)')
    sector_label: str = Field("sector", description='"sector" (Congress) or "shakti kendra" (BJP)')
    party: str = Field("PARTY", description="our party's name as it appears in results files")
    strong_margin: float = Field(0.10, ge=0, le=1, description="mean margin at or above which a booth is strong")
    weak_margin: float = Field(0.10, ge=0, le=1, description="mean deficit at or above which a booth is weak")
    status_elections: int = Field(2, ge=1, description="how many recent elections the status looks at")
    verify_days: int = Field(30, ge=1, description="members not verified for this many days are listed")


class DialerSettings(BaseModel):
    """Calling rules every campaign starts from (a campaign may narrow them) and dialing timings."""

    window_start: str = Field("09:00", pattern=r"^\d{2}:\d{2}$")
    window_end: str = Field("21:00", pattern=r"^\d{2}:\d{2}$")
    timezone: str = "Asia/Kolkata"
    silence_hours: float = Field(48.0, ge=0, description="no campaign calls this long before close of poll")
    max_per_day: int = Field(3, ge=1, description="attempts per person per day, all campaigns together")
    min_gap_minutes: float = Field(30.0, ge=0, description="minimum time between two calls to one person")
    ring_timeout: float = Field(30.0, gt=0, description="seconds a call may ring unanswered")
    caller_id: str = "War Room <0000000000>"
    operator_ratio: float = Field(1.0, gt=0, le=3, description="progressive campaigns: calls per ready operator")
    abandon_seconds: float = Field(5.0, gt=0, le=60, description="progressive: wait for an operator, then abandon")
    predictive_abandon_seconds: float = Field(2.0, gt=0, le=60, description="predictive: an answered call no "
                                              "operator takes this soon is abandoned (apology, call-back task)")
    predictive_handover_seconds: float = Field(1.5, ge=0, le=60, description="predictive: how long a free "
                                               "operator takes to be given an answered call and answer it")
    predictive_window_minutes: float = Field(30.0, ge=1, le=24 * 60, description="predictive: the sliding window "
                                             "of the abandon rate and the answer rate")
    predictive_min_answered: int = Field(30, ge=1, description="predictive: answers today before dialing ahead")
    predictive_min_operators: int = Field(3, ge=1, description="predictive: operators working before dialing ahead")
    callback_number: str = Field("", max_length=30, description="the number an abandoned call's apology gives "
                                 "to call back on (none said when empty)")
    settle_seconds: float = Field(2.0, gt=0, le=30, description="wait this long for the missing half of a call's "
                                                            "ending (Hangup / OriginateResponse) before deciding")
    poll_interval: float = Field(1.0, gt=0, le=30, description="longest pause between two scheduling passes")
    reconcile_grace: float = Field(1.0, ge=0, le=30, description="after a reconnect, let Originates in flight "
                                                               "create their channels before reconciling")
    sweep_after_seconds: float = Field(120.0, gt=0, description="an open attempt no call tracks is checked "
                                                              "with Asterisk after this long")
    ready_ahead: float = Field(0.5, ge=0, le=1, description="IVR and broadcast campaigns claim about two seconds' "
                               "calls ahead, so a line that frees is dialed at once, but never more than this share "
                               "of a trunk's lines (0: claim in each pass only)")
    ready_max_age: float = Field(10.0, gt=0, le=60, description="a target claimed ahead and not dialed within this "
                                 "many seconds is given back")


class IvrSettings(BaseModel):
    """IVR scripts, prompts and speech. Directories left unset use the sandbox node's own."""

    scripts_dir: Path | None = Field(None, description="the war room's own scripts (a name replaces a built-in)")
    prompts_dir: Path | None = Field(None, description="recorded prompts: <lang>/<script>/<step>.wav")
    sounds_dir: Path | None = Field(None, description="where synthesised prompts are written (Asterisk reads it)")
    asterisk_sounds_dir: str | None = Field(None, description="sounds_dir as Asterisk sees it (default: the same)")
    recordings_dir: Path | None = Field(None, description="Asterisk's recording directory as this host sees it")
    voices: dict[str, str] = Field(default_factory=lambda: {"hi": "hi", "en": "en"},
                                   description="language -> espeak-ng voice")
    speech_rate: int = Field(140, ge=80, le=400, description="words per minute")
    default_language: str = "hi"
    hotline_script: str = "hotline"


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookie: bool = Field(False, description="mark the session cookie Secure (when served over HTTPS)")
    wrap_up_seconds: float = Field(60.0, ge=0, le=900, description="an operator's after-call time before ready")
    operator_ring_seconds: int = Field(20, ge=3, le=120, description="how long an operator's softphone rings "
                                                                   "before the call goes to the next operator")
    ticket_target_minutes: int = Field(60, ge=1, le=7 * 24 * 60,
                                       description="a ticket open longer than this shows as overdue")
    metrics_token: SecretStr | None = Field(None, description="a bearer token for /metrics (Prometheus); "
                                                              "unset: only signed-in supervisors see it")
    idle_minutes: int = Field(30, ge=0, le=24 * 60, description="a session with no request of its user's own "
                                                                "for this long ends (shared desks); 0: never")

    trusted_proxies: list[str] = Field(default_factory=list,
                                       description="reverse proxies whose X-Forwarded-Proto/-For are believed "
                                                   "(addresses or networks); cookies are Secure behind HTTPS")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item}' is not an address or network (e.g. 127.0.0.1)") from None
        return v



class Settings(BaseSettings):
    """All of the service's settings. ``warroom --help`` names the env file option."""

    model_config = SettingsConfigDict(
        env_prefix="WARROOM_",
        env_nested_delimiter="__",
        env_file=os.environ.get("WARROOM_ENV_FILE", "warroom.env"),
        extra="ignore",
    )

    state_dir: Path = Field(default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state") / "warroom")
    database_url: str = ""
    asterisk: AsteriskSettings = Field(default_factory=AsteriskSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    directory: DirectorySettings = Field(default_factory=DirectorySettings)
    dialer: DialerSettings = Field(default_factory=DialerSettings)
    ivr: IvrSettings = Field(default_factory=IvrSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    sip_guard: SipGuardSettings = Field(default_factory=SipGuardSettings)
    outreach: OutreachSettings = Field(default_factory=OutreachSettings)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per line (the journal)")
    stop_seconds: float = Field(120.0, ge=0, le=3600, description="on stop: how long live calls may go on before "
                                                                 "they are hung up and settled")

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the state directory."""
        return self.database_url or f"sqlite:///{self.state_dir / 'warroom.db'}"


def load_settings() -> Settings:
    """Read settings, then fill in generated secrets (created once, kept in the state directory). Settings
    that cannot work raise :class:`SettingsProblem`, naming each bad setting."""
    try:
        return with_secrets(Settings())
    except ValidationError as exc:
        raise SettingsProblem(describe(exc)) from None


class SettingsProblem(ValueError):
    """The settings cannot work; the message names each bad setting and why."""


def describe(exc: ValidationError) -> str:
    """One line per bad setting: its path as an environment variable would name it, and why."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"] if not str(part).startswith("function-"))
        message = str(err["msg"]).removeprefix("Value error, ")
        env = "WARROOM_" + "__".join(str(p).upper() for p in err["loc"][:2] if not str(p).isdigit())
        lines.append(f"setting {loc or '(settings)'}: {message} (from {env} or the env file)")
    return "bad settings:\n  " + "\n  ".join(lines)


def with_secrets(settings: Settings) -> Settings:
    """Fill the AMI secret and ARI password from ``secrets.json`` where settings leave them unset (the state
    directory is made private, 0700, on the way); each trunk with a user name and no password gets it from
    ``WARROOM_TRUNK_<NAME>_PASSWORD`` or the secrets file's ``trunks`` (``warroom trunks set-password``)."""
    private_dir(settings.state_dir)
    ast = settings.asterisk
    if ast.ami_secret is None or ast.ari_password is None:
        stored = ensure_secrets(settings.state_dir)
        if ast.ami_secret is None:
            ast.ami_secret = SecretStr(stored["ami_secret"])
        if ast.ari_password is None:
            ast.ari_password = SecretStr(stored["ari_password"])
    missing = [t for t in ast.trunks if t.username and t.password is None]
    if missing:
        stored_trunks = read_secrets(settings.state_dir).get("trunks") or {}
        for trunk in missing:
            value = os.environ.get(trunk.env_password) or stored_trunks.get(trunk.name)
            if value:
                trunk.password = SecretStr(str(value))
    return settings


def read_secrets(state_dir: Path) -> dict[str, Any]:
    """``secrets.json`` as it is (empty when there is none)."""
    path = state_dir / "secrets.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"{path}: unreadable secrets file ({exc}); fix or delete it") from exc
    return data if isinstance(data, dict) else {}


def store_trunk_password(state_dir: Path, trunk: str, password: str) -> Path:
    """Keep a trunk's password in ``secrets.json`` (0600); returns the file."""
    private_dir(state_dir)
    data = read_secrets(state_dir)
    trunks = dict(data.get("trunks") or {})
    trunks[trunk] = password
    data["trunks"] = trunks
    path = state_dir / "secrets.json"
    write_private(path, json.dumps(data), 0o600)
    return path


def ensure_secrets(state_dir: Path) -> dict[str, str]:
    """Load ``secrets.json`` from ``state_dir``, generating any missing secret (file mode 0600)."""
    path = state_dir / "secrets.json"
    data: dict[str, Any] = read_secrets(state_dir)
    changed = False
    for key in ("ami_secret", "ari_password"):
        if not data.get(key):
            data[key] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        private_dir(state_dir)
        write_private(path, json.dumps(data), 0o600)
    return data
