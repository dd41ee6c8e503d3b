"""GCP rules that the provider schema cannot express, enforced by the sandbox.

Each check looks at known values only (an unknown value is checked again at plan or apply
time, once Terraform knows it) and returns :class:`Violation` objects whose message names
the value and the rule. These mirror the documented Google Cloud limits; they are a
sandbox approximation, not the API's exact validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

from generator import bqtable
from generator.naming import RULES, kms_location


@dataclass(frozen=True)
class Violation:
    """One broken rule: the attribute path (names and list indexes) and the message."""

    path: tuple[str | int, ...]
    message: str


# The rules df-gen's own names follow (naming.RULES) are Google's; the sandbox checks the
# same patterns. Buckets differ: naming keeps df-gen's names to 63 characters, while Google
# accepts up to 222 with dots, which the sandbox must accept too.
_PROJECT_ID = RULES["project"][0]
_ACCOUNT_ID = RULES["service_account"][0]
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_DATASET = RULES["dataset"][0]
_TABLE = re.compile(r"^[\w\- ]{1,1024}$")
_TOPIC = RULES["topic"][0]
_KMS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_KEY_LOCATION = re.compile(r"^projects/[^/]+/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+")


def _known_str(value: Any) -> TypeGuard[str]:
    return isinstance(value, str)


def project_id_problem(value: str) -> str | None:
    """Why ``value`` is not a valid GCP project ID, or None."""
    if _PROJECT_ID.match(value):
        return None
    return (
        f'invalid project ID "{value}": must be 6 to 30 characters of lowercase letters, '
        "digits and hyphens, start with a letter and not end with a hyphen "
        "(sandbox rule: GCP project IDs)"
    )


def account_id_problem(value: str) -> str | None:
    """Why ``value`` is not a valid service-account ID, or None."""
    if _ACCOUNT_ID.match(value):
        return None
    return (
        f'invalid service account ID "{value}" ({len(value)} characters): must be 6 to 30 '
        "characters of lowercase letters, digits and hyphens, start with a letter and not "
        "end with a hyphen (sandbox rule: service-account IDs match "
        "^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$)"
    )


def bucket_name_problem(value: str) -> str | None:
    """Why ``value`` is not a valid GCS bucket name, or None."""
    why = None
    if not 3 <= len(value) <= 222 or any(len(p) > 63 for p in value.split(".")):
        why = "must be 3 to 63 characters (222 with dots, 63 per dot-separated part)"
    elif not _BUCKET.match(value):
        why = (
            "may contain only lowercase letters, digits, hyphens, underscores and dots, and "
            "must start and end with a letter or digit"
        )
    elif value.startswith("goog") or "google" in value or "g00gle" in value:
        why = 'must not start with "goog" or contain "google"'
    elif _IPV4.match(value):
        why = "must not look like an IP address"
    if why is None:
        return None
    return f'invalid bucket name "{value}": {why} (sandbox rule: GCS bucket names)'


def dataset_id_problem(value: str) -> str | None:
    """Why ``value`` is not a valid BigQuery dataset ID, or None."""
    if _DATASET.match(value):
        return None
    return (
        f'invalid dataset ID "{value}": may contain only letters, digits and underscores, '
        "1 to 1024 characters (sandbox rule: BigQuery dataset IDs)"
    )


def table_id_problem(value: str) -> str | None:
    """Why ``value`` is not a valid BigQuery table ID, or None."""
    if _TABLE.match(value):
        return None
    return (
        f'invalid table ID "{value}": may contain only letters, digits, underscores, '
        "hyphens and spaces, 1 to 1024 characters (sandbox rule: BigQuery table IDs)"
    )


def topic_name_problem(value: str, what: str = "topic") -> str | None:
    """Why ``value`` is not a valid Pub/Sub topic or subscription name, or None."""
    short = value.rsplit("/", 1)[-1]
    why = None
    if not _TOPIC.match(short):
        why = "must be 3 to 255 characters, start with a letter and contain only letters, digits and - _ . ~ + %"
    elif short.lower().startswith("goog"):
        why = 'must not start with "goog"'
    if why is None:
        return None
    return f'invalid Pub/Sub {what} name "{value}": {why} (sandbox rule: Pub/Sub resource names)'


def kms_name_problem(value: str, what: str) -> str | None:
    """Why ``value`` is not a valid KMS key ring or key name, or None."""
    if _KMS_NAME.match(value):
        return None
    return (
        f'invalid KMS {what} name "{value}": 1 to 63 letters, digits, underscores or '
        "hyphens (sandbox rule: Cloud KMS names)"
    )


def key_location(key_name: str) -> str | None:
    """The location part of a KMS crypto key name, or None when it is not a key name."""
    match = _KEY_LOCATION.match(key_name)
    return match.group(1).lower() if match else None


def cmek_problem(key_name: str, location: str, what: str) -> str | None:
    """Why the key ``key_name`` cannot protect a resource in ``location``, or None."""
    key_loc = key_location(key_name)
    if key_loc is None:
        return (
            f'invalid KMS key name "{key_name}": expected '
            "projects/P/locations/L/keyRings/R/cryptoKeys/K (sandbox rule: CMEK key names)"
        )
    expected = kms_location(location)
    if key_loc != expected:
        return (
            f'KMS key "{key_name}" is in location "{key_loc}" but the {what} is in '
            f'"{location}": a CMEK key must be in the location of the data it protects, '
            f'"{expected}" (sandbox rule: CMEK key location)'
        )
    return None


_TAG_LOCATION = re.compile(r"^projects/[^/]+/locations/([^/]+)/taxonomies/[^/]+/policyTags/[^/]+$")


def data_policy_location_problem(cfg: dict[str, Any]) -> str | None:
    """A data policy outside its policy tag's location. Taxonomies are regional, a data policy
    is created under projects/P/locations/L and names a policy tag under
    projects/P/locations/L/taxonomies/T (Data Policy API, projects.locations.dataPolicies:
    https://cloud.google.com/bigquery/docs/reference/bigquerydatapolicy/rest/v1/projects.locations.dataPolicies;
    every provider example, resource_bigquery_datapolicy_data_policy_test.go, creates both in
    one location): the sandbox refuses a policy whose location differs from its tag's."""
    tag, location = cfg.get("policy_tag"), cfg.get("location")
    if not (_known_str(tag) and _known_str(location)):
        return None
    match = _TAG_LOCATION.match(tag)
    if match is None:
        return (
            f'invalid policy tag "{tag}": expected projects/P/locations/L/taxonomies/T/policyTags/G '
            "(sandbox rule: data policy tags)"
        )
    if match.group(1).lower() != location.lower():
        return (
            f'data policy location "{location}" does not match the location "{match.group(1)}" of '
            f'policy tag "{tag}" (sandbox rule: a data policy is in its policy tag\'s location)'
        )
    return None


# ------------------------------------------------------------------ per resource type

Check = Callable[[dict[str, Any]], Iterator[Violation]]


def _attr(name: str, problem: Callable[[str], str | None]) -> Check:
    def check(cfg: dict[str, Any]) -> Iterator[Violation]:
        value = cfg.get(name)
        if _known_str(value):
            msg = problem(value)
            if msg:
                yield Violation((name,), msg)

    return check


def _whole(name: str, problem: Callable[[dict[str, Any]], str | None]) -> Check:
    """A rule on several attributes, reported at ``name``."""

    def check(cfg: dict[str, Any]) -> Iterator[Violation]:
        msg = problem(cfg)
        if msg:
            yield Violation((name,), msg)

    return check


def _first(cfg: dict[str, Any], block: str) -> dict[str, Any] | None:
    items = cfg.get(block)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    if isinstance(items, dict):
        return items
    return None


def _cmek(block: str, key_attr: str, location_attr: str, what: str) -> Check:
    def check(cfg: dict[str, Any]) -> Iterator[Violation]:
        location = cfg.get(location_attr)
        item = cfg if not block else _first(cfg, block)
        if item is None or not isinstance(location, str):
            return
        key = item.get(key_attr)
        if _known_str(key):
            msg = cmek_problem(key, location, what)
            if msg:
                path: tuple[str | int, ...] = (block, 0, key_attr) if block else (key_attr,)
                yield Violation(path, msg)

    return check


# ------------------------------------------------------------------ BigQuery table definitions


def _bigquery_schema_json(cfg: dict[str, Any]) -> Iterator[Violation]:
    """The provider's ``validateBigQueryTableSchema`` (plan time): a JSON list without nulls
    (google/services/bigquery/resource_bigquery_table.go in the provider repository)."""
    text = cfg.get("schema")
    if not _known_str(text):
        return
    try:
        value = json.loads(text)
    except ValueError as exc:
        yield Violation(("schema",), f'"schema" contains an invalid JSON: {exc}')
        return
    if not isinstance(value, list):
        yield Violation(("schema",), '"schema" is not a JSON array')
    elif any(item is None for item in value):
        yield Violation(("schema",), '"schema" contains a nil element')


def _bigquery_clustering_count(cfg: dict[str, Any]) -> Iterator[Violation]:
    """``clustering`` has MaxItems 4 in the provider's schema (the served schema omits it)."""
    columns = cfg.get("clustering")
    if isinstance(columns, list) and len(columns) > bqtable.MAX_CLUSTERING:
        yield Violation(("clustering",), f"Attribute supports {bqtable.MAX_CLUSTERING} item maximum, "
                                         f"but config has {len(columns)} declared.")


def table_definition(cfg: dict[str, Any]) -> bqtable.TableDefinition | None:
    """The definition Google checks, from a ``google_bigquery_table`` config (None while the
    schema is unknown or unreadable: a view, or a value known only after apply)."""
    schema = bqtable.parse_schema(cfg.get("schema")) if _known_str(cfg.get("schema")) else None
    if not isinstance(schema, list):
        return None
    time_partitioning = _first(cfg, "time_partitioning")
    range_partitioning = _first(cfg, "range_partitioning")
    clustering = cfg.get("clustering")
    return bqtable.TableDefinition(
        schema=schema,
        time_partitioning=time_partitioning,
        range_partitioning=range_partitioning,
        clustering=tuple(c for c in clustering if _known_str(c)) if isinstance(clustering, list) else (),
    )


_TERRAFORM_PATH: dict[str, tuple[str | int, ...]] = {
    "schema": ("schema",),
    "time_partitioning": ("time_partitioning", 0, "field"),
    "range_partitioning": ("range_partitioning", 0, "field"),
}


def _bigquery_table_definition(prior: Any, cfg: dict[str, Any]) -> Iterator[Violation]:
    """BigQuery's checks of a table definition on tables.insert / tables.update (apply time):
    the rule table of :mod:`generator.bqtable`, then the partitioning an update cannot change."""
    definition = table_definition(cfg)
    if definition is None:
        return
    for problem in bqtable.check_table(definition):
        head = str(problem.where[0])
        path = _TERRAFORM_PATH.get(head, problem.where)
        doc = next(r.doc for r in bqtable.TABLE_RULES if r.id == problem.rule)
        yield Violation(path, f"googleapi: Error 400: {problem.message}, invalid "
                              f"(sandbox rule: BigQuery {problem.rule}, {doc})")
    before = table_definition(prior) if isinstance(prior, dict) else None
    if before is not None:
        refused = bqtable.partitioning_change_problem(before, definition)
        if refused:
            yield Violation(("time_partitioning",), f"googleapi: Error 400: {refused}, invalid (sandbox rule: "
                                                    "BigQuery keeps a table's partitioning, "
                                                    "https://cloud.google.com/bigquery/docs/partitioned-tables)")


APPLY_CHECKS: dict[str, Callable[[Any, dict[str, Any]], Iterator[Violation]]] = {
    "google_bigquery_table": _bigquery_table_definition,
}
"""Checks Google makes when the API is called (create or update), given (prior, planned)."""


def check_apply(type_name: str, prior: Any, planned: Any) -> list[Violation]:
    """Every violation Google's API would answer a create/update of ``planned`` with."""
    check = APPLY_CHECKS.get(type_name)
    if check is None or not isinstance(planned, dict):
        return []
    return list(check(prior, planned))


RESOURCE_CHECKS: dict[str, list[Check]] = {
    "google_project": [_attr("project_id", project_id_problem)],
    "google_service_account": [_attr("account_id", account_id_problem)],
    "google_storage_bucket": [
        _attr("name", bucket_name_problem),
        _cmek("encryption", "default_kms_key_name", "location", "bucket"),
    ],
    "google_bigquery_dataset": [
        _attr("dataset_id", dataset_id_problem),
        _cmek("default_encryption_configuration", "kms_key_name", "location", "dataset"),
    ],
    "google_bigquery_table": [
        _attr("dataset_id", dataset_id_problem),
        _attr("table_id", table_id_problem),
        _bigquery_schema_json,
        _bigquery_clustering_count,
    ],
    "google_pubsub_topic": [_attr("name", topic_name_problem)],
    "google_pubsub_subscription": [
        _attr("name", lambda v: topic_name_problem(v, "subscription")),
    ],
    "google_bigquery_datapolicy_data_policy": [_whole("location", data_policy_location_problem)],
    "google_kms_key_ring": [_attr("name", lambda v: kms_name_problem(v, "key ring"))],
    "google_kms_crypto_key": [_attr("name", lambda v: kms_name_problem(v, "crypto key"))],
}


def check_resource(type_name: str, cfg: Any) -> list[Violation]:
    """Every rule violation in the (possibly partly unknown) config of one resource."""
    if not isinstance(cfg, dict):
        return []
    found: list[Violation] = []
    for check in RESOURCE_CHECKS.get(type_name, []):
        found.extend(check(cfg))
    return found


def check_provider(cfg: Any) -> list[Violation]:
    """Rule violations in the provider configuration (its default project ID)."""
    if isinstance(cfg, dict) and _known_str(cfg.get("project")):
        msg = project_id_problem(cfg["project"])
        if msg:
            return [Violation(("project",), msg)]
    return []
