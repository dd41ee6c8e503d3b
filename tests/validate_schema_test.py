"""The descriptor validators: references inlined, the same errors as the schemas as written."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from generator.errors import DfGenError
from generator.loader import Document, load
from generator.resources import SCHEMAS_DIR
from generator.validate.messages import explain
from generator.validate.schema import inline, validator

DATA = Path(__file__).parent / "data" / "descriptors"
KINDS = ("environment", "datasource", "pipeline")


def _as_written(kind: str) -> jsonschema.Draft202012Validator:
    """The validator of the schema file as it is, its ``$ref``s resolved by the registry."""
    registry: Registry = Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text())))
        for path in SCHEMAS_DIR.glob("*.schema.json"))
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text()),
                                           registry=registry)


def _errors(check: jsonschema.Draft202012Validator, doc: Document) -> list[tuple[object, ...]]:
    """Each error as jsonschema reports it and as df-gen words it."""
    return [(tuple(e.absolute_path), e.validator, e.message, [c.message for c in e.context or []],
             list(explain(e, doc))) for e in check.iter_errors(doc.data)]


@pytest.mark.parametrize("kind", KINDS)
def test_no_reference_to_defs_is_left(kind):
    assert "defs.schema.json" not in json.dumps(validator(kind).schema)


def _documents(kind: str) -> list[Path]:
    folder = {"environment": "environment.yaml", "datasource": "datasources", "pipeline": "pipelines"}[kind]
    return sorted([*(DATA / "invalid" / kind).glob("*.yaml"), *(DATA / "valid" / kind).glob("*.yaml"),
                   *(DATA / "base").glob(f"{folder}/*.yaml" if kind != "environment" else folder)])


@pytest.mark.parametrize("kind", KINDS)
def test_inlined_validator_reports_what_the_schema_as_written_reports(kind):
    written = _as_written(kind)
    documents = _documents(kind)
    assert len(documents) > 5
    failing = 0
    for path in documents:
        try:
            doc = load(path)
        except DfGenError:  # YAML the loader refuses never reaches the schema
            continue
        expected = _errors(written, doc)
        failing += bool(expected)
        assert _errors(validator(kind), doc) == expected, path.name
    assert failing  # some cases do fail


def test_inline_keeps_siblings_and_their_order_and_stops_at_a_cycle():
    defs = {"name": {"type": "string", "maxLength": 3}, "loop": {"items": {"$ref": "defs.schema.json#/$defs/loop"}}}
    node = {"description": "x", "$ref": "defs.schema.json#/$defs/name", "minLength": 1}
    assert list(inline(node, defs, ())) == ["description", "allOf", "minLength"]
    assert inline(node, defs, ())["allOf"] == [defs["name"]]
    looped = inline({"$ref": "defs.schema.json#/$defs/loop"}, defs, ())
    assert looped == {"allOf": [{"items": {"$ref": "defs.schema.json#/$defs/loop"}}]}
