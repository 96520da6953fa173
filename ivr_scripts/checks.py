"""The checks ``warroom ivr validate`` runs on a parsed script: every jump lands on a step, every step can
be reached, every text is in every language, every template variable exists, no loop runs without
asking the caller anything, and ticket steps name the right kinds of steps."""

from __future__ import annotations

from collections import deque

from ivr_scripts.model import Ask, Branch, Number, Record, Script, Step, Ticket, Transfer, field_name
from ivr_scripts.problems import Problem
from ivr_scripts.render import VARIABLES, RenderError, references


def _successors(script: Script, step: Step) -> list[str]:
    out = [target for _, target in step.targets()]
    if isinstance(step, Ask):
        if any(goto is None for goto in step.keys.values()) or step.on_fail is None:
            nxt = script.next_of(step)
            out += [nxt] if nxt else []
    elif isinstance(step, Branch):
        if all(c.when is not None for c in step.cases):  # no catch-all: falls through when none matches
            nxt = script.next_of(step)
            out += [nxt] if nxt else []
    else:
        nxt = script.next_of(step)
        out += [nxt] if nxt and not step.next else []
    return out


def _jumps(script: Script, broken: set[str]) -> list[Problem]:
    ids = {s.id for s in script.steps} | broken
    out = []
    for step in script.steps:
        for where, target in step.targets():
            if target not in ids:
                key = where.split(".")[0]
                out.append(Problem(script.line_of(step.id, key if key != "keys" else "keys"),
                                   f"step '{step.id}': {where} goes to unknown step '{target}'"))
    return out


def _reachable(script: Script) -> list[Problem]:
    ids = {s.id for s in script.steps}
    seen = {script.steps[0].id}
    todo = deque(seen)
    while todo:
        for nxt in _successors(script, script.step(todo.popleft())):
            if nxt in ids and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return [Problem(s.line, f"step '{s.id}' can never be reached") for s in script.steps if s.id not in seen]


def _silent_loops(script: Script) -> list[Problem]:
    """A cycle made only of steps that wait for nothing (branch, ticket) would spin forever."""
    silent = {s.id for s in script.steps if isinstance(s, (Branch, Ticket))}
    out = []
    for start in silent:
        todo, seen = deque([start]), set()
        while todo:
            sid = todo.popleft()
            for nxt in _successors(script, script.step(sid)):
                if nxt == start:
                    out.append(Problem(script.line_of(start), f"step '{start}' loops back to itself without "
                                                              "saying or asking anything"))
                    todo.clear()
                    break
                if nxt in silent and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return out


def _languages(script: Script) -> list[Problem]:
    out = []
    langs = set(script.languages)
    for step in script.steps:
        for part, text in step.texts().items():
            name = step.kind if part == "text" else part
            if not text and part != "text":
                continue  # optional messages (invalid, no_input) may be left out entirely
            if not text and step.kind in ("transfer", "end"):
                continue
            missing = sorted(langs - set(text))
            if missing:
                out.append(Problem(script.line_of(step.id, part if part != "text" else step.kind),
                                   f"step '{step.id}': {name} is missing language {', '.join(missing)}"))
            extra = sorted(set(text) - langs)
            if extra:
                out.append(Problem(script.line_of(step.id, part if part != "text" else step.kind),
                                   f"step '{step.id}': {name} has language {', '.join(extra)} that the "
                                   f"script does not declare (languages: {', '.join(script.languages)})"))
    return out


def _variables(script: Script) -> list[Problem]:
    asks = {s.id for s in script.steps if isinstance(s, (Ask, Number))}
    fields = {"name"} | {field_name(f) for f in script.fields}
    out = []

    def check(step: Step, key: str, source: str, expression: bool = False) -> None:
        line = script.line_of(step.id, key)
        try:
            refs = references(source, expression=expression)
        except RenderError as exc:
            out.append(Problem(line, f"step '{step.id}': {exc}"))
            return
        for name, attr in refs:
            if name not in VARIABLES:
                out.append(Problem(line, f"step '{step.id}': undefined variable '{name}' (known: "
                                         f"{', '.join(sorted(VARIABLES))})"))
                continue
            allowed = VARIABLES[name] or frozenset()
            if name == "campaign":
                allowed = frozenset(fields)
            elif name == "answers":
                allowed = frozenset(asks)
            if name == "entered" and not (isinstance(step, Number) and key == "confirm"):
                out.append(Problem(line, f"step '{step.id}': 'entered' (the number typed) is only known in a "
                                         "number step's confirm text"))
                continue
            if attr is not None and attr not in allowed:
                hint = " (declare it under 'fields:')" if name == "campaign" else ""
                known = ", ".join(sorted(allowed)) or "none"
                out.append(Problem(line, f"step '{step.id}': undefined variable '{name}.{attr}'{hint}; "
                                         f"{name} has: {known}"))

    for step in script.steps:
        for part, text in step.texts().items():
            for source in text.values():
                check(step, part if part != "text" else step.kind, source)
        if isinstance(step, Branch):
            for case in step.cases:
                if case.when is not None:
                    check(step, "branch", case.when, expression=True)
        if isinstance(step, Transfer) and step.note:
            check(step, "note", step.note)
    return out


def _tickets(script: Script) -> list[Problem]:
    out = []
    kinds = {s.id: s for s in script.steps}
    for step in script.steps:
        if isinstance(step, Number) and step.text and not step.confirm:
            out.append(Problem(script.line_of(step.id, "number"),
                               f"step '{step.id}': a number step needs 'confirm', the read-back (\"you entered "
                               "{{ entered }}, press 1 to confirm, 2 to re-enter\")"))
    for step in script.steps:
        if not isinstance(step, Ticket):
            continue
        if not isinstance(kinds.get(step.category), Ask):
            out.append(Problem(script.line_of(step.id, "category"),
                               f"step '{step.id}': category must name an ask step, not '{step.category}'"))
        if step.note is not None and not isinstance(kinds.get(step.note), Record):
            out.append(Problem(script.line_of(step.id, "note"),
                               f"step '{step.id}': note must name a record step, not '{step.note}'"))
    return out


def check_script(script: Script, broken: set[str] | None = None) -> list[Problem]:
    """Every problem in a parsed script (empty when it is fine). ``broken`` names steps that could not be
    parsed (already reported): jumps to them are not reported again, nor is reachability guessed."""
    broken = broken or set()
    return (_jumps(script, broken) + ([] if broken else _reachable(script)) + _silent_loops(script)
            + _languages(script) + _variables(script) + _tickets(script))
