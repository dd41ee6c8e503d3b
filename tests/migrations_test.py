"""In-place schema migrations (the ``migrate`` way forward): the rendered DDL and its job, the
DDL on DuckDB over the sample data, validation, the sandbox running the job against its
store, and (slow) a demo copy migrated by real Terraform with no table replaced."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from click.testing import CliRunner
from demosupport import opts
from sandboxsupport import configured, created
from schema_changes_test import (
    ORDERS,
    STACK,
    descriptor,
    entry,
    schema_file,
    set_table_option,
    validate_against,
)

from generator import runner
from generator.cli import cli
from generator.render import render
from generator.sandbox.provider import SandboxProvider

MIGRATE = "migrate: {set_data_type: [quantity, amount], drop_columns: [channel]}"
JOB = 'module.pipeline.google_bigquery_job.migrations["curated-orders"]'


def widen(env_dir: Path) -> list[dict[str, Any]]:
    """quantity INTEGER -> NUMERIC, amount NUMERIC -> BIGNUMERIC, channel dropped; the
    descriptor chooses migrate for all three. Returns the original schema."""
    original = json.loads(schema_file(env_dir).read_text())
    types = {"quantity": "NUMERIC", "amount": "BIGNUMERIC"}
    changed = [dict(f, type=types.get(f["name"], f["type"])) for f in original if f["name"] != "channel"]
    schema_file(env_dir).write_text(json.dumps(changed, indent=2) + "\n")
    set_table_option(env_dir, MIGRATE)
    return original


def rendered_sql(env_dir: Path) -> str:
    return (env_dir / "stacks" / STACK / "migrations" / "curated.orders.sql").read_text()


def test_migrate_renders_one_ddl_script_run_by_a_query_job(demo: Path) -> None:
    widen(demo)
    render(demo)
    sql = rendered_sql(demo)
    statements = sqlglot.parse(sql, read="bigquery")
    assert [type(s).__name__ for s in statements] == ["Alter", "Alter", "Alter"]
    target = "ALTER TABLE IF EXISTS `acme-demo-cur.acme_demo_store_curated.orders`"
    assert sql.splitlines() == [
        f"{target} ALTER COLUMN quantity SET DATA TYPE NUMERIC;",
        f"{target} ALTER COLUMN amount SET DATA TYPE BIGNUMERIC;",
        f"{target} DROP COLUMN IF EXISTS channel;",
    ]
    main = (demo / "stacks" / STACK / "main.tf").read_text()
    job_id = re.search(r'job_id\s+= "(df_gen_migrate_orders_[0-9a-f]{12})"', main)
    assert job_id and 'query    = file("${path.module}/migrations/curated.orders.sql")' in main
    # A different script is a different job: BigQuery job IDs are never reused.
    set_table_option(demo, "description: x")
    schema = json.loads(schema_file(demo).read_text())
    schema_file(demo).write_text(json.dumps([dict(f, type="FLOAT64") if f["name"] == "quantity" else f
                                             for f in schema], indent=2) + "\n")
    render(demo)
    again = re.search(r'job_id\s+= "(df_gen_migrate_orders_[0-9a-f]{12})"',
                      (demo / "stacks" / STACK / "main.tf").read_text())
    assert again and again.group(1) != job_id.group(1)


def test_migration_sql_runs_on_duckdb_over_the_sample_data(demo: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    widen(demo)
    render(demo)
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS \"acme-demo-cur\"")
    con.execute('CREATE SCHEMA "acme-demo-cur".acme_demo_store_curated')
    table = '"acme-demo-cur".acme_demo_store_curated.orders'
    con.execute(f"CREATE TABLE {table} (order_id VARCHAR NOT NULL, quantity BIGINT NOT NULL, "
                "amount DECIMAL(38, 9) NOT NULL, channel VARCHAR)")
    csv = (demo.parent.parent / "pipelines" / "retail" / "data" / "orders.csv").as_posix()
    con.execute(f"INSERT INTO {table} SELECT order_id, CAST(quantity AS BIGINT), "
                "CAST(quantity AS BIGINT) * CAST(unit_price AS DECIMAL(38, 9)), channel "
                f"FROM read_csv('{csv}', header = true, all_varchar = true)")
    before = con.execute(f"SELECT order_id, quantity, amount FROM {table} ORDER BY order_id").fetchall()
    assert len(before) > 100
    ran = 0
    for statement in sqlglot.parse(rendered_sql(demo), read="bigquery"):
        if "BIGNUMERIC" in statement.sql("bigquery"):
            continue  # DuckDB has no BIGNUMERIC (sqlglot would narrow it to DECIMAL(38, 5))
        con.execute(statement.sql("duckdb"))
        ran += 1
    assert ran == 2
    columns = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_name = 'orders'").fetchall())
    assert "channel" not in columns and columns["quantity"].startswith("DECIMAL")
    after = con.execute(f"SELECT order_id, quantity, amount FROM {table} ORDER BY order_id").fetchall()
    assert [(o, int(q), a) for o, q, a in after] == before  # every row and value kept


@pytest.mark.parametrize(("option", "message"), [
    ("migrate: {set_data_type: [status]}", "migrate.set_data_type: column status has type STRING"),
    ("migrate: {set_data_type: [nope]}", "migrate.set_data_type: column nope is not in the table's schema"),
    ("migrate: {drop_columns: [channel]}", "migrate.drop_columns: column channel is still in the table's schema"),
])
def test_a_migrate_bigquery_cannot_run_is_one_line_at_its_place(demo: Path, option: str, message: str) -> None:
    set_table_option(demo, option)
    result = CliRunner().invoke(cli, ["validate", str(demo)])
    assert result.exit_code == 1
    (line,) = [x for x in result.output.strip().splitlines() if "error:" in x]
    lines = descriptor(demo).read_text().splitlines()
    row = next(n for n, text in enumerate(lines, 1) if text.strip() == option)
    assert line.startswith(f"pipelines/store-daily.yaml:{row}:") or f"store-daily.yaml:{row}:" in line, line
    assert f"tables.curated.orders.{message}" in line, line


def test_validate_against_a_ref_accepts_migrate_only_where_bigquery_ddl_can_do_it(repo: Path) -> None:
    widen(repo)
    other = repo / "pipelines" / "ecommerce-hourly.yaml"  # the same retail schema files
    anchor = "      schema: schemas/curated/orders.json\n"
    other.write_text(other.read_text().replace(anchor, anchor + f"      {MIGRATE}\n"))
    code, document = validate_against(repo)
    assert code == 0, document
    assert {(i["column"], i["chosen"]) for i in document["schema_changes"]} == {
        ("quantity", "migrate"), ("amount", "migrate"), ("channel", "migrate")}
    # NUMERIC -> STRING is no widening: validation refuses the migrate that names it.
    schema = json.loads(schema_file(repo).read_text())
    schema_file(repo).write_text(json.dumps([dict(f, type="STRING") if f["name"] == "amount" else f
                                             for f in schema], indent=2) + "\n")
    code, document = validate_against(repo)
    assert code == 1 and document["valid"] is False
    assert "migrate.set_data_type: column amount has type STRING" in json.dumps(document)


# ------------------------------------------------------------------ sandbox


@pytest.fixture
def provider(tmp_path: Path) -> SandboxProvider:
    return configured(tmp_path, "p-1")


def create(p: SandboxProvider, type_name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    return created(p, type_name, cfg, complete=False)


def job(query: str, job_id: str = "j1") -> dict[str, Any]:
    return {"job_id": job_id, "project": "p-1", "location": "EU",
            "query": [{"query": query, "use_legacy_sql": False, "create_disposition": "", "write_disposition": ""}]}


SCHEMA = [{"name": "id", "type": "STRING", "mode": "REQUIRED"}, {"name": "n", "type": "INTEGER", "mode": "REQUIRED"},
          {"name": "note", "type": "STRING"}]


def test_sandbox_job_ddl_changes_the_stored_table_and_refresh_reads_it(provider: SandboxProvider) -> None:
    table = create(provider, "google_bigquery_table", {"project": "p-1", "dataset_id": "d", "table_id": "t",
                                                        "schema": json.dumps(SCHEMA), "deletion_protection": False})
    done = create(provider, "google_bigquery_job", job(
        "ALTER TABLE `p-1.d.t` ALTER COLUMN n SET DATA TYPE NUMERIC;\n"
        "ALTER TABLE `p-1.d.t` ALTER COLUMN id DROP NOT NULL;\nALTER TABLE `p-1.d.t` DROP COLUMN note;\n"))
    assert done["id"] == "projects/p-1/jobs/j1" and done["status"][0]["state"] == "DONE"
    assert done["status"][0]["error_result"] == []
    refreshed = provider.read("google_bigquery_table", table)
    assert json.loads(refreshed["schema"]) == [{"name": "id", "type": "STRING", "mode": "NULLABLE"},
                                               {"name": "n", "type": "NUMERIC", "mode": "REQUIRED"}]
    # The next plan with the new schema is in place, not a replacement.
    new = {**table, "schema": refreshed["schema"]}
    _, replace, _ = provider.plan("google_bigquery_table", refreshed, new, new)
    assert replace == []


def test_sandbox_job_refuses_a_narrowing_conversion_like_google(provider: SandboxProvider) -> None:
    table = create(provider, "google_bigquery_table", {"project": "p-1", "dataset_id": "d", "table_id": "t",
                                                        "schema": json.dumps(SCHEMA), "deletion_protection": False})
    failed = create(provider, "google_bigquery_job", job("ALTER TABLE `p-1.d.t` ALTER COLUMN id SET DATA TYPE INT64"))
    (error,) = failed["status"][0]["error_result"]
    assert error["reason"] == "invalidQuery"
    assert error["message"] == ("ALTER TABLE ALTER COLUMN SET DATA TYPE requires that the existing column type "
                                "(STRING) is assignable to the new type (INT64)")
    assert json.loads(provider.read("google_bigquery_table", table)["schema"]) == SCHEMA
    # A missing table without IF EXISTS fails; with it, the job does nothing.
    missing = create(provider, "google_bigquery_job", job("ALTER TABLE `p-1.d.x` DROP COLUMN note", "j2"))
    assert missing["status"][0]["error_result"][0]["message"].startswith("Not found: Table p-1.d.x")
    quiet = create(provider, "google_bigquery_job", job("ALTER TABLE IF EXISTS `p-1.d.x` DROP COLUMN note", "j3"))
    assert quiet["status"][0]["error_result"] == []


# ------------------------------------------------------------------ real Terraform (slow)


@pytest.mark.slow
def test_demo_after_apply_widening_and_drop_migrate_in_place_without_replacing_the_table(
        applied_demo: Path) -> None:
    demo = applied_demo  # every stack applied (tests/conftest.py)
    only = {"sandbox": True, "stacks": (STACK,), "only": True}
    store = demo / ".df-gen" / "sandbox"

    widen(demo)
    render(demo)
    planned = entry(runner.plan(opts(demo, **only)))
    assert {(i["column"], i["chosen"]) for i in planned["schema_changes"]} == {
        ("quantity", "migrate"), ("amount", "migrate"), ("channel", "migrate")}
    # Terraform plans every resource before it applies any: in this plan the table is still
    # replaced (its state has the old schema); apply runs the job alone first to avoid that.
    assert planned["changes"]["replace"] == 1 and planned["changes"]["add"] >= 2
    assert planned["destructive"] == []  # acknowledged: the migration is chosen

    migrated = runner.apply(opts(demo, auto_approve=True, **only))  # no --allow-destroy
    result = next(r for r in migrated.results if r.name == STACK)
    assert result.status == "applied" and result.note.startswith("ran 1 migration job(s) first, then "), \
        migrated.summary_lines()
    assert result.changes is not None and result.changes["destroy"] == 0 and result.changes["replace"] == 0
    assert result.summary is not None and result.summary.schema_changes == ()

    data = json.loads(next(store.rglob("store.json")).read_text())["resources"]
    (table,) = [e["state"] for e in data.values() if e["type"] == "google_bigquery_table"
                and e["state"]["table_id"] == "orders" and "store" in e["state"]["dataset_id"]
                and "curated" in e["state"]["dataset_id"]]
    types = {f["name"]: f["type"] for f in json.loads(table["schema"])}
    assert types["quantity"] == "NUMERIC" and types["amount"] == "BIGNUMERIC" and "channel" not in types
    (ran,) = [e["state"] for e in data.values() if e["type"] == "google_bigquery_job"]
    assert ran["status"][0]["state"] == "DONE" and ran["status"][0]["error_result"] == []

    again = entry(runner.plan(opts(demo, all_stacks=True, **only)))  # plan though recorded as applied
    assert again["status"] == "no-changes" and again["schema_changes"] == [], again
    assert ORDERS not in again["destructive"]
