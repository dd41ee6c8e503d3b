"""Tests of the service-agent table (generator/sandbox/agents.py) and the data sources that use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandboxsupport import configured

from generator.sandbox import agents
from generator.sandbox.formats import project_number
from generator.sandbox.provider import SandboxProvider

EXPECTED = {
    # key: (e-mail for project number 123456789012, provisioning)
    "storage": (
        "service-123456789012@gs-project-accounts.iam.gserviceaccount.com",
        "data_source:google_storage_project_service_account",
    ),
    "bigquery": (
        "bq-123456789012@bigquery-encryption.iam.gserviceaccount.com",
        "data_source:google_bigquery_default_service_account",
    ),
    "logging": (
        "service-123456789012@gcp-sa-logging.iam.gserviceaccount.com",
        "data_source:google_logging_project_settings",
    ),
    "pubsub": ("service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com", "service_identity"),
    "composer": ("service-123456789012@cloudcomposer-accounts.iam.gserviceaccount.com", "service_identity"),
    "artifactregistry": (
        "service-123456789012@gcp-sa-artifactregistry.iam.gserviceaccount.com",
        "service_identity",
    ),
    "dataplex": ("service-123456789012@gcp-sa-dataplex.iam.gserviceaccount.com", "service_identity"),
    "dlp": ("service-123456789012@dlp-api.iam.gserviceaccount.com", "service_identity"),
    "monitoring": (
        "service-123456789012@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
        "service_identity",
    ),
    "container": ("service-123456789012@container-engine-robot.iam.gserviceaccount.com", "service_identity"),
    "cloudkms": ("service-123456789012@gcp-sa-cloudkms.iam.gserviceaccount.com", "on_enable"),
    "compute": ("service-123456789012@compute-system.iam.gserviceaccount.com", "on_enable"),
    "compute_default": ("123456789012-compute@developer.gserviceaccount.com", "on_enable"),
    "cloudservices": ("123456789012@cloudservices.gserviceaccount.com", "with_project"),
}


def test_table_holds_the_expected_agents() -> None:
    assert {a.key: (a.email("123456789012"), a.provisioning) for a in agents.AGENTS} == EXPECTED


def test_every_agent_cites_a_google_source_and_formats_are_unique() -> None:
    for a in agents.AGENTS:
        assert a.source.startswith("https://cloud.google.com/"), a.key
        assert "{number}" in a.email_format, a.key
    assert len({a.email_format for a in agents.AGENTS}) == len(agents.AGENTS)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_parse_is_the_inverse_of_email(key: str) -> None:
    address = agents.email(key, 987654321098)
    found = agents.parse(address)
    assert found is not None
    assert (found[0].key, found[1]) == (key, "987654321098")
    member = agents.parse(f"serviceAccount:{address.upper()}")
    assert member is not None and member[0].key == key


@pytest.mark.parametrize(
    "address",
    [
        "serviceAccount:load@acme-dev-orchestration.iam.gserviceaccount.com",  # user-created
        "user:service-1@gcp-sa-pubsub.iam.gserviceaccount.com.evil.com",
        "service-abc@gcp-sa-pubsub.iam.gserviceaccount.com",  # not a number
        "service-1@gcp-sa-unknown.iam.gserviceaccount.com",
        "group:data@example.com",
    ],
)
def test_parse_rejects_what_is_not_a_known_agent(address: str) -> None:
    assert agents.parse(address) is None


def test_lookups_by_api_and_data_source() -> None:
    pubsub = agents.primary("pubsub.googleapis.com")
    assert pubsub is not None and pubsub.key == "pubsub"
    # Storage's agent comes from its data source, not from generateServiceIdentity.
    assert agents.primary("storage.googleapis.com") is None
    assert [a.key for a in agents.for_api("compute.googleapis.com")] == ["compute", "compute_default"]
    found = agents.provisioned_by_data_source("google_bigquery_default_service_account")
    assert found is not None and found.key == "bigquery"
    assert agents.provisioned_by_data_source("google_project") is None
    composer = agents.agent("composer").member(5)
    assert composer == "serviceAccount:service-5@cloudcomposer-accounts.iam.gserviceaccount.com"


@pytest.fixture
def provider(tmp_path: Path) -> SandboxProvider:
    return configured(tmp_path, "df-agents-proj", region=None)


@pytest.mark.parametrize(
    ("data_source", "attribute", "key"),
    [
        ("google_storage_project_service_account", "email_address", "storage"),
        ("google_bigquery_default_service_account", "email", "bigquery"),
        ("google_logging_project_settings", "logging_service_account_id", "logging"),
        ("google_logging_project_settings", "kms_service_account_id", "logging"),
    ],
)
def test_data_sources_answer_from_the_table(
    provider: SandboxProvider, data_source: str, attribute: str, key: str
) -> None:
    state, diags = provider.read_data(data_source, {"project": "other-proj"})
    assert diags == []
    assert state[attribute] == agents.email(key, project_number("other-proj"))
    parsed = agents.parse(state[attribute])
    assert parsed is not None and parsed[0].provisioning == f"data_source:{data_source}"
