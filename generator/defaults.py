"""Descriptor defaults, read from the ``default`` keywords of the shipped JSON Schemas.

The schemas are the one place a default is written: editors show it on hover, the README's
descriptor reference prints it (``tools/schemadoc.py``), and the model and validate read
it from here. Keys are the reference's key paths: ``dag.retries``,
``data_quality.<name>.min_rows`` (``<name>`` for any key of a map).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from generator.resources import SCHEMAS_DIR


def default(kind: str, path: str) -> Any:
    """The schema default of key ``path`` in descriptors of ``kind`` (a copy: callers may keep it)."""
    value = defaults(kind)[path]
    return json.loads(json.dumps(value)) if isinstance(value, (dict, list)) else value


def time_partitioning(layer: str, table: Mapping[str, Any]) -> dict[str, str] | None:
    """A pipeline table's ``partitioning`` with its ``type`` defaulted (None: not partitioned)."""
    spec = table.get("partitioning")
    if spec is None:
        return None
    kind = spec.get("type", default("pipeline", f"tables.{layer}.<name>.partitioning.type"))
    return {"field": spec["field"], "type": kind}


@cache
def defaults(kind: str) -> dict[str, Any]:
    """Every default of one descriptor kind, by key path."""
    return {path: node["default"] for path, node in nodes(kind) if "default" in node}


def nodes(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every key of one descriptor kind: its path and its schema, references followed."""
    schema = json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text())
    return list(_walk(schema, "", _defs()))


def _defs() -> dict[str, Any]:
    return dict(json.loads((SCHEMAS_DIR / "defs.schema.json").read_text())["$defs"])


def resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its ``$ref`` to ``defs.schema.json`` followed. The referring node's own
    keywords win over the target's, and its ``properties`` add to the target's property by
    property: a data source's landing and archive buckets share one definition and differ
    in the default of ``storage_class`` only."""
    while "$ref" in node:
        own = {k: v for k, v in node.items() if k != "$ref"}
        target = defs[node["$ref"].rsplit("/", 1)[1]]
        merged = {**target, **own}
        if "properties" in own and "properties" in target:
            merged["properties"] = {
                name: {**target["properties"].get(name, {}), **own["properties"].get(name, {})}
                for name in {**target["properties"], **own["properties"]}
            }
        node = merged
    return node


def _walk(node: dict[str, Any], path: str, defs: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    node = resolve(node, defs)
    if path:
        yield path, node
    for part in (*node.get("oneOf", []), *node.get("allOf", [])):
        yield from _walk(part, path, defs)
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}" if path else name, defs)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _walk(extra, f"{path}.<name>", defs)
