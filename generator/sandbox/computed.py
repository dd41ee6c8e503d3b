"""Realistic values for computed attributes: ids, self links, emails, numbers.

:func:`fill` replaces every unknown in a planned value with what Google (through the
google provider) would return: first the type's own formats (:mod:`generator.sandbox.formats`),
then rules by attribute name used in any type (:data:`NAME_VALUES`), then a plausible
generic value chosen by name and type. Values derived only from configuration (such as
``effective_labels``) are also computed at plan time by :func:`derive_at_plan`, as the real
provider does, so a label change shows up in the plan.
"""

from __future__ import annotations

import time
from typing import Any

from generator.sandbox.formats import TYPE_VALUES, Ctx, F, known, project_of, region_of, short_hash
from generator.sandbox.values import UNKNOWN


def _now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _now_ms() -> int:
    return int(time.time() * 1000)


def _composer_hash(s: Ctx, c: Ctx) -> str:
    return short_hash(f"composer:{project_of(s, c)}/{s.get('name')}")


# Attribute-name rules used in any type (also inside nested blocks), given the resource's
# top-level state; tried after TYPE_VALUES.
NAME_VALUES: dict[str, F] = {
    "project": project_of,
    "region": region_of,
    "zone": lambda s, c: str(c.get("zone") or f"{region_of(s, c)}-b"),
    "location": region_of,
    "dag_gcs_prefix": lambda s, c: f"gs://{region_of(s, c)}-{s.get('name')}-{_composer_hash(s, c)}-bucket/dags",
    "airflow_uri": lambda s, c: f"https://{_composer_hash(s, c)}-dot-{region_of(s, c)}.composer.googleusercontent.com",
    "gke_cluster": lambda s, c: (
        f"projects/{project_of(s, c)}/locations/{region_of(s, c)}/clusters/"
        f"{region_of(s, c)}-{s.get('name')}-{_composer_hash(s, c)}-gke"
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
            return f"projects/{project_of(top, ctx)}/{type_name.removeprefix('google_')}/" + str(
                top.get("name") or short_hash(seed, 12)
            )
        if name.endswith("self_link") or name.endswith("_uri") or name.endswith("_url"):
            return f"https://sandbox.googleapis.com/{type_name}/{short_hash(seed, 12)}"
        if name.endswith("email"):
            return f"sandbox-{short_hash(seed, 8)}@{project_of(top, ctx)}.iam.gserviceaccount.com"
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
    name = known(s.get("name"))
    if not name:
        values = {k: v for k, v in s.items() if v is not UNKNOWN and v not in (None, [], {})}
        name = short_hash(f"{type_name}:{sorted(values.items(), key=str)}", 16)
    return f"projects/{project_of(s, ctx)}/{type_name.removeprefix('google_')}/{name}"


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
