"""BigQuery table definitions: the rule table, the provider's schema-change decision, and the
sandbox's use of both (fast: the provider object; slow: real Terraform on a demo copy)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from sandboxsupport import configured, created

from generator import bqtable
from generator.bqtable import COMPATIBLE, INCOMPATIBLE, LOSSY_IN_PLACE, TableDefinition
from generator.sandbox.provider import LEGACY_TYPE_SYSTEM, SandboxProvider


def col(name: str, type_: str = "STRING", mode: str | None = "NULLABLE", **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": type_, **extra}
    if mode is not None:
        field["mode"] = mode
    return field


BASE = [col("id", "STRING", "REQUIRED"), col("amount", "NUMERIC"), col("quantity", "INTEGER"),
        col("address", "RECORD", fields=[col("city"), col("zip")])]


def changed(index: int, **updates: Any) -> list[dict[str, Any]]:
    new = [dict(f) for f in BASE]
    new[index].update(updates)
    return new


def nested(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*BASE[:3], col("address", "RECORD", fields=fields)]


# --------------------------------------------------------------------------- classifier

# (id, old, new, expected changes as (kind, column, reason fragment), provider replaces)
CHANGES: list[tuple[str, Any, Any, list[tuple[str, str, str]], bool]] = [
    ("no change", BASE, BASE, [], False),
    ("type NUMERIC to FLOAT64", BASE, changed(1, type="FLOAT64"),
     [(INCOMPATIBLE, "amount", "type changed from NUMERIC to FLOAT64")], True),
    ("type FLOAT64 to NUMERIC", changed(1, type="FLOAT64"), BASE,
     [(INCOMPATIBLE, "amount", "type changed from FLOAT64 to NUMERIC")], True),
    ("alias INTEGER to INT64", BASE, changed(2, type="INT64"), [], False),
    ("alias FLOAT to FLOAT64", changed(1, type="FLOAT"), changed(1, type="FLOAT64"), [], False),
    ("alias BOOLEAN to BOOL", changed(1, type="BOOLEAN"), changed(1, type="BOOL"), [], False),
    ("type case only", BASE, changed(2, type="integer"), [], False),
    # Not an alias to the provider (bigQueryTableTypeEq knows three pairs only).
    ("RECORD to STRUCT", BASE, changed(3, type="STRUCT"),
     [(INCOMPATIBLE, "address", "type changed from RECORD to STRUCT")], True),
    ("new NULLABLE column", BASE, [*BASE, col("channel")], [(COMPATIBLE, "channel", "new NULLABLE column")], False),
    ("new column without mode", BASE, [*BASE, col("channel", mode=None)],
     [(COMPATIBLE, "channel", "new NULLABLE column")], False),
    ("new REPEATED column", BASE, [*BASE, col("tags", mode="REPEATED")],
     [(COMPATIBLE, "tags", "new REPEATED column")], False),
    ("new REQUIRED column", BASE, [*BASE, col("channel", mode="REQUIRED")],
     [(INCOMPATIBLE, "channel", "new REQUIRED column")], True),
    # The provider compares the new column's mode text exactly.
    ("new lower-case required column", BASE, [*BASE, col("channel", mode="required")],
     [(COMPATIBLE, "channel", "new REQUIRED column")], False),
    ("NULLABLE to REQUIRED", BASE, changed(1, mode="REQUIRED"),
     [(INCOMPATIBLE, "amount", "mode changed from NULLABLE to REQUIRED")], True),
    ("no mode to REQUIRED", changed(1, mode=None), changed(1, mode="REQUIRED"),
     [(INCOMPATIBLE, "amount", "mode changed from NULLABLE to REQUIRED")], True),
    ("REQUIRED to NULLABLE", BASE, changed(0, mode="NULLABLE"),
     [(COMPATIBLE, "id", "mode relaxed from REQUIRED to NULLABLE")], False),
    ("REQUIRED to no mode", BASE, changed(0, mode=None),
     [(COMPATIBLE, "id", "mode relaxed from REQUIRED to NULLABLE")], False),
    ("NULLABLE to REPEATED", BASE, changed(1, mode="REPEATED"),
     [(INCOMPATIBLE, "amount", "mode changed from NULLABLE to REPEATED")], True),
    ("REPEATED to NULLABLE", changed(1, mode="REPEATED"), BASE,
     [(INCOMPATIBLE, "amount", "mode changed from REPEATED to NULLABLE")], True),
    ("mode case only", BASE, changed(1, mode="nullable"), [], False),
    ("description", BASE, changed(1, description="EUR"), [(COMPATIBLE, "amount", "description changed")], False),
    ("policy tag", BASE, changed(1, policyTags={"names": ["projects/p/taxonomies/1/policyTags/2"]}),
     [(COMPATIBLE, "amount", "policy tags changed")], False),
    ("empty policy tags", BASE, changed(1, policyTags={"names": []}), [], False),
    ("top-level column dropped alone", BASE, [BASE[0], *BASE[2:]],
     [(LOSSY_IN_PLACE, "amount", "column dropped in place")], False),
    ("two columns dropped alone", BASE, [BASE[0], BASE[3]],
     [(LOSSY_IN_PLACE, "amount", "column dropped in place"), (LOSSY_IN_PLACE, "quantity", "column dropped in place")],
     False),
    ("top-level rename (drop and add)", BASE, [BASE[0], col("total", "NUMERIC"), *BASE[2:]],
     [(COMPATIBLE, "total", "new NULLABLE column"), (INCOMPATIBLE, "amount", "column(s) total are added")], True),
    ("column name case changed", BASE, [BASE[0], col("Amount", "NUMERIC"), *BASE[2:]],
     [(COMPATIBLE, "Amount", "new NULLABLE column"), (INCOMPATIBLE, "amount", "column(s) Amount are added")], True),
    ("nested field removed", BASE, nested([col("city")]),
     [(INCOMPATIBLE, "address.zip", "nested field removed or renamed")], True),
    ("nested field renamed", BASE, nested([col("city"), col("postcode")]),
     [(COMPATIBLE, "address.postcode", "new NULLABLE column"),
      (INCOMPATIBLE, "address.zip", "nested field removed or renamed")], True),
    ("nested NULLABLE field added", BASE, nested([col("city"), col("zip"), col("street")]),
     [(COMPATIBLE, "address.street", "new NULLABLE column")], False),
    ("nested REQUIRED field added", BASE, nested([col("city"), col("zip"), col("street", mode="REQUIRED")]),
     [(INCOMPATIBLE, "address.street", "new REQUIRED column")], True),
    ("nested type change", BASE, nested([col("city"), col("zip", "INTEGER")]),
     [(INCOMPATIBLE, "address.zip", "type changed from STRING to INTEGER")], True),
    ("nested alias", nested([col("city"), col("zip", "INTEGER")]), nested([col("city"), col("zip", "INT64")]),
     [], False),
    ("nested description", BASE, nested([col("city", description="Town"), col("zip")]),
     [(COMPATIBLE, "address.city", "description changed")], False),
    ("RECORD made NULLABLE to REQUIRED", BASE, changed(3, mode="REQUIRED"),
     [(INCOMPATIBLE, "address", "mode changed from NULLABLE to REQUIRED")], True),
    ("RECORD becomes a STRING", BASE, [*BASE[:3], col("address")],
     [(INCOMPATIBLE, "address", "nested fields removed"), (INCOMPATIBLE, "address", "type changed")], True),
    ("order of columns", BASE, list(reversed(BASE)), [], False),
]


@pytest.mark.parametrize(("old", "new", "expected", "replaces"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_classifier_models_the_provider(old: Any, new: Any, expected: list[tuple[str, str, str]],
                                        replaces: bool) -> None:
    changes = bqtable.classify_schema_change(old, new)
    got = sorted((c.kind, c.column_name, c.reason) for c in changes)
    assert len(got) == len(expected), got
    for (kind, column, reason), (want_kind, want_column, want_reason) in zip(got, sorted(expected), strict=True):
        assert (kind, column) == (want_kind, want_column), got
        assert want_reason in reason, got
    assert bqtable.forces_replacement(json.dumps(old), json.dumps(new)) is replaces
    assert any(c.replaces for c in changes) is replaces


def test_external_tables_never_drop_in_place() -> None:
    changes = bqtable.classify_schema_change(BASE, BASE[:3], external=True)
    assert [(c.kind, c.column_name) for c in changes] == [(INCOMPATIBLE, "address")]
    assert bqtable.forces_replacement(json.dumps(BASE), json.dumps(BASE[:3]), external=True)


@pytest.mark.parametrize(("old", "new", "equivalent"), [
    ('[{"name":"a","type":"INTEGER"}]', '[{"name":"a","type":"INT64","mode":"NULLABLE"}]', True),
    ('[{"name":"a","type":"STRING","description":""}]', '[{"name":"a","type":"STRING"}]', True),
    ('[{"name":"a","type":"STRING","collation":"und:ci"}]', '[{"name":"a","type":"STRING"}]', True),
    ('[{"name":"a","type":"STRING"},{"name":"b","type":"DATE"}]',
     '[{"name":"b","type":"DATE"},{"name":"a","type":"STRING"}]', True),
    ('[{"name":"a","type":"STRING","maxLength":"10"}]', '[{"name":"a","type":"STRING","maxLength":"20"}]', False),
    ('[{"name":"a","type":"STRING"}]', '[{"name":"a","type":"STRING","description":"x"}]', False),
    ("null", "[]", True),
])
def test_diff_suppress(old: str, new: str, equivalent: bool) -> None:
    assert bqtable.schemas_equivalent(old, new) is equivalent


def test_unreadable_schemas_and_missing_names() -> None:
    assert bqtable.forces_replacement("null", json.dumps([col("a")])) is False  # "null" is an empty schema
    assert bqtable.forces_replacement("not json", json.dumps([col("a")])) is True
    with pytest.raises(bqtable.SchemaShapeError, match="No name in schema"):
        bqtable.classify_schema_change([col("a")], [{"type": "STRING"}])
    change = bqtable.classify_schema_change(BASE, changed(1, type="FLOAT64"))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.kind = COMPATIBLE  # type: ignore[misc]


# --------------------------------------------------------------------------- definition rules

GOOD = [col("id", "STRING", "REQUIRED"), col("day", "DATE"), col("ts", "TIMESTAMP"), col("local", "DATETIME"),
        col("n", "INT64"), col("price", "FLOAT64"), col("tags", mode="REPEATED"),
        col("address", "STRUCT", fields=[col("city")]), col("größe-1", "BIGNUMERIC")]

# (id, definition, expected (rule, where) pairs)
DEFINITIONS: list[tuple[str, TableDefinition, list[tuple[str, tuple[Any, ...]]]]] = [
    ("valid", TableDefinition(GOOD, {"field": "ts", "type": "HOUR"}, None, ("id", "n", "day", "local")),
     []),
    ("ingestion-time partitioning", TableDefinition(GOOD, {"type": "DAY"}), []),
    ("partition on STRING", TableDefinition(GOOD, {"field": "id"}),
     [("partition-field", ("time_partitioning", "field"))]),
    ("partition on INTEGER by time", TableDefinition(GOOD, {"field": "n"}),
     [("partition-field", ("time_partitioning", "field"))]),
    ("partition on REPEATED", TableDefinition([col("at", "TIMESTAMP", "REPEATED")], {"field": "at"}),
     [("partition-field", ("time_partitioning", "field"))]),
    ("partition on RECORD", TableDefinition(GOOD, {"field": "address"}),
     [("partition-field", ("time_partitioning", "field"))]),
    ("partition on a nested column", TableDefinition(GOOD, {"field": "address.city"}),
     [("partition-field", ("time_partitioning", "field"))]),
    ("partition field missing", TableDefinition(GOOD, {"field": "nope"}),
     [("partition-field", ("time_partitioning", "field"))]),
    ("HOUR on DATE", TableDefinition(GOOD, {"field": "day", "type": "HOUR"}),
     [("partition-field", ("time_partitioning", "field"))]),
    ("MONTH on DATE", TableDefinition(GOOD, {"field": "day", "type": "MONTH"}), []),
    ("partition field case-insensitive", TableDefinition(GOOD, {"field": "TS"}), []),
    ("range on INTEGER", TableDefinition(GOOD, range_partitioning={"field": "n"}), []),
    ("range on DATE", TableDefinition(GOOD, range_partitioning={"field": "day"}),
     [("range-partition-field", ("range_partitioning", "field"))]),
    ("range field missing", TableDefinition(GOOD, range_partitioning={"field": "x"}),
     [("range-partition-field", ("range_partitioning", "field"))]),
    ("cluster on RECORD", TableDefinition(GOOD, clustering=("address",)), [("clustering", ("clustering", 0))]),
    ("cluster on REPEATED", TableDefinition(GOOD, clustering=("id", "tags")), [("clustering", ("clustering", 1))]),
    ("cluster on FLOAT", TableDefinition(GOOD, clustering=("price",)), [("clustering", ("clustering", 0))]),
    ("cluster on unknown column", TableDefinition(GOOD, clustering=("x",)), [("clustering", ("clustering", 0))]),
    ("five clustering columns", TableDefinition(GOOD, clustering=("id", "day", "ts", "local", "n")),
     [("clustering", ("clustering", 4))]),
    ("duplicate names", TableDefinition([col("a"), col("A")]), [("duplicate-column", ("schema", 1, "name"))]),
    ("duplicate nested names", TableDefinition([col("r", "RECORD", fields=[col("x"), col("X")]), col("x")]),
     [("duplicate-column", ("schema", 0, "fields", 1, "name"))]),
    ("same name in two records", TableDefinition([col("r", "RECORD", fields=[col("x")]),
                                                  col("s", "RECORD", fields=[col("x")])]), []),
    ("unknown type", TableDefinition([col("a", "VARCHAR")]), [("column-type", ("schema", 0, "type"))]),
    ("unknown nested type", TableDefinition([col("r", "RECORD", fields=[col("x", "TEXT")])]),
     [("column-type", ("schema", 0, "fields", 0, "type"))]),
    ("unknown mode", TableDefinition([col("a", mode="OPTIONAL")]), [("column-type", ("schema", 0, "mode"))]),
    ("RECORD without fields", TableDefinition([col("r", "RECORD")]), [("column-type", ("schema", 0))]),
    ("every known type", TableDefinition([col(t.lower(), t) for t in bqtable.TYPES if t not in ("RECORD", "STRUCT")]),
     []),
    ("lower-case type and mode", TableDefinition([col("a", "string", "required")]), []),
    ("reserved prefix", TableDefinition([col("_partitiontime", "TIMESTAMP")]),
     [("column-name", ("schema", 0, "name"))]),
    ("forbidden character", TableDefinition([col("a.b")]), [("column-name", ("schema", 0, "name"))]),
    ("name too long", TableDefinition([col("a" * 301)]), [("column-name", ("schema", 0, "name"))]),
    ("flexible name", TableDefinition([col("Größe & Preis: <netto>")]), []),
    ("missing type", TableDefinition([{"name": "a"}]), [("schema-shape", ("schema", 0))]),
    ("missing name", TableDefinition([{"type": "STRING"}]), [("schema-shape", ("schema", 0))]),
    ("not a list", TableDefinition({"name": "a"}), [("schema-shape", ("schema",))]),
    ("RECORD with empty fields", TableDefinition([col("r", "RECORD", fields=[])]), [("column-type", ("schema", 0))]),
]


@pytest.mark.parametrize(("definition", "expected"), [c[1:] for c in DEFINITIONS], ids=[c[0] for c in DEFINITIONS])
def test_definition_rules(definition: TableDefinition, expected: list[tuple[str, tuple[Any, ...]]]) -> None:
    problems = bqtable.check_table(definition)
    assert [(p.rule, p.where) for p in problems] == expected, problems
    assert {p.rule for p in problems} <= {r.id for r in bqtable.TABLE_RULES}


def test_nesting_deeper_than_fifteen_levels() -> None:
    field = col("leaf")
    for level in range(16, 0, -1):
        field = col(f"l{level}", "RECORD", fields=[field])
    problems = bqtable.check_table(TableDefinition([field]))
    assert [p.rule for p in problems] == ["schema-limits"]
    assert "nested 16 levels deep" in problems[0].message


def test_every_rule_cites_google() -> None:
    for rule in bqtable.TABLE_RULES:
        assert rule.doc.startswith("https://cloud.google.com/bigquery/"), rule


@pytest.mark.parametrize(("old", "new", "refused"), [
    (None, {"type": "DAY", "field": "d"}, "Cannot convert non-partitioned table to partitioned table."),
    ({"type": "DAY", "field": "d"}, {"type": "MONTH", "field": "d"},
     "Expects partitioning specification interval(type:day,field:d), but input partitioning specification "
     "is interval(type:month,field:d)"),
    ({"type": "DAY", "field": "d"}, None, "but input partitioning specification is none"),
    ({"type": "DAY", "field": "d", "expiration_ms": 1}, {"type": "DAY", "field": "d", "expiration_ms": 2}, None),
    (None, None, None),
])
def test_partitioning_of_an_existing_table(old: Any, new: Any, refused: str | None) -> None:
    problem = bqtable.partitioning_change_problem(TableDefinition(GOOD, old), TableDefinition(GOOD, new))
    assert (problem is None) if refused is None else (refused in str(problem))


# --------------------------------------------------------------------------- sandbox provider


@pytest.fixture
def provider(tmp_path: Path) -> SandboxProvider:
    return configured(tmp_path)


def _table(schema: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"project": "df-test-proj", "dataset_id": "sales", "table_id": "orders", "deletion_protection": False,
            "schema": json.dumps(schema), **extra}


def test_sandbox_plans_the_providers_schema_decision(provider: SandboxProvider) -> None:
    prior = created(provider, "google_bigquery_table", _table(BASE), complete=False)
    for new, replace in [(changed(1, type="FLOAT64"), [["schema"]]), ([*BASE, col("c")], []),
                         ([BASE[0], *BASE[2:]], []), ([BASE[0], col("total"), *BASE[2:]], [["schema"]])]:
        cfg = _table(new)
        planned, got, diags = provider.plan("google_bigquery_table", prior, {**prior, **cfg}, cfg)
        assert not diags and got == replace, (new, got)
        assert planned["schema"] == cfg["schema"]
    # An alias keeps the prior text: no diff at all, as the provider's DiffSuppressFunc decides.
    cfg = _table(changed(2, type="INT64"))
    planned, got, _ = provider.plan("google_bigquery_table", prior, {**prior, **cfg}, cfg)
    assert got == [] and planned["schema"] == prior["schema"]
    assert "google_bigquery_table" in LEGACY_TYPE_SYSTEM


def test_sandbox_refuses_bad_definitions_at_apply(provider: SandboxProvider) -> None:
    cfg = _table(BASE, time_partitioning=[{"type": "DAY", "field": "id"}], clustering=["address"])
    planned, _replace, diags = provider.plan("google_bigquery_table", None, dict(cfg), cfg)
    assert diags == []  # Google refuses when the API is called, not in the plan
    state, diags = provider.apply("google_bigquery_table", None, planned, cfg)
    assert state is None
    assert [d.path for d in diags] == [("time_partitioning", 0, "field"), ("clustering", 0)]
    assert diags[0].summary.startswith("googleapi: Error 400: The field specified for time partitioning can only "
                                       "be of type TIMESTAMP, DATE or DATETIME. The type found is: STRING.")
    assert provider.store.all() == {}


def test_sandbox_refuses_partitioning_changes_of_an_existing_table(provider: SandboxProvider) -> None:
    schema = [*BASE, col("day", "DATE")]
    prior = created(provider, "google_bigquery_table", _table(schema), complete=False)
    cfg = _table(schema, time_partitioning=[{"type": "DAY", "field": "day", "expiration_ms": None,
                                              "require_partition_filter": None}])
    planned, _replace, diags = provider.plan("google_bigquery_table", prior, {**prior, **cfg}, cfg)
    assert not diags
    state, diags = provider.apply("google_bigquery_table", prior, planned, cfg)
    assert state == prior
    assert "Cannot convert non-partitioned table to partitioned table." in diags[0].summary


def test_sandbox_plan_time_schema_checks(provider: SandboxProvider) -> None:
    for text, message in [("{", '"schema" contains an invalid JSON'), ('{"a": 1}', '"schema" is not a JSON array'),
                          ("[null]", '"schema" contains a nil element')]:
        cfg = {**_table(BASE), "schema": text}
        _planned, _replace, diags = provider.plan("google_bigquery_table", None, dict(cfg), cfg)
        assert [d.summary.split(":")[0] for d in diags] == [message.split(":")[0]], diags
        assert message in diags[0].summary
    cfg = _table(GOOD, clustering=["id", "day", "ts", "local", "n"])
    _planned, _replace, diags = provider.plan("google_bigquery_table", None, dict(cfg), cfg)
    assert [d.summary for d in diags] == ["Attribute supports 4 item maximum, but config has 5 declared."]


# --------------------------------------------------------------------------- real Terraform (slow)


@pytest.mark.slow
def test_demo_type_change_replaces_the_table_and_apply_refuses_it(applied_demo: Path) -> None:
    from demosupport import opts, statuses

    from generator import runner
    from generator.render import render

    env_dir = applied_demo  # every stack applied (tests/conftest.py)
    store_daily = ("pipeline-store-daily",)
    schema_file = env_dir.parent.parent / "pipelines" / "retail" / "schemas" / "curated" / "orders.json"
    original = json.loads(schema_file.read_text())
    orders = 'module.pipeline.google_bigquery_table.tables["curated-orders"]'

    # The example: orders.amount NUMERIC -> FLOAT64 makes the provider replace the table.
    fields = [dict(f, type="FLOAT64") if f["name"] == "amount" else f for f in original]
    schema_file.write_text(json.dumps(fields, indent=2) + "\n")
    render(env_dir)
    report = runner.plan(opts(env_dir, sandbox=True, stacks=store_daily, only=True))
    entry = next(s for s in report.plan_document()["stacks"] if s["name"] == "pipeline-store-daily")
    assert entry["destructive"] == [orders], entry
    assert entry["changes"]["add"] >= 1 and entry["changes"]["destroy"] >= 1
    report = runner.apply(opts(env_dir, sandbox=True, auto_approve=True, stacks=store_daily, only=True))
    refused = next(r for r in report.results if r.name == "pipeline-store-daily")
    assert refused.status == "failed" and "--allow-destroy" in refused.note, report.summary_lines()

    # A new NULLABLE column instead: an in-place update, applied without the guard.
    fields = [*original, {"name": "coupon", "type": "STRING", "mode": "NULLABLE", "description": "Coupon code."}]
    schema_file.write_text(json.dumps(fields, indent=2) + "\n")
    render(env_dir)
    report = runner.plan(opts(env_dir, sandbox=True, stacks=store_daily, only=True))
    entry = next(s for s in report.plan_document()["stacks"] if s["name"] == "pipeline-store-daily")
    assert entry["destructive"] == [] and entry["changes"] == {"add": 0, "change": 1, "replace": 0, "destroy": 0,
                                                           "import": 0, "forget": 0}, entry
    report = runner.apply(opts(env_dir, sandbox=True, auto_approve=True, stacks=store_daily, only=True))
    assert statuses(report)["pipeline-store-daily"] == "applied", report.summary_lines()
    report = runner.plan(opts(env_dir, sandbox=True, stacks=store_daily, only=True, all_stacks=True))
    assert statuses(report)["pipeline-store-daily"] == "no-changes", report.summary_lines()
