"""The tables, views and DAG tasks of one environment, with their SQL analysed.

Built from the validated descriptors and the model: table schemas from the pipeline code,
policy tags from the pipeline descriptors, SQL as df-gen renders it into the stacks, tasks
from the code's ``tasks.yaml``. A SQL file sqlglot cannot analyse is a one-line error at
its place in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import naming, versions
from generator import tasks as task_decl
from generator.analysis import sql
from generator.analysis.cache import Analyser
from generator.analysis.grants import Table
from generator.errors import DfGenError, Diagnostic
from generator.loader import display_path, json_file
from generator.memo import IdentityMemo
from generator.validate import Descriptors

if TYPE_CHECKING:
    from generator.model import Model


@dataclass(frozen=True)
class PipelineTask:
    """One declared task of one pipeline, with the analysis of its SQL."""

    pipeline: str
    datasource: str
    task: task_decl.Task
    sql_file: str = ""
    analysis: sql.Analysis | None = None
    source_name: str = ""
    """The key naming the data source's buckets and datasets (``renamed_from``, else ``datasource``)."""


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
    projects = _projects(env)
    tables = stored_tables(descriptors)
    analyser = analyser_for(descriptors)
    views: dict[str, sql.Analysis] = {}
    pipeline_tasks: list[PipelineTask] = []
    undeclared = []
    stacks = {stack.name: stack for stack in model.stacks}
    for key, doc in sorted(descriptors.pipelines.items()):
        data = doc.data
        stack = stacks[naming.stack_name("pipeline", key)]
        code_dir = descriptors.pipelines_dir / data["code"]
        source_name = _source_name(descriptors, data)
        for name, view in sorted(data.get("views", {}).items()):
            layer = view["layer"]
            fqn = f"{projects[layer]}.{naming.datasource_dataset(prefix, source_name, layer)}.{name}"
            text = stack.files[f"views/{name}.sql"]
            where = display_path(code_dir / view["sql"])
            analysis = _analyse(analyser, text, where, f"view '{name}' of pipeline '{key}'")
            views[fqn] = analysis
            authorized = tuple(
                f"projects/{projects[a]}/datasets/{naming.datasource_dataset(prefix, source_name, a)}"
                for a in view.get("authorized_on", [])
            )
            tables[fqn] = Table(fqn, layer, data["datasource"], key, dict.fromkeys(analysis.lineage, "VIEW"),
                                view_sql=text, view_file=where, authorized_on=authorized)
        found = pipeline_tasks_of(descriptors, key, stack.files, analyser)
        if found is None:
            undeclared.append(key)
        else:
            pipeline_tasks += found
    analyser.save()
    return Inventory(tables, tuple(pipeline_tasks), views, tuple(undeclared))


def _projects(env: Mapping[str, Any]) -> dict[str, str]:
    return {layer: naming.project_id(env["prefix"], layer, env["projects"][layer].get("existing"))
            for layer in naming.LAYERS}


@dataclass
class _Shared:
    """What the model, its tag reads and the access check of one run share (issue 13: each
    computed it again): the stored tables, one analyser, each pipeline's analysed tasks."""

    tables: dict[str, Table]
    analyser: Analyser | None = None
    tasks: dict[tuple[str, int], tuple[Mapping[str, str], list[PipelineTask]]] = field(default_factory=dict)
    """(pipeline, id of its rendered files) -> (the files, kept so the id stays theirs; the tasks)."""


# Per validated descriptors: what their run shares.
_SHARED: IdentityMemo[_Shared] = IdentityMemo(16)


def _shared(descriptors: Descriptors) -> _Shared:
    known = _SHARED.get(descriptors)
    return known if known is not None else _SHARED.put(descriptors, None, _Shared(_stored_tables(descriptors)))


def stored_tables(descriptors: Descriptors) -> dict[str, Table]:
    """Every table the pipelines declare (``project.dataset.table`` -> columns and tags);
    computed once per validated descriptors, a new dict each call."""
    return dict(_shared(descriptors).tables)


def _stored_tables(descriptors: Descriptors) -> dict[str, Table]:
    env = descriptors.environment.data
    projects = _projects(env)
    tables: dict[str, Table] = {}
    # (code directory, schema file in it) -> its columns: code directories are shared, and
    # strings, not Paths, key them (2,000 tables: the Paths cost more than the rest)
    columns: dict[tuple[str, str], dict[str, str]] = {}
    for key, doc in sorted(descriptors.pipelines.items()):
        data = doc.data
        source_name = _source_name(descriptors, data)
        for layer, by_name in data.get("tables", {}).items():
            dataset = naming.datasource_dataset(env["prefix"], source_name, layer)
            for name, spec in by_name.items():
                # Every managed version, each with the table's policy tags.
                for version in versions.of_table(layer, name, spec):
                    fqn = f"{projects[layer]}.{dataset}.{version.table_id}"
                    schema = (data["code"], version.schema)
                    if schema not in columns:
                        columns[schema] = _columns(descriptors.pipelines_dir / data["code"] / version.schema)
                    tables[fqn] = Table(fqn, layer, data["datasource"], key, dict(columns[schema]),
                                        dict(spec.get("policy_tags", {})))
    return tables


def _columns(path: Path) -> dict[str, str]:
    """Column -> type of a schema file (many pipelines share one: read once per run)."""
    stat = path.stat()
    return dict(_read_columns(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=256)
def _read_columns(path: Path, _mtime: int, _size: int) -> tuple[tuple[str, str], ...]:
    fields = json_file(path)
    return tuple((f["name"], str(f.get("type", "STRING"))) for f in fields)


def schema_of(tables: Mapping[str, Table]) -> dict[str, Any]:
    """project -> dataset -> table -> column -> type, for sqlglot."""
    schema: dict[str, Any] = {}
    for fqn, table in tables.items():
        if not table.view_sql:
            project, dataset, name = fqn.split(".")
            schema.setdefault(project, {}).setdefault(dataset, {})[name] = dict(table.columns)
    return schema


def pipeline_tasks_of(descriptors: Descriptors, key: str, files: Mapping[str, str],
                      analyser: Analyser) -> list[PipelineTask] | None:
    """The declared tasks of one pipeline with their SQL (as rendered in ``files``) analysed;
    None when its code declares no tasks. With the analyser of :func:`analyser_for`, each
    pipeline's files are analysed once (the model's tag reads and the access check ask)."""
    shared = _shared(descriptors)
    if analyser is not shared.analyser:
        return _pipeline_tasks(descriptors, key, files, analyser)
    known = shared.tasks.get((key, id(files)))
    if known is not None and known[0] is files:
        return list(known[1])
    found = _pipeline_tasks(descriptors, key, files, analyser)
    if found is not None:
        shared.tasks[(key, id(files))] = (files, found)
    return found


# What a worker process found of one pipeline's tasks (:func:`tasks_for_parent`): the tasks
# (None: none declared or unreadable), whether they were found (no DfGenError), the analyser
# cache entries the work used and whether it analysed anything new.
WorkerTasks = tuple["list[PipelineTask] | None", bool, dict[str, Any], bool]


def tasks_for_parent(descriptors: Descriptors, key: str, files: Mapping[str, str]) -> WorkerTasks:
    """:func:`pipeline_tasks_of` in a worker process (generator.workers), for its parent to
    :func:`adopt_tasks`: what a model build found there would otherwise be lost with it."""
    analyser = analyser_for(descriptors)
    used, misses = set(analyser.used), analyser.misses
    try:
        found, ok = pipeline_tasks_of(descriptors, key, files, analyser), True
    except DfGenError:
        found, ok = None, False  # raised again where the parent asks (task_tag_reads, the access check)
    return found, ok, {k: v for k, v in analyser.used.items() if k not in used}, analyser.misses > misses


def adopt_tasks(descriptors: Descriptors, key: str, files: Mapping[str, str], worker: WorkerTasks) -> None:
    """Keep what :func:`tasks_for_parent` found for ``files`` (the parent's copy of them), as
    if this process had found it: the tasks for :func:`pipeline_tasks_of`, the cache entries
    for the analyser's file."""
    found, ok, entries, analysed = worker
    shared = _shared(descriptors)
    analyser = analyser_for(descriptors)
    analyser.adopt(entries, analysed)
    if ok and found is not None and (key, id(files)) not in shared.tasks:
        shared.tasks[(key, id(files))] = (files, found)


def _pipeline_tasks(descriptors: Descriptors, key: str, files: Mapping[str, str],
                    analyser: Analyser) -> list[PipelineTask] | None:
    data = descriptors.pipelines[key].data
    code_dir = descriptors.pipelines_dir / data["code"]
    if not task_decl.declared(code_dir):
        return None
    found = []
    for task in task_decl.expand(code_dir, data, descriptors.pipelines[key]):
        task_sql: sql.Analysis | None = None
        where = ""
        if task.sql:
            # A backfill is rendered by df-gen, not written in the code: its place is the descriptor's.
            where = display_path(code_dir / task.sql) if task.kind != "backfill" else ""
            text = files[f"sql/{task.dag_entry()['sql']}"]
            task_sql = _analyse(analyser, text, where or task.place[0],
                                f"task '{task.id}' of pipeline '{key}'")
        source_name = naming.google_key(data["datasource"], descriptors.datasources[data["datasource"]].data)
        found.append(PipelineTask(key, data["datasource"], task, where, task_sql, source_name))
    return found


def analyser_for(descriptors: Descriptors) -> Analyser:
    """The analyser of the environment's SQL against its tables' schemas (one per validated
    descriptors: the model and the access check share its analyses)."""
    shared = _shared(descriptors)
    if shared.analyser is None:
        shared.analyser = Analyser(descriptors.env_dir, schema_of(shared.tables))
    return shared.analyser


def task_tag_reads(descriptors: Descriptors, files: Mapping[str, Mapping[str, str]],
                   analyser: Analyser | None = None, keys: Iterable[str] | None = None
                   ) -> dict[str, dict[str, set[str]] | None]:
    """Per pipeline (``keys``, else every one), the policy tags each task identity's SQL
    reads (``files``: each pipeline's rendered files, by pipeline key). None for a pipeline
    whose tasks cannot be read: its code declares none, or sqlglot cannot analyse its SQL
    (``validate`` says so)."""
    tables = _shared(descriptors).tables
    analyser = analyser or analyser_for(descriptors)
    reads: dict[str, dict[str, set[str]] | None] = {}
    for key in sorted(descriptors.pipelines if keys is None else keys):
        try:
            found = pipeline_tasks_of(descriptors, key, files[key], analyser)
        except DfGenError:
            found = None
        if found is None:
            reads[key] = None
            continue
        by_identity: dict[str, set[str]] = {}
        for item in found:
            for table, column in item.analysis.reads if item.analysis else ():
                tag = tables[table].tags.get(column) if table in tables else None
                if tag:
                    by_identity.setdefault(item.task.identity, set()).add(tag)
        reads[key] = by_identity
    analyser.save()
    return reads


def _analyse(analyser: Analyser, text: str, where: str, what: str) -> sql.Analysis:
    try:
        return analyser.analyse(text)
    except sql.SqlError as exc:
        raise DfGenError(diagnostics=[Diagnostic(
            where, exc.line, exc.col, f"{what}: {exc.why}",
            hint="df-gen access and lineage read the SQL with sqlglot's BigQuery dialect; "
                 "'df-gen validate --skip-access' skips the check",
        )]) from None


def _source_name(descriptors: Any, data: Mapping[str, Any]) -> str:
    """The key that names the pipeline's data source on Google Cloud (see naming.google_key)."""
    source = descriptors.datasources.get(data["datasource"])
    return naming.google_key(data["datasource"], source.data if source else {})
