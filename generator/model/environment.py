"""The environment stack: projects, network, Composer, identities, keys, tags, logs, alerts.

Each part of the module call is computed by one function below; ``environment_stack``
puts them together in the order the golden stacks print them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator import access, adoption, naming
from generator.access import TASK_PROJECT
from generator.defaults import default
from generator.model.context import Context
from generator.model.stack import Stack, drop_none, frozen, module_outputs


def environment_stack(ctx: Context, task_reads: Mapping[str, Mapping[str, set[str]] | None]) -> Stack:
    """The environment stack; ``task_reads``: per pipeline, the tags each task identity's SQL reads."""
    env = ctx.env
    args: dict[str, Any] = {"projects": _projects(ctx)}
    organization = env.get("organization")
    if organization:
        args["parent"] = organization["parent"]
        args["billing_account"] = organization["billing_account"]
    if "project_deletion_policy" in env:
        args["project_deletion_policy"] = env["project_deletion_policy"]
    args["region"] = ctx.region
    args["location"] = ctx.location
    args.update(_network(ctx))
    args["composer"] = _composer(ctx)
    args["service_accounts"] = _service_accounts()
    if env.get("kms"):
        args["kms"] = _kms(ctx)
    if "vpc_sc" in env:
        args["vpc_sc"] = _vpc_sc(ctx)
    agents = access.pipeline_agents({k: d.data for k, d in ctx.descriptors.pipelines.items()})
    if agents:
        args["pipeline_service_agents"] = agents
    if "policy_tags" in env:
        args["policy_taxonomy"] = _policy_taxonomy(ctx, task_reads)
    shared_buckets = _shared_buckets(ctx)
    shared_datasets = _shared_datasets(ctx)
    if env.get("logging") is not None:
        args["logging"], log_buckets, log_datasets = _logging(ctx)
        shared_buckets.update(log_buckets)
        shared_datasets.update(log_datasets)
    if "monitoring" in env:
        args["monitoring"] = _monitoring(ctx)
    if env.get("principals"):
        args["principals"] = {p: m for p, m in env["principals"].items() if m}
    roles = access.persona_roles(env)
    if roles:
        args["persona_roles"] = roles
    args["impersonators"] = access.impersonators(env)
    if shared_buckets:
        args["shared_buckets"] = dict(sorted(shared_buckets.items()))
    if shared_datasets:
        args["shared_datasets"] = dict(sorted(shared_datasets.items()))
    if ctx.labels:
        args["labels"] = ctx.labels
    name = naming.stack_name("environment")
    adopted = adoption.environment_imports(ctx.descriptors.environment, ctx.projects)
    return Stack(
        name=name,
        kind="environment",
        key="environment",
        needs=(),
        source=ctx.source("environment"),
        arguments=frozen(args),
        outputs=module_outputs("environment"),
        backend=ctx.backend(name),
        region=ctx.region,
        beta=True,
        inputs=(ctx.descriptors.environment.path,),
        adopted=adopted,
        lifecycle=adoption.blocks(adopted),
    )


def _projects(ctx: Context) -> dict[str, Any]:
    """One project per layer, created unless the descriptor names an existing one."""
    projects = ctx.env["projects"]
    return {
        layer: drop_none(
            {
                "project_id": ctx.projects[layer],
                "create": "existing" not in projects[layer],
                "services": projects[layer].get("services") or None,
                "labels": projects[layer].get("labels") or None,
            }
        )
        for layer in naming.LAYERS
    }


def _network(ctx: Context) -> dict[str, Any]:
    """Either a VPC df-gen creates (``network``) or a host project's (``shared_vpc``)."""
    network = ctx.env.get("network", default("environment", "network"))
    if "vpc" not in network:
        return {"shared_vpc": dict(network["shared_vpc"])}
    vpc = network["vpc"]
    return {
        "network": {
            "name": naming.network_name(ctx.prefix),
            "subnets": {
                name: drop_none({"region": subnet.get("region", ctx.region), "cidr": subnet["cidr"]})
                for name, subnet in vpc["subnets"].items()
            },
            "nat": vpc.get("nat", default("environment", "network.vpc.nat")),
        }
    }


def _composer(ctx: Context) -> dict[str, Any]:
    composer = ctx.env["composer"]
    size = composer.get("size", default("environment", "composer.size"))
    return drop_none(
        {
            "name": naming.composer_name(ctx.prefix),
            "service_account_id": naming.composer_account_id(),
            "image_version": composer.get("image_version"),
            "environment_size": f"ENVIRONMENT_SIZE_{size.upper()}",
            "private": composer.get("private", default("environment", "composer.private")),
            "env_variables": composer.get("env_variables") or None,
            "pypi_packages": composer.get("pypi_packages") or None,
        }
    )


def _service_accounts() -> dict[str, Any]:
    """One account per task identity, in the project its task runs in, with its roles."""
    task_roles = access.task_roles()
    return {
        task: {"account_id": naming.task_account_id(task), "project": TASK_PROJECT[task], "roles": task_roles[task]}
        for task in naming.TASKS
    }


def _kms(ctx: Context) -> dict[str, Any]:
    kms = ctx.env["kms"]
    rotation = f"{kms.get('rotation_days', default('environment', 'kms.rotation_days')) * 86400}s"
    return {
        service: {
            "key_ring": naming.kms_key_ring(ctx.prefix, key["location"]),
            "location": naming.kms_location(key["location"]),
            "key_name": naming.kms_key(service),
            "rotation_period": rotation,
        }
        for service, key in sorted(kms["keys"].items())
    }


def _vpc_sc(ctx: Context) -> dict[str, Any]:
    vpc_sc = ctx.env["vpc_sc"]
    datasources = {key: d.data for key, d in ctx.descriptors.datasources.items()}
    return {
        "perimeter_name": vpc_sc["perimeter"],
        "dry_run": vpc_sc.get("dry_run", default("environment", "vpc_sc.dry_run")),
        "ingress_identities": access.perimeter_ingress(ctx.automation, ctx.projects["landing"], ctx.env, datasources),
    }


def _policy_taxonomy(ctx: Context, task_reads: Mapping[str, Mapping[str, set[str]] | None]) -> dict[str, Any]:
    """The taxonomy's tags: who reads each in clear, and its masking rule."""
    env = ctx.env
    taxonomy = env["policy_tags"]
    pipelines = {k: d.data for k, d in ctx.descriptors.pipelines.items()}
    task_readers = access.tag_readers(pipelines, task_reads)
    agent_readers = access.agent_tag_readers(pipelines)
    return {
        "name": taxonomy.get("taxonomy", naming.taxonomy_name(ctx.prefix)),
        "tags": {
            tag: drop_none(
                {
                    "description": spec.get("description"),
                    "readers": [*access.TAG_READER_PERSONAS, *spec.get("readers", []), *task_readers.get(tag, [])],
                    "agent_readers": agent_readers.get(tag),
                    "masking": {
                        "data_policy_id": naming.data_policy_id(ctx.prefix, tag),
                        "predefined_expression": spec["masking"],
                        "masked_readers": access.masked_readers(env, tag),
                    }
                    if "masking" in spec
                    else None,
                }
            )
            for tag, spec in taxonomy["tags"].items()
        },
    }


def _shared_buckets(ctx: Context) -> dict[str, Any]:
    return {
        key: drop_none(
            {
                "name": naming.shared_bucket(ctx.prefix, key),
                "storage_class": bucket.get("storage_class"),
                "retention_days": bucket.get("retention_days") or None,
                "labels": bucket.get("labels"),
            }
        )
        for key, bucket in ctx.env.get("shared", {}).get("buckets", {}).items()
    }


def _shared_datasets(ctx: Context) -> dict[str, Any]:
    return {
        key: drop_none(
            {
                "dataset_id": naming.shared_dataset(ctx.prefix, key),
                "project": dataset["layer"],
                "description": dataset.get("description"),
            }
        )
        for key, dataset in ctx.env.get("shared", {}).get("datasets", {}).items()
    }


def _logging(ctx: Context) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The module's ``logging`` entry, and the shared bucket or dataset its sink writes to."""
    env = ctx.env
    logging = env["logging"]
    entry: dict[str, Any] = {
        "audit_services": logging.get("data_access_audit", default("environment", "logging.data_access_audit"))
    }
    if logging.get("audit_existing_projects", default("environment", "logging.audit_existing_projects")):
        entry["audit_adopted_projects"] = True
    buckets: dict[str, Any] = {}
    datasets: dict[str, Any] = {}
    sink = logging.get("sink")
    if sink:
        sink_entry = {"name": naming.log_sink(ctx.prefix)}
        if "filter" in sink:
            sink_entry["filter"] = sink["filter"]
        readers = access.log_readers(env, sink["destination"])
        if sink["destination"] == "bigquery":
            datasets[naming.LOG_SINK_KEY] = {
                "dataset_id": naming.log_dataset(ctx.prefix),
                "project": "orchestration",
                "description": "Audit logs of every layer project",
                "expiration_days": sink.get("retention_days", default("environment", "logging.sink.retention_days")),
                # The sink's tables are Google's, not Terraform's: without this the
                # dataset cannot be destroyed.
                "delete_contents_on_destroy": True,
                **({"iam": readers} if readers else {}),
            }
            sink_entry["shared_dataset"] = naming.LOG_SINK_KEY
        else:
            buckets[naming.LOG_SINK_KEY] = {
                "name": naming.log_bucket(ctx.prefix),
                **({"iam": readers} if readers else {}),
            }
            sink_entry["shared_bucket"] = naming.LOG_SINK_KEY
        entry["sink"] = sink_entry
    return entry, buckets, datasets


def _monitoring(ctx: Context) -> dict[str, Any]:
    monitoring = ctx.env["monitoring"]
    return {
        "emails": {naming.notification_channel_key(email): email for email in monitoring["notification_emails"]},
        "failed_dag_runs": monitoring.get("dag_failures", default("environment", "monitoring.dag_failures")),
        "composer_health": monitoring.get("composer_health", default("environment", "monitoring.composer_health")),
        **_watched(ctx, monitoring),
    }


def _watched(ctx: Context, monitoring: dict[str, Any]) -> dict[str, list[str]]:
    """What the environment's alerts watch beyond Composer: every data source's dead-letter
    subscriptions (named like their topics, in the landing project) and the layers whose
    projects run the pipelines' data-quality scans."""
    watched: dict[str, list[str]] = {}
    if monitoring.get("dead_letters", default("environment", "monitoring.dead_letters")):
        subscriptions = [
            naming.dead_letter_topic(naming.google_key(key, source.data), topic_key)
            for key, source in sorted(ctx.descriptors.datasources.items())
            for topic_key, topic in sorted(source.data.get("pubsub", {}).get("topics", {}).items())
            if any("dead_letter" in sub for sub in topic.get("subscriptions", {}).values())
        ]
        if subscriptions:
            watched["dead_letter_subscriptions"] = subscriptions
    if monitoring.get("data_quality_failures", default("environment", "monitoring.data_quality_failures")):
        layers = {
            name.split(".", 1)[0]
            for pipeline in ctx.descriptors.pipelines.values()
            for name in pipeline.data.get("data_quality", {})
        }
        if layers:
            watched["data_quality_layers"] = sorted(layers, key=naming.LAYERS.index)
    return watched
