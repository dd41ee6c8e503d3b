"""generator.sandbox.values: the cty msgpack codec, UNKNOWN, and normalize."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.sandbox import schema_loader
from generator.sandbox.values import UNKNOWN, decode, encode, normalize

FIXTURE_SCHEMA = Path(__file__).parent / "data" / "sandbox" / "google_schema_fixture.json"


@pytest.fixture(scope="module")
def schema() -> schema_loader.ProviderSchema:
    return schema_loader.load(FIXTURE_SCHEMA)


def test_msgpack_round_trip_keeps_unknowns_and_types() -> None:
    value = {
        "s": "x",
        "n": 1,
        "f": 2.5,
        "b": True,
        "null": None,
        "u": UNKNOWN,
        "l": [UNKNOWN, {"k": "v"}],
        "m": {"a": "1"},
    }
    assert decode(encode(value)) == value
    # cty's own encoding of an unknown (fixext1 type 0) and a refined unknown (ext 12).
    assert decode(b"\xd4\x00\x00") is UNKNOWN
    assert decode(b"\xc7\x03\x0c\x81\x01\xc3") is UNKNOWN
    assert encode(UNKNOWN) == b"\xd4\x00\x00"


def test_normalize_fills_shape_of_block(schema: schema_loader.ProviderSchema) -> None:
    block = schema.resource("google_storage_bucket")["block"]
    value = normalize(block, {"name": "b", "lifecycle_rule": [{"action": [{"type": "Delete"}]}], "bogus": 1})
    assert "bogus" not in value
    assert value["location"] is None and value["versioning"] == []
    rule = value["lifecycle_rule"][0]
    assert rule["condition"] == [] and rule["action"][0]["storage_class"] is None
