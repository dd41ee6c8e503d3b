"""Deletes Google refuses, and what a deleted container takes with it.

A project whose ``deletion_policy`` is ``PREVENT``, a table with deletion protection, a
bucket that holds objects and a dataset that holds tables cannot be deleted (each error
names its rule); a bucket with ``force_destroy`` and a dataset with
``delete_contents_on_destroy`` delete their objects or tables with them. The world's own
deletion rules (projects, retention) are :mod:`generator.sandbox.world`'s.
"""

from __future__ import annotations

from typing import Any


def display_name(state: dict[str, Any], rid: str) -> str:
    """The name a person knows the resource by (its name or ID attribute), else its id."""
    for attr in ("name", "account_id", "table_id", "dataset_id", "project_id"):
        value = state.get(attr)
        if isinstance(value, str):
            return value
    return rid


def guard(type_name: str, prior: dict[str, Any], resources: dict[str, Any]) -> tuple[str | None, list[str]]:
    """``(why the delete is refused or None, store keys deleted along with it)``."""
    name = display_name(prior, str(prior.get("id")))
    # deletion_policy: google/services/resourcemanager/resource_google_project.go (PREVENT is
    # the default since provider 6.0).
    if type_name == "google_project" and prior.get("deletion_policy") == "PREVENT":
        return (
            f'cannot destroy project "{name}": deletion_policy is "PREVENT" (the google '
            'provider\'s default); set deletion_policy = "DELETE" to allow it '
            "(sandbox rule: project deletion policy)"
        ), []
    # deletion_protection: resourceBigQueryTableDelete refuses while it is true
    # (google/services/bigquery/resource_bigquery_table.go).
    if type_name == "google_bigquery_table" and prior.get("deletion_protection") is not False:
        return (
            f'cannot destroy table "{name}": deletion_protection is not false (the google '
            "provider defaults it to true) (sandbox rule: BigQuery table deletion protection)"
        ), []
    # https://cloud.google.com/storage/docs/deleting-buckets: a bucket must be empty;
    # force_destroy makes the provider delete its objects first.
    if type_name == "google_storage_bucket":
        objects = [
            k
            for k, e in resources.items()
            if e["type"] == "google_storage_bucket_object" and e["state"].get("bucket") == name
        ]
        if objects and not prior.get("force_destroy"):
            return (
                f'cannot destroy bucket "{name}": it still holds {len(objects)} object(s) and '
                "force_destroy is not true (sandbox rule: GCS deletes only empty buckets)"
            ), []
        return None, objects
    # https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/delete: without
    # deleteContents (the provider's delete_contents_on_destroy) a dataset with tables stays.
    if type_name == "google_bigquery_dataset":
        tables = [
            k
            for k, e in resources.items()
            if e["type"] == "google_bigquery_table"
            and e["state"].get("dataset_id") == prior.get("dataset_id")
            and e["state"].get("project") == prior.get("project")
        ]
        if tables and not prior.get("delete_contents_on_destroy"):
            return (
                f'cannot destroy dataset "{name}": it still holds {len(tables)} table(s) and '
                "delete_contents_on_destroy is not true (sandbox rule: BigQuery deletes only "
                "empty datasets)"
            ), []
        return None, tables
    return None, []
