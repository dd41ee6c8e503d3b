"""JSON Schema validation of one descriptor: every error, pointed at its key or value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from generator.errors import Diagnostic
from generator.loader import Document
from generator.resources import SCHEMAS_DIR
from generator.validate.fastcheck import is_valid
from generator.validate.messages import explain, kind_name

if TYPE_CHECKING:  # imported when a file is schema-checked: a warm render whose descriptors are cached checks none
    import jsonschema

DEFS = "defs.schema.json#/$defs/"


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    """The compiled validator of one descriptor kind (schemas are read once).

    References to ``defs.schema.json`` are inlined first (:func:`inline`): jsonschema
    resolves a ``$ref`` through its registry each time it meets one, which was a third of
    the time validating a thousand pipelines took (issue 13). The registry stays for any
    reference left (a cycle)."""
    import jsonschema
    from referencing import Registry, Resource

    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.schema.json")):
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text()))))
    registry: Registry = Registry().with_resources(resources)
    defs = json.loads((SCHEMAS_DIR / "defs.schema.json").read_text())["$defs"]
    schema = inline(json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text()), defs, ())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def inline(node: Any, defs: dict[str, Any], within: tuple[str, ...]) -> Any:
    """``node`` with each ``$ref`` to ``defs.schema.json`` replaced, at its place among the
    node's keywords, by ``allOf: [target]``: the same assertions (a ``$ref`` beside other
    keywords is their conjunction, and neither adds to ``additionalProperties``' view), the
    same error messages and instance paths. A reference inside its own target (``within``)
    and a node that has an ``allOf`` already keep their ``$ref``."""
    if isinstance(node, list):
        return [inline(item, defs, within) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    name = ref.removeprefix(DEFS) if isinstance(ref, str) and ref.startswith(DEFS) else None
    if name is None or name not in defs or name in within or "allOf" in node:
        return {key: inline(value, defs, within) for key, value in node.items()}
    out: dict[str, Any] = {}
    for key, value in node.items():  # keyword order kept: errors come out in the same order
        if key == "$ref":
            out["allOf"] = [inline(defs[name], defs, (*within, name))]
        else:
            out[key] = inline(value, defs, within)
    return out


def schema_errors(kind: str, doc: Document) -> Iterator[Diagnostic]:
    """Every JSON Schema error of one document, pointed at the offending key or value. A
    document :mod:`generator.validate.fastcheck` finds valid has none: jsonschema checks
    (and explains) the others."""
    if not isinstance(doc.data, dict):
        yield doc.error((), f"expected a mapping with 'apiVersion: dfgen/v1' and 'kind: {kind_name(kind)}'")
        return
    if is_valid(kind, doc.data):  # most files: no error to explain, no jsonschema to import
        return
    for error in validator(kind).iter_errors(doc.data):
        yield from explain(error, doc)
