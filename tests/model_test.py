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
