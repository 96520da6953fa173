"""Render the Asterisk configuration templates (``config/asterisk/*.j2``).

The sandbox renders them into its chroot; a real deployment renders the same templates into its own
``/etc/asterisk`` with the standard directories (``warroom asterisk render --dest /etc/asterisk``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.files import write_private


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


class RenderError(ValueError):
    """A value cannot go into Asterisk's configuration as it is; the message shows it."""


def config_value(value: Any) -> Any:
    """Every value a template prints: a line break would start a new setting and ``;`` a comment, so a
    value holding one (a trunk name, a host, a user's display name...) is refused, never written."""
    text = "" if value is None else str(value)
    if any(c in text for c in UNSAFE):
        raise RenderError(f"{text[:60]!r} cannot go into Asterisk's configuration: it holds a line break, a "
                          "control character or ';'")
    return value


UNSAFE = frozenset(";\r\n\x00") | frozenset(chr(c) for c in range(32) if chr(c) != "\t")


def render_all(template_dir: Path, dest: Path, context: dict[str, Any], *,
               owner: tuple[int, int] | None = None, only: str = "*.j2") -> list[Path]:
    """Render every ``*.j2`` in ``template_dir`` (or those matching ``only``) into ``dest`` (mode 0640,
    optionally chowned).

    Files are written atomically, so a running Asterisk never reads half a file on reload; only the files of
    these templates are written, nothing else in ``dest`` is touched. A value that cannot go into a config
    file raises :class:`RenderError` before anything is written.
    """
    env = Environment(loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False, finalize=config_value)
    texts = {tpl.name[: -len(".j2")]: env.get_template(tpl.name).render(**context)
             for tpl in sorted(template_dir.glob(only))}
    dest.mkdir(mode=0o750, parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        target = dest / name
        write_private(target, text, 0o640, owner)
        written.append(target)
    if not written:
        raise FileNotFoundError(f"no {only} templates in {template_dir}")
    return written
