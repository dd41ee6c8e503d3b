"""Descriptor defaults: written once, as ``default`` keywords in the JSON Schemas, and read
from there by the model, validate and the README's descriptor reference."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from model_test import ROOT, demo_copy

from generator import defaults
from generator.render import load_model
from generator.validate import validator


@pytest.fixture
def schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the shipped schemas that ``generator.defaults`` reads instead."""
    copy = tmp_path / "schemas"
    shutil.copytree(defaults.SCHEMAS_DIR, copy)
    monkeypatch.setattr(defaults, "SCHEMAS_DIR", copy)
    defaults.defaults.cache_clear()
    yield copy
    defaults.defaults.cache_clear()


def _set_default(schemas: Path, kind: str, pointer: list[str], value: Any) -> None:
    path = schemas / f"{kind}.schema.json"
    schema = json.loads(path.read_text())
    node = schema
    for part in pointer:
        node = node[part]
    node["default"] = value
    path.write_text(json.dumps(schema, indent=2))


def _bare_rule(pipeline: dict[str, Any]) -> None:
    pipeline["data_quality"] = {"curated.products": {}}


def test_a_rule_without_checks_counts_at_least_the_schemas_min_rows(tmp_path: Path) -> None:
    # The one default of the data-quality rules, shown in the README's reference.
    assert defaults.default("pipeline", "data_quality.<name>.min_rows") == 1
    sys.path.insert(0, str(ROOT / "tools"))
    import schemadoc

    assert "| `data_quality.<name>.min_rows` | integer |  | `1` | Minimum row count. |" in schemadoc.render()
    model = load_model(demo_copy(tmp_path, pipelines__store_daily=_bare_rule))
    (scan,) = model.stack("pipeline-store-daily").arguments["data_quality"].values()
    assert scan["min_rows"] == 1


def test_the_model_reads_its_defaults_from_the_schemas(tmp_path: Path, schemas: Path) -> None:
    rule = ["properties", "data_quality", "additionalProperties", "properties", "min_rows"]
    _set_default(schemas, "pipeline", rule, 5)
    _set_default(schemas, "environment", ["properties", "monitoring", "properties", "composer_health"], False)
    model = load_model(demo_copy(tmp_path, pipelines__store_daily=_bare_rule))
    (scan,) = model.stack("pipeline-store-daily").arguments["data_quality"].values()
    assert scan["min_rows"] == 5
    assert model.stack("environment").arguments["monitoring"]["composer_health"] is False


def test_landing_and_archive_buckets_share_a_definition_but_not_a_storage_class() -> None:
    assert defaults.default("datasource", "buckets.landing.storage_class") == "STANDARD"
    assert defaults.default("datasource", "buckets.archive.storage_class") == "NEARLINE"


@pytest.mark.parametrize("kind", ["environment", "datasource", "pipeline"])
def test_every_default_is_a_value_its_own_key_accepts(kind: str) -> None:
    found = [(path, node) for path, node in defaults.nodes(kind) if "default" in node]
    assert found
    for path, node in found:
        errors = list(validator(kind).evolve(schema=node).iter_errors(node["default"]))
        assert not errors, f"{kind} {path}: {[e.message for e in errors]}"


def test_a_default_handed_out_is_a_copy() -> None:
    network = defaults.default("environment", "network")
    network["vpc"]["subnets"].clear()
    assert defaults.default("environment", "network") == {"vpc": {"subnets": {"composer": {"cidr": "10.10.0.0/24"}}}}


def test_an_unknown_key_has_no_default() -> None:
    with pytest.raises(KeyError):
        defaults.default("pipeline", "dag.no_such_key")



@pytest.mark.parametrize("kind", ["environment", "datasource", "pipeline"])
def test_the_schemas_with_defaults_are_still_valid_schemas(kind: str) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads((defaults.SCHEMAS_DIR / f"{kind}.schema.json").read_text()))


def test_the_three_layers_tables_share_their_defaults() -> None:
    # versions.current_version reads the landing layer's default for a table of any layer.
    found = defaults.defaults("pipeline")
    for key in ("version", "accept_loss", "deletion_protection", "partitioning.type"):
        assert len({found[f"tables.{layer}.<name>.{key}"] for layer in ("landing", "curated", "exposure")}) == 1, key
