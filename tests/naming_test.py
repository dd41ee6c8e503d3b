"""generator.naming: every generated name, and Google's naming rules (naming.check)."""

from __future__ import annotations

import pytest

from generator import naming


@pytest.mark.parametrize(("kind", "good", "bad"), [
    ("project", ["acme-lnd", "a-12345"], ["Acme-lnd", "1acme-lnd", "acme-", "short", "a" * 31]),
    ("service_account", ["df-load", "crm-proc"], ["df", "crm_proc", "crm-proc-", "a" * 31]),
    ("bucket", ["acme-crm-landing", "acme.crm_raw"], ["ab", "-acme", "Acme-crm", "goog-data", "acme-google-x"]),
    ("dataset", ["acme_crm_landing", "A1"], ["acme-crm", "", "a" * 1025]),
    ("topic", ["crm-events", "Crm.events~1"], ["9crm", "cr", "goog-events", "crm events"]),
    ("composer", ["acme-composer"], ["Acme-composer", "acme-composer-", "a" * 65]),
])
def test_check_applies_googles_rule_for_each_kind(kind: str, good: list[str], bad: list[str]) -> None:
    for name in good:
        assert naming.check(kind, name) is None, name
    for name in bad:
        assert naming.check(kind, name), name


def test_goog_prefix_and_google_in_bucket_names_have_their_own_message() -> None:
    assert naming.check("bucket", "goog-x") == "bucket names cannot start with 'goog'"
    assert naming.check("topic", "goog-x") == "topic names cannot start with 'goog'"
    assert naming.check("bucket", "acme-google") == "bucket names cannot contain 'google'"


@pytest.mark.parametrize("layer", naming.LAYERS)
def test_project_ids_use_the_layer_suffix_unless_an_existing_project_is_adopted(layer: str) -> None:
    generated = naming.project_id("acme", layer)
    assert generated.startswith("acme-") and len(generated) == len("acme-") + 3
    assert naming.check("project", generated) is None
    assert naming.project_id("acme", layer, existing="legacy-project-1") == "legacy-project-1"
    assert len({naming.project_id("acme", other) for other in naming.LAYERS}) == len(naming.LAYERS)


def test_names_generated_from_valid_keys_pass_googles_rules() -> None:
    prefix, source, pipeline = "acme-dev", "crm-2", "store-daily"
    for layer in naming.DATA_LAYERS:
        assert naming.check("dataset", naming.datasource_dataset(prefix, source, layer)) is None
    for role in ("landing", "archive"):
        assert naming.check("bucket", naming.datasource_bucket(prefix, source, role)) is None
    assert naming.check("bucket", naming.shared_bucket(prefix, "exports")) is None
    assert naming.check("bucket", naming.log_bucket(prefix)) is None
    assert naming.check("dataset", naming.shared_dataset(prefix, "ref-data")) is None
    assert naming.check("dataset", naming.log_dataset(prefix)) is None
    assert naming.check("dataset", naming.quality_results_table(pipeline)) is None  # same character set
    assert naming.check("composer", naming.composer_name(prefix)) is None
    for task in naming.TASKS:
        assert naming.check("service_account", naming.task_account_id(task)) is None
    assert naming.check("service_account", naming.composer_account_id()) is None
    assert naming.check("service_account", naming.internal_account_id(source)) is None
    assert naming.check("topic", naming.topic(source, "events")) is None
    assert naming.check("topic", naming.dead_letter_topic(source, "events")) is None
    assert naming.dead_letter_topic(source, "events") == "crm-2-events-dead-letter"
    assert naming.subscription(source, "events", "pull") == "crm-2-events-pull"


def test_datasets_and_masking_policies_turn_dashes_into_underscores() -> None:
    assert naming.datasource_dataset("acme-dev", "crm-2", "landing") == "acme_dev_crm_2_landing"
    assert naming.data_policy_id("acme-dev", "pii-email") == "acme_dev_pii_email_masking"


@pytest.mark.parametrize(("location", "kms", "regions"), [
    ("EU", "europe", list(naming.MULTI_REGION_REGIONS["eu"])),
    ("us", "us", list(naming.MULTI_REGION_REGIONS["us"])),
    ("europe-west4", "europe-west4", ["europe-west4"]),
])
def test_locations_of_keys_and_message_storage(location: str, kms: str, regions: list[str]) -> None:
    assert naming.kms_location(location) == kms
    assert naming.kms_key_ring("acme", location) == f"acme-{kms}"
    assert naming.message_storage_regions(location) == regions


def test_scan_ids_are_lowercase_dashes_and_at_most_63_characters() -> None:
    assert naming.data_quality_scan_id("store-daily", "curated", "Sales_Orders") == "store-daily-curated-sales-orders"
    long = naming.data_quality_scan_id("p" * 30, "exposure", "t" * 60)
    assert len(long) == naming.MAX_SCAN_ID and long == ("p" * 30 + "-exposure-" + "t" * 60)[:naming.MAX_SCAN_ID]
    assert not naming.data_quality_scan_id("p", "curated", "x" * 100 + "_").endswith("-")


@pytest.mark.parametrize(("email", "key"), [
    ("Data.Team@example.com", "data-team"),
    ("ops+alerts@example.com", "ops-alerts"),
    ("__@example.com", "email"),
])
def test_notification_channel_keys_are_slugs_of_the_local_part(email: str, key: str) -> None:
    assert naming.notification_channel_key(email) == key


def test_stack_names_and_state_prefixes() -> None:
    assert naming.stack_name("environment") == "environment"
    assert naming.stack_name("pipeline", "store-daily") == "pipeline-store-daily"
    assert naming.state_prefix("df-gen/acme/", "datasource-crm") == "df-gen/acme/datasource-crm"


def test_the_registry_records_every_name_claimed_twice_in_one_scope() -> None:
    claims = naming.Registry()
    assert claims.claim("bucket", "acme-x", "datasources/a.yaml", (1, 1)) == "acme-x"
    claims.claim("bucket", "acme-x", "datasources/b.yaml", (2, 1))
    claims.claim("bucket", "acme-x", "datasources/c.yaml", (3, 1), scope="other-project")
    assert [(later.owner, first.owner) for later, first in claims.collisions] == [
        ("datasources/b.yaml", "datasources/a.yaml")]


def test_names_the_model_used_to_write_itself() -> None:
    # Each was an f-string in the model or the access checks before it moved here.
    assert naming.service_account_email("df-load", "acme-lnd") == "df-load@acme-lnd.iam.gserviceaccount.com"
    assert naming.service_agent_email("pubsub", "${x.number}") == (
        "service-${x.number}@gcp-sa-pubsub.iam.gserviceaccount.com")
    assert naming.log_sink("acme") == "acme-audit"
    assert naming.dlp_inspect_template("store-daily") == "store-daily-inspect"
    assert naming.dag_object("store-daily") == "store-daily.py"
    assert naming.dag_sql_folder("store-daily") == "store-daily/sql"
    assert naming.kms_key_id("acme-orc", "acme", "EU", "bigquery") == (
        f"projects/acme-orc/locations/europe/keyRings/{naming.kms_key_ring('acme', 'EU')}/cryptoKeys/"
        f"{naming.kms_key('bigquery')}")


def test_the_model_invents_no_resource_name() -> None:
    """No service-account e-mail, sink or template name is spelt outside naming.py."""
    from pathlib import Path

    root = Path(naming.__file__).parent
    for path in [*root.glob("model/*.py"), root / "access.py", root / "analysis" / "grants.py"]:
        text = path.read_text()
        for spelling in ("gserviceaccount.com", '-audit"', '-inspect"'):
            assert spelling not in text, f"{path.name} spells {spelling}"
