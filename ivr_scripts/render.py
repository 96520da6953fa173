"""Rendering a script's text (Jinja2, sandboxed) and what its templates may use.

Templates see these variables (``VARIABLES``): the member called, their committee, the booth with its
status and voter count, the AC and its candidate, the district, campaign fields, the booth's latest
instructions (hotline), the caller (hotline) and the answers given so far in this call.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from core.errors import Invalid

ANY = None  # an attribute set that is not fixed (checked elsewhere or free-form)
VARIABLES: dict[str, frozenset[str] | None] = {
    "member": frozenset({"name", "name_alt", "post", "language", "phone_last4", "known"}),
    "committee": frozenset({"level", "name"}),
    "booth": frozenset({"number", "name", "status", "voters", "area"}),
    "ac": frozenset({"number", "name"}),
    "district": frozenset({"name"}),
    "candidate": frozenset({"name", "party"}),
    "campaign": ANY,        # name + the fields the script declares
    "answers": ANY,         # ask step ids
    "instructions": frozenset(),  # a plain string
    "caller": frozenset({"phone_last4", "known", "has_pin", "verified"}),
    "ticket": frozenset({"number", "category"}),
    "entered": frozenset(),  # the number typed, in a number step's read-back
}


class RenderError(Invalid):
    """A template could not be rendered; the message names the template and the reason."""


def _finalize(value: Any) -> Any:
    return "" if value is None else value


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one Jinja2 environment for scripts: sandboxed (scripts are data), strict about unknown names,
    None printed as nothing."""
    return SandboxedEnvironment(undefined=StrictUndefined, finalize=_finalize, autoescape=False,
                                keep_trailing_newline=False)


@lru_cache(maxsize=4096)
def _template(source: str) -> Any:
    return environment().from_string(source)


@lru_cache(maxsize=1024)
def _expression(source: str) -> Any:
    return environment().compile_expression(source)


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render one template with the call's context; whitespace runs collapse to single spaces."""
    try:
        text = _template(source).render(**context)
    except TemplateError as exc:
        raise RenderError(f"{exc} in template {source[:60]!r}") from exc
    return " ".join(text.split())


def evaluate(expression: str, context: Mapping[str, Any]) -> bool:
    """A branch condition (a Jinja2 expression) against the call's context."""
    try:
        return bool(_expression(expression)(**context))
    except TemplateError as exc:
        raise RenderError(f"{exc} in condition {expression!r}") from exc


def references(source: str, *, expression: bool = False) -> list[tuple[str, str | None]]:
    """(variable, attribute) pairs a template (or an expression) reads; attribute None for a bare name.
    Raises RenderError on a syntax error."""
    env = environment()
    try:
        tree = env.parse(f"{{{{ {source} }}}}" if expression else source)
    except TemplateError as exc:
        raise RenderError(f"template syntax: {exc}") from exc
    local = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    out: list[tuple[str, str | None]] = []
    seen: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner = getattr(node, "node", None)
        if isinstance(inner, nodes.Name) and inner.ctx == "load" and inner.name not in local:
            if isinstance(node, nodes.Getattr):
                attr: str | None = node.attr
            else:
                arg = getattr(node, "arg", None)
                attr = arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None
            out.append((inner.name, attr))
            seen.add(id(inner))
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in local and id(name) not in seen:
            out.append((name.name, None))
    return out
