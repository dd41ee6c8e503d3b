"""Tests of modules/datasource: static checks (fmt, contract, schema, IAM rules) and, in the
slow lane, the full sandbox cycle of every example. Shared helpers live in ``tfsupport``.
"""

from __future__ import annotations

import re

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
    sandbox_plan,
    schema_problems,
    tf_blocks,
)

MODULE = ROOT / "modules" / "datasource"


# ------------------------------------------------------------------------ static checks


class TestModuleContract(ModuleContractChecks):
    """versions.tf, fmt, the provider schema and the module's interface (see tfsupport)."""

    module = MODULE
    variables = {
        "name",
        "projects",
        "location",
        "kms_keys",
        "buckets",
        "topics",
        "message_storage_regions",
        "internal_identity",
        "external_identities",
        "task_service_accounts",
        "datasets",
        "labels",
    }
    outputs = {"buckets", "datasets", "service_accounts", "topics"}


def test_no_primitive_roles_public_members_keys_or_providers():
    # variables.tf is left out: its validations name the forbidden values to reject them.
    text = module_tf_text(MODULE, skip=("variables.tf",))
    assert not PRIMITIVE_ROLES.search(text)
    assert not PUBLIC_MEMBERS.search(text)
    assert "google_service_account_key" not in text
    assert not re.search(r'^\s*provider\s+"', text, re.MULTILINE)
    assert not re.search(r'^\s*data\s+"', text, re.MULTILINE)
    assert "google-beta" not in text


def test_buckets_are_private_and_uniform():
    blocks = tf_blocks(MODULE / "buckets.tf")
    (bucket,) = [b for b in blocks if b.labels[0] == "google_storage_bucket"]
    assert bucket.attributes["uniform_bucket_level_access"] == "true"
    assert bucket.attributes["public_access_prevention"] == '"enforced"'
    dynamic = {b.labels[0] for b in bucket.blocks if b.type == "dynamic"}
    assert {"encryption", "retention_policy", "lifecycle_rule", "logging"} <= dynamic


def test_datasets_never_drop_their_tables():
    (dataset,) = tf_blocks(MODULE / "datasets.tf")
    assert dataset.attributes["delete_contents_on_destroy"] == "false"


def test_iam_is_member_scoped_only():
    text = module_tf_text(MODULE)
    types = set(re.findall(r'resource\s+"(google_[a-z_]+_iam_[a-z]+)"', text))
    assert types == {
        "google_storage_bucket_iam_member",
        "google_bigquery_dataset_iam_member",
        "google_pubsub_topic_iam_member",
        "google_pubsub_subscription_iam_member",
    }
    # External writers may create objects and publish, nothing else.
    iam = (MODULE / "iam.tf").read_text(encoding="utf-8")
    writer_grants = re.findall(r'role = "([^"]+)", who = local\.external_keys', iam)
    assert writer_grants == ["roles/storage.objectCreator"]


# ------------------------------------------------------------------------ sandbox cycle


@pytest.mark.slow
@pytest.mark.parametrize("example", ["minimal", "full"])
def test_example_sandbox_cycle(example, tmp_path):
    require_sandbox()
    cycle = Sandbox.example(MODULE, example, tmp_path).cycle()
    outputs = cycle.outputs
    assert outputs["buckets"] == {
        "landing": "acme-dev-sales-landing",
        "archive": "acme-dev-sales-archive",
    }
    assert outputs["service_accounts"]["internal"] == (
        "sales-processing@acme-dev-processing.iam.gserviceaccount.com"
    )
    if example == "minimal":
        assert outputs["datasets"] == {
            "landing": {"project": "acme-dev-landing", "dataset_id": "sales_landing"}
        }
        assert outputs["service_accounts"]["external"] == {}
    else:
        assert outputs["datasets"]["exposure"] == {
            "project": "acme-dev-exposure",
            "dataset_id": "sales_exposure",
        }
        assert outputs["service_accounts"]["external"] == {
            "erp": "sales-erp-writer@acme-dev-landing.iam.gserviceaccount.com",
            "partner": "uploader@partner-project.iam.gserviceaccount.com",
        }
        orders = outputs["topics"]["orders"]
        assert orders["name"] == "acme-dev-sales-orders"
        assert orders["dead_letter_topic"] == (
            "projects/acme-dev-landing/topics/acme-dev-sales-orders-dlq"
        )
        assert set(orders["subscriptions"]) == {
            "acme-dev-sales-orders-load",
            "acme-dev-sales-orders-audit",
        }
        # Data residency: both topics keep messages in the example's regions only.
        policies = {
            r["values"]["name"]: r["values"]["message_storage_policy"]
            for r in cycle.state
            if r["type"] == "google_pubsub_topic"
        }
        assert policies == dict.fromkeys(
            ["acme-dev-sales-orders", "acme-dev-sales-orders-dlq"],
            [{"allowed_persistence_regions": ["europe-west1", "europe-west4"], "enforce_in_transit": None}],
        )
        # A bucket's own labels join the module's; a created writer carries its description.
        labels = {r["values"]["name"]: r["values"]["labels"] for r in cycle.state
                  if r["type"] == "google_storage_bucket"}
        module_labels = {"env": "dev", "team": "sales", "df_datasource": "sales"}
        assert labels["acme-dev-sales-archive"] == {
            **module_labels, "cost_center": "sales-archive", "df_bucket_role": "archive",
        }
        assert labels["acme-dev-sales-landing"] == {**module_labels, "df_bucket_role": "landing"}
        (erp,) = [r["values"] for r in cycle.state
                  if r["type"] == "google_service_account" and r["values"]["account_id"] == "sales-erp-writer"]
        assert erp["description"] == "The ERP's nightly export job"
        # The pipelines' agents write on the curated dataset: IAM members, keyed by the caller.
        agents = {r["index"]: (r["values"]["dataset_id"], r["values"]["role"], r["values"]["member"])
                  for r in cycle.state
                  if r["type"] == "google_bigquery_dataset_iam_member" and r["name"] == "agents"}
        assert agents == {
            "curated/roles/bigquery.dataEditor/curated/dataplex": (
                "sales_curated", "roles/bigquery.dataEditor",
                "serviceAccount:service-123456789012@gcp-sa-dataplex.iam.gserviceaccount.com"),
            "curated/roles/bigquery.dataEditor/landing/dlp": (
                "sales_curated", "roles/bigquery.dataEditor",
                "serviceAccount:service-210987654321@dlp-api.iam.gserviceaccount.com"),
        }


BASE_ARGUMENTS = """
  name = "sales"
  projects = {
    landing       = "acme-dev-landing"
    processing    = "acme-dev-processing"
    curated       = "acme-dev-curated"
    exposure      = "acme-dev-exposure"
    orchestration = "acme-dev-orchestration"
  }
  location          = "EU"
  internal_identity = { account_id = "sales-processing" }
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            'buckets = { landing = { name = "acme-l", versioning = true, retention_days = 7 } }',
            "A bucket cannot have both versioning and a retention policy",
        ),
        (
            'buckets = { backup = { name = "acme-b" } }',
            "buckets keys must be 'landing' or 'archive'.",
        ),
        (
            'buckets = { archive = { name = "acme-a", storage_class = "COLD" } }',
            "storage_class must be one of STANDARD, NEARLINE, COLDLINE, ARCHIVE.",
        ),
        (
            'buckets = {}\n  topics = { t = { name = "acme-t", dead_letter = true,'
            " subscriptions = { acme-s = {} } } }",
            "Topic t has dead_letter: set pubsub_service_agent",
        ),
        (
            'buckets = {}\n  external_identities = { x = { account_id = "writer-x",'
            ' member = "group:x@example.com" } }',
            "Each external identity sets exactly one of account_id or member.",
        ),
        (
            'buckets = {}\n  datasets = { curated = { dataset_id = "c",'
            ' iam = { "roles/editor" = ["group:x@example.com"] } } }',
            "Dataset IAM may not use primitive roles",
        ),
        (
            'buckets = {}\n  datasets = { curated = { dataset_id = "c",'
            ' iam = { "roles/bigquery.dataViewer" = ["allUsers"] } } }',
            "nor allUsers/allAuthenticatedUsers",
        ),
    ],
    ids=[
        "versioning-and-retention",
        "bucket-role",
        "storage-class",
        "dead-letter-agent",
        "external-identity",
        "primitive-role",
        "public-member",
    ],
)
def test_invalid_inputs_are_rejected_at_plan(arguments, message, tmp_path):
    require_sandbox()
    plan = sandbox_plan(MODULE, BASE_ARGUMENTS + "  " + arguments, tmp_path)
    assert plan.code == 1
    assert message in plan.text, plan.text[-3000:]


@pytest.mark.slow
def test_base_arguments_plan_cleanly(tmp_path):
    """The negative cases above fail because of their one change, not the base."""
    require_sandbox()
    valid = BASE_ARGUMENTS + '  buckets = { landing = { name = "acme-l-bucket" } }'
    plan = sandbox_plan(MODULE, valid, tmp_path)
    assert plan.code == 0, plan.text[-3000:]


def test_readme_example_is_the_minimal_example():
    assert readme_example_problem(MODULE) is None


def test_schema_checker_reports_mistakes(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "google_storage_bucket" "b" {\n'
        '  name     = "x"\n'
        '  locaton  = "EU"\n'  # misspelled, and so location (required) is missing
        '  self_link = "y"\n'  # read-only
        "  versioning {\n    enabled = true\n    mode = 1\n  }\n"
        '  dynamic "lifecycle_rules" {\n    for_each = []\n    content {}\n  }\n'
        "}\n"
        'resource "google_made_up" "m" {}\n',
        encoding="utf-8",
    )
    assert sorted(schema_problems(tmp_path)) == sorted(
        [
            "main.tf: google_made_up.m: resource type not in the provider schema",
            "main.tf: google_storage_bucket.b: 'self_link' is read-only",
            "main.tf: google_storage_bucket.b: required argument 'location' is missing",
            "main.tf: google_storage_bucket.b: unknown argument 'locaton'",
            "main.tf: google_storage_bucket.b: unknown block 'lifecycle_rules'",
            "main.tf: google_storage_bucket.b.versioning: unknown argument 'mode'",
        ]
    )
