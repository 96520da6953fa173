"""The sandbox Asterisk: Debian unstable's Asterisk 22 in a cached debootstrap chroot.

One chroot (built once, reused) can host several nodes (``node1``, ``node2``...): each node has its own
config, run, log, spool and lib directories inside it and its own ports, so nodes run side by side.
Asterisk runs as the chroot's ``asterisk`` user (config files are 0640, owned by it), which has the uid and
gid of a host system user of its own, ``warroom-asterisk``: on the host it is nobody else (Debian gives the
chroot's user a low uid that, on a host, may well be another service's, such as PostgreSQL's).
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.render import AsteriskDirs, render_all

log = logging.getLogger(__name__)

PACKAGES = "asterisk,asterisk-core-sounds-en-gsm"
SANDBOX_CERT = "warroom-sandbox"  # <etc>/keys/<this>.crt and .key: the HTTPS server's own certificate
HOST_USER = "warroom-asterisk"
SUITE = "sid"


class SandboxError(RuntimeError):
    """The sandbox could not be built, started or stopped; the message says why."""


@dataclass(frozen=True)
class SandboxStatus:
    node: str
    running: bool
    pid: int | None
    fully_booted: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "running": self.running, "pid": self.pid,
                "fully_booted": self.fully_booted, "detail": self.detail}


class Sandbox:
    """Build, configure, start, stop and query one sandbox node.

    ``context`` is what the templates see (ports, users, secrets, trunks...); ``dirs`` are filled in here.
    """

    def __init__(self, node: str, cache_dir: Path, template_dir: Path, context: dict[str, Any],
                 echo: Callable[[str], None] = lambda _m: None) -> None:
        self.node = node
        self.cache = cache_dir
        self.root = cache_dir / "rootfs"
        self.template_dir = template_dir
        self.context = context
        self.echo = echo
        self.node_dir = cache_dir / "nodes" / node  # host-side: pid file, console log

    # -- the chroot -------------------------------------------------------------------------------
    def ensure_rootfs(self) -> float:
        """Build the chroot if absent (about a minute); return the seconds it took (0 if cached)."""
        if (self.root / "usr/sbin/asterisk").exists():
            return 0.0
        if os.geteuid() != 0:
            raise SandboxError("building the sandbox needs root (debootstrap and chroot)")
        if shutil.which("debootstrap") is None:
            raise SandboxError("debootstrap is not installed: apt-get install debootstrap")
        tmp = self.cache / "rootfs.partial"
        if tmp.exists():
            shutil.rmtree(tmp)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.echo(f"building the Asterisk sandbox in {self.root} (debootstrap {SUITE}, about a minute)...")
        started = time.monotonic()
        logfile = self.cache / "debootstrap.log"
        with open(logfile, "w") as out:
            proc = subprocess.run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE,
                                   str(tmp)], stdout=out, stderr=subprocess.STDOUT, check=False)
        if proc.returncode != 0 or not (tmp / "usr/sbin/asterisk").exists():
            tail = logfile.read_text(errors="replace").splitlines()[-15:]
            last = "\n".join(tail)
            raise SandboxError(f"debootstrap failed (exit {proc.returncode}); last lines of {logfile}:\n{last}")
        os.replace(tmp, self.root)
        return time.monotonic() - started

    def asterisk_ids(self) -> tuple[int, int]:
        """The chroot's asterisk user and group ids (files Asterisk must read are given to them)."""
        for line in (self.root / "etc/passwd").read_text().splitlines():
            parts = line.split(":")
            if parts[0] == "asterisk":
                return int(parts[2]), int(parts[3])
        raise SandboxError(f"no asterisk user in {self.root}/etc/passwd: rebuild the sandbox")

    def align_user(self) -> tuple[int, int]:
        """Give the chroot's asterisk user the ids of the host's ``warroom-asterisk`` system user (made if
        missing), re-owning the chroot's files that had the old ids. Idempotent; refused while a node runs
        (its Asterisk would lose its files)."""
        uid, gid = host_user()
        old_uid, old_gid = self.asterisk_ids()
        if (old_uid, old_gid) == (uid, gid):
            return uid, gid
        running = [p.parent.name for p in (self.cache / "nodes").glob("*/asterisk.pid") if _alive(p)]
        if running:
            raise SandboxError(f"the sandbox's asterisk user must move to uid {uid} (the host's {HOST_USER}), "
                               f"but nodes {', '.join(running)} still run: `warroom asterisk down` them first")
        _rewrite_ids(self.root / "etc/passwd", "asterisk", 2, old_uid, uid)
        _rewrite_ids(self.root / "etc/passwd", "asterisk", 3, old_gid, gid)
        _rewrite_ids(self.root / "etc/group", "asterisk", 2, old_gid, gid)
        self.echo(f"sandbox: asterisk user {old_uid}:{old_gid} -> {uid}:{gid} ({HOST_USER} on the host)")
        for top, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not os.path.ismount(os.path.join(top, d))]
            for name in [*dirnames, *filenames]:
                path = os.path.join(top, name)
                st = os.lstat(path)
                if st.st_uid == old_uid or st.st_gid == old_gid:
                    os.lchown(path, uid if st.st_uid == old_uid else -1, gid if st.st_gid == old_gid else -1)
        return uid, gid

    def dirs(self) -> AsteriskDirs:
        mods = glob.glob(str(self.root / "usr/lib/*/asterisk/modules"))
        if not mods:
            raise SandboxError(f"no Asterisk modules directory in {self.root}: rebuild the sandbox")
        return AsteriskDirs.for_node(self.node, "/" + str(Path(mods[0]).relative_to(self.root)))

    def host_path(self, inner: str) -> Path:
        """A path inside the chroot, as seen from the host."""
        return self.root / inner.lstrip("/")

    def prepare(self) -> None:
        """Write /etc/hosts, the node's directories and its rendered configuration."""
        hostname = socket.gethostname()
        hosts = self.root / "etc/hosts"
        wanted = f"127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\tlocalhost ip6-localhost\n"
        if not hosts.exists() or hosts.read_text() != wanted:  # shared by every node: never half-written
            partial = hosts.with_name(f"hosts.{os.getpid()}")
            partial.write_text(wanted)
            os.replace(partial, hosts)
        uid, gid = self.asterisk_ids()
        dirs = self.dirs()
        for inner in (dirs.varlib, dirs.spool, dirs.run, dirs.log, dirs.cache,
                      f"{dirs.spool}/outgoing", f"{dirs.spool}/tmp", f"{dirs.spool}/recording",
                      f"{dirs.log}/cdr-csv", f"{dirs.log}/cdr-custom", f"{dirs.varlib}/sounds"):
            path = self.host_path(inner)
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, uid, gid)
        etc = self.host_path(dirs.etc)
        written = set(render_all(self.template_dir, etc, {**self.context, "dirs": dirs}, owner=(uid, gid)))
        for stale in set(etc.glob("*.conf")) - written:
            # what the service wrote last time (operators' endpoints, bans...): it writes them again once
            # started; left here, Asterisk would start with another run's secrets
            stale.unlink()
        os.chown(etc, uid, gid)
        webrtc = self.context.get("webrtc") or {}
        if webrtc.get("enabled") and not webrtc.get("cert"):
            self.certificate(self.host_path(f"{dirs.etc}/keys"), (uid, gid))

    def certificate(self, keys: Path, owner: tuple[int, int]) -> Path:
        """The sandbox's own certificate for Asterisk's HTTPS server (browser phones' secure WebSocket):
        self-signed for localhost and 127.0.0.1, made with openssl when missing or about to expire."""
        crt, key = keys / f"{SANDBOX_CERT}.crt", keys / f"{SANDBOX_CERT}.key"
        if crt.exists() and key.exists() and subprocess.run(
                ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(crt)],
                capture_output=True, check=False).returncode == 0:
            return crt
        keys.mkdir(mode=0o750, parents=True, exist_ok=True)
        os.chown(keys, *owner)
        proc = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "825", "-subj", f"/CN=warroom sandbox {self.node}",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(crt)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SandboxError(f"cannot make the sandbox's certificate with openssl: {proc.stderr.strip()[-300:]}")
        for path, mode in ((crt, 0o644), (key, 0o640)):
            os.chmod(path, mode)
            os.chown(path, *owner)
        return crt

    # -- the process ------------------------------------------------------------------------------
    @property
    def _pidfile(self) -> Path:
        return self.node_dir / "asterisk.pid"

    def _pid(self) -> int | None:
        try:
            pid = int(self._pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return pid
        return pid if any(b"asterisk" in part for part in cmdline) else None

    def rx(self, command: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
        """Run an Asterisk CLI command on this node (``asterisk -rx``)."""
        conf = f"{self.dirs().etc}/asterisk.conf"
        return subprocess.run(["chroot", str(self.root), "asterisk", "-C", conf, "-rx", command],
                              capture_output=True, text=True, timeout=timeout, check=False)

    def up(self, timeout: float = 60.0) -> float:
        """Build if needed, configure and start the node, wait for FullyBooted; return start seconds."""
        if os.geteuid() != 0:
            raise SandboxError("the sandbox needs root (it runs Asterisk in a chroot)")
        self.ensure_rootfs()
        self.align_user()
        self.prepare()
        if self._pid() is not None:
            self.echo(f"sandbox {self.node} already running (pid {self._pid()}); reloading its config")
            self.rx("core reload")
            return 0.0
        self.node_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        conf = f"{self.dirs().etc}/asterisk.conf"
        console = self.node_dir / "console.log"
        with open(console, "w") as out:
            proc = subprocess.Popen(
                ["chroot", str(self.root), "asterisk", "-f", "-n", "-U", "asterisk", "-G", "asterisk",
                 "-C", conf],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self._pidfile.write_text(str(proc.pid))
        deadline = started + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SandboxError(f"Asterisk ({self.node}) exited with {proc.returncode} while starting:\n"
                                   + self._log_tail(console))
            res = self.rx("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
            if res.returncode == 0 and "fully booted" in res.stdout.lower():
                return time.monotonic() - started
            time.sleep(0.1)
        self.down()
        raise SandboxError(f"Asterisk ({self.node}) not fully booted after {timeout:.0f}s:\n"
                           + self._log_tail(console))

    def _log_tail(self, console: Path, lines: int = 20) -> str:
        text = console.read_text(errors="replace") if console.exists() else ""
        messages = self.host_path(self.dirs().log) / "messages.log"
        if messages.exists():
            text += messages.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def down(self, timeout: float = 20.0) -> bool:
        """Stop the node cleanly (``core stop gracefully``), then by signal; True if it was running."""
        pid = self._pid()
        if pid is None:
            self._pidfile.unlink(missing_ok=True)
            return False
        self.rx("core stop now", timeout=timeout)
        deadline = time.monotonic() + timeout
        sig_sent = False
        while time.monotonic() < deadline:
            if self._pid() is None:
                break
            if not sig_sent and time.monotonic() > deadline - timeout / 2:
                os.kill(pid, signal.SIGTERM)
                sig_sent = True
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        self._reap(pid)
        self._pidfile.unlink(missing_ok=True)
        return True

    @staticmethod
    def _reap(pid: int) -> None:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    def status(self) -> SandboxStatus:
        pid = self._pid()
        if pid is None:
            built = "built" if (self.root / "usr/sbin/asterisk").exists() else "not built"
            return SandboxStatus(self.node, False, None, False, f"stopped (chroot {built})")
        res = self.rx("core show uptime", timeout=5)
        booted = res.returncode == 0 and "uptime" in res.stdout.lower()
        detail = res.stdout.strip().splitlines()[0] if booted and res.stdout.strip() else res.stderr.strip()
        return SandboxStatus(self.node, True, pid, booted, detail or "starting")

    def log_dir(self) -> Path:
        """The node's Asterisk log directory as seen from the host (CDR files live under it)."""
        return self.host_path(self.dirs().log)


def host_user() -> tuple[int, int]:
    """The uid and gid of the host's ``warroom-asterisk`` system user, made first if missing."""
    try:
        entry = pwd.getpwnam(HOST_USER)
    except KeyError:
        proc = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                               "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
                               "the war room's sandbox Asterisk", HOST_USER],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SandboxError(f"cannot create the host user {HOST_USER}: {proc.stderr.strip()}") from None
        entry = pwd.getpwnam(HOST_USER)
    return entry.pw_uid, entry.pw_gid


def _rewrite_ids(path: Path, name: str, field: int, old: int, new: int) -> None:
    """Set field ``field`` of the ``name`` line of a passwd/group file to ``new``, refusing an id that
    another entry of the file already has."""
    lines = path.read_text().splitlines()
    taken = {line.split(":")[0] for line in lines if len(line.split(":")) > field
             and line.split(":")[field] == str(new) and line.split(":")[0] != name}
    if taken and old != new:
        raise SandboxError(f"{path}: id {new} is already {', '.join(sorted(taken))}'s: cannot give it to {name}")
    out = []
    for line in lines:
        parts = line.split(":")
        if parts[0] == name and len(parts) > field:
            parts[field] = str(new)
        out.append(":".join(parts))
    path.write_text("\n".join(out) + "\n")


def _alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True
