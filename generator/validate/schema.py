"""JSON Schema validation of one descriptor: every error, pointed at its key or value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache

import jsonschema
from referencing import Registry, Resource

from generator.errors import Diagnostic
from generator.loader import Document
from generator.resources import SCHEMAS_DIR
from generator.validate.messages import explain, kind_name


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    """The compiled validator of one descriptor kind (schemas are read once)."""
    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.schema.json")):
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text()))))
    registry: Registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def schema_errors(kind: str, doc: Document) -> Iterator[Diagnostic]:
    """Every JSON Schema error of one document, pointed at the offending key or value."""
    if not isinstance(doc.data, dict):
        yield doc.error((), f"expected a mapping with 'apiVersion: dfgen/v1' and 'kind: {kind_name(kind)}'")
        return
    for error in validator(kind).iter_errors(doc.data):
        yield from explain(error, doc)
