"""Print Python values as HCL expressions, laid out the way ``terraform fmt`` lays them out.

Templates call the ``hcl`` filter on values the model computed; the layout rules live here
once: two-space indents, ``=`` aligned across consecutive single-line attributes, a
multi-line value ending the alignment run, keys quoted only when they are not identifiers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# json.dumps(value, ensure_ascii=False), with the encoder built once: json.dumps builds one
# per call when an option differs from its defaults, and a render prints ~100k strings.
_JSON_STRING = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True)
class Raw:
    """An HCL expression printed as is (a reference such as ``data.x.y`` or ``file(...)``)."""

    expression: str


def key(name: str) -> str:
    """An object key: bare when it is an identifier, else a quoted string."""
    return name if _IDENTIFIER.match(name) else string(name)


def string(value: str, template: bool = True) -> str:
    """A quoted HCL string; ``${`` and ``%{`` are escaped so nothing is interpolated.

    ``template=False`` leaves them as they are, for files that are not Terraform
    configuration: the CLI configuration (``terraform.rc``) is HCL 1, which has no template
    sequences and would keep a doubled ``$$`` literally.
    """
    text = _JSON_STRING(value)  # a JSON string is a valid HCL string literal
    return text.replace("${", "$${").replace("%{", "%%{") if template else text


def value(obj: Any, indent: int = 0) -> str:
    """The HCL expression for ``obj``; nested lines are indented relative to ``indent``."""
    if type(obj) is str:  # most values; the checks below, against ABCs, cost more
        return string(obj)
    if isinstance(obj, Raw):
        return obj.expression
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, (int, float)):
        return json.dumps(obj)
    if isinstance(obj, str):
        return string(obj)
    if isinstance(obj, Mapping):
        if not obj:
            return "{}"
        return "{\n" + attributes(obj, indent + 2) + " " * indent + "}"
    if isinstance(obj, Sequence):
        items = [value(item, indent + 2) for item in obj]
        if not items:
            return "[]"
        if all("\n" not in item for item in items) and sum(len(i) + 2 for i in items) + indent < 100:
            return "[" + ", ".join(items) + "]"
        pad = " " * (indent + 2)
        return "[\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + "]"
    raise TypeError(f"cannot print {type(obj).__name__} as HCL")


def attributes(mapping: Mapping[str, Any], indent: int) -> str:
    """Attribute lines ``k = v`` at ``indent``, ``=`` aligned within runs of one-line values."""
    rendered = [(key(str(k)), value(v, indent)) for k, v in mapping.items()]
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{' ' * indent}{k.ljust(width)} = {v}\n" for k, v in run)
        run.clear()

    for name, text in rendered:
        if "\n" in text:  # terraform fmt leaves a multi-line value out of the alignment
            flush()
            lines.append(f"{' ' * indent}{name} = {text}\n")
        else:
            run.append((name, text))
    flush()
    return "".join(lines)


def removed_block(address: str, destroy: bool = False) -> str:
    """A ``removed`` block (Terraform 1.7+) for a resource or module-call address.

    With ``destroy = false`` Terraform forgets the object(s) at ``address`` on the next apply
    (the plan shows the ``forget`` action) and leaves them on Google Cloud; ``true`` destroys
    them. ``address`` names a resource (``google_x.name``, ``module.m.google_x.name``) or a
    module call (``module.m``), without instance keys: Terraform's ``removed`` takes no
    ``[key]`` (https://developer.hashicorp.com/terraform/language/block/removed).
    """
    if "[" in address or not re.fullmatch(r"[A-Za-z0-9_.-]+", address):
        raise ValueError(f"removed blocks take a resource or module address without instance keys: {address}")
    return (
        "removed {\n"
        f"  from = {address}\n"
        "  lifecycle {\n"
        f"    destroy = {value(destroy)}\n"
        "  }\n"
        "}\n"
    )
