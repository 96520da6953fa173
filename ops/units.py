"""systemd units for a server that runs for weeks (``warroom install-service``): the service, and optionally
the sandbox Asterisk, rendered from ``config/systemd/*.j2`` with this installation's paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.files import write_private


@dataclass(frozen=True)
class UnitSpec:
    warroom: str            # the `warroom` command (the virtualenv's)
    user: str
    group: str
    state_dir: Path
    env_file: Path
    writable: tuple[Path, ...]   # what the service writes besides its state (Asterisk's config, sounds...)
    stop_seconds: float
    supplementary: str = ""  # e.g. asterisk: to write Asterisk's configuration and read its recordings
    sandbox: bool = False
    node: str = "node1"


def render_units(template_dir: Path, spec: UnitSpec) -> dict[str, str]:
    """Unit name -> its text."""
    env = Environment(loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    writable = " ".join([str(spec.state_dir), *(f"-{p}" for p in spec.writable)])  # "-": may not exist yet
    context = {"warroom": spec.warroom, "user": spec.user, "group": spec.group, "state_dir": spec.state_dir,
               "env_file": spec.env_file, "writable": writable,
               "stop_seconds": int(spec.stop_seconds), "stop_timeout": int(spec.stop_seconds) + 45,
               "supplementary": spec.supplementary, "sandbox": spec.sandbox, "node": spec.node,
               # the sandbox lives in root's cache (and the service gives its files to Asterisk's user)
               "protect_home": "no" if spec.sandbox else "read-only"}
    names = ["warroom.service"] + (["warroom-asterisk.service"] if spec.sandbox else [])
    return {name: env.get_template(f"{name}.j2").render(**context) for name in names}


def install_units(units: dict[str, str], dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in units.items():
        write_private(dest / name, text, 0o644)
        written.append(dest / name)
    return written
