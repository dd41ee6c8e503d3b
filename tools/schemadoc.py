"""Write the descriptor reference into README.md from the shipped JSON Schemas.

    python tools/schemadoc.py            # rewrite the section between the markers
    python tools/schemadoc.py --check    # exit 1 when README.md is stale

Each kind gets a table of key paths (``a.b.<name>.c``), their type, default and
description. Defaults are the schemas' ``default`` keywords, as df-gen reads them
(generator/defaults.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from generator.defaults import resolve

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "generator" / "schemas"
README = ROOT / "README.md"
BEGIN, END = "<!-- BEGIN SCHEMADOC -->", "<!-- END SCHEMADOC -->"
KINDS = [("Environment", "environment", "environment.yaml"),
         ("DataSource", "datasource", "datasources/<key>.yaml"),
         ("Pipeline", "pipeline", "pipelines/<key>.yaml")]


def _defs() -> dict[str, Any]:
    return json.loads((SCHEMAS / "defs.schema.json").read_text())["$defs"]


def _type(node: dict[str, Any]) -> str:
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return "list"
    if kind == "object":
        return "map" if "properties" not in node else "mapping"
    if isinstance(kind, list):
        return " \\| ".join(kind)
    if "oneOf" in node:
        return "one of"
    return kind or "mapping"


def _default(node: dict[str, Any]) -> str:
    if "default" not in node:
        return ""
    return f"`{json.dumps(node['default'], separators=(', ', ': '))}`".replace("|", "\\|")


def _rows(node: dict[str, Any], path: str, required: bool, defs: dict[str, Any]) -> list[str]:
    node = resolve(node, defs)
    rows = []
    if path:
        description = node.get("description", "").replace("|", "\\|")
        rows.append(f"| `{path}` | {_type(node)} | {'yes' if required else ''} | {_default(node)} | {description} |")
    for choice in node.get("oneOf", []):
        rows += _children(choice, path, defs)
    rows += _children(node, path, defs)
    return rows


def _children(node: dict[str, Any], path: str, defs: dict[str, Any]) -> list[str]:
    node = resolve(node, defs)
    rows = []
    needed = set(node.get("required", []))
    for name, child in node.get("properties", {}).items():
        rows += _rows(child, f"{path}.{name}" if path else name, name in needed, defs)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and (resolve(extra, defs).get("properties") or resolve(extra, defs).get("oneOf")):
        rows += _children(extra, f"{path}.<name>", defs)
    for part in node.get("allOf", []):
        rows += _children(part, path, defs)
    return rows


def render() -> str:
    """The Markdown reference of every descriptor kind."""
    defs = _defs()
    out = [BEGIN, ""]
    for title, kind, where in KINDS:
        schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
        out += [f"#### {title} (`{where}`)", "", schema.get("description", ""), "",
                "| key | type | required | default | description |", "| --- | --- | --- | --- | --- |"]
        out += _children(schema, "", defs)
        out.append("")
    out.append(END)
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args()
    text = README.read_text()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + render() + text[stop:]
    if args.check:
        if updated != text:
            print("README.md: descriptor reference is stale; run python tools/schemadoc.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
