"""Files that hold secrets or personal data: created with their final mode, never briefly wider."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str, mode: int = 0o640, owner: tuple[int, int] | None = None) -> None:
    """Write ``path`` atomically with ``mode`` from its creation (no moment with the umask's wider mode),
    optionally owned by ``owner``: configuration holding secrets is never readable by others."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    if owner is not None:
        os.chown(tmp, *owner)
    os.replace(tmp, path)


def private_dir(path: Path) -> Path:
    """Make ``path`` (and its parents) exist, and ``path`` itself readable by its owner only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path
