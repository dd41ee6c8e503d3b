"""The model: module arguments computed from descriptors (on copies of the demo)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import naming
from generator.render import load_model

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
EU_REGIONS = list(naming.MULTI_REGION_REGIONS["eu"])


def demo_copy(tmp_path: Path, **edits: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the demo descriptors; ``edits`` maps a descriptor path (``environment``,
    ``datasources/store``, ...) to a function that changes its data in place."""
    env_dir = tmp_path / "environments" / "demo"
    shutil.copytree(DEMO, env_dir, ignore=shutil.ignore_patterns("stacks", ".df-gen"))
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
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


def test_pipeline_grants_its_agents_the_tables_and_datasets_they_use(tmp_path: Path) -> None:
    args = load_model(demo_copy(tmp_path)).stack("pipeline-store-daily").arguments
    grants = args["service_agent_grants"]
    # The members are the identities the environment provisioned (its service_agents output);
    # the derived address only stands in for an environment applied before that output.
    out = "data.terraform_remote_state.environment.outputs"
    assert grants["dlp-findings"]["member"].expression == (
        f'"serviceAccount:${{try({out}.service_agents["landing"].dlp, '
        f'"service-${{{out}.projects["landing"].number}}@dlp-api.iam.gserviceaccount.com")}}"')
    assert grants["dataplex-curated-results"]["member"].expression == (
        f'"serviceAccount:${{try({out}.service_agents["curated"].dataplex, '
        f'"service-${{{out}.projects["curated"].number}}@gcp-sa-dataplex.iam.gserviceaccount.com")}}"')
    plain = {name: {k: v for k, v in g.items() if k != "member"} for name, g in grants.items()}
    assert plain == {
        # Dataplex writes its results table in the curated dataset (the results table's own).
        "dataplex-curated-results": {"role": "roles/bigquery.dataEditor", "dataset": "curated"},
        # DLP, run from landing, reads every inspected table and writes its findings table.
        "dlp-findings": {"role": "roles/bigquery.dataEditor", "dataset": "curated"},
        **{f"dlp-read-{t}": {"role": "roles/bigquery.dataViewer", "table": t} for t in args["dlp"]["tables"]},
    }
    assert args["dlp"]["project"] == "landing"
    results = args["data_quality_results_table"]
    assert results.startswith(f"projects/{args['datasets']['curated']['project']}/datasets/"
                              f"{args['datasets']['curated']['dataset_id']}/")


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


def test_pipelines_of_one_data_source_grant_each_dataset_entry_once(tmp_path: Path) -> None:
    # A second store pipeline with a scan in curated (as store-daily has) and DLP: both send
    # scan results and findings to the store's curated dataset. A dataset's access list takes
    # an entry once (the provider refuses the second; conformance case
    # dataset-access-entry-twice), so exactly one of the two stacks grants each entry.
    env_dir = demo_copy(tmp_path)
    code = tmp_path / "pipelines" / "audit"
    (code / "schemas").mkdir(parents=True)
    shutil.copy(ROOT / "pipelines/retail/schemas/curated/orders.json", code / "schemas/orders.json")
    (code / "tasks.yaml").write_text("tasks: []\n", encoding="utf-8")
    (code / "dag.py.j2").write_text("# No tasks.\n", encoding="utf-8")
    daily = yaml.safe_load((env_dir / "pipelines/store-daily.yaml").read_text(encoding="utf-8"))
    audit = {
        **{k: daily[k] for k in ("apiVersion", "kind", "datasource", "dag", "dlp")},
        "code": "audit",
        "tables": {"curated": {"audit_orders": {"schema": "schemas/orders.json", "deletion_protection": False}}},
        "data_quality": {"curated.audit_orders": {"not_null": ["order_id"]}},
    }
    (env_dir / "pipelines/store-audit.yaml").write_text(yaml.safe_dump(audit), encoding="utf-8")
    model = load_model(env_dir)
    stacks = [model.stack(name).arguments for name in ("pipeline-store-audit", "pipeline-store-daily")]
    entries = [
        (args["datasets"][g["dataset"]]["dataset_id"], g["member"].expression, g["role"])
        for args in stacks
        for g in args.get("service_agent_grants", {}).values()
        if "dataset" in g
    ]
    assert len(entries) == len(set(entries)) == 2  # the Dataplex results and the DLP findings
    # The first pipeline by key grants them; each stack still grants its agents its own tables.
    assert sorted(stacks[0]["service_agent_grants"]) == [
        "dataplex-curated-results", "dlp-findings", f"dlp-read-{stacks[0]['dlp']['tables'][0]}"]
    assert sorted(stacks[1]["service_agent_grants"]) == [f"dlp-read-{t}" for t in stacks[1]["dlp"]["tables"]]
    # Both stacks' scans and inspections write to that one dataset.
    assert {s["data_quality_results_table"].split("/tables/")[0] for s in stacks} == {
        f"projects/{stacks[0]['datasets']['curated']['project']}/datasets/"
        f"{stacks[0]['datasets']['curated']['dataset_id']}"}
