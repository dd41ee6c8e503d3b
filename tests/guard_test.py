"""Change counts and the data-loss guard, from show -json plans."""

from __future__ import annotations

import json
from pathlib import Path

from generator.guard import STATEFUL, STATEFUL_TYPES, PlanSummary, summarize

DATA = Path(__file__).parent / "data" / "runner"


def test_recorded_plan_that_drops_a_table_is_destructive() -> None:
    plan = json.loads((DATA / "plan_drops_table.json").read_text())
    summary = summarize(plan)
    assert summary.counts() == {"add": 0, "change": 2, "replace": 0, "destroy": 1, "import": 0, "forget": 0}
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
    assert summary.counts() == {"add": 3, "change": 1, "replace": 2, "destroy": 3, "import": 0, "forget": 0}
    assert summary.destructive == ("google_kms_crypto_key.k", "google_storage_bucket.landing")
    assert summary.has_changes
    assert summary.type_counts() == {
        "google_kms_crypto_key": {"add": 1, "change": 0, "replace": 1, "destroy": 1, "import": 0, "forget": 0},
        "google_project": {"add": 1, "change": 0, "replace": 0, "destroy": 0, "import": 0, "forget": 0},
        "google_pubsub_topic": {"add": 0, "change": 1, "replace": 0, "destroy": 0, "import": 0, "forget": 0},
        "google_storage_bucket": {"add": 1, "change": 0, "replace": 1, "destroy": 1, "import": 0, "forget": 0},
        "google_storage_bucket_iam_member": {"add": 0, "change": 0, "replace": 0, "destroy": 1, "import": 0,
                                             "forget": 0},
    }
    assert [(loss.address, loss.action) for loss in summary.losses] == [
        ("google_kms_crypto_key.k", "replace"), ("google_storage_bucket.landing", "replace")]


def test_imports_count_apart_and_losses_say_why() -> None:
    imported = change("google_pubsub_topic.t", "google_pubsub_topic", "no-op")
    imported["change"]["importing"] = {"id": "projects/p/topics/t"}
    replaced = change('module.p.google_bigquery_table.tables["orders"]', "google_bigquery_table", "delete", "create")
    replaced["action_reason"] = "replace_because_cannot_update"
    replaced["change"]["replace_paths"] = [["schema"]]
    dropped = change("google_storage_bucket.old", "google_storage_bucket", "delete")
    dropped["action_reason"] = "delete_because_no_resource_config"
    summary = summarize({"resource_changes": [imported, replaced, dropped]})
    assert summary.counts() == {"add": 1, "change": 0, "replace": 1, "destroy": 2, "import": 1, "forget": 0}
    assert summary.text() == "1 to add, 0 to change, 2 to destroy, 1 to import"
    assert [loss.as_json() for loss in summary.losses] == [
        {"address": "google_storage_bucket.old", "type": "google_storage_bucket", "action": "delete",
         "reason": "deleted: no longer in the configuration; a google_storage_bucket holds data or identity "
                   "that is lost with it"},
        {"address": 'module.p.google_bigquery_table.tables["orders"]', "type": "google_bigquery_table",
         "action": "replace",
         "reason": "replaced: schema cannot be updated in place; a google_bigquery_table holds data or identity "
                   "that is lost with it"},
    ]
    assert PlanSummary.from_meta(summary.to_meta()) == summary
    # Metadata written before replace/import existed still reads.
    assert PlanSummary.from_meta({"changes": {"add": 1, "change": 0, "destroy": 0}}).counts()["import"] == 0


def test_empty_plan_has_no_changes() -> None:
    assert summarize({}) == PlanSummary()
    assert not summarize({"resource_changes": [change("google_project.p", "google_project", "no-op")]}).has_changes


def test_the_stateful_types_are_one_documented_list() -> None:
    assert STATEFUL_TYPES == {
        "google_project", "google_storage_bucket", "google_bigquery_dataset", "google_bigquery_table",
        "google_kms_crypto_key", "google_kms_key_ring", "google_pubsub_topic", "google_pubsub_subscription",
        "google_composer_environment", "google_service_account", "google_data_catalog_taxonomy",
        "google_data_catalog_policy_tag"}
    assert all(STATEFUL[kind] for kind in STATEFUL_TYPES)
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for kind in (*STATEFUL_TYPES, "google_storage_bucket_object"):
        assert f"`{kind}`" in readme, kind


def test_composer_accounts_tags_and_subscriptions_are_destructive() -> None:
    kinds = ["google_composer_environment", "google_service_account", "google_data_catalog_policy_tag",
             "google_data_catalog_taxonomy", "google_pubsub_subscription"]
    plan = {"resource_changes": [change(f"{k}.x", k, "delete") for k in kinds]}
    assert summarize(plan).destructive == tuple(sorted(f"{k}.x" for k in kinds))


def obj(address: str, **before: object) -> dict:
    item = change(address, "google_storage_bucket_object", "delete")
    item["change"]["before"] = {"bucket": "b1", "retention": [], "event_based_hold": False,
                                "temporary_hold": False, **before}
    return item


def test_objects_count_only_under_retention() -> None:
    plan = {"resource_changes": [
        obj("google_storage_bucket_object.plain"),
        obj("google_storage_bucket_object.held", temporary_hold=True),
        obj("google_storage_bucket_object.locked", retention=[{"mode": "Locked", "retain_until_time": "x"}]),
    ]}
    assert summarize(plan).destructive == ("google_storage_bucket_object.held",
                                           "google_storage_bucket_object.locked")
    plan["prior_state"] = {"values": {"root_module": {"child_modules": [{"resources": [
        {"type": "google_storage_bucket", "values": {"name": "b1", "retention_policy": [{"retention_period": 60}]}},
    ]}]}}}
    assert len(summarize(plan).destructive) == 3


def test_columns_dropped_in_place_are_destructive_and_accepted_addresses_are_not() -> None:
    table = change("t.orders", "google_bigquery_table", "update")
    old = [{"name": "a", "type": "STRING"}, {"name": "b", "type": "STRING"}]
    table["change"].update(before={"schema": json.dumps(old)}, after={"schema": json.dumps(old[:1])})
    summary = summarize({"resource_changes": [table]})
    assert summary.destructive == ("t.orders",)
    assert [loss.as_json() for loss in summary.losses] == [{
        "address": "t.orders", "type": "google_bigquery_table", "action": "update",
        "reason": "columns b dropped in place: BigQuery deletes their data"}]
    assert summarize({"resource_changes": [table]}, accepted=["t.orders"]).destructive == ()
    table["change"]["after"] = {"schema": json.dumps([*old, {"name": "c", "type": "STRING"}])}
    assert summarize({"resource_changes": [table]}).destructive == ()


def test_forgotten_resources_are_changes_but_never_losses() -> None:
    # What Terraform 1.15 plans for a removed block with destroy = false (recorded from a real
    # plan of a module call's resources): the "forget" action, reason "no resource config".
    forgotten = change('module.pipeline.google_bigquery_table.tables["curated-orders"]', "google_bigquery_table",
                       "forget")
    forgotten["action_reason"] = "delete_because_no_resource_config"
    bucket = change("module.pipeline.google_storage_bucket_object.dag", "google_storage_bucket_object", "forget")
    summary = summarize({"resource_changes": [forgotten, bucket]})
    assert summary.counts() == {"add": 0, "change": 0, "replace": 0, "destroy": 0, "import": 0, "forget": 2}
    assert summary.has_changes and summary.destructive == () and summary.losses == ()
    assert summary.text() == "0 to add, 0 to change, 0 to destroy, 2 to forget"
    assert PlanSummary.from_meta(summary.to_meta()) == summary
    # A saved-plan record written before "forget" existed still reads.
    old = summary.to_meta()
    old["changes"].pop("forget")
    assert PlanSummary.from_meta(old).forgets == 0


def test_moved_resources_are_changes_to_apply_but_never_losses() -> None:
    # A moved block (a renamed table key, generator.renames): Terraform plans a no-op at the
    # new address with its previous_address; only an apply writes the move into the state.
    moved = change('module.pipeline.google_bigquery_table.tables["landing-items"]', "google_bigquery_table", "no-op")
    moved["previous_address"] = 'module.pipeline.google_bigquery_table.tables["landing-products"]'
    still = change("google_storage_bucket.b", "google_storage_bucket", "no-op")
    summary = summarize({"resource_changes": [moved, still]})
    assert (summary.moves, summary.has_changes, summary.destructive) == (1, True, ())
    assert summary.text() == "0 to add, 0 to change, 0 to destroy, 1 to move"
    assert PlanSummary.from_meta(summary.to_meta()) == summary
    assert not summarize({"resource_changes": [still]}).has_changes
