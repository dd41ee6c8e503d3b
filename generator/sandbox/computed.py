"""Realistic values for computed attributes: ids, self links, emails, numbers.

:func:`fill` replaces every unknown in a planned value with what Google (through the
google provider) would return: the provider's id formats, ``self_link`` URLs, service
account ``email``/``member``, bucket ``url``, project numbers and so on. Attributes without
a specific rule get a plausible generic value chosen by name and type. Values derived only
from configuration (such as ``effective_labels``) are also computed at plan time by
:func:`derive_at_plan`, as the real provider does, so a label change shows up in the plan.

Everything is deterministic in the resource's identity (a project's number is a hash of its
ID), so independent runs and data sources agree.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from generator.sandbox import agents
from generator.sandbox.values import UNKNOWN

Ctx = dict[str, Any]  # provider config: project, region, zone, default_labels


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


def _now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _now_ms() -> int:
    return int(time.time() * 1000)


# ------------------------------------------------------------------ per-type formats


def _k(value: Any) -> Any:
    """``value`` if known and set, else None."""
    return None if value is UNKNOWN else value


def _p(s: Ctx, c: Ctx) -> str:
    return str(_k(s.get("project")) or c.get("project") or "sandbox-project")


def _r(s: Ctx, c: Ctx) -> str:
    return str(_k(s.get("region")) or c.get("region") or "europe-west1")


def _sa_email(s: Ctx, c: Ctx) -> str:
    return f"{s.get('account_id')}@{_p(s, c)}.iam.gserviceaccount.com"


def _service_identity_email(s: Ctx, c: Ctx) -> str | None:
    """The primary agent's e-mail: services.generateServiceIdentity returns it for services
    that have one; for others the provider leaves email and member unset (its source:
    "This API may not return the service identity's details")."""
    agent = agents.primary(str(s.get("service")))
    return agent.email(project_number(_p(s, c))) if agent is not None else None


def _composer_hash(s: Ctx, c: Ctx) -> str:
    return short_hash(f"composer:{_p(s, c)}/{s.get('name')}")


F = Callable[[Ctx, Ctx], Any]

# type -> ordered attribute -> value function(state so far, provider ctx). Later entries
# may use earlier results (the state is updated as they are computed).
TYPE_VALUES: dict[str, dict[str, F]] = {
    "google_project": {
        "deletion_policy": lambda s, c: "PREVENT",  # the provider's default since 6.0
        "id": lambda s, c: f"projects/{s['project_id']}",
        "number": lambda s, c: project_number(s["project_id"]),
    },
    "google_project_service": {"id": lambda s, c: f"{_p(s, c)}/{s['service']}"},
    # google-beta; id and email as resource_project_service_identity.go sets them.
    "google_project_service_identity": {
        "id": lambda s, c: f"projects/{_p(s, c)}/services/{s['service']}",
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
        "name": lambda s, c: f"projects/{_p(s, c)}/serviceAccounts/{s['email']}",
        "id": lambda s, c: f"projects/{_p(s, c)}/serviceAccounts/{s['email']}",
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
        "storage_class": lambda s, c: "STANDARD",
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
        "id": lambda s, c: f"projects/{_p(s, c)}/datasets/{s['dataset_id']}",
        "self_link": lambda s, c: (
            f"https://bigquery.googleapis.com/bigquery/v2/projects/{_p(s, c)}/datasets/{s['dataset_id']}"
        ),
        "location": lambda s, c: "US",
    },
    "google_bigquery_dataset_iam_member": {
        "id": lambda s, c: f"projects/{_p(s, c)}/datasets/{s['dataset_id']}/{s['role']}/{s['member']}",
    },
    "google_bigquery_dataset_access": {
        "id": lambda s, c: f"projects/{_p(s, c)}/datasets/{s['dataset_id']}",
    },
    "google_bigquery_table": {
        "id": lambda s, c: f"projects/{_p(s, c)}/datasets/{s['dataset_id']}/tables/{s['table_id']}",
        "self_link": lambda s, c: (
            f"https://bigquery.googleapis.com/bigquery/v2/projects/{_p(s, c)}"
            f"/datasets/{s['dataset_id']}/tables/{s['table_id']}"
        ),
        "type": lambda s, c: "VIEW" if s.get("view") else "TABLE",
        "schema": lambda s, c: "[]",
    },
    # resourceBigQueryJobCreate: id "projects/{{project}}/jobs/{{job_id}}"
    # (google/services/bigquery/resource_bigquery_job.go).
    "google_bigquery_job": {
        "id": lambda s, c: f"projects/{_p(s, c)}/jobs/{s['job_id']}",
        "job_type": lambda s, c: "QUERY" if s.get("query") else "LOAD" if s.get("load") else "COPY",
    },
    "google_pubsub_topic": {
        "id": lambda s, c: f"projects/{_p(s, c)}/topics/{s['name']}",
    },
    "google_pubsub_subscription": {
        "id": lambda s, c: f"projects/{_p(s, c)}/subscriptions/{s['name']}",
        "ack_deadline_seconds": lambda s, c: 10,
    },
    "google_pubsub_topic_iam_member": {
        "id": lambda s, c: f"{s['topic']}/{s['role']}/{s['member']}",
    },
    "google_kms_key_ring": {
        "id": lambda s, c: f"projects/{_p(s, c)}/locations/{s['location']}/keyRings/{s['name']}",
    },
    "google_kms_crypto_key": {
        "id": lambda s, c: f"{s['key_ring']}/cryptoKeys/{s['name']}",
        "destroy_scheduled_duration": lambda s, c: "86400s",
        "purpose": lambda s, c: "ENCRYPT_DECRYPT",
    },
    "google_kms_crypto_key_iam_member": {
        "id": lambda s, c: f"{s['crypto_key_id']}/{s['role']}/{s['member']}",
    },
    "google_compute_network": {
        "id": lambda s, c: f"projects/{_p(s, c)}/global/networks/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{_p(s, c)}/global/networks/{s['name']}"),
        "gateway_ipv4": lambda s, c: "",
    },
    "google_compute_subnetwork": {
        "id": lambda s, c: f"projects/{_p(s, c)}/regions/{_r(s, c)}/subnetworks/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{_p(s, c)}/regions/{_r(s, c)}/subnetworks/{s['name']}"),
        "gateway_address": lambda s, c: _gateway(s.get("ip_cidr_range")),
    },
    "google_compute_firewall": {
        "id": lambda s, c: f"projects/{_p(s, c)}/global/firewalls/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{_p(s, c)}/global/firewalls/{s['name']}"),
    },
    "google_compute_router": {
        "id": lambda s, c: f"projects/{_p(s, c)}/regions/{_r(s, c)}/routers/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{_p(s, c)}/regions/{_r(s, c)}/routers/{s['name']}"),
    },
    "google_compute_router_nat": {
        "id": lambda s, c: f"{_p(s, c)}/{_r(s, c)}/{s['router']}/{s['name']}",
    },
    "google_compute_shared_vpc_service_project": {
        "id": lambda s, c: f"{s['host_project']}/{s['service_project']}",
    },
    "google_composer_environment": {
        "id": lambda s, c: f"projects/{_p(s, c)}/locations/{_r(s, c)}/environments/{s['name']}",
    },
    "google_data_catalog_taxonomy": {
        "name": lambda s, c: (
            f"projects/{_p(s, c)}/locations/{_r(s, c)}/taxonomies/{digits('tax:' + str(s.get('display_name')), 18)}"
        ),
        "id": lambda s, c: s["name"],
    },
    "google_data_catalog_policy_tag": {
        "name": lambda s, c: f"{s['taxonomy']}/policyTags/{digits('tag:' + str(s.get('display_name')), 18)}",
        "id": lambda s, c: s["name"],
    },
    # resource_bigquery_datapolicy_data_policy.go: id with the project ID, name with its number.
    "google_bigquery_datapolicy_data_policy": {
        "id": lambda s, c: f"projects/{_p(s, c)}/locations/{s['location']}/dataPolicies/{s['data_policy_id']}",
        "name": lambda s, c: (
            f"projects/{project_number(_p(s, c))}/locations/{s['location']}/dataPolicies/{s['data_policy_id']}"
        ),
    },
    "google_bigquery_datapolicy_data_policy_iam_member": {
        "id": lambda s, c: (
            f"projects/{_p(s, c)}/locations/{s['location']}/dataPolicies/{s['data_policy_id']}"
            f"/{s['role']}/{s['member']}"
        ),
    },
    "google_logging_project_sink": {
        "id": lambda s, c: f"projects/{_p(s, c)}/sinks/{s['name']}",
        "writer_identity": lambda s, c: (
            f"serviceAccount:service-{project_number(_p(s, c))}@gcp-sa-logging.iam.gserviceaccount.com"
        ),
    },
    "google_monitoring_notification_channel": {
        "name": lambda s, c: (
            f"projects/{_p(s, c)}/notificationChannels/{digits('nc:' + str(s.get('display_name')), 19)}"
        ),
        "id": lambda s, c: s["name"],
    },
    "google_monitoring_alert_policy": {
        "name": lambda s, c: f"projects/{_p(s, c)}/alertPolicies/{digits('ap:' + str(s.get('display_name')), 19)}",
        "id": lambda s, c: s["name"],
    },
    "google_data_loss_prevention_inspect_template": {
        "name": lambda s, c: f"{s['parent']}/inspectTemplates/{digits('dlp:' + str(s.get('display_name')), 19)}",
        "id": lambda s, c: s["name"],
    },
    "google_dataplex_datascan": {
        "id": lambda s, c: f"projects/{_p(s, c)}/locations/{s.get('location')}/dataScans/{s['data_scan_id']}",
        "name": lambda s, c: f"projects/{_p(s, c)}/locations/{s.get('location')}/dataScans/{s['data_scan_id']}",
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
        "id": lambda s, c: f"projects/{_p(s, c)}/datasets/{s['dataset_id']}/routines/{s['routine_id']}",
    },
    "google_compute_global_address": {
        "id": lambda s, c: f"projects/{_p(s, c)}/global/addresses/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{_p(s, c)}/global/addresses/{s['name']}"),
        "address": lambda s, c: "10.{}.0.0".format(int(digits("ga:" + s["name"], 3)) % 200 + 20),
        "prefix_length": lambda s, c: 16,
    },
    "google_compute_route": {
        "id": lambda s, c: f"projects/{_p(s, c)}/global/routes/{s['name']}",
        "self_link": lambda s, c: _compute_link(f"projects/{_p(s, c)}/global/routes/{s['name']}"),
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
        "name": lambda s, c: f"projects/{_p(s, c)}/roles/{s['role_id']}",
        "id": lambda s, c: s["name"],
        "deleted": lambda s, c: False,
    },
    "google_service_networking_connection": {
        "id": lambda s, c: f"{s['network']}:{s['service']}",
        "peering": lambda s, c: "servicenetworking-googleapis-com",
    },
}

# Attribute-name rules used in any type (also inside nested blocks), given the resource's
# top-level state; tried after TYPE_VALUES.
NAME_VALUES: dict[str, F] = {
    "project": lambda s, c: _p(s, c),
    "region": lambda s, c: _r(s, c),
    "zone": lambda s, c: str(c.get("zone") or f"{_r(s, c)}-b"),
    "location": lambda s, c: _r(s, c),
    "dag_gcs_prefix": lambda s, c: f"gs://{_r(s, c)}-{s.get('name')}-{_composer_hash(s, c)}-bucket/dags",
    "airflow_uri": lambda s, c: f"https://{_composer_hash(s, c)}-dot-{_r(s, c)}.composer.googleusercontent.com",
    "gke_cluster": lambda s, c: (
        f"projects/{_p(s, c)}/locations/{_r(s, c)}/clusters/{_r(s, c)}-{s.get('name')}-{_composer_hash(s, c)}-gke"
    ),
    "etag": lambda s, c: "BwY" + short_hash(repr(sorted(s.items(), key=str)), 9),
    "creation_time": lambda s, c: _now_ms(),
    "last_modified_time": lambda s, c: _now_ms(),
    "create_time": lambda s, c: _now_rfc3339(),
    "update_time": lambda s, c: _now_rfc3339(),
    "creation_timestamp": lambda s, c: _now_rfc3339(),
    "with_state": lambda s, c: "ANY",
    # API defaults of common optional+computed settings.
    "deletion_policy": lambda s, c: "DELETE",
    "state": lambda s, c: "ACTIVE",
    "machine_type": lambda s, c: "e2-standard-2",
    "environment_size": lambda s, c: "ENVIRONMENT_SIZE_SMALL",
    "resilience_mode": lambda s, c: "STANDARD_RESILIENCE",
    "auto_network_tier": lambda s, c: "PREMIUM",
    "routing_mode": lambda s, c: "REGIONAL",
    "stack_type": lambda s, c: "IPV4_ONLY",
    "purpose": lambda s, c: "PRIVATE",
    "storage_class": lambda s, c: "STANDARD",
    "message_retention_duration": lambda s, c: "604800s",
    "num_rows": lambda s, c: 0,
    "num_bytes": lambda s, c: 0,
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


# ------------------------------------------------------------------ labels


def derived_labels(state: Ctx, ctx: Ctx) -> tuple[Any, Any]:
    """``(effective_labels, terraform_labels)`` from ``labels`` and provider default_labels.

    Returns unknowns while the labels are not known yet.
    """
    labels = state.get("labels")
    if labels is UNKNOWN or (isinstance(labels, dict) and UNKNOWN in labels.values()):
        return UNKNOWN, UNKNOWN
    merged = dict(ctx.get("default_labels") or {})
    merged.update(labels or {})
    return merged, dict(merged)


def derive_at_plan(block: dict[str, Any], state: Ctx, ctx: Ctx) -> None:
    """Set the config-derived computed attributes of ``state`` in place (labels)."""
    attrs = block.get("attributes", {})
    if "effective_labels" in attrs and "labels" in attrs:
        eff, tf = derived_labels(state, ctx)
        state["effective_labels"] = eff
        if "terraform_labels" in attrs:
            state["terraform_labels"] = tf


# ------------------------------------------------------------------ generic fallback


def generic_value(name: str, cty_type: Any, top: Ctx, ctx: Ctx, type_name: str) -> Any:
    """A plausible value for a computed attribute no rule knows about."""
    if cty_type == "string":
        seed = f"{type_name}:{top.get('name') or top.get('id')}:{name}"
        if name == "id" or name.endswith("_id"):
            return f"projects/{_p(top, ctx)}/{type_name.removeprefix('google_')}/" + str(
                top.get("name") or short_hash(seed, 12)
            )
        if name.endswith("self_link") or name.endswith("_uri") or name.endswith("_url"):
            return f"https://sandbox.googleapis.com/{type_name}/{short_hash(seed, 12)}"
        if name.endswith("email"):
            return f"sandbox-{short_hash(seed, 8)}@{_p(top, ctx)}.iam.gserviceaccount.com"
        if name.endswith("_time") or name.endswith("timestamp"):
            return _now_rfc3339()
        return f"sandbox-{name.replace('_', '-')}-{short_hash(seed, 8)}"
    if cty_type == "number":
        return 0
    if cty_type == "bool":
        return False
    if isinstance(cty_type, list) and cty_type:
        kind = cty_type[0]
        if kind in ("list", "set", "tuple"):
            return []
        if kind == "map":
            return {}
        if kind == "object":
            fields = cty_type[1]
            return {k: generic_value(k, t, top, ctx, type_name) for k, t in fields.items()}
    return None


def iam_id(type_name: str, block: dict[str, Any], s: Ctx) -> str | None:
    """``parent.../role[/member]`` for IAM member and binding types, else None."""
    if not type_name.endswith(("_iam_member", "_iam_binding")):
        return None
    attrs = block.get("attributes", {})
    parents = [
        str(s[n]) for n, a in sorted(attrs.items()) if a.get("required") and n not in ("role", "member", "members")
    ]
    tail = [str(s.get("role"))]
    if type_name.endswith("_iam_member"):
        tail.append(str(s.get("member")))
    return "/".join(parents + tail)


def fallback_id(type_name: str, s: Ctx, ctx: Ctx) -> str:
    """An id for types without a known format: ``projects/P/<type>/<name or hash>``.

    Without a ``name`` the hash covers every configured value, so two resources of the
    same type never share an id by accident.
    """
    name = _k(s.get("name"))
    if not name:
        known = {k: v for k, v in s.items() if v is not UNKNOWN and v not in (None, [], {})}
        name = short_hash(f"{type_name}:{sorted(known.items(), key=str)}", 16)
    return f"projects/{_p(s, ctx)}/{type_name.removeprefix('google_')}/{name}"


def _fill_block(block: dict[str, Any], value: Ctx, top: Ctx, ctx: Ctx, type_name: str, specific: bool) -> None:
    attrs = block.get("attributes", {})
    if specific:
        # Placement first: ids and links below are built from it.
        for name in ("project", "region", "zone"):
            if name in attrs and value.get(name) is UNKNOWN:
                value[name] = NAME_VALUES[name](value, ctx)
        # Type rules next, in order, so later ones can use earlier results.
        for name, fn in TYPE_VALUES.get(type_name, {}).items():
            if name in attrs and value.get(name) is UNKNOWN:
                try:
                    value[name] = fn(value, ctx)
                except (KeyError, TypeError):
                    pass  # an input is missing: fall through to the generic value
        if value.get("id") is UNKNOWN and "id" in attrs:
            value["id"] = iam_id(type_name, block, value) or fallback_id(type_name, value, ctx)
    for name, attr in attrs.items():
        if value.get(name) is not UNKNOWN:
            continue
        if name in ("effective_labels", "terraform_labels"):
            eff, tf = derived_labels(value, ctx)
            value[name] = eff if name == "effective_labels" else tf
            continue
        rule = NAME_VALUES.get(name)
        if rule is not None:
            value[name] = rule(top if not specific else value, ctx)
        else:
            value[name] = generic_value(name, attr.get("type"), top, ctx, type_name)
    for name, nested in block.get("block_types", {}).items():
        items = value.get(name)
        if isinstance(items, dict) and nested.get("nesting_mode") in ("single", "group"):
            items = [items]
        elif isinstance(items, dict):
            items = list(items.values())
        for item in items or []:
            if isinstance(item, dict):
                _fill_block(nested["block"], item, top, ctx, type_name, False)


def fill(type_name: str, block: dict[str, Any], state: Ctx, ctx: Ctx) -> Ctx:
    """Replace every unknown in ``state`` (a resource's planned value) in place; return it."""
    _fill_block(block, state, state, ctx, type_name, True)
    return state
