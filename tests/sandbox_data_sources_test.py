"""generator.sandbox.data_sources: what the google provider's data sources return."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.sandbox import formats, schema_loader
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.store import Store

FIXTURE_SCHEMA = Path(__file__).parent / "data" / "sandbox" / "google_schema_fixture.json"


@pytest.fixture
def provider(tmp_path: Path) -> SandboxProvider:
    p = SandboxProvider(schema_loader.load(FIXTURE_SCHEMA), Store(tmp_path / "sb"))
    p.configure({"project": "df-test-proj", "region": "europe-west1", "default_labels": {"a": "b"}})
    return p


def test_data_sources_derive_service_agents(provider: SandboxProvider) -> None:
    number = formats.project_number("df-test-proj")
    assert len(number) == 12 and number == formats.project_number("df-test-proj")
    gcs, _ = provider.read_data("google_storage_project_service_account", {})
    assert gcs["email_address"] == f"service-{number}@gs-project-accounts.iam.gserviceaccount.com"
    bq, _ = provider.read_data("google_bigquery_default_service_account", {})
    assert bq["member"] == f"serviceAccount:bq-{number}@bigquery-encryption.iam.gserviceaccount.com"
    proj, _ = provider.read_data("google_project", {"project_id": "other-proj"})
    assert proj["number"] == formats.project_number("other-proj")
    client, _ = provider.read_data("google_client_config", {})
    assert (client["project"], client["region"]) == ("df-test-proj", "europe-west1")


def test_google_project_reads_the_stored_project(tmp_path: Path) -> None:
    provider = SandboxProvider(schema_loader.load(schema_loader.DEFAULT_SCHEMA), Store(tmp_path / "sb"))
    provider.configure({"project": "df-test-proj"})
    cfg = {"project_id": "df-made", "name": "Made here", "labels": {"team": "data"}, "deletion_policy": "DELETE"}
    planned, _, _ = provider.plan("google_project", None, cfg, cfg)
    _, diags = provider.apply("google_project", None, planned, cfg)
    assert not diags
    state, diags = provider.read_data("google_project", {"project_id": "df-made"})
    assert not diags
    assert (state["name"], state["labels"], state["id"]) == ("Made here", {"team": "data"}, "projects/df-made")
    unknown, _ = provider.read_data("google_project", {"project_id": "df-elsewhere"})
    assert (unknown["name"], unknown["labels"]) == ("df-elsewhere", {})


def test_google_project_needs_a_project(tmp_path: Path) -> None:
    provider = SandboxProvider(schema_loader.load(FIXTURE_SCHEMA), Store(tmp_path / "sb"))
    state, diags = provider.read_data("google_project", {})
    assert state is None and [d.summary for d in diags] == ["google_project: no project_id and no provider project"]
