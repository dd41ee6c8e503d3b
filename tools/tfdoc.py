#!/usr/bin/env python3
"""Generate the inputs/outputs tables of a Terraform module's README.

Reads ``variables.tf`` and ``outputs.tf`` of each module directory given, and writes a
Markdown table of inputs (name, description, type, default) and one of outputs (name,
description) between ``<!-- BEGIN TFDOC -->`` and ``<!-- END TFDOC -->`` in the module's
``README.md``. With ``--check`` nothing is written and the exit code is 1 when a README
is stale, so CI can insist on fresh docs.

The parser is a small, careful HCL reader for what module docs need: top-level blocks,
their labels, and their top-level attributes as source text. It understands strings
with ``${...}`` interpolation, heredocs and comments, so braces inside them never confuse
block matching. It does not evaluate expressions.

Usage: python tools/tfdoc.py [--check] MODULE_DIR [MODULE_DIR ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

BEGIN = "<!-- BEGIN TFDOC -->"
END = "<!-- END TFDOC -->"

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n")
_OPEN = "([{"
_CLOSE = ")]}"


class HclError(ValueError):
    """The text is not HCL this parser can read; the message names the offset."""


@dataclass
class Block:
    """A block: its type, labels, attributes (name -> expression text) and sub-blocks."""

    type: str
    labels: list[str]
    attributes: dict[str, str] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Variable:
    """A module input as documented."""

    name: str
    description: str
    type: str
    default: str | None  # expression text, None when the variable is required

    @property
    def required(self) -> bool:
        """Whether the caller must set the variable (it has no default)."""
        return self.default is None


@dataclass(frozen=True)
class Output:
    """A module output as documented."""

    name: str
    description: str


def _skip_string(text: str, i: int) -> int:
    """Return the index just past the quoted string starting at ``text[i] == '"'``."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if text.startswith(("$${", "%%{"), i):
            i += 3  # an escaped literal "${", not a template
            continue
        if text.startswith(("${", "%{"), i):
            i = _skip_balanced(text, i + 1)
            continue
        if c == "\n":
            raise HclError(f"unterminated string at offset {i}")
        i += 1
    raise HclError("unterminated string at end of text")


def _skip_heredoc(text: str, i: int) -> int:
    """Return the index just past the heredoc whose ``<<`` starts at ``i``."""
    m = _HEREDOC.match(text, i)
    if m is None:
        raise HclError(f"bad heredoc at offset {i}")
    marker = m.group(2)
    end = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*$", re.MULTILINE).search(text, m.end())
    if end is None:
        raise HclError(f"heredoc {marker} at offset {i} is not closed")
    return end.end()


def _skip_comment(text: str, i: int) -> int:
    """Return the index just past a comment starting at ``i`` (newline kept for line ends)."""
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        if end < 0:
            raise HclError(f"unterminated comment at offset {i}")
        return end + 2
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _is_comment(text: str, i: int) -> bool:
    return text[i] == "#" or text.startswith("//", i) or text.startswith("/*", i)


def _skip_balanced(text: str, i: int) -> int:
    """Return the index just past the bracket group opening at ``text[i]``."""
    stack = [_CLOSE[_OPEN.index(text[i])]]
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
        elif text.startswith("<<", i) and _HEREDOC.match(text, i):
            i = _skip_heredoc(text, i)
        elif _is_comment(text, i):
            i = _skip_comment(text, i)
        elif c in _OPEN:
            stack.append(_CLOSE[_OPEN.index(c)])
            i += 1
        elif c in _CLOSE:
            if c != stack.pop():
                raise HclError(f"mismatched {c!r} at offset {i}")
            i += 1
            if not stack:
                return i
        else:
            i += 1
    raise HclError("unbalanced brackets at end of text")


def _expression_end(text: str, i: int) -> int:
    """Return the end of the attribute expression starting at ``i`` (its line end)."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            return i
        if c == '"':
            i = _skip_string(text, i)
        elif text.startswith("<<", i) and _HEREDOC.match(text, i):
            i = _skip_heredoc(text, i)
        elif _is_comment(text, i):
            i = _skip_comment(text, i)
        elif c in _OPEN:
            i = _skip_balanced(text, i)
        else:
            i += 1
    return n


def parse_body(text: str) -> Block:
    """Parse HCL body text into a root ``Block`` holding its attributes and blocks."""
    root = Block(type="", labels=[])
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t\r\n;":
            i += 1
            continue
        if _is_comment(text, i):
            i = _skip_comment(text, i)
            continue
        m = _IDENT.match(text, i)
        if m is None:
            raise HclError(f"expected an attribute or block at offset {i}: {text[i : i + 20]!r}")
        name, i = m.group(0), m.end()
        while i < n and text[i] in " \t":
            i += 1
        if text.startswith("=", i) and not text.startswith("==", i):
            end = _expression_end(text, i + 1)
            root.attributes[name] = text[i + 1 : end].strip()
            i = end
            continue
        labels: list[str] = []
        while i < n and text[i] != "{":
            if text[i] == '"':
                end = _skip_string(text, i)
                labels.append(text[i + 1 : end - 1])
                i = end
            elif text[i] in " \t":
                i += 1
            elif (lm := _IDENT.match(text, i)) is not None:
                labels.append(lm.group(0))
                i = lm.end()
            else:
                raise HclError(f"unexpected {text[i]!r} in block header at offset {i}")
        if i >= n:
            raise HclError(f"block {name} has no body")
        end = _skip_balanced(text, i)
        block = parse_body(text[i + 1 : end - 1])
        block.type, block.labels = name, labels
        root.blocks.append(block)
        i = end
    return root


def string_value(expr: str) -> str:
    """Return the text of a string literal or heredoc expression; other text unchanged."""
    expr = expr.strip()
    m = _HEREDOC.match(expr) if expr.startswith("<<") else None
    if m is not None:
        lines = expr[m.end() :].splitlines()[:-1]
        if m.group(1):  # <<- strips the common indentation
            indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
            lines = [x[indent:] for x in lines]
        return " ".join(x.strip() for x in lines if x.strip())
    if len(expr) >= 2 and expr[0] == '"' and expr[-1] == '"':
        body = expr[1:-1]
        return re.sub(r'\\(["\\nt])', lambda g: {"n": " ", "t": " "}.get(g[1], g[1]), body)
    return expr


def strip_comments(expr: str) -> str:
    """Return ``expr`` without comments; strings and heredocs are kept as they are."""
    out, i, n = [], 0, len(expr)
    while i < n:
        if expr[i] == '"':
            end = _skip_string(expr, i)
        elif expr.startswith("<<", i) and _HEREDOC.match(expr, i):
            end = _skip_heredoc(expr, i)
        elif _is_comment(expr, i):
            i = _skip_comment(expr, i)
            continue
        else:
            end = i + 1
        out.append(expr[i:end])
        i = end
    return "".join(out)


def compact(expr: str) -> str:
    """Fold a multi-line expression into one line: attributes on separate lines get commas."""
    lines = [ln.strip() for ln in strip_comments(expr).strip().splitlines()]
    lines = [ln for ln in lines if ln]
    out = ""
    for ln in lines:
        if not out:
            out = ln
        elif out[-1] in "{([," or ln[0] in "})]":
            out += " " + ln
        else:
            out += ", " + ln
    return re.sub(r"\s+", " ", out)


def read_module(module_dir: Path) -> tuple[list[Variable], list[Output]]:
    """Read the variable and output blocks of every ``.tf`` file in ``module_dir``."""
    variables: list[Variable] = []
    outputs: list[Output] = []
    for path in sorted(module_dir.glob("*.tf")):
        try:
            root = parse_body(path.read_text(encoding="utf-8"))
        except HclError as exc:
            raise HclError(f"{path}: {exc}") from None
        for b in root.blocks:
            if b.type == "variable" and b.labels:
                variables.append(
                    Variable(
                        name=b.labels[0],
                        description=string_value(b.attributes.get("description", '""')),
                        type=compact(b.attributes.get("type", "any")),
                        default=compact(b.attributes["default"])
                        if "default" in b.attributes
                        else None,
                    )
                )
            elif b.type == "output" and b.labels:
                outputs.append(
                    Output(
                        name=b.labels[0],
                        description=string_value(b.attributes.get("description", '""')),
                    )
                )
    return variables, outputs


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    # <code> instead of backticks: a type may itself hold backticks or pipes.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<code>{_cell(escaped)}</code>"


def render(variables: list[Variable], outputs: list[Output]) -> str:
    """Render the Markdown between the markers (markers included)."""
    lines = [BEGIN, "", "## Inputs", ""]
    if variables:
        lines += ["| name | description | type | required | default |", "|---|---|---|:---:|---|"]
        for v in sorted(variables, key=lambda v: (not v.required, v.name)):
            default = "" if v.default is None else _code(v.default)
            lines.append(
                f"| `{v.name}` | {_cell(v.description)} | {_code(v.type)} "
                f"| {'yes' if v.required else ''} | {default} |"
            )
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| name | description |", "|---|---|"]
        for o in sorted(outputs, key=lambda o: o.name):
            lines.append(f"| `{o.name}` | {_cell(o.description)} |")
    else:
        lines.append("No outputs.")
    lines += ["", END]
    return "\n".join(lines)


def refresh(readme_text: str, table: str) -> str:
    """Return ``readme_text`` with the marked section replaced (or appended) by ``table``."""
    start, end = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or end < start:
        return readme_text.rstrip("\n") + "\n\n" + table + "\n"
    return readme_text[:start] + table + readme_text[end + len(END) :]


def process(module_dir: Path, check: bool) -> bool:
    """Refresh (or with ``check`` only compare) one module's README; True if it was fresh."""
    readme = module_dir / "README.md"
    current = readme.read_text(encoding="utf-8") if readme.exists() else ""
    return update(readme, current, refresh(current, render(*read_module(module_dir))), check)


def update(readme: Path, current: str, wanted: str, check: bool) -> bool:
    """Write ``wanted`` over ``readme`` unless ``check``; True if it already was ``current``."""
    if wanted == current:
        return True
    if not check:
        tmp = readme.with_suffix(".md.tmp")
        tmp.write_text(wanted, encoding="utf-8")
        tmp.replace(readme)  # atomic: a crash never leaves half a README
    return False


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="+", type=Path, help="module directories")
    parser.add_argument("--check", action="store_true", help="exit 1 if a README is stale")
    args = parser.parse_args(argv)
    stale = []
    for module_dir in args.modules:
        if not module_dir.is_dir():
            print(f"{module_dir}: not a directory", file=sys.stderr)
            return 2
        try:
            fresh = process(module_dir, args.check)
        except HclError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not fresh:
            stale.append(module_dir)
            verb = "is stale" if args.check else "updated"
            print(f"{module_dir / 'README.md'}: {verb}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
