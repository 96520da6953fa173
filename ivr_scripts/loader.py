"""Read a script file (YAML) into a :class:`Script`, naming the line of every problem found.

Problems are collected, not stopped at: one run of ``warroom ivr validate`` lists them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from ivr_scripts.checks import check_script
from ivr_scripts.model import KIND_FIELD, KINDS, STEP_CLASSES, Script, Step
from ivr_scripts.problems import Problem, ScriptInvalid


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    duplicates: list[Problem]


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if str(key) in out.key_lines:
            loader.duplicates.append(Problem(line, f"'{key}' appears twice in this mapping "
                                                   f"(first on line {out.key_lines[str(key)]})"))
        out.key_lines[str(key)] = line
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, cast(Any, _mapping))


def _pydantic_problems(exc: ValidationError, where: str, lines: dict[str, int], default: int,
                       rename: dict[str, str] | None = None) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        head = (rename or {}).get(loc[0], loc[0]) if loc else ""
        line = lines.get(head, default)
        path = ".".join([head, *loc[1:]]) if loc else ""
        if err["type"] == "extra_forbidden":
            out.append(Problem(line, f"{where}unknown setting '{path}'"))
        elif err["type"] == "missing":
            out.append(Problem(line, f"{where}'{path}' is required"))
        else:
            out.append(Problem(line, f"{where}{path}: {err['msg']}"))
    return out


def _step(item: Any, index: int, parent_line: int) -> tuple[Step | None, list[Problem]]:
    if not isinstance(item, LineDict):
        return None, [Problem(parent_line, f"step {index + 1}: expected a mapping with an id and a kind")]
    sid = item.get("id", f"#{index + 1}")
    where = f"step '{sid}': "
    kinds = [k for k in KINDS if k in item]
    if not kinds:
        unknown = [str(k) for k in item if k not in ("id", "next", "file")]
        hint = f" (unknown: {', '.join(unknown)})" if unknown else ""
        return None, [Problem(item.line, f"{where}unknown step{hint}: a step needs one of {', '.join(KINDS)}")]
    if len(kinds) > 1:
        return None, [Problem(item.key_lines[kinds[1]], f"{where}has both '{kinds[0]}' and '{kinds[1]}'; "
                                                        "a step is one kind")]
    kind = kinds[0]
    data = {k: v for k, v in item.items() if k != kind}
    field = KIND_FIELD[kind]
    body = item[kind]
    if field is None:  # the kind's key holds the settings themselves (ticket: {category, note})
        if not isinstance(body, dict):
            return None, [Problem(item.key_lines[kind], f"{where}'{kind}' needs a mapping of settings")]
        data.update(body)
        lines = {**item.key_lines, **getattr(body, "key_lines", {})}
    else:
        data[field] = body if body is not None else ({} if field == "text" else body)
        lines = dict(item.key_lines)
    rename = {field: kind} if field else {}
    try:
        step = STEP_CLASSES[kind].model_validate(data)
    except ValidationError as exc:
        return None, _pydantic_problems(exc, where, lines, item.line, rename)
    step.line = item.line
    step.key_lines = {rename.get(k, k): v for k, v in lines.items()}
    if field:
        step.key_lines[field] = lines.get(kind, item.line)
    return cast(Step, step), []


def parse_script(text: str, source: str = "<script>") -> Script:
    """Parse and structurally check a script; raise :class:`ScriptInvalid` listing every problem."""
    try:
        loader = _Loader(text)  # reading begins here: a character YAML does not allow is refused at once
    except yaml.YAMLError as exc:
        at = getattr(exc, "position", None)
        line = text[:at].count("\n") + 1 if isinstance(at, int) else 1
        raise ScriptInvalid(source, [Problem(line, f"not valid YAML: {exc}")]) from exc
    loader.duplicates = []
    try:
        doc = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScriptInvalid(source, [Problem(mark.line + 1 if mark else 1, f"not valid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    problems = list(loader.duplicates)
    if not isinstance(doc, LineDict):
        raise ScriptInvalid(source, [Problem(1, "a script is a mapping with name, languages and steps")])
    raw_steps = doc.get("steps")
    steps: list[Step] = []
    broken: set[str] = set()
    if isinstance(raw_steps, list):
        seen: dict[str, int] = {}
        for i, item in enumerate(raw_steps):
            step, found = _step(item, i, doc.key_lines.get("steps", 1))
            problems += found
            if step is None:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    broken.add(item["id"])
                continue
            if step.id in seen:
                problems.append(Problem(step.line, f"step '{step.id}' is defined twice (first on line "
                                                   f"{seen[step.id]})"))
                continue
            seen[step.id] = step.line
            steps.append(step)
    top = {k: v for k, v in doc.items() if k != "steps"}
    try:
        script = Script.model_validate({**top, "steps": steps or raw_steps or []})
    except ValidationError as exc:
        raise ScriptInvalid(source, problems + _pydantic_problems(exc, "", doc.key_lines, doc.line)) from exc
    script.source = source
    problems += check_script(script, broken)
    if problems:
        raise ScriptInvalid(source, problems)
    return script


def load_script(path: Path) -> Script:
    """Read and check one script file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptInvalid(str(path), [Problem(1, f"cannot read the file: {exc}")]) from exc
    return parse_script(text, str(path))
