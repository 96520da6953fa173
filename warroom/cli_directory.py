"""``warroom directory ...``: the committee directory."""

from __future__ import annotations

import typer

directory_app = typer.Typer(help="The committee directory: import, export, coverage.", no_args_is_help=True)
