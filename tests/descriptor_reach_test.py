"""Descriptors reach Google Cloud (issue 11, item 13): every property the descriptor JSON
Schemas accept either reaches the rendered Terraform or only steers df-gen itself.

The schemas are walked property by property. Each leaf property is either in ``REACHES``
(a value set in a copy of the demo, rendered, and looked for in the rendered stacks, where
it was not before; or, for a switch turned off, text of the demo's stacks that the edit
removes) or in ``STEERS`` (with the reason it reaches no Google resource). A new schema
property fails ``test_every_property_is_accounted_for`` until it is listed here: a key
cannot validate and then be silently dropped. Each needle holds a value that appears only
because of its edit (a sentinel, or the key it sets), found as a whole (``= 3`` is not in
``= 365``), so that a test cannot pass by accident.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from demosupport import copy_sources

from generator.render import render
from generator.resources import SCHEMAS_DIR

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
KINDS = ("environment", "datasource", "pipeline")
LAYERS = ("landing", "processing", "curated", "exposure", "orchestration")
TASK_ACCOUNTS = ("load", "transformation", "orchestration")

ENV, DS, PL = "environment.yaml", "datasources/ecommerce.yaml", "pipelines/store-daily.yaml"
DELETE = object()  # an edit value: remove the key


# ------------------------------------------------------------------ the schemas' properties


@cache
def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


def _resolve(node: dict[str, Any], doc: str) -> dict[str, Any]:
    while "$ref" in node:
        file, _, fragment = node["$ref"].partition("#")
        target: Any = _schema(file or doc)
        for part in fragment.strip("/").split("/"):
            target = target[part]
        own = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**target, **own}
        if "properties" in own and "properties" in target:
            # A referring node may add keywords to some properties (the data source's two
            # buckets share one definition and differ in storage_class's default).
            merged["properties"] = {name: {**target["properties"].get(name, {}), **own["properties"].get(name, {})}
                                    for name in {**target["properties"], **own["properties"]}}
        node = merged
    return node


def _has_properties(node: dict[str, Any], doc: str) -> bool:
    node = _resolve(node, doc)
    return "properties" in node or any(_has_properties(s, doc) for k in ("oneOf", "anyOf", "allOf")
                                       for s in node.get(k, []))


def _walk(node: dict[str, Any], doc: str, path: str, out: dict[str, bool]) -> None:
    """``out``: property path -> whether it is a leaf (holds a value, not more properties)."""
    node = _resolve(node, doc)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in node.get(key, []):
            _walk(sub, doc, path, out)
    for name, sub in node.get("properties", {}).items():
        child = f"{path}.{name}" if path else name
        resolved = _resolve(sub, doc)
        extra = resolved.get("additionalProperties")
        out[child] = not (_has_properties(resolved, doc) or isinstance(extra, dict) and _has_properties(extra, doc))
        _walk(sub, doc, child, out)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and _has_properties(extra, doc):
        _walk(extra, doc, f"{path}.<name>", out)


def schema_leaves() -> set[str]:
    """Every leaf property of the three descriptor schemas, as ``kind:dotted.path``."""
    leaves: set[str] = set()
    for kind in KINDS:
        out: dict[str, bool] = {}
        _walk(_schema(f"{kind}.schema.json"), f"{kind}.schema.json", "", out)
        leaves |= {f"{kind}:{p}" for p, leaf in out.items() if leaf}
    return leaves


# ------------------------------------------------------------------ what each property does


@dataclass(frozen=True)
class Reach:
    """Set ``edits`` (file, key path, value) in the demo; ``needle`` then appears in the
    rendered stacks (whitespace runs read as one space). Edits of one ``group`` are rendered
    together; groups exist where settings exclude each other."""

    edits: tuple[tuple[str, tuple[str, ...], Any], ...]
    needle: str
    group: str = "main"
    files: tuple[tuple[str, str | None], ...] = ()  # (path under the copy's root, text or None: delete)
    gone: bool = False  # the needle is in the demo's stacks and the edit removes it (a switch turned off)


def reach(file: str, path: str | tuple[str, ...], value: Any, needle: str, group: str = "main") -> Reach:
    return Reach(((file, tuple(path.split(".")) if isinstance(path, str) else path, value),), needle, group)


CODE = "pipelines/retail"
# The new table's schema: the curated orders columns plus one that exists only here, so that
# finding it in a rendered schema file proves the ``schema`` path was followed.
ZETA_SCHEMA = json.dumps(
    [*json.loads((ROOT / CODE / "schemas" / "curated" / "orders.json").read_text(encoding="utf-8")),
     {"name": "zeta_marker", "type": "STRING", "mode": "NULLABLE", "description": "Only in the zeta schema."}],
    indent=2,
) + "\n"
# The retail tasks.yaml runs sql/<table>.sql.j2 for every curated table.
ZETA_SQL = "SELECT 1 AS zeta\n"


def new_table(layer: str, key: str, value: Any, needle: str) -> Reach:
    """A new table ``zeta`` in ``layer`` of store-daily with ``key`` set (its own group per layer)."""
    edits: list[tuple[str, tuple[str, ...], Any]] = [(PL, ("tables", layer, "zeta", "schema"), "schemas/zeta.json")]
    if key != "schema":
        edits.append((PL, ("tables", layer, "zeta", *key.split(".")), value))
    files = [(f"{CODE}/schemas/zeta.json", ZETA_SCHEMA)]
    if layer == "curated":
        files.append((f"{CODE}/sql/zeta.sql.j2", ZETA_SQL))
    return Reach(tuple(edits), needle, f"table-{layer}", tuple(files))


STEERS: dict[str, str] = {
    "environment:apiVersion": "the descriptor format version df-gen reads",
    "environment:kind": "which descriptor this is",
    "environment:description": "documents the descriptor; an environment is no Google resource",
    "environment:pipelines_dir": "where df-gen finds pipeline code",
    "datasource:apiVersion": "the descriptor format version df-gen reads",
    "datasource:kind": "which descriptor this is",
    "datasource:description": "documents the descriptor; a data source is no Google resource",
    "pipeline:apiVersion": "the descriptor format version df-gen reads",
    "pipeline:kind": "which descriptor this is",
    "pipeline:description": "documents the descriptor; a pipeline is no Google resource",
    "pipeline:code": "which pipeline code directory df-gen renders the DAG, SQL and schemas from",
    **{f"pipeline:tables.{layer}.<name>.accept_loss":
       "lets df-gen's apply guard pass a data-losing schema change of the table; Terraform plans the same"
       for layer in ("landing", "curated", "exposure")},
    # A rename needs a key renamed too, which these one-value edits cannot express; what it
    # renders (moved, import and removed blocks, Google names kept) is tests/renames_test.py's.
    "datasource:renamed_from": "keeps the old key's Google names and renders the moves of a renamed "
                               "data source (tests/renames_test.py)",
    **{f"pipeline:tables.{layer}.<name>.renamed_from":
       "keeps the old key's table ID and renders the moves of a renamed table (tests/renames_test.py)"
       for layer in ("landing", "curated", "exposure")},
}

_REACHES: list[tuple[str, Reach]] = [
    # environment.yaml
    ("environment:prefix", reach(ENV, "prefix", "zeta-demo", '"zeta-demo-lnd"')),
    ("environment:organization.parent", reach(ENV, "organization.parent", "folders/99887766", '"folders/99887766"')),
    ("environment:organization.billing_account",
     reach(ENV, "organization.billing_account", "ABCDEF-012345-6789AB", '"ABCDEF-012345-6789AB"')),
    ("environment:region", Reach(((ENV, ("region",), "europe-west4"),
                                  (ENV, ("kms", "keys", "pubsub", "location"), "europe-west4"),
                                  (ENV, ("kms", "keys", "composer", "location"), "europe-west4")),
                                 'region = "europe-west4"', "region")),
    ("environment:location",
     Reach(((ENV, ("location",), "US"), (ENV, ("region",), "us-east1"),
            *((ENV, ("kms", "keys", s, "location"), "us-east1") for s in ("pubsub", "composer")),
            *((ENV, ("kms", "keys", s, "location"), "US") for s in ("storage", "bigquery"))),
           'location = "US"', "location")),
    *((f"environment:projects.{layer}.existing",
       reach(ENV, f"projects.{layer}", {"existing": f"adopted-{layer[:3]}-prj"},
             f'project_id = "adopted-{layer[:3]}-prj" create = false', "adopted")) for layer in LAYERS),
    *((f"environment:projects.{layer}.services",
       reach(ENV, f"projects.{layer}.services", [f"{layer}x.googleapis.com"], f'"{layer}x.googleapis.com"'))
      for layer in LAYERS),
    *((f"environment:projects.{layer}.labels",
       reach(ENV, f"projects.{layer}.labels", {"cost-center": f"cc-{layer}"}, f'"cc-{layer}"')) for layer in LAYERS),
    ("environment:network.vpc.subnets.<name>.cidr",
     reach(ENV, "network.vpc.subnets.composer.cidr", "10.77.0.0/24", '"10.77.0.0/24"')),
    ("environment:network.vpc.subnets.<name>.region",
     reach(ENV, "network.vpc.subnets.composer.region", "europe-west9", 'region = "europe-west9"')),
    ("environment:network.vpc.nat", reach(ENV, "network.vpc.nat", False, "nat = false")),
    *((f"environment:network.shared_vpc.{key}",
       Reach(((ENV, ("network",), {"shared_vpc": {"host_project": "host-prj-123", "network": "shared-net",
                                                  "subnet": "shared-sub"}}),), f'"{value}"', "shared_vpc"))
      for key, value in (("host_project", "host-prj-123"), ("network", "shared-net"), ("subnet", "shared-sub"))),
    ("environment:composer.image_version",
     reach(ENV, "composer.image_version", "composer-3-airflow-2.10.2", '"composer-3-airflow-2.10.2"')),
    ("environment:composer.size", reach(ENV, "composer.size", "large", '"ENVIRONMENT_SIZE_LARGE"')),
    ("environment:composer.private", reach(ENV, "composer.private", False, "private = false")),
    ("environment:composer.env_variables",
     reach(ENV, "composer.env_variables", {"DF_TEAM": "zeta-team"}, 'DF_TEAM = "zeta-team"')),
    ("environment:composer.pypi_packages",
     reach(ENV, "composer.pypi_packages", {"zeta-lib": "==1.2.3"}, 'zeta-lib = "==1.2.3"')),
    ("environment:kms.rotation_days", reach(ENV, "kms.rotation_days", 30, '"2592000s"')),
    *((f"environment:kms.keys.{svc}.location",
       Reach(((ENV, ("region",), "europe-west4"),
              *((ENV, ("kms", "keys", s, "location"), "europe-west4") for s in ("pubsub", "composer"))),
             f'key_ring = "acme-demo-europe-west4" location = "europe-west4" key_name = "df-{svc}"', "region"))
      for svc in ("pubsub", "composer")),
    *((f"environment:kms.keys.{svc}.location",
       Reach(((ENV, ("location",), "europe-west4"), (ENV, ("region",), "europe-west4"),
              *((ENV, ("kms", "keys", s, "location"), "europe-west4")
                for s in ("storage", "bigquery", "pubsub", "composer"))),
             f'{svc} = {{ key_ring = "acme-demo-europe-west4" location = "europe-west4"', "regional"))
      for svc in ("storage", "bigquery")),
    ("environment:vpc_sc.perimeter",
     reach(ENV, "vpc_sc", {"perimeter": "accessPolicies/123/servicePerimeters/zeta"},
           '"accessPolicies/123/servicePerimeters/zeta"')),
    *((f"environment:vpc_sc.{key}",
       Reach(((ENV, ("vpc_sc",), {"perimeter": "accessPolicies/1/servicePerimeters/p", "dry_run": True,
                                  "ingress_identities": ["user:zeta@acme.example"]}),), needle, "vpc_sc"))
      for key, needle in (("dry_run", "dry_run = true"), ("ingress_identities", '"user:zeta@acme.example"'))),
    ("environment:policy_tags.taxonomy", reach(ENV, "policy_tags.taxonomy", "Zeta classes", '"Zeta classes"')),
    ("environment:policy_tags.tags.<name>.description",
     reach(ENV, "policy_tags.tags.low.description", "Zeta low data", '"Zeta low data"')),
    ("environment:policy_tags.tags.<name>.readers",
     reach(ENV, "policy_tags.tags.low.readers", ["group:zeta-readers@acme.example"],
           '"group:zeta-readers@acme.example"')),
    ("environment:policy_tags.tags.<name>.masking",
     reach(ENV, "policy_tags.tags.low.masking", "ALWAYS_NULL", '"ALWAYS_NULL"')),
    ("environment:logging.data_access_audit",
     reach(ENV, "logging.data_access_audit", ["zeta.googleapis.com"], '"zeta.googleapis.com"')),
    ("environment:logging.audit_existing_projects",
     reach(ENV, "logging.audit_existing_projects", True, "audit_adopted_projects = true")),
    ("environment:logging.sink.destination",
     reach(ENV, "logging.sink.destination", "storage", 'shared_bucket = "logs"', "sink")),
    ("environment:logging.sink.filter", reach(ENV, "logging.sink.filter", "severity>=ZETA", '"severity>=ZETA"')),
    ("environment:logging.sink.retention_days",
     reach(ENV, "logging.sink.retention_days", 123, "expiration_days = 123")),
    ("environment:monitoring.notification_emails",
     reach(ENV, "monitoring.notification_emails", ["zeta@acme.example"], '"zeta@acme.example"')),
    ("environment:monitoring.dag_failures", reach(ENV, "monitoring.dag_failures", False, "failed_dag_runs = false")),
    ("environment:monitoring.dead_letters",
     Reach(((ENV, ("monitoring", "dead_letters"), False),),
           'dead_letter_subscriptions = ["ecommerce-orders-dead-letter"]', "main", gone=True)),
    ("environment:monitoring.data_quality_failures",
     Reach(((ENV, ("monitoring", "data_quality_failures"), False),),
           'data_quality_layers = ["curated"]', "main", gone=True)),
    ("environment:monitoring.composer_health",
     reach(ENV, "monitoring.composer_health", False, "composer_health = false")),
    # The demo's data engineers stay: they impersonate the orchestration account.
    *((f"environment:principals.{p}",
       reach(ENV, f"principals.{p}", [*(["group:data-engineers@acme.example"] if p == "data_engineers" else []),
                                      f"user:zeta-{p}@acme.example"], f'"user:zeta-{p}@acme.example"'))
      for p in ("data_engineers", "analysts", "security")),
    ("environment:access.analysts_read_curated", reach(ENV, "access.analysts_read_curated", True,
                                                       'analysts = { curated = ["roles/bigquery.dataViewer"]')),
    ("environment:access.data_engineers_read_landing_files",
     reach(ENV, "access.data_engineers_read_landing_files", True,
           'landing = ["roles/bigquery.dataViewer", "roles/bigquery.jobUser", "roles/storage.objectViewer"]')),
    # Only data engineers may impersonate task accounts (validate), hence their own group.
    *((f"environment:access.impersonation.{task}",
       Reach(((ENV, ("principals", "data_engineers"), [f"user:zeta-{t}@acme.example" for t in TASK_ACCOUNTS]),
              (ENV, ("access", "impersonation", task), [f"user:zeta-{task}@acme.example"])),
             f'{task} = ["composer", "user:zeta-{task}@acme.example"]', "impersonation"))
      for task in TASK_ACCOUNTS),
    ("environment:shared.buckets.<name>.storage_class",
     reach(ENV, "shared.buckets.temp.storage_class", "ARCHIVE",
           'temp = { name = "zeta-demo-temp" storage_class = "ARCHIVE"')),  # the prefix edit too
    ("environment:shared.buckets.<name>.retention_days",
     reach(ENV, "shared.buckets.temp.retention_days", 17, "retention_days = 17")),
    ("environment:shared.buckets.<name>.labels",
     reach(ENV, "shared.buckets.temp.labels", {"zeta": "bucket-label"}, '"bucket-label"')),
    ("environment:shared.datasets.<name>.layer",
     reach(ENV, "shared.datasets.reference.layer", "exposure",
           'reference = { dataset_id = "zeta_demo_reference" project = "exposure"')),  # the prefix edit too
    ("environment:shared.datasets.<name>.description",
     reach(ENV, "shared.datasets.reference.description", "Zeta reference data", '"Zeta reference data"')),
    # Adoption (existing: true): an import block in the stack's lifecycle.tf.
    ("environment:shared.buckets.<name>.existing",
     reach(ENV, "shared.buckets.temp.existing", True, 'to = module.environment.google_storage_bucket.shared["temp"]')),
    ("environment:shared.datasets.<name>.existing",
     reach(ENV, "shared.datasets.reference.existing", True,
           'to = module.environment.google_bigquery_dataset.shared["reference"]')),
    ("environment:terraform.state_bucket", reach(ENV, "terraform.state_bucket", "zeta-tfstate", '"zeta-tfstate"')),
    ("environment:terraform.state_prefix",
     reach(ENV, "terraform.state_prefix", "zeta/states", '"zeta/states/environment"')),
    ("environment:terraform.automation_service_account",
     reach(ENV, "terraform.automation_service_account", "zeta-tf@acme-seed-prj.iam.gserviceaccount.com",
           '"zeta-tf@acme-seed-prj.iam.gserviceaccount.com"')),
    ("environment:terraform.modules.path", reach(ENV, "terraform.modules", {"path": "../../vendor/df-modules"},
                                                 "vendor/df-modules/environment", "modules")),
    *((f"environment:terraform.modules.git.{key}",
       Reach(((ENV, ("terraform", "modules"), {"git": {"url": "https://git.acme.example/df-modules.git",
                                                       "ref": "v9.8.7"}}),),
             needle, "git"))
      for key, needle in (("url", "git::https://git.acme.example/df-modules.git//"), ("ref", "?ref=v9.8.7"))),
    ("environment:project_deletion_policy",
     reach(ENV, "project_deletion_policy", "ABANDON", 'project_deletion_policy = "ABANDON"')),
    ("environment:labels", reach(ENV, "labels", {"zeta-env": "env-label"}, '"env-label"')),
    # datasources/ecommerce.yaml
    *((f"datasource:buckets.{role}.{key}", reach(DS, f"buckets.{role}.{key}", value, needle, group))
      for role in ("landing", "archive")
      for key, value, needle, group in (
          ("storage_class", "ARCHIVE", f'{role} = {{ name = "acme-demo-ecommerce-{role}" storage_class = "ARCHIVE"',
           "class"),
          ("labels", {"zeta-bucket": f"{role}-label"}, f'labels = {{ zeta-bucket = "{role}-label" }}', "main"),
      )),
    ("datasource:buckets.landing.versioning",
     Reach(((DS, ("buckets", "landing", "versioning"), False),),
           'name = "acme-demo-ecommerce-landing" storage_class = "STANDARD" versioning = false', "versioning")),
    ("datasource:buckets.archive.versioning",
     Reach(((DS, ("buckets", "archive", "versioning"), True), (DS, ("buckets", "archive", "retention_days"), DELETE)),
           'name = "acme-demo-ecommerce-archive" storage_class = "COLDLINE" versioning = true', "versioning")),
    ("datasource:buckets.landing.retention_days",
     Reach((("datasources/zeta.yaml", (), {"apiVersion": "dfgen/v1", "kind": "DataSource",
                                           "buckets": {"landing": {"retention_days": 3}},
                                           "datasets": {"landing": {}}}),), "retention_days = 3", "main")),
    ("datasource:buckets.archive.retention_days",
     reach(DS, "buckets.archive.retention_days", 77, "retention_days = 77")),
    *((f"datasource:buckets.{role}.existing",
       reach(DS, f"buckets.{role}.existing", True, f'to = module.datasource.google_storage_bucket.default["{role}"]'))
      for role in ("landing", "archive")),
    ("datasource:pubsub.topics.<name>.existing",
     reach(DS, "pubsub.topics.orders.existing", True, 'to = module.datasource.google_pubsub_topic.default["orders"]')),
    ("datasource:datasets.<name>.existing",
     reach(DS, "datasets.curated.existing", True, 'to = module.datasource.google_bigquery_dataset.default["curated"]')),
    *((f"datasource:buckets.{role}.lifecycle.{key}",
       reach(DS, f"buckets.{role}.lifecycle.{key}", value, f"{key} = {value}"))
      for role, key, value in (("landing", "archive_after_days", 11), ("landing", "delete_after_days", 411),
                               ("archive", "archive_after_days", 12), ("archive", "delete_after_days", 412))),
    ("datasource:pubsub.topics.<name>.message_retention_hours",
     reach(DS, "pubsub.topics.orders.message_retention_hours", 47, '"169200s"')),
    ("datasource:pubsub.topics.<name>.subscriptions.<name>.ack_deadline_seconds",
     reach(DS, "pubsub.topics.orders.subscriptions.ingest.ack_deadline_seconds", 77, "ack_deadline_seconds = 77")),
    ("datasource:pubsub.topics.<name>.subscriptions.<name>.filter",
     reach(DS, "pubsub.topics.orders.subscriptions.ingest.filter", 'attributes.zeta = "1"', 'attributes.zeta')),
    ("datasource:pubsub.topics.<name>.subscriptions.<name>.dead_letter.max_delivery_attempts",
     reach(DS, "pubsub.topics.orders.subscriptions.ingest.dead_letter.max_delivery_attempts", 7,
           "max_delivery_attempts = 7")),
    ("datasource:pubsub.allowed_regions",
     reach(DS, "pubsub.allowed_regions", ["europe-west9"], 'message_storage_regions = ["europe-west9"]')),
    ("datasource:external_identities.<name>.member",
     reach(DS, "external_identities.shop-backend.member", "user:zeta-writer@acme.example",
           '"user:zeta-writer@acme.example"')),
    ("datasource:external_identities.<name>.description",
     reach(DS, ("external_identities", "zeta-writer", "description"), "Zeta writer job",
           'description = "Zeta writer job"')),  # a created writer account: its description
    ("datasource:datasets.<name>.description",
     reach(DS, "datasets.curated.description", "Zeta curated data", '"Zeta curated data"')),
    ("datasource:datasets.<name>.iam",
     reach(DS, "datasets.curated.iam", {"roles/bigquery.dataViewer": ["user:zeta-viewer@acme.example"]},
           '"user:zeta-viewer@acme.example"')),
    ("datasource:datasets.<name>.default_table_expiration_days",
     reach(DS, "datasets.curated.default_table_expiration_days", 21, "default_table_expiration_ms = 1814400000")),
    ("datasource:labels", reach(DS, "labels", {"zeta-ds": "ds-label"}, '"ds-label"')),
    # pipelines/store-daily.yaml
    ("pipeline:datasource",
     Reach(((PL, ("datasource",), "ecommerce"),),
           'data_quality_results_table = "projects/acme-demo-cur/datasets/acme_demo_ecommerce_curated/tables/'
           'data_quality_store_daily"', "datasource",
           (("environments/demo/pipelines/ecommerce-hourly.yaml", None),))),
    ("pipeline:dag.schedule", reach(PL, "dag.schedule", "17 5 * * *", "17 5 * * *")),
    ("pipeline:dag.start_date", reach(PL, "dag.start_date", "2023-03-17", 'START_DATE = "2023-03-17"')),
    ("pipeline:dag.retries", reach(PL, "dag.retries", 7, "RETRIES = 7")),
    ("pipeline:dag.variables",
     reach(PL, "dag.variables", {"zeta_variable": "zeta-value"}, '{\\"zeta_variable\\": \\"zeta-value\\"}')),
    *((f"pipeline:tables.{layer}.<name>.{key}", new_table(layer, key, value, needle))
      for layer in ("landing", "curated", "exposure")
      for key, value, needle in (
          ("schema", None, '"zeta_marker"'),
          ("description", f"Zeta {layer} table", f'"Zeta {layer} table"'),
          ("partitioning.field", "order_ts", 'field = "order_ts"'),
          ("partitioning.type", "MONTH", 'type = "MONTH"'),
          ("clustering", ["channel", "status"], '["channel", "status"]'),
          ("policy_tags", {"channel": "low"}, "policy_tags.low"),
          ("deletion_protection", True, "deletion_protection = true"),
          # In-place migrations: the rendered DDL run by the table's migration job.
          ("migrate.set_data_type", ["amount"], "ALTER COLUMN amount SET DATA TYPE NUMERIC"),
          ("migrate.drop_not_null", ["order_id"], "ALTER COLUMN order_id DROP NOT NULL"),
          ("migrate.drop_columns", ["zeta_gone"], "DROP COLUMN IF EXISTS zeta_gone"),
          ("existing", True, f'to = module.pipeline.google_bigquery_table.tables["{layer}-zeta"]'),
      )),
    # Table versions: a new table beside the old one, and the backfill from the kept version.
    *((f"pipeline:tables.{layer}.<name>.{key}", Reach(
        ((PL, ("tables", layer, "zeta", "schema"), "schemas/zeta.json"),
         (PL, ("tables", layer, "zeta", "version"), 2),
         *(((PL, ("tables", layer, "zeta", "keep_versions"), [{"version": 1, "schema": "schemas/zeta.json"}]),)
           if key == "keep_versions" else ())),
        needle, f"version-{layer}-{key}",
        ((f"{CODE}/schemas/zeta.json", ZETA_SCHEMA),
         *(((f"{CODE}/sql/zeta.sql.j2", ZETA_SQL),) if layer == "curated" else ()))))
      for layer in ("landing", "curated", "exposure")
      for key, needle in (
          ("version", 'table_id = "zeta_v2"'),
          ("keep_versions", f'"${{path.module}}/sql/backfill/{layer}.zeta_v2.sql"'),
      )),
    ("pipeline:views.<name>.layer",
     reach(PL, "views.sales_by_product_day.layer", "curated", 'sales_by_product_day = { layer = "curated"',
           "view")),
    ("pipeline:views.<name>.sql",
     Reach(((PL, ("views", "sales_by_product_day", "sql"), "sql/views/zeta.sql"),), "zeta-view", "view",
           (("pipelines/retail/sql/views/zeta.sql", "SELECT 'zeta-view' AS label\n"),))),
    ("pipeline:views.<name>.description",
     reach(PL, "views.sales_by_product_day.description", "Zeta view", '"Zeta view"')),
    ("pipeline:views.<name>.authorized_on",
     reach(PL, "views.sales_by_product_day.authorized_on", [], "authorized_on = []", "view")),
    ("pipeline:views.<name>.deletion_protection",
     reach(PL, "views.sales_by_product_day.deletion_protection", True, "deletion_protection = true", "view")),
    ("pipeline:dlp.info_types", reach(PL, "dlp.info_types", ["IBAN_CODE"], '"IBAN_CODE"')),
    ("pipeline:dlp.min_likelihood", reach(PL, "dlp.min_likelihood", "VERY_LIKELY", '"VERY_LIKELY"')),
    ("pipeline:data_quality.<name>.not_null",
     reach(PL, ("data_quality", "curated.products"), {"not_null": ["category"]},
           'store-daily-curated-products = { table = "products" layer = "curated" location = "europe-west1" '
           'not_null = ["category"]', "dq")),
    ("pipeline:data_quality.<name>.unique",
     reach(PL, ("data_quality", "curated.orders", "unique"), ["channel"], 'unique = ["channel"]', "dq")),
    ("pipeline:data_quality.<name>.min_rows",
     reach(PL, ("data_quality", "curated.orders", "min_rows"), 77, "min_rows = 77", "dq")),
    ("pipeline:labels", reach(PL, "labels", {"zeta-pl": "pl-label"}, '"pl-label"')),
]
REACHES: dict[str, Reach] = dict(_REACHES)


def test_every_property_is_accounted_for() -> None:
    assert len(REACHES) == len(_REACHES), "a property is listed twice"
    assert not set(REACHES) & set(STEERS)
    leaves = schema_leaves()
    assert leaves - set(REACHES) - set(STEERS) == set(), "schema properties neither reaching the stacks nor listed"
    assert set(REACHES) | set(STEERS) <= leaves, "listed properties the schemas no longer have"


# ------------------------------------------------------------------ rendering them


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    if value is DELETE:
        data.pop(path[-1], None)
    else:
        data[path[-1]] = value


def _stack_text(env_dir: Path) -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted((env_dir / "stacks").rglob("*"))
             if p.is_file() and p.name != ".df-gen-manifest.json"]
    return "\n".join(texts)


def _found(needle: str, text: str) -> bool:
    """Whether ``needle`` is in ``text`` as a whole: ``retention_days = 3`` is not in
    ``retention_days = 365``."""
    start = r"(?<![\w.-])" if re.match(r"\w", needle) else ""
    end = r"(?![\w.-])" if re.search(r"\w$", needle) else ""
    return re.search(start + re.escape(needle) + end, text) is not None


def _flat_hcl(text: str) -> str:
    """Rendered text with every whitespace run as one space (HCL aligns its ``=``)."""
    return re.sub(r"\s+", " ", text)


def _render(base: Path, edits: list[tuple[str, tuple[str, ...], Any]],
            files: list[tuple[str, str | None]]) -> str:
    # Without the demo's stacks: a stack the edits orphan is reported by render, not deleted,
    # and its text must not be searched.
    env_dir = copy_sources(base, stacks=False, modules=True)
    for relative, text in files:
        if text is None:
            (base / relative).unlink()
        else:
            (base / relative).write_text(text, encoding="utf-8")
    for file in {e[0] for e in edits}:
        path = env_dir / file
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        for _, key_path, value in (e for e in edits if e[0] == file):
            if key_path:
                _set(data, key_path, value)
            else:
                data = value
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    render(env_dir, force=True)
    return _flat_hcl(_stack_text(env_dir))


GROUPS = sorted({r.group for r in REACHES.values()})


@pytest.fixture(scope="module")
def golden() -> str:
    return _flat_hcl(_stack_text(DEMO))


@pytest.mark.parametrize("group", GROUPS)
def test_properties_reach_the_rendered_stacks(group: str, golden: str, tmp_path: Path) -> None:
    entries = {prop: r for prop, r in REACHES.items() if r.group == group}
    text = _render(tmp_path, [e for r in entries.values() for e in r.edits],
                   [f for r in entries.values() for f in r.files])
    missing = {prop: r.needle for prop, r in entries.items() if _found(r.needle, text) == r.gone}
    assert not missing, f"set in the descriptors but not (or still) in the rendered stacks: {missing}"
    already = {prop: r.needle for prop, r in entries.items() if _found(r.needle, golden) != r.gone}
    assert not already, f"needles found in the demo's stacks before the edit (choose other values): {already}"
