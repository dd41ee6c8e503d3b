"""generator.sandbox.provider: plan, apply, read and import semantics without gRPC.

What the provider delegates has its own tests: sandbox_computed_test, sandbox_formats_test,
sandbox_data_sources_test, sandbox_destroy_test, sandbox_forcenew_test, sandbox_world_test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sandboxsupport import created

from generator.sandbox import schema_loader
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.store import Store
from generator.sandbox.values import UNKNOWN, normalize

FIXTURE_SCHEMA = Path(__file__).parent / "data" / "sandbox" / "google_schema_fixture.json"
REAL_SCHEMA = schema_loader.DEFAULT_SCHEMA


@pytest.fixture(scope="module")
def schema() -> schema_loader.ProviderSchema:
    return schema_loader.load(FIXTURE_SCHEMA)


@pytest.fixture
def provider(schema: schema_loader.ProviderSchema, tmp_path: Path) -> SandboxProvider:
    p = SandboxProvider(schema, Store(tmp_path / "sb"))
    p.configure({"project": "df-test-proj", "region": "europe-west1", "default_labels": {"a": "b"}})
    return p


def _bucket_cfg(**over: Any) -> dict[str, Any]:
    cfg = {
        "name": "df-test-bucket",
        "location": "EU",
        "labels": {"x": "y"},
        "lifecycle_rule": [{"action": [{"type": "Delete"}], "condition": [{"age": 3}]}],
    }
    cfg.update(over)
    return cfg


def test_plan_create_marks_computed_unknown_and_derives_labels(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_storage_bucket")["block"]
    cfg = normalize(block, _bucket_cfg())
    planned, replace, diags = provider.plan("google_storage_bucket", None, cfg, cfg)
    assert not diags and not replace
    assert planned["id"] is UNKNOWN and planned["url"] is UNKNOWN
    assert planned["name"] == "df-test-bucket"  # config values stay as written
    assert planned["effective_labels"] == {"a": "b", "x": "y"}  # provider default_labels
    assert planned["lifecycle_rule"][0]["condition"][0]["with_state"] is UNKNOWN


def test_apply_fills_realistic_values_and_update_replace(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_storage_bucket")["block"]
    cfg = normalize(block, _bucket_cfg())
    planned, _, _ = provider.plan("google_storage_bucket", None, cfg, cfg)
    state, diags = provider.apply("google_storage_bucket", None, planned, cfg)
    assert not diags
    assert state["id"] == "df-test-bucket" and state["url"] == "gs://df-test-bucket"
    assert state["self_link"] == "https://www.googleapis.com/storage/v1/b/df-test-bucket"
    assert state["project"] == "df-test-proj"
    assert provider.store.get("google_storage_bucket", "df-test-bucket") == state
    # Changing the location is force-new; changing labels is an in-place update.
    moved = dict(state, location="US")
    _, replace, _ = provider.plan("google_storage_bucket", state, moved, moved)
    assert replace == [["location"]]
    relabel = dict(state, labels={"x": "z"})
    planned2, replace2, _ = provider.plan("google_storage_bucket", state, relabel, relabel)
    assert replace2 == [] and planned2["effective_labels"] == {"a": "b", "x": "z"}
    # Read reports a resource deleted behind Terraform's back as gone.
    provider.store.delete("google_storage_bucket", "df-test-bucket")
    assert provider.read("google_storage_bucket", state) is None


def test_bucket_name_used_once(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_storage_bucket")["block"]
    cfg = normalize(block, _bucket_cfg())
    planned, _, _ = provider.plan("google_storage_bucket", None, cfg, cfg)
    provider.apply("google_storage_bucket", None, dict(planned), cfg)
    state, diags = provider.apply("google_storage_bucket", None, dict(planned), cfg)
    assert state is None
    assert 'storage bucket "df-test-bucket" already exists' in diags[0].summary


def test_log_metric_names_are_unique_per_project(tmp_path: Path) -> None:
    # The provider's id of a log-based metric is its name; Cloud Logging keeps metrics per
    # project, so the same name may exist once in each project.
    provider = SandboxProvider(schema_loader.load(REAL_SCHEMA), Store(tmp_path / "sb"))
    provider.configure({"project": "df-test-proj", "region": "europe-west1"})
    block = provider.schema.resource("google_logging_metric")["block"]

    def metric(project: str) -> dict[str, Any]:
        return normalize(block, {"project": project, "name": "df-failures", "filter": "severity>=ERROR"})

    landing = created(provider, "google_logging_metric", metric("df-landing"))
    curated = created(provider, "google_logging_metric", metric("df-curated"))
    assert landing["id"] == curated["id"] == "df-failures"
    planned, _, _ = provider.plan("google_logging_metric", None, metric("df-landing"), metric("df-landing"))
    state, diags = provider.apply("google_logging_metric", None, planned, metric("df-landing"))
    assert state is None and 'already exists' in diags[0].summary
    # Deleting one leaves the other in place.
    provider.apply("google_logging_metric", landing, None, None)
    assert provider.read("google_logging_metric", landing) is None
    assert provider.read("google_logging_metric", curated) == curated


def test_service_account_values(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_service_account")["block"]
    cfg = normalize(block, {"account_id": "loader-sa"})
    planned, _, _ = provider.plan("google_service_account", None, cfg, cfg)
    state, _ = provider.apply("google_service_account", None, planned, cfg)
    email = "loader-sa@df-test-proj.iam.gserviceaccount.com"
    assert state["email"] == email and state["member"] == f"serviceAccount:{email}"
    assert state["id"] == f"projects/df-test-proj/serviceAccounts/{email}"
    assert len(state["unique_id"]) == 21 and state["unique_id"].isdigit()


def test_import_reads_the_store(provider: SandboxProvider) -> None:
    topic = created(provider, "google_pubsub_topic", {"name": "events"})
    for rid in ("projects/df-test-proj/topics/events", "df-test-proj/events", "events"):
        state, diags = provider.import_state("google_pubsub_topic", rid)
        assert not diags and state == topic, rid
        assert provider.read("google_pubsub_topic", state) == topic


def test_import_of_a_missing_object_succeeds_and_its_read_finds_nothing(provider: SandboxProvider) -> None:
    # As with the real provider: the importer only parses the id; Terraform reads next and,
    # finding nothing, fails with "Cannot import non-existent remote object".
    state, diags = provider.import_state("google_pubsub_topic", "projects/df-test-proj/topics/nope")
    assert not diags and (state["id"], state["name"], state["project"]) == (
        "projects/df-test-proj/topics/nope", "nope", "df-test-proj")
    assert provider.read("google_pubsub_topic", state) is None


def test_import_sets_the_importers_virtual_defaults(provider: SandboxProvider) -> None:
    bucket = created(provider, "google_storage_bucket", _bucket_cfg(force_destroy=True))
    state, diags = provider.import_state("google_storage_bucket", f"df-test-proj/{bucket['name']}")
    assert not diags and state["id"] == bucket["id"] and state["force_destroy"] is False
