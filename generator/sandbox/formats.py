"""The google provider's formats for computed attributes, per resource type.

:data:`TYPE_VALUES` says, for each type the bundled modules use, how Google (through the
google provider) fills its computed attributes: the id formats the provider's resources set,
``self_link`` URLs, service account ``email``/``member``, bucket ``url``, project numbers,
and API defaults of optional settings. :mod:`generator.sandbox.computed` applies the table
and falls back on rules by attribute name and generic values.

Everything is deterministic in the resource's identity (a project's number is a hash of its
ID), so independent runs and data sources agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from generator.sandbox import agents
from generator.sandbox.values import UNKNOWN

Ctx = dict[str, Any]  # a resource's state, or the provider config: project, region, zone, default_labels
F = Callable[[Ctx, Ctx], Any]


def digits(seed: str, n: int) -> str:
    """``n`` deterministic decimal digits (no leading zero) derived from ``seed``."""
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    low = 10 ** (n - 1)
    return str(low + h % (9 * low))


def short_hash(seed: str, n: int = 8) -> str:
    """``n`` deterministic hex characters derived from ``seed``."""
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def project_number(project_id: str) -> str:
    """The sandbox's project number of ``project_id``: 12 digits, stable."""
    return digits(f"project:{project_id}", 12)


def known(value: Any) -> Any:
    """``value`` if known and set, else None."""
    return None if value is UNKNOWN else value


def project_of(s: Ctx, c: Ctx) -> str:
    """The resource's project, else the provider's, else a placeholder."""
    return str(known(s.get("project")) or c.get("project") or "sandbox-project")


def region_of(s: Ctx, c: Ctx) -> str:
    """The resource's region, else the provider's, else a placeholder."""
    return str(known(s.get("region")) or c.get("region") or "europe-west1")


def _sa_email(s: Ctx, c: Ctx) -> str:
    return f"{s.get('account_id')}@{project_of(s, c)}.iam.gserviceaccount.com"


def _service_identity_email(s: Ctx, c: Ctx) -> str | None:
    """The primary agent's e-mail: services.generateServiceIdentity returns it for services
    that have one; for others the provider leaves email and member unset (its source:
    "This API may not return the service identity's details")."""
    agent = agents.primary(str(s.get("service")))
    return agent.email(project_number(project_of(s, c))) if agent is not None else None


# type -> ordered attribute -> value function(state so far, provider ctx). Later entries
# may use earlier results (the state is updated as they are computed). Only computed
# attributes get values (Terraform refuses a provider's value for an argument left unset);
# tests/sandbox_formats_test.py checks every entry against the served schemas.
TYPE_VALUES: dict[str, dict[str, F]] = {
    "google_project": {
        "deletion_policy": lambda s, c: "PREVENT",  # the provider's default since 6.0
        "id": lambda s, c: f"projects/{s['project_id']}",
        "number": lambda s, c: project_number(s["project_id"]),
    },
    "google_project_service": {"id": lambda s, c: f"{project_of(s, c)}/{s['service']}"},
    # google-beta; id and email as resource_project_service_identity.go sets them.
    "google_project_service_identity": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/services/{s['service']}",
        "email": _service_identity_email,
        "member": lambda s, c: f"serviceAccount:{s['email']}" if s.get("email") else None,
    },
    "google_project_iam_member": {
        "id": lambda s, c: f"{s['project']}/{s['role']}/{s['member']}",
    },
    "google_project_iam_binding": {"id": lambda s, c: f"{s['project']}/{s['role']}"},
    "google_project_iam_audit_config": {"id": lambda s, c: f"{s['project']}/audit/{s['service']}"},
    "google_service_account": {
        "email": _sa_email,
        "member": lambda s, c: f"serviceAccount:{s['email']}",
        "name": lambda s, c: f"projects/{project_of(s, c)}/serviceAccounts/{s['email']}",
        "id": lambda s, c: f"projects/{project_of(s, c)}/serviceAccounts/{s['email']}",
        "unique_id": lambda s, c: digits(f"sa:{s['email']}", 21),
    },
    "google_service_account_iam_member": {
        "id": lambda s, c: f"{s['service_account_id']}/{s['role']}/{s['member']}",
    },
    "google_storage_bucket": {
        "id": lambda s, c: s["name"],
        "url": lambda s, c: f"gs://{s['name']}",
        "self_link": lambda s, c: f"https://www.googleapis.com/storage/v1/b/{s['name']}",
        "uniform_bucket_level_access": lambda s, c: False,
        "public_access_prevention": lambda s, c: "inherited",
    },
    "google_storage_bucket_iam_member": {
        "id": lambda s, c: f"b/{s['bucket']}/{s['role']}/{s['member']}",
    },
    "google_storage_bucket_object": {
        "id": lambda s, c: f"{s['bucket']}-{s['name']}",
        "self_link": lambda s, c: f"https://www.googleapis.com/storage/v1/b/{s['bucket']}/o/{s['name']}",
        "media_link": lambda s, c: (
            f"https://storage.googleapis.com/download/storage/v1/b/{s['bucket']}/o/{s['name']}?alt=media"
        ),
        "output_name": lambda s, c: s["name"],
    },
    "google_bigquery_dataset": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/datasets/{s['dataset_id']}",
        "self_link": lambda s, c: (
            f"https://bigquery.googleapis.com/bigquery/v2/projects/{project_of(s, c)}/datasets/{s['dataset_id']}"
        ),
    },
    "google_bigquery_dataset_iam_member": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/datasets/{s['dataset_id']}/{s['role']}/{s['member']}",
    },
    "google_bigquery_dataset_access": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/datasets/{s['dataset_id']}",
    },
    "google_bigquery_table": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/datasets/{s['dataset_id']}/tables/{s['table_id']}",
        "self_link": lambda s, c: (
            f"https://bigquery.googleapis.com/bigquery/v2/projects/{project_of(s, c)}"
            f"/datasets/{s['dataset_id']}/tables/{s['table_id']}"
        ),
        "type": lambda s, c: "VIEW" if s.get("view") else "TABLE",
        "schema": lambda s, c: "[]",
    },
    # resourceBigQueryJobCreate: id "projects/{{project}}/jobs/{{job_id}}"
    # (google/services/bigquery/resource_bigquery_job.go).
    "google_bigquery_job": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/jobs/{s['job_id']}",
        "job_type": lambda s, c: "QUERY" if s.get("query") else "LOAD" if s.get("load") else "COPY",
    },
    "google_pubsub_topic": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/topics/{s['name']}",
    },
    "google_pubsub_subscription": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/subscriptions/{s['name']}",
        "ack_deadline_seconds": lambda s, c: 10,
    },
    "google_pubsub_topic_iam_member": {
        "id": lambda s, c: f"{s['topic']}/{s['role']}/{s['member']}",
    },
    "google_kms_key_ring": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/locations/{s['location']}/keyRings/{s['name']}",
    },
    "google_kms_crypto_key": {
        "id": lambda s, c: f"{s['key_ring']}/cryptoKeys/{s['name']}",
        "destroy_scheduled_duration": lambda s, c: "86400s",
    },
    "google_kms_crypto_key_iam_member": {
        "id": lambda s, c: f"{s['crypto_key_id']}/{s['role']}/{s['member']}",
    },
    "google_compute_network": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/global/networks/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{project_of(s, c)}/global/networks/{s['name']}"),
        "gateway_ipv4": lambda s, c: "",
    },
    "google_compute_subnetwork": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/regions/{region_of(s, c)}/subnetworks/{s['name']}",
        "self_link": lambda s, c: _compute_link(
            f"projects/{project_of(s, c)}/regions/{region_of(s, c)}/subnetworks/{s['name']}"
        ),
        "gateway_address": lambda s, c: _gateway(s.get("ip_cidr_range")),
    },
    "google_compute_firewall": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/global/firewalls/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{project_of(s, c)}/global/firewalls/{s['name']}"),
    },
    "google_compute_router": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/regions/{region_of(s, c)}/routers/{s['name']}",
        "self_link": lambda s, c: _compute_link(
            f"projects/{project_of(s, c)}/regions/{region_of(s, c)}/routers/{s['name']}"
        ),
    },
    "google_compute_router_nat": {
        "id": lambda s, c: f"{project_of(s, c)}/{region_of(s, c)}/{s['router']}/{s['name']}",
    },
    "google_compute_shared_vpc_service_project": {
        "id": lambda s, c: f"{s['host_project']}/{s['service_project']}",
    },
    "google_composer_environment": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/locations/{region_of(s, c)}/environments/{s['name']}",
    },
    "google_data_catalog_taxonomy": {
        "name": lambda s, c: (
            f"projects/{project_of(s, c)}/locations/{region_of(s, c)}"
            f"/taxonomies/{digits('tax:' + str(s.get('display_name')), 18)}"
        ),
        "id": lambda s, c: s["name"],
    },
    "google_data_catalog_policy_tag": {
        "name": lambda s, c: f"{s['taxonomy']}/policyTags/{digits('tag:' + str(s.get('display_name')), 18)}",
        "id": lambda s, c: s["name"],
    },
    # resource_bigquery_datapolicy_data_policy.go: id with the project ID, name with its number.
    "google_bigquery_datapolicy_data_policy": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/locations/{s['location']}/dataPolicies/{s['data_policy_id']}",
        "name": lambda s, c: (
            f"projects/{project_number(project_of(s, c))}/locations/{s['location']}/dataPolicies/{s['data_policy_id']}"
        ),
    },
    "google_bigquery_datapolicy_data_policy_iam_member": {
        "id": lambda s, c: (
            f"projects/{project_of(s, c)}/locations/{s['location']}/dataPolicies/{s['data_policy_id']}"
            f"/{s['role']}/{s['member']}"
        ),
    },
    "google_logging_project_sink": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/sinks/{s['name']}",
        "writer_identity": lambda s, c: (
            f"serviceAccount:service-{project_number(project_of(s, c))}@gcp-sa-logging.iam.gserviceaccount.com"
        ),
    },
    "google_monitoring_notification_channel": {
        "name": lambda s, c: (
            f"projects/{project_of(s, c)}/notificationChannels/{digits('nc:' + str(s.get('display_name')), 19)}"
        ),
        "id": lambda s, c: s["name"],
    },
    "google_monitoring_alert_policy": {
        "name": lambda s, c: (
            f"projects/{project_of(s, c)}/alertPolicies/{digits('ap:' + str(s.get('display_name')), 19)}"
        ),
        "id": lambda s, c: s["name"],
    },
    "google_data_loss_prevention_inspect_template": {
        "name": lambda s, c: f"{s['parent']}/inspectTemplates/{digits('dlp:' + str(s.get('display_name')), 19)}",
        "id": lambda s, c: s["name"],
    },
    "google_dataplex_datascan": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/locations/{s.get('location')}/dataScans/{s['data_scan_id']}",
        "name": lambda s, c: f"projects/{project_of(s, c)}/locations/{s.get('location')}/dataScans/{s['data_scan_id']}",
    },
    "google_access_context_manager_access_policy": {
        "name": lambda s, c: digits(f"acm:{s.get('parent')}:{s.get('title')}", 12),
        "id": lambda s, c: s["name"],
    },
    "google_access_context_manager_access_level": {"id": lambda s, c: s["name"]},
    "google_access_context_manager_service_perimeter": {"id": lambda s, c: s["name"]},
    "google_access_context_manager_service_perimeter_resource": {
        "access_policy_id": lambda s, c: str(s["perimeter_name"]).split("/")[1],
        "id": lambda s, c: f"{s['perimeter_name']}/{s['resource']}",
    },
    "google_access_context_manager_service_perimeter_dry_run_resource": {
        "access_policy_id": lambda s, c: str(s["perimeter_name"]).split("/")[1],
        "id": lambda s, c: f"{s['perimeter_name']}/{s['resource']}",
    },
    "google_bigquery_routine": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/datasets/{s['dataset_id']}/routines/{s['routine_id']}",
    },
    "google_compute_global_address": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/global/addresses/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{project_of(s, c)}/global/addresses/{s['name']}"),
        "address": lambda s, c: "10.{}.0.0".format(int(digits("ga:" + s["name"], 3)) % 200 + 20),
        "prefix_length": lambda s, c: 16,
    },
    "google_compute_route": {
        "id": lambda s, c: f"projects/{project_of(s, c)}/global/routes/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{project_of(s, c)}/global/routes/{s['name']}"),
    },
    "google_compute_shared_vpc_host_project": {"id": lambda s, c: s["project"]},
    "google_logging_metric": {"id": lambda s, c: s["name"]},
    # Id format from the provider's website/docs/r/monitoring_monitored_project.html.markdown.
    "google_monitoring_monitored_project": {
        "id": lambda s, c: f"locations/global/metricsScopes/{s['metrics_scope']}/projects/{s['name']}",
    },
    "google_logging_project_bucket_config": {
        "name": lambda s, c: f"projects/{s['project']}/locations/{s['location']}/buckets/{s['bucket_id']}",
        "id": lambda s, c: s["name"],
        "lifecycle_state": lambda s, c: "ACTIVE",
    },
    "google_org_policy_policy": {"id": lambda s, c: s["name"]},
    "google_project_iam_custom_role": {
        "name": lambda s, c: f"projects/{project_of(s, c)}/roles/{s['role_id']}",
        "id": lambda s, c: s["name"],
        "deleted": lambda s, c: False,
    },
    "google_service_networking_connection": {
        "id": lambda s, c: f"{s['network']}:{s['service']}",
        "peering": lambda s, c: "servicenetworking-googleapis-com",
    },
}

def _compute_link(path: str) -> str:
    return f"https://www.googleapis.com/compute/v1/{path}"


def _gateway(cidr: Any) -> str:
    if not isinstance(cidr, str) or "/" not in cidr:
        return ""
    parts = cidr.split("/")[0].split(".")
    if len(parts) != 4:
        return ""
    return ".".join(parts[:3] + [str(int(parts[3]) + 1)])
