"""Integration tests in parallel: each pytest-xdist worker runs in a network namespace of its own
(``scripts/test-worker-python``), so the same ports serve every worker; what they share is the disk, so
sandbox nodes get a name per worker (:func:`node_name`) and the chroot is built once, before the workers
start (``python -m tests.isolation prepare``).

``python -m tests.isolation prepare`` builds the sandbox if needed and prints how many workers to run: 2
when this machine can give each its own network namespace (root, ``unshare``, ``ip``, ``socat``), else 0
(one process, the tests one after another: they share the machine's ports).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from sandbox.asterisk import Sandbox, SandboxError
from warroom.asterisk_config import TEMPLATE_DIR
from warroom.settings import AsteriskSettings

WORKERS = 2


def node_name(base: str) -> str:
    """A sandbox node's name for this test process: ``base``, with the xdist worker's id when there is one
    (two workers' nodes must not share a directory)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{base}-{worker}" if worker else base


def can_isolate() -> str | None:
    """None when workers can each have a network namespace of their own, else why not."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("unshare", "ip", "socat"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(["unshare", "--net", "--", "ip", "link", "add", "wr0", "type", "veth", "peer", "name",
                            "wr1"], capture_output=True, text=True, check=False)  # as the workers do
    if probe.returncode != 0:
        return f"unshare --net failed: {probe.stderr.strip() or probe.returncode}"
    return None


def prepare() -> int:
    """Build the sandbox chroot (and its asterisk user) once, so workers starting together do not race to;
    return the number of workers to run."""
    box = Sandbox(node_name("test"), AsteriskSettings().sandbox_cache, TEMPLATE_DIR, {})  # no node configured
    try:
        box.ensure_rootfs()
        box.align_user()
    except SandboxError as exc:  # the tests themselves fail with this message, each one
        print(f"the Asterisk sandbox could not be built: {exc}", file=sys.stderr)
        return 0
    why = can_isolate()
    if why is not None:
        print(f"integration tests run one at a time: {why}", file=sys.stderr)
        return 0
    return WORKERS


if __name__ == "__main__":
    if sys.argv[1:] != ["prepare"]:
        sys.exit("usage: python -m tests.isolation prepare")
    print(prepare())
