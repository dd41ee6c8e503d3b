"""A data source's stack: landing and archive buckets, Pub/Sub, writer identities, datasets."""

from __future__ import annotations

import dataclasses
from typing import Any

from generator import access, adoption, naming, renames
from generator.defaults import default
from generator.hcl import Raw
from generator.lifecycle_blocks import Import
from generator.model.context import Context
from generator.model.stack import Stack, agent_email, agent_member, drop_none, frozen, module_outputs

BUCKET_ROLES = ("landing", "archive")


def datasource_stack(ctx: Context, key: str, data: dict[str, Any]) -> Stack:
    """The stack of data source ``key``."""
    # Google names come from the key the source was first rendered under (renamed_from).
    gkey = naming.google_key(key, data)
    args: dict[str, Any] = {
        "name": gkey,
        "projects": dict(ctx.projects),
        "location": ctx.location,
    }
    kms = {s: ctx.kms_keys[s] for s in ("storage", "bigquery", "pubsub") if s in ctx.kms_keys}
    if kms:
        args["kms_keys"] = kms
    args["buckets"] = _buckets(ctx, gkey, data)
    topics = _topics(ctx, gkey, data)
    dead_letter = any(topic.get("dead_letter") for topic in topics.values())
    if topics:
        args["topics"] = topics
        args["message_storage_regions"] = data["pubsub"].get(
            "allowed_regions", naming.message_storage_regions(ctx.location)
        )
    if dead_letter:
        # Forwards dead letters (https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions).
        args["pubsub_service_agent"] = Raw(agent_email(naming.PUBSUB_LAYER, "pubsub"))
    args["internal_identity"] = {"account_id": naming.internal_account_id(gkey)}
    externals = _external_identities(gkey, data)
    if externals:
        args["external_identities"] = externals
    args["task_service_accounts"] = dict(ctx.task_emails)
    args["datasets"] = _datasets(ctx, gkey, data)
    # Write on the datasets for the agents of the source's pipelines (scan results, DLP
    # findings): the pipelines share the datasets, so the source grants each entry once.
    pipelines = ctx.pipelines_of.get(key, [])
    grants = access.datasource_agent_grants([ctx.descriptors.pipelines[p].data for p in pipelines], data["datasets"])
    if grants:
        # The agents' e-mails come from the environment stack, which provisions them first.
        args["service_agent_grants"] = {
            name: {"member": agent_member(g["agent"]), "role": g["role"], "dataset": g["dataset"]}
            for name, g in grants.items()
        }
    labels = {**ctx.labels, **data.get("labels", {})}
    if labels:
        args["labels"] = labels
    name = naming.stack_name("datasource", key)
    adopted = adoption.datasource_imports(ctx.descriptors.datasources[key], key, ctx.prefix, ctx.projects)
    return Stack(
        name=name,
        kind="datasource",
        key=key,
        needs=("environment",),
        source=ctx.source("datasource"),
        arguments=frozen(args),
        outputs=module_outputs("datasource"),
        backend=ctx.backend(name),
        region=ctx.region,
        remote_environment=ctx.backend("environment") if dead_letter or grants else None,
        # The pipelines' descriptors count: their scans and DLP decide the agents' grants.
        inputs=(ctx.descriptors.environment.path, ctx.descriptors.datasources[key].path,
                *(ctx.descriptors.pipelines[p].path for p in pipelines)),
        adopted=adopted,
        lifecycle=adoption.blocks(adopted),
    )


def _buckets(ctx: Context, key: str, data: dict[str, Any]) -> dict[str, Any]:
    buckets = {}
    for role in BUCKET_ROLES:
        spec = data.get("buckets", {}).get(role, {})
        retention = spec.get("retention_days") or None
        lifecycle = drop_none(
            {
                "archive_after_days": spec.get("lifecycle", {}).get("archive_after_days"),
                "delete_after_days": spec.get("lifecycle", {}).get("delete_after_days"),
            }
        )
        buckets[role] = drop_none(
            {
                "name": naming.datasource_bucket(ctx.prefix, key, role),
                "storage_class": spec.get("storage_class", default("datasource", f"buckets.{role}.storage_class")),
                "versioning": spec.get("versioning", retention is None),
                "retention_days": retention,
                "lifecycle": lifecycle or None,
                "labels": spec.get("labels") or None,
            }
        )
    return buckets


def _topics(ctx: Context, key: str, data: dict[str, Any]) -> dict[str, Any]:
    """Each topic with its subscriptions; a topic some subscription dead-letters gets its
    dead-letter topic (the smallest ``max_delivery_attempts`` of its subscriptions)."""
    topics = {}
    for topic_key, topic in data.get("pubsub", {}).get("topics", {}).items():
        attempts = [
            s["dead_letter"]["max_delivery_attempts"]
            for s in topic.get("subscriptions", {}).values()
            if "dead_letter" in s
        ]
        entry: dict[str, Any] = {"name": naming.topic(key, topic_key)}
        if "message_retention_hours" in topic:
            entry["message_retention_duration"] = f"{topic['message_retention_hours'] * 3600}s"
        if attempts:
            entry.update(
                dead_letter=True,
                dead_letter_name=naming.dead_letter_topic(key, topic_key),
                max_delivery_attempts=min(attempts),
            )
        entry["subscriptions"] = {
            naming.subscription(key, topic_key, sub_key): drop_none(
                {
                    "ack_deadline_seconds": sub.get("ack_deadline_seconds"),
                    "filter": sub.get("filter"),
                    "subscribers": [f"serviceAccount:{ctx.task_emails['load']}"],
                }
            )
            for sub_key, sub in topic.get("subscriptions", {}).items()
        }
        topics[topic_key] = entry
    return topics


def _external_identities(key: str, data: dict[str, Any]) -> dict[str, Any]:
    # A created writer account carries the descriptor's description; an existing member has
    # nothing df-gen could describe, so there it only documents the descriptor.
    return {
        name: (
            {"member": ident["member"]}
            if "member" in ident
            else drop_none(
                {"account_id": naming.external_account_id(key, name), "description": ident.get("description")}
            )
        )
        for name, ident in data.get("external_identities", {}).items()
    }


def _datasets(ctx: Context, key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        layer: drop_none(
            {
                "dataset_id": naming.datasource_dataset(ctx.prefix, key, layer),
                "description": spec.get("description"),
                "default_table_expiration_ms": spec["default_table_expiration_days"] * 86_400_000
                if "default_table_expiration_days" in spec
                else None,
                "iam": spec.get("iam"),
            }
        )
        for layer, spec in sorted(data["datasets"].items(), key=lambda item: naming.LAYERS.index(item[0]))
    }


def renamed(ctx: Context, stack: Stack) -> tuple[Stack, ...]:
    """A data source stack, and, when its key was renamed, the old stack that releases its
    resources first (generator.renames: the new stack imports them and needs the old one)."""
    old = stack.arguments["name"]  # the module is named after the key that names its resources
    if old == stack.key:
        return (stack,)
    name = naming.stack_name("datasource", old)
    releasing = Stack(
        name=name, kind="datasource", key=old, needs=(), source="", arguments=frozen({}), outputs=(),
        backend=ctx.backend(name), region=ctx.region, inputs=stack.inputs,
        lifecycle=renames.release_blocks(), released_from=renames.released(stack.key, old),
    )
    # One import per address: an adopted resource (existing: true) already has its own.
    adopted = {block.target for block in stack.lifecycle if isinstance(block, Import)}
    imports = tuple(b for b in renames.datasource_imports(stack.arguments, old)
                    if not (isinstance(b, Import) and b.target in adopted))
    return releasing, dataclasses.replace(stack, needs=(*stack.needs, name), lifecycle=(*stack.lifecycle, *imports))

