"""A problem found in a script, with the line it is on."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Invalid


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.message}"


class ScriptInvalid(Invalid):
    """A script has problems; ``problems`` lists each with its line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.format(source) for p in self.problems))
