"""generator.sandbox.rules: the Google Cloud rules the provider schema cannot express."""

from __future__ import annotations

from typing import Any

import pytest

from generator.sandbox import rules
from generator.sandbox.values import UNKNOWN


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (rules.project_id_problem, ["abcdef", "df-prod-lnd-01"], ["abcde", "1abcdef", "abcdef-", "Abcdef", "a" * 31]),
        (rules.account_id_problem, ["loader", "a-b-c-d-e"], ["abc", "loader-", "9loader", "a" * 31]),
        (
            rules.bucket_name_problem,
            ["abc", "a.b_c-d", "x" * 63],
            ["ab", "Foo", "-abc", "goog-x", "my-google-b", "x" * 64, "10.0.0.1"],
        ),
        (rules.dataset_id_problem, ["lnd_sales", "A1"], ["lnd-sales", "", "a b"]),
        (rules.table_id_problem, ["orders", "orders-2024"], ["", "a/b"]),
        (rules.topic_name_problem, ["abc", "projects/p/topics/sales.events"], ["ab", "1abc", "goog-x"]),
    ],
)
def test_naming_rules(check: Any, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert check(value) is None, value
    for value in bad:
        message = check(value)
        assert message and f'"{value}"' in message and "sandbox rule" in message, value


def test_cmek_location_rule() -> None:
    key = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"
    assert rules.cmek_problem(key, "EUROPE-WEST1", "bucket") is None
    msg = rules.cmek_problem(key, "US", "bucket")
    assert msg and '"europe-west1"' in msg and "CMEK key location" in msg
    assert "expected projects/P" in str(rules.cmek_problem("nonsense", "US", "bucket"))
    # Multi-regions: EU data takes keys in KMS's "europe", not a (non-existent) "eu".
    europe = "projects/p/locations/europe/keyRings/r/cryptoKeys/k"
    assert rules.cmek_problem(europe, "EU", "dataset") is None
    eu = rules.cmek_problem("projects/p/locations/eu/keyRings/r/cryptoKeys/k", "EU", "dataset")
    assert eu and 'must be in the location of the data it protects, "europe"' in eu


def test_data_policy_location_rule() -> None:
    tag = "projects/p/locations/eu/taxonomies/1/policyTags/2"
    policy = {"data_policy_id": "d", "policy_tag": tag, "data_policy_type": "DATA_MASKING_POLICY"}
    assert rules.check_resource("google_bigquery_datapolicy_data_policy", {**policy, "location": "eu"}) == []
    (found,) = rules.check_resource("google_bigquery_datapolicy_data_policy", {**policy, "location": "us"})
    assert found.path == ("location",)
    assert 'location "us" does not match the location "eu"' in found.message
    # Unknown at plan (the tag is created in the same apply): checked again at apply.
    assert rules.check_resource("google_bigquery_datapolicy_data_policy", {**policy, "policy_tag": UNKNOWN,
                                                                            "location": "us"}) == []


def test_rules_skip_unknown_values() -> None:
    assert rules.check_resource("google_storage_bucket", {"name": UNKNOWN}) == []
    found = rules.check_resource("google_storage_bucket", {"name": "Bad", "location": "EU"})
    assert [v.path for v in found] == [("name",)]
