"""Change counts and the data-loss guard, from show -json plans."""

from __future__ import annotations

import json
from pathlib import Path

from generator.guard import STATEFUL_TYPES, PlanSummary, summarize

DATA = Path(__file__).parent / "data" / "runner"


def test_recorded_plan_that_drops_a_table_is_destructive() -> None:
    plan = json.loads((DATA / "plan_drops_table.json").read_text())
    summary = summarize(plan)
    assert summary.counts() == {"add": 0, "change": 2, "destroy": 1}
    assert summary.destructive == ('module.pipeline.google_bigquery_table.tables["landing-products"]',)
    assert summary.text() == "0 to add, 2 to change, 1 to destroy"


def change(address: str, kind: str, *actions: str, mode: str = "managed") -> dict:
    return {"address": address, "type": kind, "mode": mode, "change": {"actions": list(actions)}}


def test_replacements_count_twice_and_only_stateful_types_are_flagged() -> None:
    plan = {"resource_changes": [
        change("google_storage_bucket.landing", "google_storage_bucket", "delete", "create"),
        change("google_kms_crypto_key.k", "google_kms_crypto_key", "create", "delete"),
        change("google_storage_bucket_iam_member.m", "google_storage_bucket_iam_member", "delete"),
        change("google_pubsub_topic.t", "google_pubsub_topic", "update"),
        change("data.google_project.p", "google_project", "read", mode="data"),
        change("google_project.p", "google_project", "no-op"),
        change("google_project.new", "google_project", "create"),
    ]}
    summary = summarize(plan)
    assert summary.counts() == {"add": 3, "change": 1, "destroy": 3}
    assert summary.destructive == ("google_kms_crypto_key.k", "google_storage_bucket.landing")
    assert summary.has_changes


def test_empty_plan_has_no_changes() -> None:
    assert summarize({}) == PlanSummary()
    assert not summarize({"resource_changes": [change("google_project.p", "google_project", "no-op")]}).has_changes


def test_the_stateful_types_are_the_ones_that_hold_data_or_identity() -> None:
    assert STATEFUL_TYPES == {
        "google_project", "google_storage_bucket", "google_bigquery_dataset", "google_bigquery_table",
        "google_kms_crypto_key", "google_kms_key_ring", "google_pubsub_topic"}
