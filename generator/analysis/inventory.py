"""The tables, views and DAG tasks of one environment, with their SQL analysed.

Built from the validated descriptors and the model: table schemas from the pipeline code,
policy tags from the pipeline descriptors, SQL as df-gen renders it into the stacks, tasks
from the code's ``tasks.yaml``. A SQL file sqlglot cannot analyse is a one-line error at
its place in the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import naming
from generator import tasks as task_decl
from generator.analysis import sql
from generator.analysis.grants import Table
from generator.errors import DfGenError, Diagnostic
from generator.loader import display_path
from generator.model import Model
from generator.validate import Descriptors


@dataclass(frozen=True)
class PipelineTask:
    """One declared task of one pipeline, with the analysis of its SQL."""

    pipeline: str
    datasource: str
    task: task_decl.Task
    sql_file: str = ""
    analysis: sql.Analysis | None = None


@dataclass(frozen=True)
class Inventory:
    """Everything ``df-gen access`` and ``df-gen lineage`` look at."""

    tables: Mapping[str, Table]
    tasks: tuple[PipelineTask, ...]
    views: Mapping[str, sql.Analysis]
    undeclared: tuple[str, ...]
    """Pipelines whose code declares no tasks (their DAGs cannot be checked)."""


def build(descriptors: Descriptors, model: Model) -> Inventory:
    """Analyse every table, view and task of the environment."""
    env = descriptors.environment.data
    prefix = env["prefix"]
    projects = {layer: naming.project_id(prefix, layer, env["projects"][layer].get("existing"))
                for layer in naming.LAYERS}
    tables: dict[str, Table] = {}
    for key, doc in sorted(descriptors.pipelines.items()):
        data = doc.data
        code_dir = descriptors.pipelines_dir / data["code"]
        for layer, by_name in data.get("tables", {}).items():
            dataset = naming.datasource_dataset(prefix, data["datasource"], layer)
            for name, spec in by_name.items():
                fields = json.loads((code_dir / spec["schema"]).read_text(encoding="utf-8"))
                fqn = f"{projects[layer]}.{dataset}.{name}"
                tables[fqn] = Table(fqn, layer, data["datasource"], key,
                                    {f["name"]: str(f.get("type", "STRING")) for f in fields},
                                    dict(spec.get("policy_tags", {})))
    schema: dict[str, Any] = {}
    for fqn, table in tables.items():
        project, dataset, name = fqn.split(".")
        schema.setdefault(project, {}).setdefault(dataset, {})[name] = dict(table.columns)
    views: dict[str, sql.Analysis] = {}
    pipeline_tasks: list[PipelineTask] = []
    undeclared = []
    for key, doc in sorted(descriptors.pipelines.items()):
        data = doc.data
        stack = model.stack(naming.stack_name("pipeline", key))
        code_dir = descriptors.pipelines_dir / data["code"]
        for name, view in sorted(data.get("views", {}).items()):
            layer = view["layer"]
            fqn = f"{projects[layer]}.{naming.datasource_dataset(prefix, data['datasource'], layer)}.{name}"
            text = stack.files[f"views/{name}.sql"]
            where = display_path(code_dir / view["sql"])
            analysis = _analyse(text, schema, where, f"view '{name}' of pipeline '{key}'")
            views[fqn] = analysis
            authorized = tuple(
                f"projects/{projects[a]}/datasets/{naming.datasource_dataset(prefix, data['datasource'], a)}"
                for a in view.get("authorized_on", [])
            )
            tables[fqn] = Table(fqn, layer, data["datasource"], key, dict.fromkeys(analysis.lineage, "VIEW"),
                                view_sql=text, view_file=where, authorized_on=authorized)
        if not task_decl.declared(code_dir):
            undeclared.append(key)
            continue
        for task in task_decl.expand(code_dir, data):
            task_sql: sql.Analysis | None = None
            where = ""
            if task.sql:
                where = display_path(code_dir / task.sql)
                text = stack.files[f"sql/{task.dag_entry()['sql']}"]
                task_sql = _analyse(text, schema, where, f"task '{task.id}' of pipeline '{key}'")
            pipeline_tasks.append(PipelineTask(key, data["datasource"], task, where, task_sql))
    return Inventory(tables, tuple(pipeline_tasks), views, tuple(undeclared))


def _analyse(text: str, schema: Mapping[str, Any], where: str, what: str) -> sql.Analysis:
    try:
        return sql.analyse(text, schema)
    except sql.SqlError as exc:
        raise DfGenError(diagnostics=[Diagnostic(
            where, exc.line, exc.col, f"{what}: {exc.why}",
            hint="df-gen access and lineage read the SQL with sqlglot's BigQuery dialect",
        )]) from None


def code_dir_of(descriptors: Descriptors, pipeline: str) -> Path:
    """The pipeline's code directory."""
    return descriptors.pipelines_dir / descriptors.pipelines[pipeline].data["code"]
