#!/usr/bin/env python3
"""Check a Terraform module's resource arguments against a provider schema.

Every ``resource`` block in the module's ``.tf`` files is compared with the provider
schema (the ``terraform providers schema -json`` shape, e.g. the committed google 8.7.0
schema at ``generator/sandbox/schema/google.json``): unknown resource types, unknown
arguments, read-only (computed-only) attributes set as arguments, unknown nested blocks
and missing required arguments are reported. ``dynamic`` blocks are checked through
their ``content``. Expressions are not evaluated. A resource with ``provider = google-beta``
(or an alias of it) is checked against the google-beta schema given with ``--beta``
(``generator/sandbox/schema/google-beta.json``); without it such a resource is reported.

Usage: python tools/tfschema.py SCHEMA_JSON [--beta BETA_SCHEMA_JSON] MODULE_DIR [MODULE_DIR ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tfdoc import Block, parse_body

META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner"}


def _check_block(
    where: str, block: Block, schema: dict[str, Any], problems: list[str], top: bool
) -> None:
    attributes = schema.get("attributes", {})
    block_types = schema.get("block_types", {})
    for name in block.attributes:
        if top and name in META_ARGUMENTS:
            continue
        spec = attributes.get(name)
        if spec is None:
            problems.append(f"{where}: unknown argument {name!r}")
        elif spec.get("computed") and not (spec.get("optional") or spec.get("required")):
            problems.append(f"{where}: {name!r} is read-only")
    set_blocks = set()
    for sub in block.blocks:
        if top and sub.type in META_ARGUMENTS:
            continue
        if sub.type == "dynamic" and sub.labels:
            name = sub.labels[0]
            content = next((b for b in sub.blocks if b.type == "content"), Block("content", []))
        else:
            name, content = sub.type, sub
        set_blocks.add(name)
        spec = block_types.get(name)
        if spec is None:
            problems.append(f"{where}: unknown block {name!r}")
            continue
        _check_block(f"{where}.{name}", content, spec.get("block", {}), problems, False)
    for name, spec in attributes.items():
        if spec.get("required") and name not in block.attributes:
            problems.append(f"{where}: required argument {name!r} is missing")
    for name, spec in block_types.items():
        if spec.get("min_items", 0) > 0 and name not in set_blocks:
            problems.append(f"{where}: required block {name!r} is missing")


def uses_beta(block: Block) -> bool:
    """Whether a resource block names the google-beta provider (``google-beta[.alias]``)."""
    return block.attributes.get("provider", "").strip().split(".")[0] == "google-beta"


def check_module(
    module_dir: Path, provider_schema: dict[str, Any], beta_schema: dict[str, Any] | None = None
) -> list[str]:
    """Return the schema problems of every resource block in ``module_dir``."""
    schemas = {
        False: provider_schema["resource_schemas"],
        True: (beta_schema or {}).get("resource_schemas", {}),
    }
    problems: list[str] = []
    for path in sorted(module_dir.glob("*.tf")):
        root = parse_body(path.read_text(encoding="utf-8"))
        for block in root.blocks:
            if block.type != "resource" or len(block.labels) != 2:
                continue
            type_name, name = block.labels
            where = f"{path.name}: {type_name}.{name}"
            beta = uses_beta(block)
            resources = schemas[beta]
            if type_name not in resources:
                which = "google-beta" if beta else "provider"
                problems.append(f"{where}: resource type not in the {which} schema")
                continue
            _check_block(where, block, resources[type_name]["block"], problems, True)
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns 1 when a problem is found."""
    args = list(sys.argv[1:] if argv is None else argv)
    beta = None
    if "--beta" in args:
        i = args.index("--beta")
        if i + 1 >= len(args):
            print(__doc__, file=sys.stderr)
            return 2
        beta = json.loads(Path(args[i + 1]).read_text(encoding="utf-8"))
        del args[i : i + 2]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    schema = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    problems = [p for d in args[1:] for p in check_module(Path(d), schema, beta)]
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
