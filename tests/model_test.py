"""The model: module arguments computed from descriptors (on copies of the demo)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from demosupport import copy_sources

from generator import naming
from generator.render import load_model

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
EU_REGIONS = list(naming.MULTI_REGION_REGIONS["eu"])


def demo_copy(tmp_path: Path, **edits: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the demo descriptors; ``edits`` maps a descriptor path (``environment``,
    ``datasources/store``, ...) to a function that changes its data in place."""
    env_dir = copy_sources(tmp_path, stacks=False)
    for relative, edit in edits.items():
        path = env_dir / f"{relative.replace('__', '/').replace('_', '-')}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return env_dir


# --- Pub/Sub data residency ------------------------------------------------------------


def test_topics_store_messages_in_the_regions_of_the_environment_location(tmp_path: Path) -> None:
    model = load_model(demo_copy(tmp_path))
    assert model.stack("datasource-ecommerce").arguments["message_storage_regions"] == EU_REGIONS
    assert "europe-west2" not in EU_REGIONS  # London is not in the EU
    # A data source without topics gets no policy.
    assert "message_storage_regions" not in model.stack("datasource-store").arguments


@pytest.mark.parametrize(
    ("location", "region", "expected"),
    [
        ("US", "us-central1", list(naming.MULTI_REGION_REGIONS["us"])),
        ("europe-west3", "europe-west3", ["europe-west3"]),
    ],
)
def test_message_storage_regions_follow_other_locations(
    tmp_path: Path, location: str, region: str, expected: list[str]
) -> None:
    def relocate(env: dict[str, Any]) -> None:
        env.update(location=location, region=region)
        env.pop("kms")  # the demo's keys are in EU locations

    model = load_model(demo_copy(tmp_path, environment=relocate))
    assert model.stack("datasource-ecommerce").arguments["message_storage_regions"] == expected


def test_message_storage_regions_set_in_the_descriptor(tmp_path: Path) -> None:
    def pin(source: dict[str, Any]) -> None:
        source["pubsub"]["allowed_regions"] = ["europe-west1"]

    model = load_model(demo_copy(tmp_path, datasources__ecommerce=pin))
    assert model.stack("datasource-ecommerce").arguments["message_storage_regions"] == ["europe-west1"]


# --- data quality ----------------------------------------------------------------------


def test_data_quality_scans_are_run_by_the_dag_and_export_their_results(tmp_path: Path) -> None:
    model = load_model(demo_copy(tmp_path))
    stack = model.stack("pipeline-store-daily")
    args = stack.arguments
    assert sorted(args["data_quality"]) == ["store-daily-curated-customers", "store-daily-curated-orders"]
    assert args["data_quality_results_table"] == (
        "projects/acme-demo-cur/datasets/acme_demo_store_curated/tables/data_quality_store_daily"
    )
    assert args["data_quality_notify"] == ["data-platform@acme.example"]
    assert args["data_quality_runners"] == ["serviceAccount:df-transformation@acme-demo-prc.iam.gserviceaccount.com"]
    # The DAG runs every scan, by its ID, in the scan's project and region.
    dag = stack.files["dag.py"]
    for scan_id, scan in args["data_quality"].items():
        assert f'"scan_id": "{scan_id}"' in dag
        assert scan["location"] == "europe-west1"
    assert '"project": "acme-demo-cur"' in dag


def test_a_data_quality_entry_without_rules_counts_rows(tmp_path: Path) -> None:
    """``{curated.products: {}}`` validated, then failed at plan (a scan needs a rule)."""

    def bare(pipeline: dict[str, Any]) -> None:
        pipeline["data_quality"] = {"curated.products": {}}

    model = load_model(demo_copy(tmp_path, pipelines__store_daily=bare))
    (scan,) = model.stack("pipeline-store-daily").arguments["data_quality"].values()
    assert scan == {"table": "products", "layer": "curated", "location": "europe-west1", "min_rows": 1}


# --- DLP -------------------------------------------------------------------------------


def test_dlp_inspects_every_table_of_the_pipeline_and_saves_findings(tmp_path: Path) -> None:
    args = load_model(demo_copy(tmp_path)).stack("pipeline-store-daily").arguments
    dlp = args["dlp"]
    assert dlp["tables"] == sorted(args["tables"])
    assert "landing-customers" in dlp["tables"] and "curated-customers" in dlp["tables"]
    assert dlp["findings_table"] == {
        "project": "acme-demo-cur",
        "dataset_id": "acme_demo_store_curated",
        "table_id": "dlp_findings_store_daily",
    }


# --- project labels (issue 11, item 13) --------------------------------------------------


def test_project_labels_reach_the_environment_module(tmp_path: Path) -> None:
    # projects.<layer>.labels used to validate and be dropped; the module now merges them
    # into the created project's labels (modules/environment/projects.tf).
    def label(env: dict[str, Any]) -> None:
        env["projects"]["curated"]["labels"] = {"cost-center": "dwh"}

    projects = load_model(demo_copy(tmp_path, environment=label)).stack("environment").arguments["projects"]
    assert projects["curated"]["labels"] == {"cost-center": "dwh"}
    assert "labels" not in projects["landing"]
    tf = (ROOT / "modules" / "environment" / "projects.tf").read_text(encoding="utf-8")
    assert "labels          = merge(local.labels, each.value.labels, { layer = each.key })" in tf


# --- the pipelines' service agents (Dataplex, DLP) -----------------------------------------


def test_agents_are_provisioned_where_scans_and_inspections_run(tmp_path: Path) -> None:
    # A scan of a landing table runs in the landing project, DLP triggers run from landing.
    def scan_landing(pipeline: dict[str, Any]) -> None:
        pipeline["data_quality"]["landing.customers"] = {"not_null": ["email"]}

    model = load_model(demo_copy(tmp_path, pipelines__store_daily=scan_landing))
    env = model.stack("environment").arguments
    assert env["pipeline_service_agents"] == {"dataplex": ["landing", "curated"], "dlp": ["landing"]}
    # DLP inspects every column, so reads both tags of the customers tables; the landing
    # scan reads email (high), and so does its project's Dataplex agent.
    tags = env["policy_taxonomy"]["tags"]
    assert tags["high"]["agent_readers"] == ["landing/dataplex", "landing/dlp"]
    assert tags["medium"]["agent_readers"] == ["landing/dlp"]
    assert "agent_readers" not in tags["low"]


def test_pipeline_grants_its_agents_its_tables_and_the_data_source_the_datasets(tmp_path: Path) -> None:
    model = load_model(demo_copy(tmp_path))
    args = model.stack("pipeline-store-daily").arguments
    source = model.stack("datasource-store")
    # The members are the identities the environment provisioned (its service_agents output);
    # the derived address only stands in for an environment applied before that output.
    out = "data.terraform_remote_state.environment.outputs"
    dlp = (f'"serviceAccount:${{try({out}.service_agents["landing"].dlp, '
           f'"service-${{{out}.projects["landing"].number}}@dlp-api.iam.gserviceaccount.com")}}"')
    dataplex = (f'"serviceAccount:${{try({out}.service_agents["curated"].dataplex, '
                f'"service-${{{out}.projects["curated"].number}}@gcp-sa-dataplex.iam.gserviceaccount.com")}}"')
    grants = args["service_agent_grants"]
    assert {g["member"].expression for g in grants.values()} == {dlp}
    # DLP, run from landing, reads every inspected table: the pipeline's own grants.
    assert {name: {k: v for k, v in g.items() if k != "member"} for name, g in grants.items()} == {
        f"dlp-read-{t}": {"role": "roles/bigquery.dataViewer", "table": t} for t in args["dlp"]["tables"]}
    # Write on the curated dataset (the scans' results table and DLP's findings table are in
    # it) is the data source's, which reads the agents from the environment stack.
    shared = source.arguments["service_agent_grants"]
    assert {name: (g["member"].expression, g["role"], g["dataset"]) for name, g in shared.items()} == {
        "curated/roles/bigquery.dataEditor/curated/dataplex": (dataplex, "roles/bigquery.dataEditor", "curated"),
        "curated/roles/bigquery.dataEditor/landing/dlp": (dlp, "roles/bigquery.dataEditor", "curated"),
    }
    assert source.remote_environment is not None
    assert args["dlp"]["project"] == "landing"
    curated = f"projects/{args['datasets']['curated']['project']}/datasets/{args['datasets']['curated']['dataset_id']}"
    assert args["data_quality_results_table"].startswith(f"{curated}/tables/")
    findings = {**args["datasets"]["curated"], "table_id": naming.dlp_findings_table("store-daily")}
    assert args["dlp"]["findings_table"] == findings


def test_dead_letters_grant_the_pubsub_agent_the_environment_provisioned(tmp_path: Path) -> None:
    args = load_model(demo_copy(tmp_path)).stack("datasource-ecommerce").arguments
    out = "data.terraform_remote_state.environment.outputs"
    assert args["pubsub_service_agent"].expression == (
        f'try({out}.service_agents["landing"].pubsub, '
        f'"service-${{{out}.projects["landing"].number}}@gcp-sa-pubsub.iam.gserviceaccount.com")')


def test_no_scans_and_no_dlp_no_agents(tmp_path: Path) -> None:
    def plain(pipeline: dict[str, Any]) -> None:
        pipeline.pop("data_quality", None)
        pipeline.pop("dlp", None)

    model = load_model(demo_copy(tmp_path, pipelines__store_daily=plain, pipelines__ecommerce_hourly=plain))
    assert "pipeline_service_agents" not in model.stack("environment").arguments
    assert "service_agent_grants" not in model.stack("pipeline-store-daily").arguments
    for source in ("datasource-store", "datasource-ecommerce"):
        assert "service_agent_grants" not in model.stack(source).arguments


def _store_audit(env_dir: Path, code_root: Path, scans: dict[str, Any]) -> None:
    """A second store pipeline (key ``store-audit``, before ``store-daily``) with DLP and
    ``scans``, on a table of its own."""
    code = code_root / "audit"
    (code / "schemas").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pipelines/retail/schemas/curated/orders.json", code / "schemas/orders.json")
    (code / "tasks.yaml").write_text("tasks: []\n", encoding="utf-8")
    (code / "dag.py.j2").write_text("# No tasks.\n", encoding="utf-8")
    daily = yaml.safe_load((env_dir / "pipelines/store-daily.yaml").read_text(encoding="utf-8"))
    audit = {
        **{k: daily[k] for k in ("apiVersion", "kind", "datasource", "dag", "dlp")},
        "code": "audit",
        "tables": {layer: {"audit_orders": {"schema": "schemas/orders.json", "deletion_protection": False}}
                   for layer in ("landing", "curated")},
        "data_quality": scans,
    }
    (env_dir / "pipelines/store-audit.yaml").write_text(yaml.safe_dump(audit), encoding="utf-8")


def _dataset_grants(args: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    return {(g["dataset"], g["role"], g["member"].expression) for g in args.get("service_agent_grants", {}).values()}


def test_pipelines_of_one_data_source_share_its_dataset_grants(tmp_path: Path) -> None:
    # A second store pipeline with a scan in curated (as store-daily has) and DLP: both send
    # scan results and findings to the store's curated dataset. A dataset's access list takes
    # an entry once, so the data source grants each entry once, for both; neither pipeline
    # stack grants a dataset, and neither depends on the other.
    env_dir = demo_copy(tmp_path)
    before = load_model(env_dir)
    _store_audit(env_dir, tmp_path / "pipelines", {"curated.audit_orders": {"not_null": ["order_id"]}})
    model = load_model(env_dir)
    stacks = [model.stack(name).arguments for name in ("pipeline-store-audit", "pipeline-store-daily")]
    for args in stacks:
        assert all(set(g) == {"member", "role", "table"} for g in args["service_agent_grants"].values())
        assert sorted(args["service_agent_grants"]) == [f"dlp-read-{t}" for t in args["dlp"]["tables"]]
    # Both pipelines' scans and inspections write to the one curated dataset.
    assert {s["data_quality_results_table"].split("/tables/")[0] for s in stacks} == {
        f"projects/{stacks[0]['datasets']['curated']['project']}/datasets/"
        f"{stacks[0]['datasets']['curated']['dataset_id']}"}
    assert {(s["dlp"]["findings_table"]["project"], s["dlp"]["findings_table"]["dataset_id"]) for s in stacks} == {
        (stacks[0]["datasets"]["curated"]["project"], stacks[0]["datasets"]["curated"]["dataset_id"])}
    source = model.stack("datasource-store")
    grants = source.arguments["service_agent_grants"]
    assert len(grants) == len(_dataset_grants(source.arguments)) == 2  # the Dataplex results, the DLP findings
    # A second pipeline that needs the same entries changes nothing in the data source's
    # grants, nor in the first pipeline's stack (no sibling is read).
    assert grants == before.stack("datasource-store").arguments["service_agent_grants"]
    assert model.stack("pipeline-store-daily") == before.stack("pipeline-store-daily")
    # The data source's stack is rendered from its pipelines' descriptors too.
    assert env_dir / "pipelines/store-audit.yaml" in source.inputs


def test_a_pipeline_added_or_removed_changes_only_the_data_source_grants(tmp_path: Path) -> None:
    # store-audit (its key sorts first) scans a landing table: the landing project's Dataplex
    # agent exports to the curated dataset too, an entry no other store pipeline needs.
    env_dir = demo_copy(tmp_path)
    before = load_model(env_dir)
    _store_audit(env_dir, tmp_path / "pipelines", {"landing.audit_orders": {"not_null": ["order_id"]}})
    added = load_model(env_dir)
    grown = _dataset_grants(added.stack("datasource-store").arguments) - _dataset_grants(
        before.stack("datasource-store").arguments)
    assert [(d, r, m.split("service_agents[")[1].split("]")[0]) for d, r, m in grown] == [
        ("curated", "roles/bigquery.dataEditor", '"landing"')]
    assert "dataplex" in next(iter(grown))[2]
    (env_dir / "pipelines/store-audit.yaml").unlink()
    removed = load_model(env_dir)
    for name in ("datasource-store", "datasource-ecommerce", "pipeline-store-daily", "pipeline-ecommerce-hourly"):
        assert removed.stack(name) == before.stack(name), name
    assert removed.stack("datasource-store").arguments != added.stack("datasource-store").arguments
    assert added.stack("pipeline-store-daily") == before.stack("pipeline-store-daily")


# --- pipeline stacks built in forked worker processes (generator.workers) ---------------

def test_build_in_worker_processes_gives_the_serial_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from synthsupport import use_workers, write_synthetic

    from generator.analysis.report import as_json, report_for
    from generator.model import build
    from generator.validate import validate

    env_dir = write_synthetic(tmp_path / "env")
    models, reports, analyses = [], [], []
    for processes in (1, 2):
        use_workers(monkeypatch, processes)
        shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
        descriptors = validate(env_dir)
        models.append(build(descriptors))
        # The tasks the workers analysed are the access check's, and their analyses cached.
        reports.append(as_json(report_for(descriptors, models[-1])))
        analyses.append((env_dir / ".df-gen" / "cache" / "sql.json").read_bytes())
    assert reports[0] == reports[1] and analyses[0] == analyses[1]
    assert len(reports[0]["tasks"]) >= 30
    serial, forked = models
    assert len(serial.stacks) == 1 + 4 + 30
    assert forked == serial  # every stack's arguments, files, inputs, lifecycle, grants
    assert [type(stack.arguments) for stack in forked.stacks] == [type(stack.arguments) for stack in serial.stacks]


def test_sqlglot_is_loaded_before_the_pipeline_workers_fork_only_when_no_analysis_is_cached(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each worker would import sqlglot itself to parse the pipelines' SQL (0.12 s each here);
    # loaded in the parent first, the workers inherit it. With the analyses cached, a run
    # parses no SQL, and loading sqlglot would only cost time.
    from click.testing import CliRunner
    from synthsupport import use_workers, write_synthetic

    from generator import workers
    from generator.analysis import sql
    from generator.cli import cli

    env_dir = write_synthetic(tmp_path / "env", pipelines=6)
    use_workers(monkeypatch, 2)
    events: list[str] = []
    monkeypatch.setattr(sql, "preload", lambda: events.append("preload"))
    mapped = workers.ordered_map
    monkeypatch.setattr(workers, "ordered_map", lambda function, items: (
        events.append(f"map {function.__qualname__}"), mapped(function, items))[1])

    assert CliRunner().invoke(cli, ["validate", str(env_dir)]).exit_code == 0
    assert events[-2:] == ["preload", "map pipeline_stacks.<locals>.one"]
    assert events.count("preload") == 1

    events.clear()
    pipeline = env_dir / "pipelines" / "p1.yaml"
    pipeline.write_text(pipeline.read_text().replace("Synthetic pipeline 1", "Synthetic pipeline one"))
    assert CliRunner().invoke(cli, ["validate", str(env_dir)]).exit_code == 0
    assert "map pipeline_stacks.<locals>.one" in events and "preload" not in events
