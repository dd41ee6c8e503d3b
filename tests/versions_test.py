"""Table versions (the ``new_version`` way forward): a new table beside the old one, the
pipeline writing it, the rendered backfill, grants and policy tags, the refused inputs (fast:
real descriptors, templates, git and DuckDB; slow: real Terraform against the sandbox on a
demo copy after an apply)."""

from __future__ import annotations

import json
import re
import runpy
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from click.testing import CliRunner
from demosupport import git, opts
from pipelines_retail_test import (
    _DUCK_TYPES,
    _stub_airflow,
    _Task,
    airflow_python,  # noqa: F401  (a fixture, used by name)
    dagbag,
    demo_dag_folder,
)
from pipelines_retail_test import Warehouse as RetailWarehouse
from schema_changes_test import STACK, validate_against

from generator import runner, versions
from generator.cli import cli
from generator.errors import DfGenError
from generator.render import render
from generator.schema_changes import review_plan

CURATED = "acme-demo-cur.acme_demo_store_curated"
V1 = 'module.pipeline.google_bigquery_table.tables["curated-orders"]'
V2 = 'module.pipeline.google_bigquery_table.tables["curated-orders-v2"]'


def schemas(env_dir: Path, layer: str = "curated") -> Path:
    return env_dir.parent.parent / "pipelines" / "retail" / "schemas" / layer


def descriptor(env_dir: Path) -> Path:
    return env_dir / "pipelines" / "store-daily.yaml"


def new_version(env_dir: Path, table: str = "orders", change: dict[str, str] | None = None,
                layer: str = "curated") -> list[dict[str, Any]]:
    """Give store-daily's ``layer`` ``table`` version 2: a copy of its schema with the column
    types in ``change`` and a new NULLABLE column ``coupon``, version 1 kept."""
    change = {"quantity": "NUMERIC"} if change is None else change
    fields = json.loads((schemas(env_dir, layer) / f"{table}.json").read_text())
    fields = [dict(f, type=change[f["name"]]) if f["name"] in change else f for f in fields]
    fields.append({"name": "coupon", "type": "STRING", "mode": "NULLABLE", "description": "Coupon code."})
    (schemas(env_dir, layer) / f"{table}_v2.json").write_text(json.dumps(fields, indent=2) + "\n")
    path = descriptor(env_dir)
    text = path.read_text()
    schema = f"      schema: schemas/{layer}/{table}.json\n"
    anchor = f"  {layer}:\n" + text.split(f"  {layer}:\n", 1)[1].split(schema)[0] + schema
    assert anchor in text
    block = anchor.replace(f"schemas/{layer}/{table}.json", f"schemas/{layer}/{table}_v2.json") + (
        "      version: 2\n      keep_versions:\n        - version: 1\n"
        f"          schema: schemas/{layer}/{table}.json\n")
    path.write_text(text.replace(anchor, block, 1))
    return fields


def stack_file(env_dir: Path, name: str, stack: str = STACK) -> str:
    return (env_dir / "stacks" / stack / name).read_text()


# ------------------------------------------------------------------ rendering


def test_a_new_version_is_a_new_table_beside_the_old_one_and_the_pipeline_writes_it(demo: Path) -> None:
    before = {p.relative_to(demo): p.read_bytes() for p in (demo / "stacks" / "pipeline-ecommerce-hourly").rglob("*")
              if p.is_file()}
    old_schema = stack_file(demo, "schemas/curated.orders.json")
    fields = new_version(demo)
    render(demo)
    main = stack_file(demo, "main.tf")
    # Both versions are managed: the old one keeps its key, name and schema.
    assert re.search(r'\n +curated-orders = \{\n +table_id += "orders"\n', main)
    assert re.search(r'\n +curated-orders-v2 = \{\n +table_id += "orders_v2"\n', main)
    assert 'file("${path.module}/schemas/curated.orders_v2.json")' in main
    assert stack_file(demo, "schemas/curated.orders.json") == old_schema
    assert json.loads(stack_file(demo, "schemas/curated.orders_v2.json")) == fields
    # The pipeline's SQL (through `ref`), the view and the quality scan follow the new version.
    assert f"MERGE `{CURATED}.orders_v2` AS target" in stack_file(demo, "sql/orders.sql")
    assert f"FROM `{CURATED}.orders_v2` AS o" in stack_file(demo, "sql/checks/orders_references.sql")
    assert f"FROM `{CURATED}.orders_v2` AS o" in stack_file(demo, "views/sales_by_product_day.sql")
    assert f"MERGE `{CURATED}.customers` AS target" in stack_file(demo, "sql/customers.sql")
    assert re.search(r'store-daily-curated-orders = \{\n +table += "orders_v2"\n', main)
    # The backfill: rendered, uploaded, run by a task of the account that writes the table.
    backfill = stack_file(demo, "sql/backfill/curated.orders_v2.sql")
    assert backfill == versions.backfill_sql(f"{CURATED}.orders_v2", f"{CURATED}.orders",
                                             json.loads(old_schema), fields, 1, 2)
    assert '"store-daily/sql/backfill/curated.orders_v2.sql" = "${path.module}/sql/backfill/curated.orders_v2.sql"' \
        in main
    dag = stack_file(demo, "dag.py")
    assert '"curated.orders": "orders_v2",' in dag and '"landing.orders": "orders",' in dag
    assert ('"backfill_curated_orders": {"identity": "transformation", "kind": "backfill", "layer": "curated", '
            '"project": "processing", "sql": "backfill/curated.orders_v2.sql", "table": "orders"},') in dag
    # The other pipeline of the same code did not choose a version: nothing changed there.
    after = {p.relative_to(demo): p.read_bytes() for p in (demo / "stacks" / "pipeline-ecommerce-hourly").rglob("*")
             if p.is_file()}
    assert after == before


def test_the_backfill_casts_changed_types_and_fills_new_columns_with_null(demo: Path) -> None:
    new_version(demo, change={"quantity": "NUMERIC", "order_ts": "DATETIME"})
    render(demo)
    sql = stack_file(demo, "sql/backfill/curated.orders_v2.sql")
    assert sql.splitlines()[2:] == [
        f"INSERT INTO `{CURATED}.orders_v2` (order_id, customer_id, product_id, order_ts, order_date, quantity, "
        "unit_price, amount, status, channel, updated_at, coupon)",
        "SELECT", "  order_id,", "  customer_id,", "  product_id,", "  CAST(order_ts AS DATETIME) AS order_ts,",
        "  order_date,", "  CAST(quantity AS NUMERIC) AS quantity,", "  unit_price,", "  amount,", "  status,",
        "  channel,", "  updated_at,", "  CAST(NULL AS STRING) AS coupon",
        f"FROM `{CURATED}.orders`",
        f"WHERE NOT EXISTS (SELECT 1 FROM `{CURATED}.orders_v2`)",
    ]
    (statement,) = sqlglot.parse(sql, read="bigquery")
    assert isinstance(statement, sqlglot.exp.Insert)


def test_the_rendered_backfill_runs_once_on_duckdb_over_the_sample_data(demo: Path) -> None:
    # The curated orders as the retail MERGE builds them from the sample data (version 1).
    warehouse = RetailWarehouse()
    for table in ("customers", "products", "orders"):
        warehouse.deliver(table)
    warehouse.transform()
    rows = warehouse.rows("orders")
    assert len(rows) == 1500
    # Laid out under the demo's names, with the new version created as Terraform would.
    fields = new_version(demo, change={"quantity": "NUMERIC", "order_ts": "DATETIME"})
    render(demo)
    con = warehouse.con
    con.execute('ATTACH \':memory:\' AS "acme-demo-cur"')
    con.execute('CREATE SCHEMA "acme-demo-cur".acme_demo_store_curated')
    old, new = '"acme-demo-cur".acme_demo_store_curated.orders', '"acme-demo-cur".acme_demo_store_curated.orders_v2'
    con.execute(f"CREATE TABLE {old} AS SELECT * FROM {warehouse.name('curated', 'orders')}")
    duck = {**_DUCK_TYPES, "DATETIME": "TIMESTAMP"}
    columns = ", ".join(f"{f['name']} {duck[f['type']]}" + (" NOT NULL" if f.get("mode") == "REQUIRED" else "")
                        for f in fields)
    con.execute(f"CREATE TABLE {new} ({columns})")
    sql = stack_file(demo, "sql/backfill/curated.orders_v2.sql")
    assert warehouse.bigquery(sql) == [(1500,)]
    copied = con.execute(f"SELECT * FROM {new} ORDER BY order_id").fetchall()
    names = [f["name"] for f in fields]
    quantity, order_ts = names.index("quantity"), names.index("order_ts")
    assert [r[-1] for r in copied] == [None] * 1500  # coupon: the old version has none
    assert all(isinstance(r[quantity], Decimal) for r in copied)
    assert [tuple(int(v) if i == quantity else v.replace(tzinfo=UTC) if i == order_ts else v
                  for i, v in enumerate(r[:-1])) for r in copied] == rows
    assert warehouse.bigquery(sql) == [(0,)]  # a second run changes nothing
    assert con.execute(f"SELECT * FROM {old} ORDER BY order_id").fetchall() == rows  # the old version is kept


def access_of(env_dir: Path, task: str) -> tuple[dict[str, Any], dict[str, Any]]:
    result = CliRunner().invoke(cli, ["access", str(env_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (found,) = [t for t in report["tasks"] if t["task"] == task and t["pipeline"] == "store-daily"]
    return report, found


def test_a_new_version_gets_the_same_policy_tags_and_its_backfill_the_grants(demo: Path) -> None:
    new_version(demo, table="customers", change={})
    render(demo)
    schema = json.loads(stack_file(demo, "schemas/curated.customers_v2.json"))
    tags = {f["name"]: f["policyTags"]["names"] for f in schema if "policyTags" in f}
    assert tags == {"full_name": ["${policy_tags.medium}"], "email": ["${policy_tags.high}"],
                    "phone": ["${policy_tags.high}"], "birth_date": ["${policy_tags.medium}"]}
    assert 'templatefile("${path.module}/schemas/curated.customers_v2.json", { policy_tags' in \
        stack_file(demo, "main.tf")
    report, task = access_of(demo, "backfill_curated_customers")
    assert report["ok"] is True and report["problems"] == []
    assert task["member"] == "serviceAccount:df-transformation@acme-demo-prc.iam.gserviceaccount.com"
    assert task["writes"]["table"] == f"{CURATED}.customers_v2"
    tag_reads = {(n["column"].rsplit(".", 1)[1], n["resource"], n["allowed"]) for n in task["needs"]
                 if n["permission"] == "datacatalog.categories.fineGrainedGet"}
    assert tag_reads == {("email", "policyTags/high", True), ("phone", "policyTags/high", True),
                         ("full_name", "policyTags/medium", True), ("birth_date", "policyTags/medium", True)}


def test_a_landing_backfill_runs_as_the_load_account_which_gets_the_tags_it_reads(demo: Path) -> None:
    readers = re.compile(r'high = \{\n +description += "[^"]*"\n +readers += (\[[^]]*\])')
    before = readers.search(stack_file(demo, "main.tf", "environment"))
    assert before and '"load"' not in before.group(1)
    new_version(demo, table="customers", change={}, layer="landing")
    render(demo)
    report, task = access_of(demo, "backfill_landing_customers")
    assert report["ok"] is True and report["problems"] == []
    assert task["member"] == "serviceAccount:df-load@acme-demo-lnd.iam.gserviceaccount.com"
    assert {n["resource"] for n in task["needs"] if n["permission"] == "bigquery.jobs.create"} == {
        "projects/acme-demo-lnd"}
    # The backfill reads the tagged landing columns: the load account becomes a reader of their tags.
    after = readers.search(stack_file(demo, "main.tf", "environment"))
    assert after and json.loads(after.group(1)) == ["security", "group:pii-readers@acme.example", "load",
                                                    "transformation"]


# ------------------------------------------------------------------ refused inputs


def validate_line(env_dir: Path) -> str:
    result = CliRunner().invoke(cli, ["validate", str(env_dir)])
    assert result.exit_code == 1, result.output
    (line,) = [text for text in result.output.splitlines() if ": error: " in text]
    return line


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    hits = [n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text]
    return hits[nth - 1]


KEPT = "        - version: 1\n          schema: schemas/curated/orders.json\n"


@pytest.mark.parametrize(("kept", "needle", "message"), [
    (KEPT.replace("version: 1", "version: 2"), "- version: 2",
     "tables.curated.orders.keep_versions[0].version: 2 is not older than the table's version 2"),
    (KEPT + KEPT, "- version: 1",
     "tables.curated.orders.keep_versions[1].version: version 1 is listed twice"),
])
def test_a_kept_version_that_is_not_older_or_listed_twice_is_one_line(demo: Path, kept: str, needle: str,
                                                                       message: str) -> None:
    new_version(demo)
    path = descriptor(demo)
    path.write_text(path.read_text().replace(KEPT, kept, 1))
    line = validate_line(demo)
    nth = 2 if kept == KEPT + KEPT else 1
    assert re.match(rf".*store-daily\.yaml:{line_of(path, needle, nth)}:20: error: {re.escape(message)}$", line), line


def test_a_version_that_is_another_tables_name_is_one_line(demo: Path) -> None:
    new_version(demo)
    path = descriptor(demo)
    text = path.read_text()
    path.write_text(text.replace("  curated:\n", "  curated:\n    orders_v2:\n"
                                 "      schema: schemas/curated/orders.json\n      deletion_protection: false\n", 1))
    line = validate_line(demo)
    assert re.match(rf".*store-daily\.yaml:{line_of(path, 'version: 2')}:\d+: error: tables\.curated\.orders: "
                    "version 2 is table orders_v2, which is also table 'orders_v2' of this layer$", line), line


@pytest.mark.parametrize(("change", "why"), [
    ({"order_ts": "INT64"}, "column order_ts of version 2 changes from TIMESTAMP to INT64, which BigQuery's CAST "
                            "cannot convert; the backfill from version 1 could not copy it"),
    ({}, "column coupon of version 2 is REQUIRED and not in the older version, so the backfill has no value "
         "for it (make it NULLABLE); the backfill from version 1 could not copy it"),
])
def test_a_backfill_bigquery_could_not_run_is_one_line(demo: Path, change: dict[str, str], why: str) -> None:
    fields = new_version(demo, change=change)
    if not change:
        fields[-1]["mode"] = "REQUIRED"
        (schemas(demo) / "orders_v2.json").write_text(json.dumps(fields, indent=2) + "\n")
    line = validate_line(demo)
    assert re.match(rf".*store-daily\.yaml:{line_of(descriptor(demo), 'version: 2')}:16: error: "
                    rf"tables\.curated\.orders\.version: {re.escape(why)} "
                    r'\(hint: see "Changing schemas safely" in the README\)$', line), line


def test_validate_against_lets_an_incompatible_change_through_as_a_new_version(repo: Path) -> None:
    new_version(repo, change={"quantity": "STRING"})
    code, document = validate_against(repo)
    assert code == 0 and document["valid"] is True, document
    (item,) = document["schema_changes"]
    assert (item["table"]["table_id"], item["table"]["address"], item["column"], item["kind"], item["chosen"]) == (
        "orders_v2", V2, "quantity", "incompatible", "new_version")
    assert item["file"].endswith("schemas/curated/orders_v2.json")
    assert item["on_google_cloud"] == ("table orders_v2 is created beside orders, which keeps its rows; the rendered "
                                       "backfill copies them while orders is listed in keep_versions")


def test_validate_against_a_version_that_goes_backwards_or_skips(repo: Path) -> None:
    new_version(repo)
    git(repo.parent.parent, "add", "-A")
    git(repo.parent.parent, "commit", "-q", "-m", "orders v2")
    path = descriptor(repo)
    text = path.read_text()
    kept = "      keep_versions:\n        - version: 1\n          schema: schemas/curated/orders.json\n"
    for version, message, hint in (
            ("1", "tables.curated.orders.version goes backwards: 1 here, 2 at HEAD (a version number is never "
                  "reused)", "raise the version instead: the next one is 3"),
            ("4", "tables.curated.orders.version skips a version: 4 here, 2 at HEAD", "the next version is 3")):
        changed = text.replace("      version: 2\n", f"      version: {version}\n")
        path.write_text(changed.replace(kept, "") if version == "1" else changed)
        result = CliRunner().invoke(cli, ["validate", str(repo), "--against", "HEAD"])
        assert result.exit_code == 1, result.output
        (line,) = [t for t in result.output.splitlines() if ": error: " in t]
        assert re.match(rf".*store-daily\.yaml:{line_of(path, f'version: {version}')}:16: error: "
                        rf"{re.escape(message)} \(hint: {hint}\)$", line), line


def test_a_plan_that_destroys_a_newer_version_than_the_descriptors_is_refused(demo: Path) -> None:
    new_version(demo)
    newer = 'module.pipeline.google_bigquery_table.tables["curated-orders-v3"]'
    plan = {"resource_changes": [{"address": newer, "type": "google_bigquery_table", "mode": "managed",
                                  "change": {"actions": ["delete"], "before": {"schema": "[]"}, "after": None}}]}
    with pytest.raises(DfGenError) as caught:
        review_plan(demo, STACK, plan)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.line == line_of(descriptor(demo), "version: 2") and diagnostic.path.endswith("store-daily.yaml")
    assert diagnostic.message == ("tables.curated.orders.version goes backwards: 2 here, 3 in the applied state "
                                  "(table orders_v3 would be destroyed)")
    # An older version's deletion is a retirement, for the data-loss guard, not a version error.
    retired = {"resource_changes": [dict(plan["resource_changes"][0], address=V1)]}
    assert review_plan(demo, STACK, retired).destructive == (V1,)


def test_a_plan_creating_a_new_version_reports_its_changes_as_let_through(demo: Path) -> None:
    old = json.loads((schemas(demo) / "orders.json").read_text())
    fields = new_version(demo, change={"quantity": "STRING"})
    plan = {
        "resource_changes": [{"address": V2, "type": "google_bigquery_table", "mode": "managed",
                              "change": {"actions": ["create"], "before": None,
                                         "after": {"schema": json.dumps(fields)}}}],
        "prior_state": {"values": {"root_module": {"child_modules": [{"resources": [
            {"address": V1, "type": "google_bigquery_table", "values": {"schema": json.dumps(old)}}]}]}}},
    }
    summary = review_plan(demo, STACK, plan)
    (item,) = summary.schema_changes
    assert (item["table"]["address"], item["column"], item["kind"], item["chosen"]) == (
        V2, "quantity", "incompatible", "new_version")
    assert item["file"].endswith("schemas/curated/orders_v2.json")
    assert item["line"] == line_of(schemas(demo) / "orders_v2.json", '"STRING"', 4)
    assert summary.destructive == ()
    # Without the older version in the applied state (a fresh environment) there is nothing to compare.
    assert review_plan(demo, STACK, {"resource_changes": plan["resource_changes"]}).schema_changes == ()


# ------------------------------------------------------------------ the DAG


def test_the_dag_runs_the_backfill_before_the_transformation_writes_the_new_version(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    new_version(demo)
    render(demo)
    folder = demo_dag_folder(tmp_path, demo)
    assert (folder / "store-daily" / "sql" / "backfill" / "curated.orders_v2.sql").is_file()
    _stub_airflow(monkeypatch)
    monkeypatch.setattr(_Task, "registry", {})
    runpy.run_path(str(folder / "store-daily.py"))
    tasks = _Task.registry
    backfill = tasks["backfill_curated_orders"]
    assert backfill.upstream == set() and "backfill_curated_orders" in tasks["transform_orders"].upstream
    assert backfill.kwargs["configuration"]["query"]["query"] == stack_file(demo, "sql/backfill/curated.orders_v2.sql")
    assert backfill.kwargs["project_id"] == "dfd-processing"
    assert backfill.kwargs["impersonation_chain"] == "dfd-trf@dfd-processing.iam.gserviceaccount.com"
    assert not any(t.startswith("backfill_") for t in tasks if t != "backfill_curated_orders")


@pytest.mark.slow  # Airflow in an interpreter of its own: seconds per DagBag
def test_the_versioned_dag_loads_into_airflow_dagbag(demo: Path, tmp_path: Path,
                                                     airflow_python: tuple[int, str]) -> None:  # noqa: F811
    new_version(demo)
    render(demo)
    dags = dagbag(demo_dag_folder(tmp_path, demo), tmp_path, airflow_python)
    tasks = dags["store-daily"]["tasks"]
    assert "backfill_curated_orders" in tasks["transform_orders"]["upstream"]
    assert tasks["backfill_curated_orders"]["operator"] == "BigQueryInsertJobOperator"
    assert not any(t.startswith("backfill_") for t in dags["ecommerce-hourly"]["tasks"])


# ------------------------------------------------------------------ real Terraform (slow)


def store_tables(env_dir: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(next((env_dir / ".df-gen" / "sandbox").rglob("store.json")).read_text())["resources"]
    return {e["state"]["table_id"]: e["state"] for e in data.values() if e["type"] == "google_bigquery_table"
            and e["state"]["dataset_id"] == "acme_demo_store_curated"}


@pytest.mark.slow
def test_demo_after_apply_a_new_version_is_created_beside_the_old_table(applied_demo: Path) -> None:
    demo = applied_demo  # every stack applied (tests/conftest.py)
    old = store_tables(demo)["orders"]
    only = {"sandbox": True, "stacks": (STACK,), "only": True}

    # An incompatible type change (NUMERIC -> STRING: no in-place migration) with a new version.
    fields = new_version(demo, change={"quantity": "NUMERIC", "amount": "STRING"})
    render(demo)
    planned = next(s for s in runner.plan(opts(demo, **only)).plan_document()["stacks"] if s["name"] == STACK)
    # No table is replaced or destroyed: one is added (orders_v2), one changed in place (the
    # exposure view, now reading orders_v2). The only replacement is the Dataplex scan, whose
    # table (ForceNew) is now the new version.
    kinds = planned["resource_types"]
    assert kinds["google_bigquery_table"] == {
        "add": 1, "change": 1, "replace": 0, "destroy": 0, "import": 0, "forget": 0}
    assert {k for k, v in kinds.items() if v["replace"] or v["destroy"]} == {"google_dataplex_datascan"}
    assert planned["destructive"] == []
    assert {(i["table"]["table_id"], i["column"], i["kind"], i["chosen"]) for i in planned["schema_changes"]} == {
        ("orders_v2", "quantity", "incompatible", "new_version"),
        ("orders_v2", "amount", "incompatible", "new_version")}
    assert kinds["google_storage_bucket_object"]["add"] == 1  # the uploaded backfill

    done = runner.apply(opts(demo, auto_approve=True, **only))  # no --allow-destroy
    result = next(r for r in done.results if r.name == STACK)
    assert result.status == "applied", done.summary_lines()
    tables = store_tables(demo)
    assert tables["orders"] == old  # the old version untouched: same table, same creation, its data kept
    assert json.loads(tables["orders_v2"]["schema"])[-1]["name"] == "coupon"
    assert {f["name"]: f["type"] for f in json.loads(tables["orders_v2"]["schema"])}["amount"] == "STRING"
    sql = stack_file(demo, "sql/backfill/curated.orders_v2.sql")
    assert sqlglot.parse(sql, read="bigquery") and "CAST(amount AS STRING) AS amount" in sql
    assert len(fields) == len(json.loads(tables["orders_v2"]["schema"]))

    again = next(s for s in runner.plan(opts(demo, all_stacks=True, **only)).plan_document()["stacks"]
                 if s["name"] == STACK)
    assert again["status"] == "no-changes", again


def test_a_tables_versions_are_worked_out_once_per_loaded_spec() -> None:
    """of_table answers again from its memo for the same spec object: a new list of the same
    versions; another spec object (a changed copy) gets its own answer."""
    from generator import versions

    spec = {"schema": "schemas/v2.json", "version": 2, "keep_versions": [{"version": 1, "schema": "schemas/v1.json"}]}
    first = versions.of_table("curated", "orders", spec)
    again = versions.of_table("curated", "orders", spec)
    assert again == first and again is not first
    assert all(a is b for a, b in zip(again, first, strict=True))
    assert [v.version for v in again] == [1, 2]
    changed = {**spec, "version": 3, "schema": "schemas/v3.json"}
    assert [v.version for v in versions.of_table("curated", "orders", changed)] == [1, 3]
    assert [v.table_id for v in versions.of_table("landing", "orders", spec)] == \
        [v.table_id for v in first]  # another layer: asked again, not taken from the memo
    assert versions.of_table("landing", "orders", spec)[0].layer == "landing"
