"""generator.sandbox.service: tfplugin6 requests and responses around the provider, no gRPC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.sandbox import schema_loader
from generator.sandbox.proto import tfplugin6_pb2
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.service import RPCS, Service
from generator.sandbox.store import Store
from generator.sandbox.values import decode, encode

pb: Any = tfplugin6_pb2
TABLE = {"project": "df-test-proj", "dataset_id": "sales", "table_id": "orders", "deletion_protection": False}
BUCKET = {"project": "df-test-proj", "name": "df-test-landing", "location": "EU"}


@pytest.fixture(scope="module")
def schema() -> schema_loader.ProviderSchema:
    return schema_loader.load(schema_loader.DEFAULT_SCHEMA)


@pytest.fixture
def provider(schema: schema_loader.ProviderSchema, tmp_path: Path) -> SandboxProvider:
    p = SandboxProvider(schema, Store(tmp_path / "sb"))
    p.configure({"project": "df-test-proj", "region": "europe-west1"})
    return p


def _dv(value: Any) -> Any:
    return pb.DynamicValue(msgpack=encode(value))


def _plan(service: Service, type_name: str, prior: Any, proposed: Any) -> Any:
    request = pb.PlanResourceChange.Request(
        type_name=type_name, prior_state=_dv(prior), proposed_new_state=_dv(proposed), config=_dv(proposed)
    )
    return service.PlanResourceChange(request, None)


def _applied(provider: SandboxProvider, type_name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    planned, replace, diags = provider.plan(type_name, None, cfg, cfg)
    assert not diags and replace == []
    state, diags = provider.apply(type_name, None, planned, cfg)
    assert not diags
    return dict(state)


def test_every_served_rpc_is_a_service_method_and_a_protocol_message() -> None:
    for rpc in RPCS:
        assert callable(getattr(Service, rpc)), rpc
        assert getattr(pb, rpc).Request and getattr(pb, rpc).Response, rpc


def test_server_sends_list_indexes_as_element_keys(provider: SandboxProvider) -> None:
    prior = _applied(provider, "google_bigquery_table", {**TABLE, "time_partitioning": [{"type": "DAY", "field": "a"}]})
    proposed = {**prior, "time_partitioning": [{**prior["time_partitioning"][0], "field": "b"}]}
    resp = _plan(Service(provider, b""), "google_bigquery_table", prior, proposed)
    assert not resp.diagnostics
    steps = [
        s.WhichOneof("selector") + "=" + str(getattr(s, s.WhichOneof("selector")))
        for s in resp.requires_replace[0].steps
    ]
    assert steps == ["attribute_name=time_partitioning", "element_key_int=0", "attribute_name=field"]


def test_only_bigquery_tables_answer_with_the_legacy_type_system(provider: SandboxProvider) -> None:
    service = Service(provider, b"")
    table = _plan(service, "google_bigquery_table", None, TABLE)
    bucket = _plan(service, "google_storage_bucket", None, BUCKET)
    assert not table.diagnostics and not bucket.diagnostics
    assert (table.legacy_type_system, bucket.legacy_type_system) == (True, False)


def test_an_unknown_type_is_an_error_diagnostic_not_a_failed_call(provider: SandboxProvider) -> None:
    resp = _plan(Service(provider, b""), "google_not_served", None, {"name": "x"})
    [diag] = resp.diagnostics
    assert diag.severity == pb.Diagnostic.ERROR
    assert diag.summary == "Plan: the sandbox schema has no type 'google_not_served'"


def test_a_failed_apply_keeps_the_prior_state(provider: SandboxProvider) -> None:
    prior = {"name": "x", "id": "x"}
    request = pb.ApplyResourceChange.Request(
        type_name="google_not_served", prior_state=_dv(prior), planned_state=_dv({"name": "y"}), config=_dv({})
    )
    resp = Service(provider, b"").ApplyResourceChange(request, None)
    assert decode(resp.new_state.msgpack) == prior
    assert [d.summary for d in resp.diagnostics] == ["Apply: the sandbox schema has no type 'google_not_served'"]


def test_a_rule_violation_carries_its_attribute_path(provider: SandboxProvider) -> None:
    request = pb.ValidateResourceConfig.Request(
        type_name="google_storage_bucket", config=_dv({**BUCKET, "name": "Not_A_Bucket"})
    )
    [diag] = Service(provider, b"").ValidateResourceConfig(request, None).diagnostics
    assert diag.severity == pb.Diagnostic.ERROR
    assert [s.attribute_name for s in diag.attribute.steps] == ["name"]
    assert "Not_A_Bucket" in diag.summary
