"""``warroom doctor``: is this deployment able to work? Each check says ok or what is wrong and how to fix it.

AMI (login, and what the user may do), ARI (reachable, our Stasis app registered), FastAGI (reachable *from
Asterisk*: Asterisk itself is asked to connect), each trunk (registered / reachable, or why not) and a test
call when a number is given, the database (reachable, migrated, not newer than this code), disk space for
recordings, the clock (the calling windows depend on it), the time zone, and the directories both Asterisk
and the service must write. Nothing is changed, but for the test call and a key in Asterisk's AstDB.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import shutil
import stat
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.ami import AmiClient, AmiConfig, AmiError, Originate
from adapters.ari import AriClient, AriConfig, AriError
from db import migrate
from db.engine import make_engine
from dialer.dialplans import DialPlan, plain
from dialer.endings import HANGUP_HANDLER
from events.asterisk import HungUp
from events.bus import EventBus
from trunks.health import UP, TrunkHealth, TrunkWatch
from trunks.monitor import ari_endpoint_state

AMI_NEEDS = ("Originate", "Hangup", "CoreShowChannels", "CoreStatus", "DBGet", "Reload",
             "PJSIPShowRegistrationsOutbound", "PJSIPRegister")
AMI_MUST_NOT = ("Command",)   # CLI commands: the AMI user must not have "command" write
AGI_CHECK = "Local/agi-check@warroom-maint"
MIN_FREE = 1 << 30            # bytes free for recordings (and at least 5% of the disk)


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Target:
    """What to check: built from the settings by ``warroom/cli_doctor.py``."""

    ami: AmiConfig
    ari: AriConfig
    database_url: str
    trunks: tuple[TrunkWatch, ...] = ()
    plans: dict[str, DialPlan] = field(default_factory=dict)
    caller_id: str = ""
    agi: tuple[str, int] = ("127.0.0.1", 4573)
    directories: dict[str, Path] = field(default_factory=dict)   # what for -> where (as this host sees it)
    asterisk_ids: tuple[int, int] | None = None                  # the user and group Asterisk runs as
    timezone: str = "Asia/Kolkata"
    window: tuple[str, str] = ("09:00", "21:00")
    test_number: str | None = None
    test_trunk: str | None = None
    skip: frozenset[str] = frozenset()                           # checks not to run ("clock"...)


def report(checks: list[Check]) -> dict[str, Any]:
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}


async def run(target: Target, *, clock_state: Callable[[], tuple[bool | None, str]] | None = None) -> list[Check]:
    """Every check, in order. ``clock_state`` says whether the system clock is synchronised (the kernel's
    word by default)."""
    checks: list[Check] = []
    bus = EventBus()
    ami = AmiClient(target.ami, bus)
    ari = AriClient(target.ari, bus)
    try:
        await ami.start()
        ami_up = await ami.wait_up(min(10.0, target.ami.action_timeout * 2))
        checks.append(_ami_login(target, ami, ami_up))
        if ami_up:
            checks.append(await _ami_permissions(ami))
        checks += await _ari(target, ari)
        if ami_up:
            checks.append(await _agi(target, ami))
            checks += await _trunks(target, ami, ari)
            if target.test_number:
                checks.append(await _test_call(target, ami, bus))
        else:
            not_checked = "not checked: the AMI login failed"
            checks += [Check("FastAGI from Asterisk", False, not_checked, "fix the AMI login first"),
                       *(Check(f"trunk {t.name}", False, not_checked, "fix the AMI login first")
                         for t in target.trunks)]
    finally:
        await ami.close()
        await ari.close()
    checks.append(await asyncio.to_thread(_database, target.database_url))
    checks += _directories(target)
    if "clock" not in target.skip:
        checks.append(_clock(*(clock_state or kernel_clock)()))
    checks.append(_timezone(target))
    return [c for c in checks if c.check.split(" ")[0] not in target.skip]


def _ami_login(target: Target, ami: AmiClient, up: bool) -> Check:
    where = f"{target.ami.host}:{target.ami.port}"
    if up:
        return Check("AMI login", True, f"logged in as {target.ami.username} on {where}")
    return Check("AMI login", False, f"{where}: {ami.detail}",
                 "the AMI secret must be the one in warroom_manager.conf (WARROOM_ASTERISK__AMI_SECRET or "
                 "secrets.json, then `warroom asterisk render`); is Asterisk running (`warroom asterisk status`)?")


async def _ami_permissions(ami: AmiClient) -> Check:
    try:
        commands = await ami.commands()
    except AmiError as exc:
        return Check("AMI permissions", False, str(exc), "check the AMI user's write= line")
    missing = [c for c in AMI_NEEDS if c not in commands]
    extra = [c for c in AMI_MUST_NOT if c in commands]
    if missing:
        return Check("AMI permissions", False, f"the AMI user may not run {', '.join(missing)}",
                     "write = call,reporting,originate,config (see warroom_manager.conf)")
    if extra:
        return Check("AMI permissions", False, f"the AMI user may run {', '.join(extra)} (Asterisk's CLI)",
                     "remove 'command' (and 'system') from the AMI user's write= line")
    return Check("AMI permissions", True, f"may run what the war room needs ({len(AMI_NEEDS)} actions), no CLI")


async def _ari(target: Target, ari: AriClient) -> list[Check]:
    where = f"http://{target.ari.host}:{target.ari.port}/ari"
    try:
        info = await ari.request("GET", "/asterisk/info")
        apps = await ari.request("GET", "/applications")
    except AriError as exc:
        fix = ("the ARI password must be the one in warroom_ari.conf" if exc.status == 401 else
               "ari.conf and http.conf must say enabled = yes, on this address and port; res_ari loaded")
        return [Check("ARI", False, f"{where}: {exc}", fix),
                Check("ARI Stasis app", False, "not checked: ARI is not reachable", "fix ARI first")]
    version = (info or {}).get("system", {}).get("version", "?") if isinstance(info, dict) else "?"
    names = {a.get("name") for a in apps or [] if isinstance(a, dict)}
    ok = Check("ARI", True, f"{where}: Asterisk {version}")
    if target.ari.app in names:
        return [ok, Check("ARI Stasis app", True, f"'{target.ari.app}' registered (the service is connected)")]
    return [ok, Check("ARI Stasis app", False, f"'{target.ari.app}' is not registered",
                      "start the service (`warroom serve` or `systemctl start warroom`): it registers the app "
                      "when it connects; check WARROOM_ASTERISK__ARI_APP and that res_stasis is loaded")]


async def _agi(target: Target, ami: AmiClient) -> Check:
    """Asterisk is asked to run AGI(agi://host:port/ping) and keeps AGISTATUS in AstDB for us to read."""
    token = uuid.uuid4().hex[:16]
    where = f"agi://{target.agi[0]}:{target.agi[1]}"
    request = Originate(channel=AGI_CHECK, channel_id=f"doctor-{token}", action_id=f"doctor-a-{token}",
                        timeout=10, application="NoOp", variables=(f"__WARROOM_CHECK={token}",))
    try:
        await ami.originate(request, timeout=15)
        status = None
        for _ in range(50):
            status = await ami.db_get("warroom-doctor", token)
            if status:
                break
            await asyncio.sleep(0.1)
    except AmiError as exc:
        return Check("FastAGI from Asterisk", False, f"could not ask Asterisk: {exc}",
                     "is [warroom-maint] in the dialplan (warroom_extensions.conf included)?")
    if status == "SUCCESS":
        return Check("FastAGI from Asterisk", True, f"Asterisk reached {where}")
    return Check("FastAGI from Asterisk", False, f"Asterisk could not use {where} ({status or 'no answer'})",
                 "start the service; WARROOM_ASTERISK__AGI_HOST must be an address Asterisk reaches, and "
                 "WARROOM_ASTERISK__AGI_ALLOW must hold Asterisk's address")


async def _trunks(target: Target, ami: AmiClient, ari: AriClient) -> list[Check]:
    health = TrunkHealth(list(target.trunks))
    now = datetime.now(UTC)
    try:
        registrations = await ami.outbound_registrations() if any(t.registers for t in target.trunks) else {}
    except AmiError as exc:
        return [Check(f"trunk {t.name}", False, f"could not ask Asterisk: {exc}",
                      "load res_pjsip_outbound_registration") for t in target.trunks]
    state = ari_endpoint_state(ari.request)
    out = []
    for t in target.trunks:
        if t.registers:
            health.set_registration(t.name, registrations.get(t.name, "Unregistered"), now)
        if t.qualified:
            endpoint = await state(t.name)
            if endpoint in ("online", "offline"):
                health.set_contact(t.name, "reachable" if endpoint == "online" else "unreachable", now)
        s = health.trunks[t.name]
        if s.state == UP:
            out.append(Check(f"trunk {t.name}", True, s.why))
            continue
        fix = {"rejected": f"the provider refuses the account: check the trunk's username and its password "
                           f"(`warroom trunks set-password {t.name}`), then render and reload",
               "unreachable": "the provider does not answer: check the trunk's host and port, and that the "
                              "network lets SIP (and RTP) through",
               "registering": "no answer to the registration yet: run again in a minute; if it stays, check "
                              "the host, port and network",
               "unregistered": "`warroom asterisk render` and reload res_pjsip, or check the registration's "
                               "name"}.get(s.state, "")
        out.append(Check(f"trunk {t.name}", False, s.why, fix))
    return out


async def _test_call(target: Target, ami: AmiClient, bus: EventBus) -> Check:
    """Dial ``test_number`` on the first trunk (or ``test_trunk``); answered, or the SIP answer."""
    trunk = target.test_trunk or (target.trunks[0].name if target.trunks else "lines")
    plan = target.plans.get(trunk) or plain(trunk)
    assert target.test_number is not None
    token = uuid.uuid4().hex[:16]
    channel_id = f"doctor-{token}"
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[HungUp] = loop.create_future()

    def on_hangup(event: HungUp) -> None:
        if event.channel_id == channel_id and not ended.done():
            ended.set_result(event)

    bus.subscribe(HungUp, on_hangup)
    name = f"test call on {trunk}"
    dialed = plan.number(target.test_number)
    request = Originate(channel=plan.channel(target.test_number), channel_id=channel_id,
                        action_id=f"doctor-a-{token}", timeout=30, caller_id=plan.caller_id or target.caller_id,
                        application="Wait", data="1", variables=(HANGUP_HANDLER,))
    try:
        result = await ami.originate(request, timeout=45)
    except AmiError as exc:
        return Check(name, False, f"{dialed}: {exc}", "see the trunk's check above")
    try:
        hangup: HungUp | None = await asyncio.wait_for(asyncio.shield(ended), 10)
    except TimeoutError:
        hangup = None
    finally:
        bus.unsubscribe(HungUp, on_hangup)
    if result.success:
        return Check(name, True, f"{dialed} answered")
    said = (f"SIP {hangup.sip_status} {hangup.sip_reason}".strip() if hangup and hangup.sip_status else
            hangup.cause_text if hangup and hangup.cause_text else f"originate reason {result.reason}")
    return Check(name, False, f"{dialed} not answered: {said}",
                 "check the number's format for this trunk (number_format, dial_prefix) and the caller ID "
                 "the provider allows")


def _database(url: str) -> Check:
    try:
        engine = make_engine(url)
    except Exception as exc:
        return Check("database", False, f"{type(exc).__name__}: {exc}"[:200], "check WARROOM_DATABASE_URL")
    where = engine.url.render_as_string(hide_password=True)
    try:
        current = migrate.current(engine)
    except Exception as exc:
        return Check("database", False, f"{where}: {type(exc).__name__}: {exc}"[:300],
                     "is the database server running and the URL right (WARROOM_DATABASE_URL)?")
    finally:
        engine.dispose()
    head = migrate.head()
    if current == head:
        return Check("database", True, f"{where}: at revision {current}")
    if current is None:
        return Check("database", False, f"{where}: not migrated (no schema)", "run `warroom db upgrade`")
    if not migrate.known(current):
        return Check("database", False, f"{where}: at revision {current}, newer than this warroom ({head})",
                     "install the warroom version that upgraded it (or a newer one)")
    return Check("database", False, f"{where}: at revision {current}, behind {head}", "run `warroom db upgrade`")


def _directories(target: Target) -> list[Check]:
    """Prompts are written by the service and read by Asterisk; recordings are written by Asterisk and read
    (and erased when their time is up) by the service: each directory is checked for what each side does."""
    out = []
    for what, path in target.directories.items():
        name = f"{what} directory"
        asterisk_writes = what == "recordings"
        if not path.is_dir():
            out.append(Check(name, False, f"{path} does not exist",
                             f"mkdir -p {path}; writable by {'Asterisk' if asterisk_writes else 'the service'}"))
            continue
        problems = []
        if not _service_can_write(path):
            problems.append("the service cannot write it")
        if target.asterisk_ids is not None:
            uid, gid = target.asterisk_ids
            if asterisk_writes and not allowed(path, uid, gid, write=True):
                problems.append(f"Asterisk (uid {uid}) cannot write it")
            if not asterisk_writes and not allowed(path, uid, gid, write=False):
                problems.append(f"Asterisk (uid {uid}) cannot read it")
        usage = shutil.disk_usage(path)
        if usage.free < MIN_FREE or usage.free < usage.total * 0.05:
            problems.append(f"only {usage.free // (1 << 20)} MiB free")
        if problems:
            owner = f"{target.asterisk_ids[0]}:{target.asterisk_ids[1]}" if target.asterisk_ids else "asterisk:asterisk"
            out.append(Check(name, False, f"{path}: {'; '.join(problems)}",
                             f"chown {owner} {path} && chmod 2775 {path}, with the service's user in that group; "
                             "free disk space if it is short"))
        else:
            who = "written by Asterisk and the service" if asterisk_writes else "written by the service, read by " \
                                                                                "Asterisk"
            out.append(Check(name, True, f"{path}: {who}; {usage.free // (1 << 30)} GiB free"))
    return out


def _service_can_write(path: Path) -> bool:
    probe = path / f".warroom-doctor-{uuid.uuid4().hex[:8]}"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError:
        return False
    return True


def allowed(path: Path, uid: int, gid: int, *, write: bool) -> bool:
    """Whether a process of ``uid``/``gid`` may create files in ``path`` (``write``) or read them, by the
    directory's mode bits: the owner's, the group's or everyone's (with search permission)."""
    st = path.stat()
    if uid == 0:
        return True
    need = (stat.S_IWUSR if write else stat.S_IRUSR) | stat.S_IXUSR  # owner bits; shifted for group and others
    if st.st_uid == uid:
        return st.st_mode & need == need
    if st.st_gid == gid:
        return st.st_mode & (need >> 3) == need >> 3
    return st.st_mode & (need >> 6) == need >> 6


class _Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("pad", ctypes.c_int * 11)]


def kernel_clock() -> tuple[bool | None, str]:
    """Whether the kernel says the clock is synchronised (an NTP daemon disciplines it), and the estimated
    error; None when it cannot be asked."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError) as exc:
        return None, f"cannot ask the kernel: {exc}"
    unsynced = state == 5 or bool(tx.status & 0x40)  # TIME_ERROR, STA_UNSYNC
    return not unsynced, f"estimated error {tx.esterror / 1000:.0f} ms, at most {tx.maxerror / 1000:.0f} ms"


def _clock(synced: bool | None, detail: str) -> Check:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if synced:
        return Check("clock", True, f"{now}, synchronised ({detail})")
    return Check("clock", False, f"{now}, {'not synchronised' if synced is False else 'unknown'} ({detail})",
                 "enable time synchronisation (`apt install chrony` or `timedatectl set-ntp true`): the calling "
                 "windows and the silence period are decided by this clock")


def _timezone(target: Target) -> Check:
    try:
        zone = ZoneInfo(target.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return Check("time zone", False, f"'{target.timezone}' is not a known time zone",
                     "WARROOM_DIALER__TIMEZONE=Asia/Kolkata; install tzdata")
    local = datetime.now(zone)
    start, end = time.fromisoformat(target.window[0]), time.fromisoformat(target.window[1])
    inside = start <= local.time() < end
    system = os.environ.get("TZ") or _system_zone()
    return Check("time zone", True, f"{target.timezone}: {local:%H:%M} now, calling window {target.window[0]}-"
                                    f"{target.window[1]} {'open' if inside else 'closed'} (system zone {system})")


def _system_zone() -> str:
    try:
        return str(Path("/etc/timezone").read_text().strip() or Path("/etc/localtime").resolve().name)
    except OSError:
        return "unknown"

