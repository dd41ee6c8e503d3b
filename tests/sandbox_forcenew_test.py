"""Replacement planning from the provider's ForceNew flags (generator/sandbox/forcenew.py).

Unit tests run the sandbox provider's ``plan`` with the real served schema and the committed
google_forcenew.json; the slow test runs real Terraform (embedded engine) through the
conformance case tests/conformance/pubsub-ordering-forcenew/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.sandbox import forcenew, schema_loader
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.store import Store
from tests.tfsupport import Sandbox, require_sandbox

CASE = Path(__file__).parent / "conformance" / "pubsub-ordering-forcenew"


@pytest.fixture(scope="module")
def schema() -> schema_loader.ProviderSchema:
    return schema_loader.load(schema_loader.DEFAULT_SCHEMA)


@pytest.fixture
def provider(schema: schema_loader.ProviderSchema, tmp_path: Path) -> SandboxProvider:
    p = SandboxProvider(schema, Store(tmp_path / "sb"))
    p.configure({"project": "df-test-proj", "region": "europe-west1"})
    return p


def _applied(provider: SandboxProvider, type_name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    planned, replace, diags = provider.plan(type_name, None, cfg, cfg)
    assert not diags and replace == []
    state, diags = provider.apply(type_name, None, planned, cfg)
    assert not diags
    return dict(state)


def _replace(provider: SandboxProvider, type_name: str, prior: dict[str, Any], **changes: Any) -> list[Any]:
    proposed = {**prior, **changes}
    _, replace, diags = provider.plan(type_name, prior, proposed, proposed)
    assert not diags
    return replace


SUBSCRIPTION = {"name": "events-loader", "topic": "projects/df-test-proj/topics/events", "project": "df-test-proj"}


def test_message_ordering_flip_replaces_the_subscription(provider: SandboxProvider) -> None:
    prior = _applied(provider, "google_pubsub_subscription", {**SUBSCRIPTION, "enable_message_ordering": False})
    assert _replace(provider, "google_pubsub_subscription", prior, enable_message_ordering=True) == [
        ["enable_message_ordering"]
    ]


def test_non_force_new_change_is_in_place(provider: SandboxProvider) -> None:
    prior = _applied(provider, "google_pubsub_subscription", {**SUBSCRIPTION, "ack_deadline_seconds": 10})
    assert _replace(provider, "google_pubsub_subscription", prior, ack_deadline_seconds=20, labels={"a": "b"}) == []


TABLE = {"project": "df-test-proj", "dataset_id": "sales", "table_id": "orders", "deletion_protection": False}


def test_nested_list_block_attribute_is_addressed_by_index(provider: SandboxProvider) -> None:
    partitioning = {"type": "DAY", "field": "created_at", "expiration_ms": 1000}
    prior = _applied(provider, "google_bigquery_table", {**TABLE, "time_partitioning": [partitioning]})
    moved = [{**partitioning, "field": "updated_at"}]
    assert _replace(provider, "google_bigquery_table", prior, time_partitioning=moved) == [
        ["time_partitioning", 0, "field"]
    ]
    # expiration_ms of the same block is not ForceNew: in place.
    longer = [{**partitioning, "expiration_ms": 2000}]
    assert _replace(provider, "google_bigquery_table", prior, time_partitioning=longer) == []


def test_added_block_replaces_only_when_it_sets_a_force_new_attribute(provider: SandboxProvider) -> None:
    prior = _applied(provider, "google_bigquery_table", dict(TABLE))
    with_field = [{"type": "DAY", "field": "created_at"}]
    assert _replace(provider, "google_bigquery_table", prior, time_partitioning=with_field) == [
        ["time_partitioning", 0, "field"]
    ]
    assert _replace(provider, "google_bigquery_table", prior, time_partitioning=[{"type": "DAY"}]) == []


def test_force_new_block_is_replaced_as_a_whole(provider: SandboxProvider) -> None:
    member = {"project": "df-test-proj", "role": "roles/viewer", "member": "user:a@example.com"}
    cond = {"title": "t", "expression": "true", "description": None}
    prior = _applied(provider, "google_project_iam_member", {**member, "condition": [cond]})
    changed = [{**cond, "expression": "false"}]
    assert _replace(provider, "google_project_iam_member", prior, condition=changed) == [["condition"]]


def test_set_block_element_change_replaces_the_set(provider: SandboxProvider) -> None:
    # metric_descriptor.labels is a set; its key is ForceNew, and set elements have no index.
    label = {"key": "env", "value_type": "STRING", "description": None}
    descriptor = {"metric_kind": "DELTA", "value_type": "INT64", "labels": [label]}
    cfg = {"name": "errors", "filter": "severity>=ERROR", "project": "df-test-proj", "metric_descriptor": [descriptor]}
    prior = _applied(provider, "google_logging_metric", cfg)
    more = [{**descriptor, "labels": [label, {**label, "key": "region"}]}]
    assert _replace(provider, "google_logging_metric", prior, metric_descriptor=more) == [
        ["metric_descriptor", 0, "labels"]
    ]
    assert _replace(provider, "google_logging_metric", prior, filter="severity>=WARNING") == []


def test_unset_computed_attribute_is_no_replacement(schema: schema_loader.ProviderSchema) -> None:
    block = schema.resource("google_pubsub_subscription")["block"]  # type: ignore[index]
    prior = {**SUBSCRIPTION, "enable_message_ordering": None}
    assert forcenew.requires_replace("google_pubsub_subscription", block, prior, {**prior, "project": None}) == []
    assert forcenew.requires_replace("google_pubsub_subscription", block, prior, {**prior, "name": None}) == [["name"]]


def test_every_served_type_has_force_new_data(schema: schema_loader.ProviderSchema) -> None:
    served = sorted(schema.doc["resource_schemas"])
    missing = [t for t in served if not forcenew.force_new_paths(t)]
    assert missing == []
    assert "enable_message_ordering" in forcenew.force_new_paths("google_pubsub_subscription")
    beta = schema_loader.load(schema_loader.DEFAULT_SCHEMA.with_name("google-beta.json"))
    assert [t for t in beta.doc["resource_schemas"] if not forcenew.force_new_paths(t)] == []
    # google-beta resource_project_service_identity.go: project and service are ForceNew.
    assert forcenew.force_new_paths("google_project_service_identity") == ["project", "service"]


# ------------------------------------------------------------------ real Terraform (slow)


@pytest.mark.slow
def test_conformance_ordering_flip_plans_replacement_in_terraform(tmp_path: Path) -> None:
    require_sandbox()
    expect = yaml.safe_load((CASE / "expect.yaml").read_text(encoding="utf-8"))
    assert expect == {"apply": "ok", "plan2": "replace", "destroy": "ok"}
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(CASE / "main.tf", root / "main.tf")
    sb = Sandbox(root, tmp_path)
    sb.init()
    sb.ok("apply", "-auto-approve", "-input=false", "-no-color")
    shutil.copy(CASE / "step2" / "main.tf", root / "main.tf")
    plan = sb.run("plan", "-input=false", "-no-color", "-out=step2.tfplan")
    assert plan.code == 0, plan.tail()
    assert "google_pubsub_subscription.loader must be replaced" in plan.text
    assert "enable_message_ordering = false -> true # forces replacement" in plan.text
    assert "1 to add, 0 to change, 1 to destroy" in plan.text
    changes = json.loads(sb.ok("show", "-json", "step2.tfplan"))["resource_changes"]
    sub = next(c for c in changes if c["address"] == "google_pubsub_subscription.loader")
    assert sub["change"]["actions"] == ["delete", "create"]
    assert sub["change"]["replace_paths"] == [["enable_message_ordering"]]
    topic = next(c for c in changes if c["address"] == "google_pubsub_topic.events")
    assert topic["change"]["actions"] == ["no-op"]
    sb.ok("destroy", "-auto-approve", "-input=false", "-no-color")
