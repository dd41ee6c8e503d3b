"""Tests of modules/pipeline: static checks (fmt, contract, schema) and, in the slow lane,
the full sandbox cycle of every example. Shared helpers live in ``tfsupport``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tfsupport import (
    PRIMITIVE_ROLES,
    PUBLIC_MEMBERS,
    ROOT,
    ModuleContractChecks,
    Sandbox,
    module_tf_text,
    readme_example_problem,
    require_sandbox,
    resources,
    sandbox_plan,
)

MODULE = ROOT / "modules" / "pipeline"
EXAMPLES = MODULE / "examples"


def _resource(file: str, type_name: str):
    """The one resource of ``type_name`` in the module's ``file``."""
    (block,) = [b for k, b in resources(MODULE / file).items() if k.split(".")[0] == type_name]
    return block


class TestModuleContract(ModuleContractChecks):
    """versions.tf, fmt, the provider schema and the module's interface (see tfsupport)."""

    module = MODULE
    terraform = "1.7.0"  # agents.tf releases the dataset entries earlier versions granted (removed)
    variables = {
        "name",
        "projects",
        "datasets",
        "tables",
        "views",
        "composer",
        "files",
        "dlp",
        "data_quality",
        "data_quality_results_table",
        "data_quality_notify",
        "data_quality_runners",
        "service_agent_grants",
        "labels",
    }
    outputs = {"tables", "views", "dag_objects"}



def test_dataset_access_lists_are_changed_only_additively_and_never_authoritatively():
    # The data source grants its datasets with google_bigquery_dataset_iam_member; this module
    # adds authorized views and agents with google_bigquery_dataset_access. In google 8.x these
    # two keep each other's entries (iam_bigquery_member_dataset.go: mergeAccess keeps view,
    # dataset and routine entries; every entry with a role goes through the read-modify-write).
    # What would drop them: a google_bigquery_dataset access block (authoritative) or the
    # dataset iam_binding / iam_policy resources (iam_bigquery_dataset.go has no mergeAccess).
    kinds = set()
    for module in ("environment", "datasource", "pipeline"):
        for tf in sorted((ROOT / "modules" / module).glob("*.tf")):
            for key, block in resources(tf).items():
                kind = key.split(".")[0]
                if kind == "google_bigquery_dataset":
                    nested = {b.type for b in block.blocks} | {b.labels[0] for b in block.blocks if b.type == "dynamic"}
                    assert "access" not in nested, f"{tf.name}: {key} sets an access block"
                if kind.startswith("google_bigquery_dataset_"):
                    kinds.add(kind)
    assert kinds == {"google_bigquery_dataset_iam_member", "google_bigquery_dataset_access"}

def test_no_primitive_roles_public_members_or_providers():
    text = module_tf_text(MODULE, skip=("variables.tf",))
    assert not PRIMITIVE_ROLES.search(text)
    assert not PUBLIC_MEMBERS.search(text)
    assert not re.search(r'^\s*(provider|data)\s+"', text, re.MULTILINE)


def test_tables_protect_by_default_and_views_use_standard_sql():
    variables = (MODULE / "variables.tf").read_text(encoding="utf-8")
    assert variables.count("deletion_protection = optional(bool, true)") == 2
    views = _resource("views.tf", "google_bigquery_table")
    (view,) = [b for b in views.blocks if b.type == "view"]
    assert view.attributes["use_legacy_sql"] == "false"
    access = _resource("views.tf", "google_bigquery_dataset_access")
    assert [b.type for b in access.blocks] == ["view"]


def test_readme_example_is_the_minimal_example():
    assert readme_example_problem(MODULE) is None


def test_dag_files_reupload_when_their_content_changes():
    obj = _resource("dag.tf", "google_storage_bucket_object")
    assert obj.attributes["source"] == "each.value"
    assert obj.attributes["source_md5hash"] == "filemd5(each.value)"
    assert obj.attributes["bucket"] == "var.composer.dag_bucket"


def test_examples_ship_the_files_they_reference():
    for main in sorted(EXAMPLES.glob("*/main.tf")):
        text = main.read_text(encoding="utf-8")
        for rel in re.findall(r'"\$\{path\.module\}/([^"]+)"', text):
            assert (main.parent / rel).is_file(), f"{main.relative_to(ROOT)}: {rel} missing"
    for schema in sorted(EXAMPLES.glob("*/schemas/*.json")):
        fields = json.loads(schema.read_text(encoding="utf-8"))
        assert all({"name", "type"} <= set(f) for f in fields), schema


def test_full_example_turns_every_option_on():
    text = (EXAMPLES / "full" / "main.tf").read_text(encoding="utf-8")
    for option in (
        "kms_key",
        "partitioning",
        "clustering",
        "views",
        "authorized_on",
        "composer",
        "files",
        "dlp",
        "data_quality",
        "schedule",
        "data_quality_results_table",
        "data_quality_notify",
        "data_quality_runners",
        "labels",
    ):
        assert re.search(rf"\b{option}\b\s*=", text), option
    assert "policyTags" in (EXAMPLES / "full" / "schemas" / "orders.json").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("example", ["minimal", "full"])
def test_example_sandbox_cycle(example, tmp_path: Path):
    require_sandbox()
    cycle = Sandbox.example(MODULE, example, tmp_path).cycle()
    outputs = cycle.outputs
    assert outputs["tables"]["orders"] == (
        "projects/acme-dev-landing/datasets/sales_landing/tables/orders"
    )
    if example == "minimal":
        assert outputs["dag_objects"] == {"sales_daily.py": "dags/sales_daily.py"}
    else:
        assert outputs["dag_objects"] == {
            "sales_daily.py": "dags/sales_daily.py",
            "sql/sales-daily/daily_sales.sql": "dags/sql/sales-daily/daily_sales.sql",
        }
        assert outputs["views"] == {
            "daily_sales_by_country": (
                "projects/acme-dev-exposure/datasets/sales_exposure/tables/daily_sales_by_country"
            )
        }
        assert set(outputs["data_quality_scans"]) == {
            "sales-daily-orders",
            "sales-daily-daily-sales",
        }
        assert outputs["dlp_inspect_template"]
        # The template is used: a trigger samples the orders table and saves its findings.
        (trigger,) = [r["values"] for r in cycle.state
                      if r["type"] == "google_data_loss_prevention_job_trigger"]
        (job,) = trigger["inspect_job"]
        assert job["inspect_template_name"] == outputs["dlp_inspect_template"]
        (options,) = job["storage_config"][0]["big_query_options"]
        assert options["table_reference"] == [{"project_id": "acme-dev-landing",
                                               "dataset_id": "sales_landing", "table_id": "orders"}]
        (action,) = job["actions"]
        assert action["save_findings"][0]["output_config"][0]["table"] == [{
            "project_id": "acme-dev-curated", "dataset_id": "sales_curated",
            "table_id": "dlp_findings_sales_daily",
        }]
        assert trigger["triggers"][0]["schedule"] == [{"recurrence_period_duration": "86400s"}]
        assert outputs["dlp_job_triggers"] == {"orders": trigger["id"]}
        # Scans export their results to BigQuery, e-mail on failure, and the DAG's account
        # may run them and read their results.
        scans = {r["values"]["data_scan_id"]: r["values"] for r in cycle.state
                 if r["type"] == "google_dataplex_datascan"}
        for scan in scans.values():
            (actions,) = scan["data_quality_spec"][0]["post_scan_actions"]
            assert actions["bigquery_export"] == [{"results_table": (
                "//bigquery.googleapis.com/projects/acme-dev-curated/datasets/sales_curated"
                "/tables/data_quality_sales_daily"
            )}]
            (report,) = actions["notification_report"]
            assert report["recipients"] == [{"emails": ["data-platform@example.com"]}]
            assert report["score_threshold_trigger"] == [{"score_threshold": 100}]
        grants = {(r["values"]["data_scan_id"], r["values"]["role"], r["values"]["member"])
                  for r in cycle.state if r["type"] == "google_dataplex_datascan_iam_member"}
        runner = "serviceAccount:df-transformation@acme-dev-processing.iam.gserviceaccount.com"
        assert grants == {
            (scan, role, runner)
            for scan in scans
            for role in ("roles/dataplex.dataScanEditor", "roles/dataplex.dataScanDataViewer")
        }
        # The agents' grants: read on the inspected table; no dataset entry (write on the
        # results and findings dataset is the data source's).
        dlp = "service-210987654321@dlp-api.iam.gserviceaccount.com"
        assert not [r for r in cycle.state if r["type"] == "google_bigquery_dataset_access" and r["name"] == "agents"]
        reads = {(r["values"]["table_id"], r["values"]["role"], r["values"]["member"])
                 for r in cycle.state if r["type"] == "google_bigquery_table_iam_member"}
        assert reads == {("orders", "roles/bigquery.dataViewer", f"serviceAccount:{dlp}")}


BASE_ARGUMENTS = """
  name = "sales-daily"
  projects = {
    landing       = "acme-dev-landing"
    processing    = "acme-dev-processing"
    curated       = "acme-dev-curated"
    exposure      = "acme-dev-exposure"
    orchestration = "acme-dev-orchestration"
  }
  datasets = { landing = { project = "acme-dev-landing", dataset_id = "sales_landing" } }
"""
SCHEMA_ARG = 'schema = jsonencode([{ name = "id", type = "STRING" }])'


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("", None),
        (
            f'tables = {{ t = {{ layer = "curated", {SCHEMA_ARG} }} }}',
            "Table t is in layer curated, which has no entry in datasets.",
        ),
        (
            f'tables = {{ t = {{ layer = "landing", {SCHEMA_ARG},'
            ' partitioning = { type = "WEEK" } } }',
            "partitioning.type must be one of DAY, HOUR, MONTH, YEAR.",
        ),
        (
            'tables = { t = { layer = "landing", schema = "not json" } }',
            "tables[*].schema must be a JSON string",
        ),
        (
            'dlp = { template_id = "x", info_types = ["EMAIL_ADDRESS"], min_likelihood = "SURE" }',
            "dlp.min_likelihood must be one of VERY_UNLIKELY",
        ),
        (
            'files = { "dag.py" = "main.tf" }',
            "files are uploaded to Composer's DAG bucket: set composer.",
        ),
        (
            'data_quality = { Bad_Id = { table = "t", layer = "landing", location = "eu",'
            " min_rows = 1 } }",
            "data_quality keys are scan IDs",
        ),
        (
            'data_quality = { scan = { table = "t", layer = "landing", location = "eu" } }',
            "Each data_quality scan needs at least one rule",
        ),
    ],
    ids=[
        "valid",
        "table-layer",
        "partition-type",
        "schema-json",
        "dlp-likelihood",
        "files-without-composer",
        "scan-id",
        "scan-rules",
    ],
)
def test_inputs_are_checked_at_plan(arguments, message, tmp_path):
    require_sandbox()
    plan = sandbox_plan(MODULE, BASE_ARGUMENTS + "  " + arguments, tmp_path)
    if message is None:
        assert plan.code == 0, plan.text[-3000:]
    else:
        assert plan.code == 1
        assert message in plan.text, plan.text[-3000:]
