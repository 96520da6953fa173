"""Render the Asterisk configuration templates (``config/asterisk/*.j2``).

The sandbox renders them into its chroot; a real deployment renders the same templates into its own
``/etc/asterisk`` with the standard directories (``warroom asterisk render --dest /etc/asterisk``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined


@dataclass(frozen=True)
class AsteriskDirs:
    """Directories as Asterisk sees them (inside the chroot for the sandbox)."""

    etc: str
    modules: str
    varlib: str
    data: str
    spool: str
    run: str
    log: str
    cache: str

    @classmethod
    def standard(cls, modules: str = "/usr/lib/x86_64-linux-gnu/asterisk/modules") -> AsteriskDirs:
        """The layout of a normal Debian install (a real deployment)."""
        return cls("/etc/asterisk", modules, "/var/lib/asterisk", "/usr/share/asterisk",
                   "/var/spool/asterisk", "/var/run/asterisk", "/var/log/asterisk", "/var/cache/asterisk")

    @classmethod
    def for_node(cls, node: str, modules: str) -> AsteriskDirs:
        """One sandbox node's private directories, so several nodes share one chroot."""
        return cls(f"/etc/warroom/{node}", modules, f"/var/lib/warroom/{node}", "/usr/share/asterisk",
                   f"/var/spool/warroom/{node}", f"/run/warroom/{node}", f"/var/log/warroom/{node}",
                   f"/var/cache/warroom/{node}")


def render_all(template_dir: Path, dest: Path, context: dict[str, Any], *,
               owner: tuple[int, int] | None = None) -> list[Path]:
    """Render every ``*.j2`` in ``template_dir`` into ``dest`` (mode 0640, optionally chowned).

    Files are written atomically, so a running Asterisk never reads half a file on reload.
    """
    env = Environment(loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for tpl in sorted(template_dir.glob("*.j2")):
        text = env.get_template(tpl.name).render(**context)
        target = dest / tpl.name[: -len(".j2")]
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text)
        os.chmod(tmp, 0o640)
        if owner is not None:
            os.chown(tmp, *owner)
        os.replace(tmp, target)
        written.append(target)
    if not written:
        raise FileNotFoundError(f"no *.j2 templates in {template_dir}")
    return written
