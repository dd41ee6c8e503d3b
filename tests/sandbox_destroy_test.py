"""generator.sandbox.destroy: deletes Google refuses, and what goes with a deleted container."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandboxsupport import configured, created

from generator.sandbox.destroy import display_name
from generator.sandbox.provider import SandboxProvider


@pytest.fixture
def provider(tmp_path: Path) -> SandboxProvider:
    return configured(tmp_path)


def test_destroy_guards_refuse_like_google(provider: SandboxProvider) -> None:
    project = created(provider, "google_project", {"project_id": "df-guarded", "name": "G"})
    assert project["deletion_policy"] == "PREVENT"  # the provider's default
    state, diags = provider.apply("google_project", project, None, None)
    assert state == project and 'deletion_policy is "PREVENT"' in diags[0].summary
    dataset = created(provider, "google_bigquery_dataset", {"dataset_id": "ds1"})
    table = created(provider, "google_bigquery_table", {"dataset_id": "ds1", "table_id": "t"})
    _, diags = provider.apply("google_bigquery_table", table, None, None)
    assert "deletion_protection is not false" in diags[0].summary
    _, diags = provider.apply("google_bigquery_dataset", dataset, None, None)
    assert 'cannot destroy dataset "ds1": it still holds 1 table(s)' in diags[0].summary
    # With the documented switches the deletes go through, contents included.
    _, diags = provider.apply("google_bigquery_dataset", dict(dataset, delete_contents_on_destroy=True), None, None)
    assert not diags and provider.store.all().keys() == {f"google_project/{project['id']}"}
    _, diags = provider.apply("google_project", dict(project, deletion_policy="ABANDON"), None, None)
    assert not diags and provider.store.get("google_project", project["id"])  # abandoned, kept


def test_a_bucket_with_objects_needs_force_destroy_and_takes_them_along(provider: SandboxProvider) -> None:
    bucket = created(provider, "google_storage_bucket", {"name": "df-test-landing", "location": "EU"})
    created(provider, "google_storage_bucket_object", {"bucket": "df-test-landing", "name": "a.csv", "content": "a"})
    _, diags = provider.apply("google_storage_bucket", bucket, None, None)
    assert [d.summary for d in diags] == [
        'cannot destroy bucket "df-test-landing": it still holds 1 object(s) and force_destroy is not true '
        "(sandbox rule: GCS deletes only empty buckets)"
    ]
    _, diags = provider.apply("google_storage_bucket", dict(bucket, force_destroy=True), None, None)
    assert not diags and provider.store.all() == {}


def test_display_name_prefers_the_name_a_person_gave() -> None:
    assert display_name({"name": "n", "account_id": "a"}, "id") == "n"
    assert display_name({"table_id": "t", "dataset_id": "d"}, "id") == "t"
    assert display_name({"name": None}, "projects/p/x/y") == "projects/p/x/y"
