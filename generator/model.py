"""Frozen stack models built from validated descriptors, every default applied once.

``build(descriptors)`` returns a :class:`Model`: one :class:`Stack` per Terraform root,
each holding the literal module arguments the templates print. Values df-gen can compute
(project IDs, bucket names, service-account emails, KMS key IDs) are literals; values
Google assigns (project numbers, Composer's DAG bucket, policy-tag IDs) are references to
the environment stack's outputs through ``terraform_remote_state``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from generator import access, migrations, naming, tasks, versions
from generator.access import TASK_PROJECT
from generator.analysis.inventory import analyser_for, task_tag_reads
from generator.errors import DfGenError, Diagnostic
from generator.fsutil import outside_problem, special_file_problem
from generator.hcl import Raw
from generator.jinja import environment as jinja_environment
from generator.jinja import render as jinja_render
from generator.lifecycle_blocks import Block, required_version
from generator.loader import display_path, json_file
from generator.resources import data_dir
from generator.validate import Descriptors

REMOTE = "data.terraform_remote_state.environment.outputs"


@dataclass(frozen=True)
class Backend:
    """Where a stack keeps its state (GCS) and whom Terraform impersonates."""

    bucket: str
    prefix: str
    impersonate: str


@dataclass(frozen=True)
class Stack:
    """One Terraform root under ``stacks/``: a single module call and its files."""

    name: str
    kind: str
    key: str
    needs: tuple[str, ...]
    source: str
    arguments: Mapping[str, Any]
    outputs: tuple[str, ...]
    backend: Backend
    region: str
    remote_environment: Backend | None = None
    # Whether the stack's module also needs google-beta (the environment module provisions
    # primary service agents with google_project_service_identity, which GA lacks).
    beta: bool = False
    files: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[Path, ...] = ()
    lifecycle: tuple[Block, ...] = ()
    """``moved``/``import``/``removed`` blocks, written to ``lifecycle.tf`` (generator.lifecycle_blocks)."""
    released_from: str = ""
    """Set on a stack that only releases resources (no module call): why, in words."""

    @property
    def terraform_version(self) -> str:
        """The lowest Terraform version the stack's files need."""
        return required_version(self.lifecycle)


@dataclass(frozen=True)
class Model:
    """Every stack of one environment, in dependency order (environment first)."""

    env_dir: Path
    prefix: str
    stacks: tuple[Stack, ...]

    def stack(self, name: str) -> Stack:
        """The stack called ``name``."""
        return next(s for s in self.stacks if s.name == name)


def _frozen(mapping: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(mapping)


def module_outputs(kind: str) -> tuple[str, ...]:
    """Names of the bundled module's outputs, read from its outputs.tf."""
    text = (data_dir("modules") / kind / "outputs.tf").read_text()
    return tuple(re.findall(r'^output "([A-Za-z0-9_-]+)"', text, flags=re.M))


def build(descriptors: Descriptors) -> Model:
    """Build the model of every stack of a validated environment."""
    env = descriptors.environment.data
    ctx = _Context(descriptors)
    # Pipelines first: the environment grants each task account the policy tags its
    # pipelines' rendered SQL reads.
    pipelines = [_pipeline_stack(ctx, key, descriptors.pipelines[key].data) for key in sorted(descriptors.pipelines)]
    task_reads = task_tag_reads(descriptors, {stack.key: stack.files for stack in pipelines}, ctx.analyser)
    stacks = [_environment_stack(ctx, task_reads)]
    for key in sorted(descriptors.datasources):
        stacks.append(_datasource_stack(ctx, key, descriptors.datasources[key].data))
    return Model(descriptors.env_dir, env["prefix"], (*stacks, *pipelines))


class _Context:
    """Names and settings shared by every stack of one environment."""

    def __init__(self, descriptors: Descriptors) -> None:
        env = descriptors.environment.data
        self.descriptors = descriptors
        self.env = env
        # SQL analyses (cached across runs under ENV_DIR/.df-gen/cache/).
        self.analyser = analyser_for(descriptors)
        self.prefix: str = env["prefix"]
        self.region: str = env["region"]
        self.location: str = env["location"]
        self.projects = {
            layer: naming.project_id(self.prefix, layer, env["projects"][layer].get("existing"))
            for layer in naming.LAYERS
        }
        self.labels = dict(env.get("labels", {}))
        terraform = env["terraform"]
        self.state_bucket = terraform["state_bucket"]
        self.state_base = terraform.get("state_prefix", descriptors.env_dir.resolve().name)
        self.automation = terraform["automation_service_account"]
        self.modules = terraform.get("modules", {"path": "../../modules"})
        kms = env.get("kms", {})
        self.kms_keys = {
            service: _kms_key_id(self.projects["orchestration"], self.prefix, key["location"], service)
            for service, key in kms.get("keys", {}).items()
        }
        self.task_emails = {
            task: f"{naming.task_account_id(task)}@{self.projects[TASK_PROJECT[task]]}.iam.gserviceaccount.com"
            for task in naming.TASKS
        }

    def backend(self, stack: str) -> Backend:
        return Backend(self.state_bucket, naming.state_prefix(self.state_base, stack), self.automation)

    def source(self, kind: str) -> str:
        if "git" in self.modules:
            git = self.modules["git"]
            url = git["url"] if git["url"].startswith("git::") else f"git::{git['url']}"
            return f"{url}//modules/{kind}?ref={git['ref']}"
        # Stacks live two levels below the environment directory (stacks/<name>/).
        return (PurePosixPath("../..") / self.modules["path"] / kind).as_posix()


def _kms_key_id(project: str, prefix: str, location: str, service: str) -> str:
    ring = naming.kms_key_ring(prefix, location)
    where = naming.kms_location(location)
    return f"projects/{project}/locations/{where}/keyRings/{ring}/cryptoKeys/{naming.kms_key(service)}"


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


# --- environment ---------------------------------------------------------------------------


def _environment_stack(ctx: _Context, task_reads: Mapping[str, Mapping[str, set[str]] | None]) -> Stack:
    """The environment stack; ``task_reads``: per pipeline, the tags each task identity's SQL reads."""
    env = ctx.env
    prefix = ctx.prefix
    projects = {
        layer: _drop_none(
            {
                "project_id": ctx.projects[layer],
                "create": "existing" not in env["projects"][layer],
                "services": env["projects"][layer].get("services") or None,
                "labels": env["projects"][layer].get("labels") or None,
            }
        )
        for layer in naming.LAYERS
    }
    args: dict[str, Any] = {"projects": projects}
    organization = env.get("organization")
    if organization:
        args["parent"] = organization["parent"]
        args["billing_account"] = organization["billing_account"]
    if "project_deletion_policy" in env:
        args["project_deletion_policy"] = env["project_deletion_policy"]
    args["region"] = ctx.region
    args["location"] = ctx.location
    network = env.get("network", {"vpc": {"subnets": {"composer": {"cidr": "10.10.0.0/24"}}}})
    if "vpc" in network:
        vpc = network["vpc"]
        args["network"] = {
            "name": naming.network_name(prefix),
            "subnets": {
                name: _drop_none(
                    {
                        "region": subnet.get("region", ctx.region),
                        "cidr": subnet["cidr"],
                    }
                )
                for name, subnet in vpc["subnets"].items()
            },
            "nat": vpc.get("nat", True),
        }
    else:
        args["shared_vpc"] = dict(network["shared_vpc"])
    composer = env["composer"]
    args["composer"] = _drop_none(
        {
            "name": naming.composer_name(prefix),
            "service_account_id": naming.composer_account_id(),
            "image_version": composer.get("image_version"),
            "environment_size": f"ENVIRONMENT_SIZE_{composer.get('size', 'small').upper()}",
            "private": composer.get("private", True),
            "env_variables": composer.get("env_variables") or None,
            "pypi_packages": composer.get("pypi_packages") or None,
        }
    )
    task_roles = access.task_roles()
    args["service_accounts"] = {
        task: {"account_id": naming.task_account_id(task), "project": TASK_PROJECT[task], "roles": task_roles[task]}
        for task in naming.TASKS
    }
    kms = env.get("kms")
    if kms:
        rotation = f"{kms.get('rotation_days', 90) * 86400}s"
        args["kms"] = {
            service: {
                "key_ring": naming.kms_key_ring(prefix, key["location"]),
                "location": naming.kms_location(key["location"]),
                "key_name": naming.kms_key(service),
                "rotation_period": rotation,
            }
            for service, key in sorted(kms["keys"].items())
        }
    if "vpc_sc" in env:
        args["vpc_sc"] = {
            "perimeter_name": env["vpc_sc"]["perimeter"],
            "dry_run": env["vpc_sc"].get("dry_run", False),
            "ingress_identities": access.perimeter_ingress(ctx.automation, ctx.projects["landing"], env, {
                key: d.data for key, d in ctx.descriptors.datasources.items()
            }),
        }
    if "policy_tags" in env:
        taxonomy = env["policy_tags"]
        pipelines = {k: d.data for k, d in ctx.descriptors.pipelines.items()}
        task_readers = access.tag_readers(pipelines, task_reads)
        args["policy_taxonomy"] = {
            "name": taxonomy.get("taxonomy", naming.taxonomy_name(prefix)),
            "tags": {
                tag: _drop_none(
                    {
                        "description": spec.get("description"),
                        "readers": [
                            *access.TAG_READER_PERSONAS,
                            *spec.get("readers", []),
                            *task_readers.get(tag, []),
                        ],
                        "masking": {
                            "data_policy_id": naming.data_policy_id(prefix, tag),
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
    shared = env.get("shared", {})
    shared_buckets = {
        key: _drop_none(
            {
                "name": naming.shared_bucket(prefix, key),
                "storage_class": bucket.get("storage_class"),
                "retention_days": bucket.get("retention_days") or None,
                "labels": bucket.get("labels"),
            }
        )
        for key, bucket in shared.get("buckets", {}).items()
    }
    shared_datasets = {
        key: _drop_none(
            {
                "dataset_id": naming.shared_dataset(prefix, key),
                "project": dataset["layer"],
                "description": dataset.get("description"),
            }
        )
        for key, dataset in shared.get("datasets", {}).items()
    }
    logging = env.get("logging")
    if logging is not None:
        entry: dict[str, Any] = {"audit_services": logging.get("data_access_audit", [])}
        if logging.get("audit_existing_projects"):
            entry["audit_adopted_projects"] = True
        sink = logging.get("sink")
        if sink:
            sink_entry = {"name": f"{prefix}-audit"}
            if "filter" in sink:
                sink_entry["filter"] = sink["filter"]
            readers = access.log_readers(env, sink["destination"])
            if sink["destination"] == "bigquery":
                shared_datasets[naming.LOG_SINK_KEY] = {
                    "dataset_id": naming.log_dataset(prefix),
                    "project": "orchestration",
                    "description": "Audit logs of every layer project",
                    "expiration_days": sink.get("retention_days", access.LOG_RETENTION_DAYS),
                    # The sink's tables are Google's, not Terraform's: without this the
                    # dataset cannot be destroyed.
                    "delete_contents_on_destroy": True,
                    **({"iam": readers} if readers else {}),
                }
                sink_entry["shared_dataset"] = naming.LOG_SINK_KEY
            else:
                shared_buckets[naming.LOG_SINK_KEY] = {
                    "name": naming.log_bucket(prefix),
                    **({"iam": readers} if readers else {}),
                }
                sink_entry["shared_bucket"] = naming.LOG_SINK_KEY
            entry["sink"] = sink_entry
        args["logging"] = entry
    if "monitoring" in env:
        monitoring = env["monitoring"]
        args["monitoring"] = {
            "emails": {naming.notification_channel_key(email): email for email in monitoring["notification_emails"]},
            "failed_dag_runs": monitoring.get("dag_failures", True),
            "composer_health": monitoring.get("composer_health", True),
            **_watched(ctx, monitoring),
        }
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
    return Stack(
        name=name,
        kind="environment",
        key="environment",
        needs=(),
        source=ctx.source("environment"),
        arguments=_frozen(args),
        outputs=module_outputs("environment"),
        backend=ctx.backend(name),
        region=ctx.region,
        beta=True,
        inputs=(ctx.descriptors.environment.path,),
    )


# --- data source ---------------------------------------------------------------------------


def _datasource_stack(ctx: _Context, key: str, data: dict[str, Any]) -> Stack:
    prefix = ctx.prefix
    buckets = {}
    for role, default_class in (("landing", "STANDARD"), ("archive", "NEARLINE")):
        spec = data.get("buckets", {}).get(role, {})
        retention = spec.get("retention_days") or None
        lifecycle = _drop_none(
            {
                "archive_after_days": spec.get("lifecycle", {}).get("archive_after_days"),
                "delete_after_days": spec.get("lifecycle", {}).get("delete_after_days"),
            }
        )
        buckets[role] = _drop_none(
            {
                "name": naming.datasource_bucket(prefix, key, role),
                "storage_class": spec.get("storage_class", default_class),
                "versioning": spec.get("versioning", retention is None),
                "retention_days": retention,
                "lifecycle": lifecycle or None,
                "labels": spec.get("labels") or None,
            }
        )
    args: dict[str, Any] = {
        "name": key,
        "projects": dict(ctx.projects),
        "location": ctx.location,
    }
    kms = {s: ctx.kms_keys[s] for s in ("storage", "bigquery", "pubsub") if s in ctx.kms_keys}
    if kms:
        args["kms_keys"] = kms
    args["buckets"] = buckets
    topics = {}
    dead_letter = False
    for topic_key, topic in data.get("pubsub", {}).get("topics", {}).items():
        topic_name = naming.topic(key, topic_key)
        attempts = [
            s["dead_letter"]["max_delivery_attempts"]
            for s in topic.get("subscriptions", {}).values()
            if "dead_letter" in s
        ]
        entry: dict[str, Any] = {"name": topic_name}
        if "message_retention_hours" in topic:
            entry["message_retention_duration"] = f"{topic['message_retention_hours'] * 3600}s"
        if attempts:
            dead_letter = True
            entry.update(
                dead_letter=True,
                dead_letter_name=naming.dead_letter_topic(key, topic_key),
                max_delivery_attempts=min(attempts),
            )
        entry["subscriptions"] = {
            naming.subscription(key, topic_key, sub_key): _drop_none(
                {
                    "ack_deadline_seconds": sub.get("ack_deadline_seconds"),
                    "filter": sub.get("filter"),
                    "subscribers": [f"serviceAccount:{ctx.task_emails['load']}"],
                }
            )
            for sub_key, sub in topic.get("subscriptions", {}).items()
        }
        topics[topic_key] = entry
    if topics:
        args["topics"] = topics
        args["message_storage_regions"] = data["pubsub"].get(
            "allowed_regions", naming.message_storage_regions(ctx.location)
        )
    if dead_letter:
        args["pubsub_service_agent"] = Raw(
            f'"service-${{{REMOTE}.projects["landing"].number}}@gcp-sa-pubsub.iam.gserviceaccount.com"'
        )
    args["internal_identity"] = {"account_id": naming.internal_account_id(key)}
    # A created writer account carries the descriptor's description; an existing member has
    # nothing df-gen could describe, so there it only documents the descriptor.
    externals = {
        name: (
            {"member": ident["member"]}
            if "member" in ident
            else _drop_none(
                {"account_id": naming.external_account_id(key, name), "description": ident.get("description")}
            )
        )
        for name, ident in data.get("external_identities", {}).items()
    }
    if externals:
        args["external_identities"] = externals
    args["task_service_accounts"] = dict(ctx.task_emails)
    args["datasets"] = {
        layer: _drop_none(
            {
                "dataset_id": naming.datasource_dataset(prefix, key, layer),
                "description": spec.get("description"),
                "default_table_expiration_ms": spec["default_table_expiration_days"] * 86_400_000
                if "default_table_expiration_days" in spec
                else None,
                "iam": spec.get("iam"),
            }
        )
        for layer, spec in sorted(data["datasets"].items(), key=lambda item: naming.LAYERS.index(item[0]))
    }
    labels = {**ctx.labels, **data.get("labels", {})}
    if labels:
        args["labels"] = labels
    name = naming.stack_name("datasource", key)
    return Stack(
        name=name,
        kind="datasource",
        key=key,
        needs=("environment",),
        source=ctx.source("datasource"),
        arguments=_frozen(args),
        outputs=module_outputs("datasource"),
        backend=ctx.backend(name),
        region=ctx.region,
        remote_environment=ctx.backend("environment") if dead_letter else None,
        inputs=(ctx.descriptors.environment.path, ctx.descriptors.datasources[key].path),
    )


def _watched(ctx: _Context, monitoring: dict[str, Any]) -> dict[str, list[str]]:
    """What the environment's alerts watch beyond Composer: every data source's dead-letter
    subscriptions (named like their topics, in the landing project) and the layers whose
    projects run the pipelines' data-quality scans."""
    watched: dict[str, list[str]] = {}
    if monitoring.get("dead_letters", True):
        subscriptions = [
            naming.dead_letter_topic(key, topic_key)
            for key, source in sorted(ctx.descriptors.datasources.items())
            for topic_key, topic in sorted(source.data.get("pubsub", {}).get("topics", {}).items())
            if any("dead_letter" in sub for sub in topic.get("subscriptions", {}).values())
        ]
        if subscriptions:
            watched["dead_letter_subscriptions"] = subscriptions
    if monitoring.get("data_quality_failures", True):
        layers = {
            name.split(".", 1)[0]
            for pipeline in ctx.descriptors.pipelines.values()
            for name in pipeline.data.get("data_quality", {})
        }
        if layers:
            watched["data_quality_layers"] = sorted(layers, key=naming.LAYERS.index)
    return watched


# --- pipeline ------------------------------------------------------------------------------


def _migration(ctx: _Context, dataset: dict[str, str], layer: str, table: str, migrate: dict[str, Any],
               fields: Any) -> tuple[str, dict[str, Any]]:
    """The rendered DDL file of a table's ``migrate`` and its module entry (the job runs it)."""
    query = migrations.script(migrations.statements(dataset["project"], dataset["dataset_id"], table, migrate, fields))
    path = f"migrations/{layer}.{table}.sql"
    return path, {
        "layer": layer,
        "location": ctx.location,
        "job_id": migrations.job_id(table, query),
        "query": Raw(f'file("${{path.module}}/{path}")'),
        "sql": query,
    }


def _backfill(code_dir: Path, dataset: Mapping[str, str], version: versions.TableVersion,
              by_name: Mapping[str, Any]) -> dict[str, str]:
    """The rendered backfill of a table's current version from its newest kept one (none
    when no older version is kept)."""
    source = versions.backfill_source(version.layer, version.name, by_name[version.name])
    if source is None:
        return {}
    where = f"{dataset['project']}.{dataset['dataset_id']}"
    old = json_file(code_dir / source.schema)
    new = json_file(code_dir / version.schema)
    text = versions.backfill_sql(f"{where}.{version.table_id}", f"{where}.{source.table_id}", old, new,
                                 source.version, version.version)
    return {f"sql/{versions.backfill_file(version.layer, version.name, version.version)}": text}


def _pipeline_stack(ctx: _Context, key: str, data: dict[str, Any]) -> Stack:
    prefix = ctx.prefix
    source_key = data["datasource"]
    source = ctx.descriptors.datasources[source_key].data
    code_dir = ctx.descriptors.pipelines_dir / data["code"]
    datasets = {
        layer: {"project": ctx.projects[layer], "dataset_id": naming.datasource_dataset(prefix, source_key, layer)}
        for layer in naming.DATA_LAYERS
        if layer in source["datasets"]
    }
    dag = data.get("dag", {})
    tables_spec = data.get("tables", {})
    files: dict[str, str] = {}
    tables: dict[str, Any] = {}
    jobs: dict[str, Any] = {}  # in-place migrations (generator.migrations), by table key
    for version in versions.of_pipeline(tables_spec, naming.DATA_LAYERS):
        table = version.spec
        fields = json_file(code_dir / version.schema)
        tags = table.get("policy_tags", {})
        # Every version carries the table's policy tags (on the columns it has).
        files[version.schema_file] = _schema_template(fields, tags)
        path = f"${{path.module}}/{version.schema_file}"
        schema = (
            Raw(f'templatefile("{path}", {{ policy_tags = {REMOTE}.policy_tags }})')
            if tags
            else Raw(f'file("{path}")')
        )
        tables[version.key] = _drop_none(
            {
                "table_id": version.table_id,
                "layer": version.layer,
                "schema": schema,
                "description": table.get("description"),
                "partitioning": (
                    {"field": table["partitioning"]["field"], "type": table["partitioning"].get("type", "DAY")}
                    if "partitioning" in table
                    else None
                ),
                "clustering": table.get("clustering"),
                "deletion_protection": table.get("deletion_protection", True),
            }
        )
        if version.current and table.get("migrate"):
            migration_file, job = _migration(ctx, datasets[version.layer], version.layer, version.table_id,
                                             table["migrate"], fields)
            files[migration_file] = job.pop("sql")
            jobs[version.key] = job
        if version.current:
            files.update(_backfill(code_dir, datasets[version.layer], version, tables_spec[version.layer]))
    table_ids = {layer: ids for layer, ids in versions.current_ids(tables_spec).items() if layer in datasets}
    scans = _quality_scans(ctx, key, data)
    context = {
        "dag_id": key,
        "schedule": dag.get("schedule", "@daily"),
        "start_date": dag.get("start_date", "2024-01-01"),
        "retries": dag.get("retries", 2),
        "pipeline": key,
        "datasource": source_key,
        "buckets": {role: naming.datasource_bucket(prefix, source_key, role) for role in ("landing", "archive")},
        "datasets": datasets,
        "tables": [
            {"name": n, "layer": layer, "table_id": table_ids[layer][n], "source_uri_prefix": None}
            for layer in naming.DATA_LAYERS
            for n in sorted(tables_spec.get(layer, {}))
        ],
        # `{{ ref.curated.orders }}`: the quoted ID of the table's current version, so that SQL
        # follows a new table version without naming it.
        "ref": {
            layer: {n: f"`{datasets[layer]['project']}.{datasets[layer]['dataset_id']}.{table_id}`"
                    for n, table_id in ids.items()}
            for layer, ids in table_ids.items()
        },
        "sql_folder": f"{key}/sql",
        "variables": dag.get("variables", {}),
        # Each Dataplex scan, run by the DAG once its table is written.
        "quality": [
            {"table": name.split(".", 1)[1], "layer": scan["layer"], "scan_id": scan_id,
             "project": ctx.projects[scan["layer"]], "region": scan["location"]}
            for (scan_id, scan), name in zip(scans.items(), sorted(data.get("data_quality", {})), strict=True)
        ],
    }
    # The DAG's tasks, from the code's tasks.yaml: the DAG template builds its operators
    # from this list, and `df-gen access` checks the grants of the same list.
    context["tasks"] = [{"id": t.id, "spec": t.dag_entry()}
                        for t in tasks.expand(code_dir, data, ctx.descriptors.pipelines[key])]
    jinja = _code_environment(code_dir)
    view_sql = {view["sql"] for view in data.get("views", {}).values()}
    uploads: dict[str, Any] = {}
    inputs = [
        ctx.descriptors.environment.path,
        ctx.descriptors.datasources[source_key].path,
        ctx.descriptors.pipelines[key].path,
    ]
    dag_template = "dag.py.j2"
    if (code_dir / dag_template).is_file():
        _guard_code_file(code_dir, code_dir / dag_template)
        files["dag.py"] = jinja_render(jinja, dag_template, context)
        uploads[f"{key}.py"] = Raw('"${path.module}/dag.py"')
        inputs.append(code_dir / dag_template)
    for sql in sorted((code_dir / "sql").rglob("*.sql*")) if (code_dir / "sql").is_dir() else []:
        relative = sql.relative_to(code_dir).as_posix()
        _guard_code_file(code_dir, sql)
        inputs.append(sql)
        if relative in view_sql:
            continue
        target = relative.removesuffix(".j2")
        inner = PurePosixPath(target).relative_to("sql").as_posix()
        text = jinja_render(jinja, relative, context) if relative.endswith(".j2") else sql.read_text()
        files[f"sql/{inner}"] = text
        uploads[f"{key}/sql/{inner}"] = Raw(f'"${{path.module}}/sql/{inner}"')
    if uploads:  # the DAG runs the backfills; without one nothing would
        for name in sorted(f for f in files if f.startswith("sql/backfill/")):
            uploads[f"{key}/{name}"] = Raw(f'"${{path.module}}/{name}"')
    views = {}
    for view_name, view in sorted(data.get("views", {}).items()):
        text = (
            jinja_render(jinja, view["sql"], context)
            if view["sql"].endswith(".j2")
            else (code_dir / view["sql"]).read_text()
        )
        # Plain SQL files were checked by validate; a text analysed before is one query.
        if view["sql"].endswith(".j2") and not ctx.analyser.known_query(text):
            _check_view(ctx, code_dir / view["sql"], ctx.descriptors.pipelines[key].display, key, view_name, text)
        files[f"views/{view_name}.sql"] = text
        views[view_name] = _drop_none(
            {
                "layer": view["layer"],
                "query": Raw(f'file("${{path.module}}/views/{view_name}.sql")'),
                "description": view.get("description"),
                "authorized_on": view.get("authorized_on"),
                "deletion_protection": view.get("deletion_protection", True),
            }
        )
    args: dict[str, Any] = {
        "name": key,
        "projects": dict(ctx.projects),
        "datasets": datasets,
    }
    if "bigquery" in ctx.kms_keys:
        args["kms_key"] = ctx.kms_keys["bigquery"]
    if tables:
        args["tables"] = tables
    if jobs:
        args["migrations"] = jobs
    if views:
        args["views"] = views
    if uploads:
        args["composer"] = {
            "dag_bucket": Raw(f"{REMOTE}.composer.dag_bucket"),
            "dag_prefix": Raw(f"{REMOTE}.composer.dag_prefix"),
        }
        args["files"] = dict(sorted(uploads.items()))
    if "dlp" in data:
        args["dlp"] = {
            "template_id": f"{key}-inspect",
            "location": ctx.region,
            "info_types": data["dlp"]["info_types"],
            "min_likelihood": data["dlp"].get("min_likelihood", "POSSIBLE"),
            # The template is used: every table of the pipeline is sampled once a day.
            "tables": sorted(tables),
        }
        if "curated" in datasets:
            args["dlp"]["findings_table"] = {
                **datasets["curated"],
                "table_id": naming.dlp_findings_table(key),
            }
    if scans:
        args["data_quality"] = scans
        results_layer = "curated" if "curated" in datasets else next(iter(scans.values()))["layer"]
        dataset = datasets[results_layer]
        args["data_quality_results_table"] = (
            f"projects/{dataset['project']}/datasets/{dataset['dataset_id']}/tables/{naming.quality_results_table(key)}"
        )
        emails = ctx.env.get("monitoring", {}).get("notification_emails", [])
        if emails:
            args["data_quality_notify"] = list(emails)
        args["data_quality_runners"] = [f"serviceAccount:{ctx.task_emails['transformation']}"]
    labels = {**ctx.labels, **source.get("labels", {}), **data.get("labels", {})}
    if labels:
        args["labels"] = labels
    name = naming.stack_name("pipeline", key)
    needs = ("environment", naming.stack_name("datasource", source_key))
    inputs += [code_dir / v.schema for v in versions.of_pipeline(tables_spec)]
    return Stack(
        name=name,
        kind="pipeline",
        key=key,
        needs=needs,
        source=ctx.source("pipeline"),
        arguments=_frozen(args),
        outputs=module_outputs("pipeline"),
        backend=ctx.backend(name),
        region=ctx.region,
        remote_environment=ctx.backend("environment"),
        files=_frozen(files),
        inputs=tuple(sorted(set(inputs))),
    )


def _quality_scans(ctx: _Context, key: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pipeline's Dataplex data-quality scans keyed by scan ID.

    A rule without checks still counts rows: ``min_rows`` defaults to 1, as a scan needs at
    least one rule.
    """
    scans = {}
    for name, rule in sorted(data.get("data_quality", {}).items()):
        layer, table_name = name.split(".", 1)
        spec = data.get("tables", {}).get(layer, {}).get(table_name, {})
        scans[naming.data_quality_scan_id(key, layer, table_name)] = _drop_none(
            {
                # The scan checks what the pipeline writes: the table's current version.
                "table": versions.table_id(table_name, versions.current_version(spec)),
                "layer": layer,
                "location": ctx.region,
                "not_null": rule.get("not_null"),
                "unique": rule.get("unique"),
                "min_rows": rule.get("min_rows", 1),
            }
        )
    return scans


def _guard_code_file(code_dir: Path, path: Path) -> None:
    """Refuse a pipeline code file that is a FIFO or a link leaving the code directory."""
    problem = outside_problem(code_dir, path, "the pipeline's code directory") or special_file_problem(path)
    if problem:
        raise DfGenError(diagnostics=[Diagnostic(display_path(path), 0, 0, problem)])


def _check_view(ctx: _Context, template: Path, descriptor: str, pipeline: str, view: str, text: str) -> None:
    """Refuse a rendered view template that is not one BigQuery query (parsed once per
    canonical text: the pipelines of one code directory share it)."""
    problem = ctx.analyser.view_problem(text)
    if problem:
        line, col, why = problem
        raise DfGenError(diagnostics=[Diagnostic(display_path(template), line, col,
                                                 f"view '{view}' of pipeline '{pipeline}' ({descriptor}), "
                                                 f"once rendered: {why}")])


@cache
def _code_environment(code_dir: Path) -> Any:
    """One strict Jinja environment per pipeline code directory, so templates compile once."""
    return jinja_environment(code_dir, sandboxed=True)


def _schema_template(fields: list[dict[str, Any]], tags: Mapping[str, str]) -> str:
    """The table's JSON schema with policy-tag placeholders for ``templatefile``."""
    out = []
    for spec in fields:
        spec = dict(spec)
        if spec.get("name") in tags:
            spec["policyTags"] = {"names": [f"${{policy_tags.{tags[spec['name']]}}}"]}
        out.append(spec)
    text = json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    if not tags:
        return text
    # Only df-gen's placeholders may interpolate; escape any other template sequence.
    text = text.replace("${", "$${").replace("%{", "%%{")
    return text.replace("$${policy_tags.", "${policy_tags.")
