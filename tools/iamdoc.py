#!/usr/bin/env python3
"""Generate the permission tables of the bundled modules' READMEs from their code.

For each module directory given, every IAM grant resource (``google_*_iam_member``,
``google_*_iam_binding``, ``google_bigquery_dataset_access``) becomes rows of a Markdown
table (who, role, on what, resource) written between ``<!-- BEGIN IAMDOC -->`` and
``<!-- END IAMDOC -->`` in the module's ``README.md``. With ``--check`` nothing is written
and the exit code is 1 when a README is stale.

Roles are read from the code, never from prose:

- a string literal in the resource's ``role``;
- otherwise the grants the resource's ``for_each`` reaches through ``local.*`` values: a
  *grant table* (a local that is a list of object literals, each with a ``role`` and a
  ``who`` list, e.g. ``{ bucket = "landing", role = "roles/x", who = ["internal"] }``)
  gives one row per entry, the other keys filling ``{placeholders}`` of the annotation's
  ``on``; ``"roles/..."`` literals elsewhere in that chain give a row each;
- or an input, which the resource names in its annotation (``roles = var.X...``); the tool
  checks that ``var.X`` really feeds the resource.

Who and on what are prose, so they come from an annotation inside the resource block::

    # iamdoc: who = "Composer's service account"
    # iamdoc: on = "the orchestration project"

A grant resource whose roles the tool cannot find, or without ``who``/``on``, is an error:
a permission table never silently leaves a grant out.

With ``--access`` the environment README also gets the grants df-gen's model passes as
inputs (``generator/access.py``), between ``<!-- BEGIN ACCESSDOC -->`` markers.

Usage: python tools/iamdoc.py [--check] MODULE_DIR [MODULE_DIR ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tfdoc  # tools/ is not a package, see sys.path above

BEGIN = "<!-- BEGIN IAMDOC -->"
END = "<!-- END IAMDOC -->"

GRANT_TYPE = re.compile(r"^google_\w+_iam_(member|binding)$|^google_bigquery_dataset_access$")
_RESOURCE = re.compile(r'^resource\s+"([\w-]+)"\s+"([\w-]+)"\s*\{', re.MULTILINE)
_ANNOTATION = re.compile(r"^[ \t]*#[ \t]*iamdoc:[ \t]*(\w+)[ \t]*=[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_LOCAL_REF = re.compile(r"\blocal\.(\w+)")
_ROLE_LITERAL = re.compile(r'"(roles/[^"$]+)"')
_INPUT = re.compile(r"^var\.(\w+)((?:\[\*\]|\.\w+)*)$")


class DocError(ValueError):
    """The module's grants cannot be documented as they stand; the message says where."""


@dataclass(frozen=True)
class Grant:
    """One row of a permission table."""

    who: str
    role: str  # a role, or "input `X`" when the caller chooses the roles
    on: str
    resource: str  # the resource address, e.g. google_project_iam_member.composer_worker


@dataclass(frozen=True)
class _Resource:
    type: str
    name: str
    attributes: dict[str, str]
    notes: dict[str, str]
    path: Path

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


# ------------------------------------------------------------------------------ reading


def _split_top(text: str) -> list[str]:
    """Split ``text`` at commas and newlines outside brackets, strings and heredocs."""
    parts, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = tfdoc._skip_string(text, i)
        elif c in "([{":
            i = tfdoc._skip_balanced(text, i)
        elif c in ",\n":
            parts.append(text[start:i])
            i += 1
            start = i
        else:
            i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _value(expr: str) -> Any:
    """A literal's value: a string, a list of values, or the expression text itself."""
    expr = expr.strip()
    if expr.startswith('"') and tfdoc._skip_string(expr, 0) == len(expr):
        return tfdoc.string_value(expr)
    if expr.startswith("[") and tfdoc._skip_balanced(expr, 0) == len(expr):
        return [_value(x) for x in _split_top(expr[1:-1])]
    return expr


def grant_table(expr: str) -> list[dict[str, Any]] | None:
    """Entries of a grant table (a list of object literals, each with ``role`` and ``who``),
    or None when ``expr`` is something else."""
    expr = tfdoc.strip_comments(expr).strip()
    if not expr.startswith("[") or tfdoc._skip_balanced(expr, 0) != len(expr):
        return None
    entries = []
    for item in _split_top(expr[1:-1]):
        if not item.startswith("{") or tfdoc._skip_balanced(item, 0) != len(item):
            return None
        entry = {}
        for pair in _split_top(item[1:-1]):
            key, sep, value = pair.partition("=")
            if not sep or not re.fullmatch(r"\s*\w+\s*", key):
                return None
            entry[key.strip()] = _value(value)
        if not isinstance(entry.get("role"), str) or "who" not in entry:
            return None
        entries.append(entry)
    return entries or None


def _read(module_dir: Path) -> tuple[dict[str, str], list[_Resource]]:
    """The module's locals (name -> expression) and its grant resources, in file order."""
    local_values: dict[str, str] = {}
    resources: list[_Resource] = []
    for path in sorted(module_dir.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        try:
            root = tfdoc.parse_body(text)
        except tfdoc.HclError as exc:
            raise DocError(f"{path}: {exc}") from None
        notes: dict[tuple[str, str], dict[str, str]] = {}
        for m in _RESOURCE.finditer(text):
            body = text[m.end() - 1 : tfdoc._skip_balanced(text, m.end() - 1)]
            notes[(m[1], m[2])] = {k: v for k, v in _ANNOTATION.findall(body)}
        for block in root.blocks:
            if block.type == "locals":
                local_values.update(block.attributes)
            elif block.type == "resource" and GRANT_TYPE.match(block.labels[0]):
                resources.append(
                    _Resource(block.labels[0], block.labels[1], block.attributes, notes[tuple(block.labels)], path)
                )
    return local_values, resources


def _chain(start: str, local_values: dict[str, str]) -> list[str]:
    """Names of the locals ``start`` reaches, directly or through other locals, in order."""
    seen: list[str] = []
    todo = _LOCAL_REF.findall(tfdoc.strip_comments(start))
    while todo:
        name = todo.pop(0)
        if name in seen or name not in local_values:
            continue
        seen.append(name)
        if grant_table(local_values[name]) is None:  # a table's references are its members
            todo += _LOCAL_REF.findall(tfdoc.strip_comments(local_values[name]))
    return seen


def _note(res: _Resource, key: str) -> str:
    if key not in res.notes:
        raise DocError(f'{res.path}: {res.address}: add a "# iamdoc: {key} = ..." line to the resource')
    return tfdoc.string_value(res.notes[key])


def _who(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(f"`{x}`" for x in items)


class _Each(dict):  # type: ignore[type-arg]
    """Placeholders outside a grant table's rows read as the key's name, in italics."""

    def __missing__(self, key: str) -> str:
        return f"*{key}*"


def _format(template: str, entry: dict[str, Any], res: _Resource) -> str:
    if not entry:
        return template.format_map(_Each())
    try:
        return template.format(**{k: v for k, v in entry.items() if isinstance(v, str)})
    except KeyError as exc:
        raise DocError(f"{res.path}: {res.address}: the grant table has no key {exc} for the annotation") from None


def resource_grants(res: _Resource, local_values: dict[str, str]) -> list[Grant]:
    """The rows one grant resource contributes, roles read from the code."""
    role = res.attributes.get("role")
    if res.type == "google_bigquery_dataset_access" and role is None:
        # No role: the view block authorizes a view to read the dataset.
        return [Grant(_note(res, "who"), "authorized view (reads the dataset)", _note(res, "on"), res.address)]
    if role is not None and _value(role) != role:
        return [Grant(_note(res, "who"), _value(role), _note(res, "on"), res.address)]
    reach = " ".join(res.attributes.get(k, "") for k in ("for_each", "count", "role", "member"))
    names = _chain(reach, local_values)
    texts = [reach] + [local_values[n] for n in names]
    rows: list[Grant] = []
    for name in names:
        for entry in grant_table(local_values[name]) or []:
            on = _format(_note(res, "on"), entry, res)
            rows.append(Grant(_who(entry["who"]), entry["role"], on, res.address))
    loose = [reach] + [local_values[n] for n in names if grant_table(local_values[n]) is None]
    for literal in dict.fromkeys(_ROLE_LITERAL.findall(tfdoc.strip_comments(" ".join(loose)))):
        rows.append(Grant(_note(res, "who"), literal, _format(_note(res, "on"), {}, res), res.address))
    if "roles" in res.notes:
        source = res.notes["roles"]
        m = _INPUT.match(source)
        if m is None:
            raise DocError(f"{res.path}: {res.address}: iamdoc roles must name an input (var.NAME...), not {source!r}")
        if not any(re.search(rf"\bvar\.{m[1]}\b", tfdoc.strip_comments(t)) for t in texts):
            raise DocError(f"{res.path}: {res.address}: var.{m[1]} does not reach the resource's for_each or role")
        rows.append(Grant(_note(res, "who"), f"input `{source[4:]}`", _format(_note(res, "on"), {}, res), res.address))
    if not rows:
        raise DocError(
            f"{res.path}: {res.address}: no role found: use a literal, a grant table, or name the input "
            '("# iamdoc: roles = var.NAME")'
        )
    return rows


def read_grants(module_dir: Path) -> list[Grant]:
    """Every grant the module makes, in file and resource order."""
    local_values, resources = _read(module_dir)
    return [g for res in resources for g in resource_grants(res, local_values)]


# ---------------------------------------------------------------------------- rendering


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(grants: list[Grant]) -> str:
    """The Markdown between the markers (markers included)."""
    lines = [BEGIN, ""]
    if grants:
        lines += ["| who | role | on | resource |", "|---|---|---|---|"]
        for g in grants:
            role = g.role if g.role.startswith("input ") or " " in g.role else f"`{g.role}`"
            lines.append(f"| {_cell(g.who)} | {_cell(role)} | {_cell(g.on)} | `{g.resource}` |")
    else:
        lines.append("The module grants no roles.")
    lines += ["", END]
    return "\n".join(lines)


def refresh(readme_text: str, table: str, begin: str = BEGIN, end: str = END) -> str:
    """``readme_text`` with the marked section replaced by ``table``; markers must exist."""
    start, stop = readme_text.find(begin), readme_text.find(end)
    if start < 0 or stop < start:
        raise DocError(f"README has no {begin} ... {end} section")
    return readme_text[:start] + table + readme_text[stop + len(end) :]


def wanted_readme(module_dir: Path, current: str) -> str:
    """The README text the module's code calls for."""
    text = refresh(current, render(read_grants(module_dir)))
    if ACCESS_BEGIN in text:
        import accessdoc  # the model's part; only the environment README carries it

        text = refresh(text, accessdoc.render(), ACCESS_BEGIN, ACCESS_END)
    return text


ACCESS_BEGIN = "<!-- BEGIN ACCESSDOC -->"
ACCESS_END = "<!-- END ACCESSDOC -->"


def process(module_dir: Path, check: bool) -> bool:
    """Refresh (or with ``check`` only compare) one module's README; True if it was fresh."""
    readme = module_dir / "README.md"
    current = readme.read_text(encoding="utf-8")
    return tfdoc.update(readme, current, wanted_readme(module_dir, current), check)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="+", type=Path, help="module directories")
    parser.add_argument("--check", action="store_true", help="exit 1 if a README is stale")
    args = parser.parse_args(argv)
    stale = []
    for module_dir in args.modules:
        if not (module_dir / "README.md").is_file():
            print(f"{module_dir}: no README.md", file=sys.stderr)
            return 2
        try:
            fresh = process(module_dir, args.check)
        except DocError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not fresh:
            stale.append(module_dir)
            verb = "is stale" if args.check else "updated"
            print(f"{module_dir / 'README.md'}: {verb}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
