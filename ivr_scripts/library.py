"""The scripts a war room has: the built-in ones shipped here plus a folder of its own, by name."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import NotFound
from ivr_scripts.loader import load_script
from ivr_scripts.model import Script, field_name
from ivr_scripts.problems import ScriptInvalid

BUILTIN_DIR = Path(__file__).resolve().parent / "scripts"
# which script a booth's status gets when a campaign names none for it
DEFAULT_BY_STATUS = {"strong": "strong", "weak": "weak", "swing": "swing", "unknown": "general"}
STATUSES = tuple(DEFAULT_BY_STATUS)


class UnknownScript(NotFound):
    """No script by that name in the library."""


class ScriptLibrary:
    """Scripts by name, loaded and checked once. A war room's own folder may replace a built-in script by
    giving its file the same ``name``."""

    def __init__(self, dirs: list[Path] | None = None) -> None:
        self.dirs = [BUILTIN_DIR, *(dirs or [])]
        self._scripts: dict[str, Script] = {}
        self.problems: list[ScriptInvalid] = []
        self.reload()

    def reload(self) -> None:
        """Read every ``*.yaml`` in the folders; scripts with problems are left out and kept in
        ``problems`` (the service logs them; ``warroom ivr validate`` shows them)."""
        scripts: dict[str, Script] = {}
        self.problems = []
        for folder in self.dirs:
            for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
                try:
                    script = load_script(path)
                except ScriptInvalid as exc:
                    self.problems.append(exc)
                    continue
                scripts[script.name] = script
        self._scripts = scripts

    def names(self) -> list[str]:
        return sorted(self._scripts)

    @property
    def own_dir(self) -> Path | None:
        """The war room's own folder (where scripts saved from the pages go), if there is one."""
        return self.dirs[-1] if len(self.dirs) > 1 else None

    def origin(self, name: str) -> str:
        """``built-in``, ``own``, or ``replaces built-in`` (an own file naming a built-in script)."""
        source = Path(self.get(name).source)
        if source.parent == BUILTIN_DIR:
            return "built-in"
        return "replaces built-in" if (BUILTIN_DIR / f"{name}.yaml").exists() else "own"

    def put(self, script: Script) -> None:
        """Play ``script`` (checked, its file written) from now on, in place of any script of its name. Calls
        already playing the old version keep it to their end: the table is swapped whole, never changed in
        place, and a call holds the script it started with."""
        self._scripts = {**self._scripts, script.name: script}

    def summaries(self) -> list[dict[str, Any]]:
        """Each script by name: its title, languages, number of steps, campaign fields and file."""
        return [{"name": s.name, "title": s.title, "languages": s.languages, "steps": len(s.steps),
                 "fields": s.fields, "file": s.source} for s in map(self.get, self.names())]

    def get(self, name: str) -> Script:
        try:
            return self._scripts[name]
        except KeyError:
            raise UnknownScript(f"no IVR script named '{name}' (have: {', '.join(self.names()) or 'none'})") \
                from None

    def for_status(self, chosen: Mapping[str, str], status: str | None) -> Script:
        """The script a call gets: the campaign's choice for the booth's status, else the default."""
        key = status if status in DEFAULT_BY_STATUS else "unknown"
        return self.get(chosen.get(key) or DEFAULT_BY_STATUS[key])

    def campaign_problems(self, chosen: Mapping[str, str], fields: Mapping[str, str]) -> list[str]:
        """What is wrong with a campaign's script choice: unknown statuses or scripts, and template fields
        the scripts it will play need but the campaign does not give."""
        out = []
        for status, name in chosen.items():
            if status not in DEFAULT_BY_STATUS:
                out.append(f"script for '{status}': the status must be one of {', '.join(STATUSES)}")
            elif name not in self._scripts:
                out.append(f"script '{name}' (for {status} booths) does not exist; have: {', '.join(self.names())}")
        given = {field_name(k) for k in fields}
        for status in STATUSES:
            name = chosen.get(status) or DEFAULT_BY_STATUS[status]
            script = self._scripts.get(name)
            missing = [f for f in script.fields if field_name(f) not in given] if script else []
            if missing:
                out.append(f"script '{name}' (for {status} booths) needs the campaign field(s) "
                           f"{', '.join(missing)}: add --field {missing[0]}=...")
        return list(dict.fromkeys(out))
