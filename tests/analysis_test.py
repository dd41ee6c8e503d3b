"""``df-gen access`` and ``df-gen lineage`` on the demo and on mutated copies of it.

Each mutation is one mistake a data engineer makes; the report must name the task or
persona, the resource, the column and the missing role.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from demosupport import copy_sources

from generator.analysis import grants as access_model
from generator.analysis import report as access_report
from generator.analysis import sql
from generator.analysis.lineage import lineage_of
from generator.cli import cli
from generator.model import Model, build
from generator.validate import validate

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
STORE_CUSTOMERS = "acme-demo-cur.acme_demo_store_curated.customers"


def copy_demo(base: Path) -> Path:
    return copy_sources(base, stacks=False)


def edit_yaml(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def problems(env_dir: Path) -> list[dict[str, Any]]:
    result = run("access", str(env_dir), "--json")
    document = json.loads(result.stdout)
    assert result.exit_code == (0 if document["ok"] else 1)
    return list(document["problems"])


# ------------------------------------------------------------------ the demo


def test_demo_tasks_have_what_they_need_and_no_persona_reads_unlisted_tags() -> None:
    result = run("access", str(DEMO), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["problems"] == []
    tasks = {(t["pipeline"], t["task"]): t for t in document["tasks"]}
    merge = tasks[("store-daily", "transform_customers")]
    assert merge["identity"] == "transformation"
    assert merge["writes"]["table"] == STORE_CUSTOMERS
    assert set(merge["reads"]["acme-demo-lnd.acme_demo_store_landing.customers"]) >= {"email", "full_name"}
    tag_needs = {n["column"]: n for n in merge["needs"] if n["permission"] == "datacatalog.categories.fineGrainedGet"}
    assert set(tag_needs) == {f"acme-demo-lnd.acme_demo_store_landing.customers.{c}"
                              for c in ("full_name", "email", "phone", "birth_date")}
    assert all(n["allowed"] and n["granted_by"]["role"] == access_model.FINE_GRAINED_READER
               for n in tag_needs.values())
    # Every task of both pipelines is checked, with its declared kind.
    assert {t["kind"] for t in document["tasks"]} == {
        "wait_for_files", "load_files", "query", "check_query", "quality_scan", "archive_files"}
    analysts = next(p for p in document["personas"] if p["persona"] == "analysts")
    assert {t["table"].split(".", 1)[1] for t in analysts["tables"]} == {
        "acme_demo_store_exposure.sales_by_product_day", "acme_demo_ecommerce_exposure.sales_by_product_day"}


def test_text_and_markdown_formats() -> None:
    text = run("access", str(DEMO))
    assert text.exit_code == 0 and "transform_customers" in text.stdout and "Personas" in text.stdout
    markdown = run("access", str(DEMO), "--format", "markdown")
    assert "| store-daily | `transform_customers` | transformation |" in markdown.stdout


# ------------------------------------------------------------------ mutations


def _replace_argument(model: Model, stack_name: str, change: Any) -> Model:
    stacks = []
    for stack in model.stacks:
        if stack.name == stack_name:
            arguments = copy.deepcopy(dict(stack.arguments))
            change(arguments)
            stack = dataclasses.replace(stack, arguments=MappingProxyType(arguments))
        stacks.append(stack)
    return dataclasses.replace(model, stacks=tuple(stacks))


def test_dropped_tag_reader_grant_is_a_missing_role_of_the_merge() -> None:
    descriptors = validate(DEMO)

    def drop(arguments: dict[str, Any]) -> None:
        readers = arguments["policy_taxonomy"]["tags"]["high"]["readers"]
        readers.remove("transformation")

    model = _replace_argument(build(descriptors), "environment", drop)
    report = access_report.report_for(descriptors, model)
    found = {(p.pipeline, p.task, p.resource, p.column, p.missing_role) for p in report.problems}
    assert ("store-daily", "transform_customers", "policyTags/high",
            "acme-demo-lnd.acme_demo_store_landing.customers.email",
            "roles/datacatalog.categoryFineGrainedReader") in found
    # medium is still granted: only the high columns are reported.
    assert not any(p.column.endswith(".full_name") for p in report.problems)
    assert all(p.kind == "task-missing-role" for p in report.problems)


def test_analysts_given_data_viewer_on_curated_read_tagged_columns(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    edit_yaml(env_dir / "datasources" / "store.yaml", lambda d: d["datasets"]["curated"].setdefault("iam", {})
              .setdefault("roles/bigquery.dataViewer", []).append("group:analysts@acme.example"))
    found = [p for p in problems(env_dir) if p["persona"] == "analysts"]
    assert {(p["kind"], p["resource"], p["column"], p["missing_role"]) for p in found} == {
        ("direct-tagged-read", "projects/acme-demo-cur/datasets/acme_demo_store_curated/tables/customers",
         f"{STORE_CUSTOMERS}.{column}", "roles/datacatalog.categoryFineGrainedReader")
        for column in ("full_name", "email", "phone", "birth_date")
    }
    assert "roles/bigquery.dataViewer on projects/acme-demo-cur/datasets/acme_demo_store_curated" in found[0]["message"]


def test_sql_reading_another_data_sources_dataset_is_a_missing_role(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    check = tmp_path / "pipelines" / "retail" / "sql" / "checks" / "foreign.sql.j2"
    check.write_text("SELECT COUNT(email) > 0 AS has_mail\n"
                     "FROM `acme-demo-lnd.acme_demo_ecommerce_landing.customers`\n")
    found = problems(env_dir)
    assert [(p["pipeline"], p["task"], p["resource"], p["missing_role"]) for p in found] == [
        ("store-daily", "check_foreign",
         "projects/acme-demo-lnd/datasets/acme_demo_ecommerce_landing/tables/customers",
         "roles/bigquery.dataViewer"),
    ]
    assert "granted only for data source 'ecommerce'" in found[0]["message"]


def test_view_exposing_a_tagged_column_is_reported_per_persona(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    view = tmp_path / "pipelines" / "retail" / "sql" / "views" / "sales_by_product_day.sql.j2"
    text = view.read_text()
    view.write_text(text.replace("  COUNTIF(o.status = 'returned') AS returned_count\n",
                                 "  COUNTIF(o.status = 'returned') AS returned_count,\n"
                                 "  ANY_VALUE(c.email) AS a_customer_email\n"))
    found = [p for p in problems(env_dir) if p["kind"] == "view-exposes-tag"]
    assert ("analysts", "policyTags/high",
            "acme-demo-exp.acme_demo_store_exposure.sales_by_product_day.a_customer_email",
            "roles/datacatalog.categoryFineGrainedReader") in {
        (p["persona"], p["resource"], p["column"], p["missing_role"]) for p in found}


def test_sql_sqlglot_cannot_parse_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    broken = tmp_path / "pipelines" / "retail" / "sql" / "checks" / "broken.sql.j2"
    broken.write_text("SELECT 1 AS ok\nFROM (SELECT\n")
    result = run("access", str(env_dir))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith(f"{broken}:") or "broken.sql.j2:" in lines[0]
    assert "error: task 'check_broken' of pipeline" in lines[0]


# ------------------------------------------------------------------ lineage


def test_every_exposure_column_traces_back_to_landing_columns() -> None:
    lineage = lineage_of(DEMO)
    upstream: dict[str, set[str]] = {}
    for edge in lineage.edges:
        upstream.setdefault(edge["to"], set()).add(edge["from"])
    layer = {c["id"]: c["layer"] for c in lineage.columns}

    def landing(column: str) -> set[str]:
        if layer.get(column) == "landing":
            return {column}
        return set().union(*(landing(s) for s in upstream.get(column, ()))) if upstream.get(column) else set()

    exposure = [c for c in lineage.columns if c["layer"] == "exposure"]
    assert len(exposure) == 16  # two views of eight columns
    for column in exposure:
        assert landing(column["id"]), f"{column['id']} does not reach landing"
    revenue = "acme-demo-exp.acme_demo_store_exposure.sales_by_product_day.revenue_eur"
    assert landing(revenue) == {"acme-demo-lnd.acme_demo_store_landing.orders.quantity",
                                "acme-demo-lnd.acme_demo_store_landing.orders.unit_price"}
    email = next(c for c in lineage.columns if c["id"] == f"{STORE_CUSTOMERS}.email")
    assert email["tag"] == "high" and email["tagged_sources"] == ["high"]


def test_columns_on_a_cycle_of_tasks_all_come_from_the_tagged_column_that_feeds_it() -> None:
    # Task 1 fills a.x from b.x, task 2 writes b.x back from a.x, and a.x is also filled from
    # the tagged t.c: both a.x and b.x carry t.c's values, whichever of them is looked at
    # first. Eight such cycles, so that no order of the columns' set hides a miss.
    from types import SimpleNamespace

    from generator.analysis.check import _origins

    def task(target: str, lineage: dict[str, set[tuple[str, str]]]) -> Any:
        return SimpleNamespace(analysis=SimpleNamespace(target=target, lineage=lineage))

    tasks, tables = [], {}
    for n in range(8):
        a, b, t = f"p.d.a{n}", f"p.d.b{n}", f"p.d.t{n}"
        tasks += [task(a, {"x": {(b, "x"), (t, "c")}}), task(b, {"x": {(a, "x")}})]
        tables[t] = SimpleNamespace(tags={"c": "pii"}, columns=("c",))
        tables[a] = tables[b] = SimpleNamespace(tags={}, columns=("x",))
    origins = _origins(SimpleNamespace(tasks=tasks, views={}, tables=tables))
    for n in range(8):
        tagged = frozenset({(f"p.d.t{n}", "c")})
        assert origins[(f"p.d.a{n}", "x")] == origins[(f"p.d.b{n}", "x")] == origins[(f"p.d.t{n}", "c")] == tagged


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "json"])
def test_lineage_formats(fmt: str) -> None:
    result = run("lineage", str(DEMO), "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        document = json.loads(result.stdout)
        assert {"columns", "edges"} == set(document)
    elif fmt == "dot":
        assert result.stdout.startswith("digraph lineage {")
    else:
        assert result.stdout.startswith("flowchart LR") and "class " in result.stdout


# ------------------------------------------------------------------ the SQL analysis


def test_merge_reads_what_it_scans_and_not_what_it_only_assigns() -> None:
    schema = {"p": {"d": {"t": {"id": "STRING", "secret": "STRING", "note": "STRING"},
                          "s": {"id": "STRING", "secret": "STRING"}}}}
    analysis = sql.analyse(
        "MERGE `p.d.t` AS target USING (SELECT id, secret FROM `p.d.s`) AS source ON target.id = source.id "
        "WHEN MATCHED THEN UPDATE SET secret = source.secret "
        "WHEN NOT MATCHED THEN INSERT (id, secret) VALUES (source.id, source.secret)", schema)
    assert analysis.reads == {("p.d.t", "id"), ("p.d.s", "id"), ("p.d.s", "secret")}
    assert analysis.writes == {"id", "secret"}
    assert analysis.lineage["secret"] == {("p.d.s", "secret")}


def test_datasource_grant_tables_mirror_the_module() -> None:
    """modules/datasource/iam.tf's bucket_grants and dataset_grants, as the access model reads them."""
    import re

    text = (ROOT / "modules" / "datasource" / "iam.tf").read_text()
    pattern = r'\{ (bucket|layer) = "(\w+)", role = "([\w./]+)", who = (\[[^\]]*\]|local\.external_keys) \}'
    # The module names the external writers by the local list external_keys.
    found = {(kind, where, role, tuple(re.findall(r'"([\w:]+)"', who)) or ("external",))
             for kind, where, role, who in re.findall(pattern, text)}
    expected = {("bucket", b, r, who) for b, r, who in access_model.DATASOURCE_BUCKET_GRANTS}
    expected |= {("layer", lyr, r, who) for lyr, r, who in access_model.DATASOURCE_DATASET_GRANTS}
    assert len(found) == 11 and found == expected


# ------------------------------------------------------------------ task tag grants from the SQL


def _tag_readers(env_dir: Path) -> dict[str, list[str]]:
    tags = build(validate(env_dir)).stack("environment").arguments["policy_taxonomy"]["tags"]
    return {tag: list(spec["readers"]) for tag, spec in tags.items()}


def test_the_demo_merge_gets_exactly_the_tags_its_sql_reads() -> None:
    readers = _tag_readers(DEMO)
    # The customers MERGE reads e-mail and phone (high), names and birth dates (medium).
    assert "transformation" in readers["high"] and "transformation" in readers["medium"]
    # No task's SQL reads a column tagged low.
    assert readers["low"] == ["security"]


def test_a_task_that_stops_reading_a_tagged_column_loses_exactly_that_tag(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    merge = tmp_path / "pipelines" / "retail" / "sql" / "customers.sql.j2"
    text = merge.read_text()
    for gone in ("      LOWER(NULLIF(TRIM(email), '')) AS email,\n", "      NULLIF(TRIM(phone), '') AS phone,\n",
                 "  email = source.email,\n", "  phone = source.phone,\n", "email, phone, ",
                 "source.email, source.phone, "):
        assert gone in text
        text = text.replace(gone, "")
    merge.write_text(text)
    before, after = _tag_readers(DEMO), _tag_readers(env_dir)
    assert after["high"] == [r for r in before["high"] if r != "transformation"]
    assert after["medium"] == before["medium"] and after["low"] == before["low"]
    # Both pipelines still have every grant their tasks need.
    assert problems(env_dir) == []


def test_a_pipeline_whose_tasks_df_gen_cannot_read_keeps_the_layer_grants(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    merge = tmp_path / "pipelines" / "retail" / "sql" / "customers.sql.j2"
    merge.write_text("MERGE INTO (\n")  # sqlglot cannot parse it: validate says so
    readers = _tag_readers(env_dir)
    assert "transformation" in readers["high"] and "transformation" in readers["medium"]
    assert "transformation" not in readers["low"]
    result = run("validate", str(env_dir))
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"{merge}:1:") or "customers.sql.j2:1:" in result.output
    assert "--skip-access" in result.output
    assert run("validate", str(env_dir), "--skip-access").exit_code == 0


# ------------------------------------------------------------------ validate runs the check


def test_validate_reports_access_problems_at_the_grant_that_causes_them(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    edit_yaml(env_dir / "datasources" / "store.yaml", lambda d: d["datasets"]["curated"].setdefault("iam", {})
              .setdefault("roles/bigquery.dataViewer", []).append("group:analysts@acme.example"))
    result = run("validate", str(env_dir))
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    store = env_dir / "datasources" / "store.yaml"
    line = next(n for n, text in enumerate(store.read_text().splitlines(), 1) if "roles/bigquery.dataViewer" in text)
    assert len(lines) == 4  # full_name, email, phone, birth_date
    assert all(text.startswith(f"{store}:{line}:7: error:") and ": error: access: analysts reads table " in text
               for text in lines), lines
    assert run("validate", str(env_dir), "--skip-access").exit_code == 0
    document = json.loads(run("validate", str(env_dir), "--json").stdout)
    assert document["valid"] is False and len(document["errors"]) == 4


def test_validate_places_a_task_problem_in_its_sql(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    check = tmp_path / "pipelines" / "retail" / "sql" / "checks" / "foreign.sql.j2"
    check.write_text("-- reads another data source's table\nSELECT COUNT(email) > 0 AS has_mail\n"
                     "FROM `acme-demo-lnd.acme_demo_ecommerce_landing.customers`\n")
    result = run("validate", str(env_dir))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"{check}:3:49: error: access: store-daily: task check_foreign reads it, but the transformation account "
        "(serviceAccount:df-transformation@acme-demo-prc.iam.gserviceaccount.com) lacks bigquery.tables.getData "
        "on projects/acme-demo-lnd/datasets/acme_demo_ecommerce_landing/tables/customers: missing "
        "roles/bigquery.dataViewer (granted only for data source 'ecommerce' by stack datasource-ecommerce) "
        "(hint: df-gen access explains it; df-gen validate --skip-access skips the access check)"]


# ------------------------------------------------------------------ the SQL cache


def _cache(env_dir: Path) -> Path:
    return env_dir / ".df-gen" / "cache" / "sql.json"


def test_a_deleted_cache_changes_only_time(tmp_path: Path) -> None:
    from generator.analysis import cache

    env_dir = copy_demo(tmp_path)
    first = run("access", str(env_dir), "--json").stdout
    entries = json.loads(_cache(env_dir).read_text())["entries"]
    # Three MERGEs, one check, one view, shared by the two pipelines of the retail code
    # (analysis/canonical.py: their tables have the same schemas).
    assert len(entries) == 5
    warm = cache.Analyser(env_dir, {})
    assert warm.entries.keys() == entries.keys()
    _cache(env_dir).unlink()
    assert run("access", str(env_dir), "--json").stdout == first
    assert json.loads(_cache(env_dir).read_text())["entries"] == entries


def test_a_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    first = run("access", str(env_dir), "--json").stdout
    good = json.loads(_cache(env_dir).read_text())
    for damage in ("{not json", json.dumps({"version": good["version"], "entries": {
            key: {"tables": {}, "analysis": {"kind": "query"}} for key in good["entries"]}}), "[]"):
        _cache(env_dir).write_text(damage)
        assert run("access", str(env_dir), "--json").stdout == first
        assert run("validate", str(env_dir)).exit_code == 0
        assert json.loads(_cache(env_dir).read_text()) == good


def test_a_cached_analysis_follows_the_schemas_of_the_tables_it_names(tmp_path: Path) -> None:
    from generator.analysis import cache

    text = "SELECT * FROM `p.d.t`"
    schema: dict[str, Any] = {"p": {"d": {"t": {"id": "STRING"}, "other": {"x": "STRING"}}}}
    first = cache.Analyser(tmp_path, schema)
    assert first.analyse(text).reads == {("p.d.t", "id")} and first.misses == 1
    first.save()
    again = cache.Analyser(tmp_path, schema)
    assert again.analyse(text).reads == {("p.d.t", "id")} and (again.hits, again.misses) == (1, 0)
    schema["p"]["d"]["other"]["y"] = "STRING"  # a table the statement does not name
    unrelated = cache.Analyser(tmp_path, schema)
    assert unrelated.analyse(text).reads == {("p.d.t", "id")} and unrelated.misses == 0
    schema["p"]["d"]["t"]["email"] = "STRING"  # the table it reads gains a column: SELECT * reads it
    changed = cache.Analyser(tmp_path, schema)
    assert changed.analyse(text).reads == {("p.d.t", "id"), ("p.d.t", "email")} and changed.misses == 1


# ------------------------------------------------------------------ masked readers


def test_a_masked_reader_sees_masked_values_and_is_not_reported_as_reading_raw() -> None:
    descriptors = validate(DEMO)
    model = build(descriptors)
    # The access model reads the masking policy's grant as the environment module makes it.
    catalog = (ROOT / "modules" / "environment" / "catalog.tf").read_text()
    assert f'role           = "{access_model.MASKED_READER}"' in catalog
    masking = model.stack("environment").arguments["policy_taxonomy"]["tags"]["high"]["masking"]
    assert "data_engineers" in masking["masked_readers"]
    report = access_report.report_for(descriptors, model)
    engineers = next(p for p in report.personas if p.persona == "data_engineers")
    customers = next(r for r in engineers.reach if r.table == STORE_CUSTOMERS)
    assert set(customers.masked) == {"full_name", "email", "phone", "birth_date"}
    assert customers.raw == () and customers.denied == ()
    assert report.problems == ()

    def unmask(arguments: dict[str, Any]) -> None:
        for spec in arguments["policy_taxonomy"]["tags"].values():
            if "masking" in spec:
                spec["masking"]["masked_readers"] = []

    # Without Masked Reader the same columns are denied, never raw.
    unmasked = access_report.report_for(descriptors, _replace_argument(model, "environment", unmask))
    engineers = next(p for p in unmasked.personas if p.persona == "data_engineers")
    customers = next(r for r in engineers.reach if r.table == STORE_CUSTOMERS)
    assert set(customers.denied) == {"full_name", "email", "phone", "birth_date"} and customers.raw == ()


# ------------------------------------------------------------------ the README's demo output


def test_readme_shows_the_demos_current_access_and_lineage_output() -> None:
    result = subprocess.run([sys.executable, "tools/demodoc.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("<!-- BEGIN DEMOACCESS -->"):readme.index("<!-- END DEMOACCESS -->")]
    assert "| store-daily | `transform_customers` | transformation |" in section
    assert "```mermaid\nflowchart LR" in section and 'email [high]' in section


def test_demodoc_check_fails_on_a_stale_snippet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("demodoc", ROOT / "tools" / "demodoc.py")
    assert spec is not None and spec.loader is not None
    demodoc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demodoc)
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text().replace("| store-daily | `transform_customers` |",
                                                                "| store-daily | `transform_clients` |"))
    monkeypatch.setattr(demodoc, "README", readme)
    monkeypatch.setattr(sys, "argv", ["demodoc.py", "--check"])
    assert demodoc.main() == 1
    monkeypatch.setattr(sys, "argv", ["demodoc.py"])
    assert demodoc.main() == 0 and readme.read_text() == (ROOT / "README.md").read_text()


def test_the_analysis_cache_follows_the_installed_sqlglot() -> None:
    """The cached analyses are keyed by sqlglot's version, read from its package without
    importing it."""
    from importlib import metadata

    from generator.analysis.cache import _sqlglot_version

    assert f"version = '{metadata.version('sqlglot')}'" in _sqlglot_version()
