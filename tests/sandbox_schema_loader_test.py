"""generator.sandbox.schema_loader: the provider schema as a cached, serialized response."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.sandbox import schema_loader

FIXTURE_SCHEMA = Path(__file__).parent / "data" / "sandbox" / "google_schema_fixture.json"


@pytest.fixture(scope="module")
def schema() -> schema_loader.ProviderSchema:
    return schema_loader.load(FIXTURE_SCHEMA)


def test_schema_response_has_list_nesting_and_is_cached(schema: schema_loader.ProviderSchema, tmp_path: Path) -> None:
    from generator.sandbox.proto import tfplugin6_pb2 as pb

    data = schema_loader.response_bytes(schema, tmp_path)
    assert list(tmp_path.glob("schema-*.pb"))
    assert schema_loader.response_bytes(schema, tmp_path) == data
    resp = pb.GetProviderSchema.Response.FromString(data)
    bucket = resp.resource_schemas["google_storage_bucket"].block
    blocks = {b.type_name: b for b in bucket.block_types}
    assert blocks["lifecycle_rule"].nesting == pb.Schema.NestedBlock.LIST
    action = {b.type_name: b for b in blocks["lifecycle_rule"].block.block_types}["action"]
    assert (action.nesting, action.min_items, action.max_items) == (pb.Schema.NestedBlock.SET, 1, 1)
    labels = {a.name: a for a in bucket.attributes}["labels"]
    assert json.loads(labels.type) == ["map", "string"] and labels.optional
