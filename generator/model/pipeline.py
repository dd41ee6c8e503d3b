"""A pipeline's stack: its tables, migrations, views, DAG files, DLP and data-quality scans.

The model computes the values here, including the context the pipeline's DAG template
receives (:func:`dag_context`); :mod:`generator.pipeline_code` renders the code with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator import access, adoption, migrations, naming, pipeline_code, renames, tasks, versions
from generator.defaults import default, time_partitioning
from generator.hcl import Raw
from generator.lifecycle_blocks import Block
from generator.loader import json_file
from generator.model.context import Context
from generator.model.stack import REMOTE, Stack, agent_member, drop_none, frozen, module_outputs


def pipeline_stack(ctx: Context, key: str, data: dict[str, Any]) -> Stack:
    """The stack of pipeline ``key``, with its rendered code among its files."""
    source_key = data["datasource"]
    source = ctx.descriptors.datasources[source_key].data
    code_dir = ctx.descriptors.pipelines_dir / data["code"]
    # What names the source's datasets and buckets: its key, or the one it was renamed from.
    datasets = _datasets(ctx, naming.google_key(source_key, source), source)
    files, tables, jobs = _tables(ctx, code_dir, data, datasets)
    scans = quality_scans(ctx, key, data)
    context = dag_context(ctx, key, data, datasets, scans)
    code = pipeline_code.render(code_dir, ctx.descriptors.pipelines[key].display, key, data, context, ctx.analyser,
                                ctx.code_scans)
    files.update(code.files)
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
    views = _views(data)
    if views:
        args["views"] = views
    uploads = _uploads(key, code.files, files)
    if uploads:
        args["composer"] = {
            "dag_bucket": Raw(f"{REMOTE}.composer.dag_bucket"),
            "dag_prefix": Raw(f"{REMOTE}.composer.dag_prefix"),
        }
        args["files"] = uploads
    moves, old_keys = _renamed_tables(data)
    if "dlp" in data:
        args["dlp"] = _dlp(ctx, key, data, datasets, tables)
        if old_keys:  # a renamed table's trigger keeps its ID (modules/pipeline/dlp.tf)
            args["dlp"]["trigger_names"] = dict(sorted(old_keys.items()))
    if scans:
        args.update(_data_quality(ctx, key, data, datasets, scans))
    # Write on the results and findings datasets is the data source's (datasource_stack).
    grants = access.pipeline_agent_grants(data, sorted(tables))
    if grants:
        # The agents' e-mails come from the environment stack, which provisions them first.
        args["service_agent_grants"] = {
            name: {"member": agent_member(grant["agent"]), "role": grant["role"], "table": grant["table"]}
            for name, grant in grants.items()
        }
    labels = {**ctx.labels, **source.get("labels", {}), **data.get("labels", {})}
    if labels:
        args["labels"] = labels
    name = naming.stack_name("pipeline", key)
    tables_spec = data.get("tables", {})
    inputs = [
        ctx.descriptors.environment.path,
        ctx.descriptors.datasources[source_key].path,
        ctx.descriptors.pipelines[key].path,
        *code.inputs,
        *(code_dir / v.schema for v in versions.of_pipeline(tables_spec)),
    ]
    adopted = adoption.pipeline_imports(ctx.descriptors.pipelines[key], datasets)
    return Stack(
        name=name,
        kind="pipeline",
        key=key,
        needs=("environment", naming.stack_name("datasource", source_key)),
        source=ctx.source("pipeline"),
        arguments=frozen(args),
        outputs=module_outputs("pipeline"),
        backend=ctx.backend(name),
        region=ctx.region,
        remote_environment=ctx.backend("environment"),
        files=frozen(files),
        inputs=tuple(sorted(set(inputs))),
        adopted=adopted,
        lifecycle=(*adoption.blocks(adopted), *moves),
    )


def _renamed_tables(data: Mapping[str, Any]) -> tuple[list[Block], dict[str, str]]:
    """The ``moved`` blocks of the tables whose key was renamed (generator.renames), and each
    renamed module key with the key it had."""
    moves: list[Block] = []
    old_keys: dict[str, str] = {}
    for version in versions.of_pipeline(data.get("tables", {}), naming.DATA_LAYERS):
        if version.base != version.name:
            old_keys[version.key] = versions.table_key(version.layer, version.base, version.version)
            moves.extend(renames.table_moves(
                old_keys[version.key], version.key, version.path, dlp="dlp" in data,
                migrate=version.current and bool(version.spec.get("migrate"))))
    return moves, old_keys


def _datasets(ctx: Context, source_key: str, source: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The data source's datasets the pipeline writes, by layer."""
    return {
        layer: {"project": ctx.projects[layer], "dataset_id": naming.datasource_dataset(ctx.prefix, source_key, layer)}
        for layer in naming.DATA_LAYERS
        if layer in source["datasets"]
    }


def _tables(ctx: Context, code_dir: Path, data: Mapping[str, Any], datasets: Mapping[str, dict[str, str]]
            ) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """The pipeline's tables: their schema files (and DDL files), module entries, and the
    in-place migrations (:mod:`generator.migrations`), by table key."""
    files: dict[str, str] = {}
    tables: dict[str, Any] = {}
    jobs: dict[str, Any] = {}
    tables_spec = data.get("tables", {})
    for version in versions.of_pipeline(tables_spec, naming.DATA_LAYERS):
        table = version.spec
        fields = json_file(code_dir / version.schema)
        tags = table.get("policy_tags", {})
        # Every version carries the table's policy tags (on the columns it has).
        files[version.schema_file] = _schema_text(ctx, fields, tags)
        path = f"${{path.module}}/{version.schema_file}"
        schema = (
            Raw(f'templatefile("{path}", {{ policy_tags = {REMOTE}.policy_tags }})')
            if tags
            else Raw(f'file("{path}")')
        )
        layer = version.layer
        tables[version.key] = drop_none(
            {
                "table_id": version.table_id,
                "layer": layer,
                "schema": schema,
                "description": table.get("description"),
                "partitioning": time_partitioning(layer, table),
                "clustering": table.get("clustering"),
                "deletion_protection": table.get(
                    "deletion_protection", default("pipeline", f"tables.{layer}.<name>.deletion_protection")
                ),
            }
        )
        if version.current and table.get("migrate"):
            migration_file, job = _migration(ctx, datasets[layer], layer, version.table_id, table["migrate"], fields)
            files[migration_file] = job.pop("sql")
            jobs[version.key] = job
        if version.current:
            files.update(_backfill(code_dir, datasets[layer], version, tables_spec[layer]))
    return files, tables, jobs


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
    return {f"sql/{versions.backfill_file(version.layer, version.base, version.version)}": text}


def _migration(ctx: Context, dataset: dict[str, str], layer: str, table: str, migrate: dict[str, Any],
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


def _schema_text(ctx: Context, fields: list[dict[str, Any]], tags: Mapping[str, str]) -> str:
    """:func:`schema_template`, once per schema file and tags in a run: the pipelines of one
    code directory share their schemas (``json_file`` returns the same object), and
    ``json.dumps`` with an indent is the pure-Python encoder."""
    key = (id(fields), tuple(sorted(tags.items())))
    known = ctx.schema_texts.get(key)
    if known is None or known[0] is not fields:
        known = ctx.schema_texts[key] = (fields, schema_template(fields, tags))
    return known[1]


def schema_template(fields: list[dict[str, Any]], tags: Mapping[str, str]) -> str:
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


def dag_context(ctx: Context, key: str, data: Mapping[str, Any], datasets: Mapping[str, dict[str, str]],
                scans: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """What the pipeline's DAG and SQL templates receive."""
    dag = data.get("dag", {})
    tables_spec = data.get("tables", {})
    source_key = data["datasource"]
    source_name = naming.google_key(source_key, ctx.descriptors.datasources[source_key].data)
    code_dir = ctx.descriptors.pipelines_dir / data["code"]
    table_ids = {layer: ids for layer, ids in versions.current_ids(tables_spec).items() if layer in datasets}
    return {
        "dag_id": key,
        "schedule": dag.get("schedule", default("pipeline", "dag.schedule")),
        "start_date": dag.get("start_date", default("pipeline", "dag.start_date")),
        "retries": dag.get("retries", default("pipeline", "dag.retries")),
        "pipeline": key,
        "datasource": source_name,
        "buckets": {role: naming.datasource_bucket(ctx.prefix, source_name, role) for role in ("landing", "archive")},
        "datasets": datasets,
        # The code's names of the tables (a renamed key keeps its old one, naming.google_key).
        "tables": [
            {"name": n, "layer": layer, "table_id": table_ids[layer][n], "source_uri_prefix": None}
            for layer in naming.DATA_LAYERS
            for n in sorted(table_ids.get(layer, {}))
        ],
        # `{{ ref.curated.orders }}`: the quoted ID of the table's current version, so that SQL
        # follows a new table version without naming it.
        "ref": {
            layer: {n: f"`{datasets[layer]['project']}.{datasets[layer]['dataset_id']}.{table_id}`"
                    for n, table_id in ids.items()}
            for layer, ids in table_ids.items()
        },
        "sql_folder": naming.dag_sql_folder(key),
        "variables": dag.get("variables", {}),
        # Each Dataplex scan, run by the DAG once its table is written.
        "quality": [
            {"table": _code_name(data, name), "layer": scan["layer"], "scan_id": scan_id,
             "project": ctx.projects[scan["layer"]], "region": scan["location"]}
            for (scan_id, scan), name in zip(scans.items(), sorted(data.get("data_quality", {})), strict=True)
        ],
        # The DAG's tasks, from the code's tasks.yaml: the DAG template builds its operators
        # from this list, and `df-gen access` checks the grants of the same list.
        "tasks": [{"id": t.id, "spec": t.dag_entry()}
                  for t in tasks.expand(code_dir, data, ctx.descriptors.pipelines[key])],
    }


def _views(data: Mapping[str, Any]) -> dict[str, Any]:
    """The module's views; their SQL is the rendered ``views/<name>.sql`` of the stack."""
    return {
        view_name: drop_none(
            {
                "layer": view["layer"],
                "query": Raw(f'file("${{path.module}}/views/{view_name}.sql")'),
                "description": view.get("description"),
                "authorized_on": view.get("authorized_on"),
                "deletion_protection": view.get(
                    "deletion_protection", default("pipeline", "views.<name>.deletion_protection")
                ),
            }
        )
        for view_name, view in sorted(data.get("views", {}).items())
    }


def _uploads(key: str, code: Mapping[str, str], files: Mapping[str, str]) -> dict[str, Raw]:
    """Composer's DAG folder objects: the DAG as ``<key>.py`` and its SQL under ``<key>/sql/``,
    with the tables' backfills among ``files`` (the DAG runs them; without a DAG nothing would)."""
    folder = naming.dag_sql_folder(key)
    uploads = {naming.dag_object(key): Raw('"${path.module}/dag.py"')} if "dag.py" in code else {}
    for name in code:
        if name.startswith("sql/"):
            uploads[f"{folder}/{name.removeprefix('sql/')}"] = Raw(f'"${{path.module}}/{name}"')
    if uploads:
        for name in sorted(f for f in files if f.startswith("sql/backfill/")):
            uploads[f"{folder}/{name.removeprefix('sql/')}"] = Raw(f'"${{path.module}}/{name}"')
    return dict(sorted(uploads.items()))


def _dlp(ctx: Context, key: str, data: Mapping[str, Any], datasets: Mapping[str, dict[str, str]],
         tables: Mapping[str, Any]) -> dict[str, Any]:
    dlp: dict[str, Any] = {
        "template_id": naming.dlp_inspect_template(key),
        "project": access.DLP_LAYER,
        "location": ctx.region,
        "info_types": data["dlp"]["info_types"],
        "min_likelihood": data["dlp"].get("min_likelihood", default("pipeline", "dlp.min_likelihood")),
        # The template is used: every table of the pipeline is sampled once a day.
        "tables": sorted(tables),
    }
    findings = access.findings_layer(data, datasets)
    if findings is not None:
        dlp["findings_table"] = {**datasets[findings], "table_id": naming.dlp_findings_table(key)}
    return dlp


def _data_quality(ctx: Context, key: str, data: Mapping[str, Any], datasets: Mapping[str, dict[str, str]],
                  scans: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The scans, where their results go (curated when the source has it), who hears of
    failures and who may run them."""
    layer = access.results_layer(data, datasets)
    assert layer is not None  # the pipeline has scans
    dataset = datasets[layer]
    args: dict[str, Any] = {
        "data_quality": scans,
        "data_quality_results_table": (
            f"projects/{dataset['project']}/datasets/{dataset['dataset_id']}/tables/{naming.quality_results_table(key)}"
        ),
    }
    emails = ctx.env.get("monitoring", {}).get("notification_emails", [])
    if emails:
        args["data_quality_notify"] = list(emails)
    args["data_quality_runners"] = [f"serviceAccount:{ctx.task_emails['transformation']}"]
    return args


def _code_name(data: Mapping[str, Any], entry: str) -> str:
    """The table name the pipeline code uses for data_quality entry ``layer.table``."""
    layer, table = entry.split(".", 1)
    return naming.google_key(table, data.get("tables", {}).get(layer, {}).get(table, {}))


def quality_scans(ctx: Context, key: str, data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The pipeline's Dataplex data-quality scans keyed by scan ID: the one place their rules
    are built (the DAG's scan tasks are read from these).

    A rule without checks still counts rows: ``min_rows`` has a default in the pipeline
    schema (1), as a scan needs at least one rule.
    """
    scans = {}
    for name, rule in sorted(data.get("data_quality", {}).items()):
        layer, table_key = name.split(".", 1)
        spec = data.get("tables", {}).get(layer, {}).get(table_key, {})
        # Scans name the table by its name on BigQuery, and their IDs (Google names) follow it.
        table_name = naming.google_key(table_key, spec)
        scans[naming.data_quality_scan_id(key, layer, table_name)] = drop_none(
            {
                # The scan checks what the pipeline writes: the table's current version.
                "table": versions.table_id(table_name, versions.current_version(spec)),
                "layer": layer,
                "location": ctx.region,
                "not_null": rule.get("not_null"),
                "unique": rule.get("unique"),
                "min_rows": rule.get("min_rows", default("pipeline", "data_quality.<name>.min_rows")),
            }
        )
    return scans
