"""The task declaration a pipeline's code ships (``tasks.yaml``), expanded per pipeline.

A DAG is Python, so df-gen does not guess its tasks from the DAG file: the code directory
declares them, once, and two readers use the same expansion:

- the model passes the expanded list to the DAG template as ``tasks`` (the DAG builds its
  operators from it: task IDs, the account each impersonates, the SQL each runs);
- ``df-gen access`` checks every task's grants against what its kind and SQL need.

Each entry is expanded over ``each``: ``landing_tables`` / ``curated_tables`` (the
pipeline's tables of that layer, ``{table}`` and ``{layer}``), ``quality_scans`` (the
descriptor's ``data_quality`` entries, ``{table}``, ``{layer}``) or ``files:GLOB`` (files
of the code directory, ``{name}`` being the file name without ``.sql``/``.j2``); without
``each`` it is one task.

df-gen adds one task the code does not declare: ``backfill`` (kind ``backfill``) for each
table whose current version is backfilled from a kept older one
(:mod:`generator.versions`), run as the identity, and in the project, of the declared task
that writes the table, so that it has the same grants.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from generator import naming, versions
from generator.errors import DfGenError, Diagnostic
from generator.loader import Document, load
from generator.memo import IdentityMemo

FILE = "tasks.yaml"

# What each kind of task does; `generator/analysis/needs.py` turns it into permissions.
KINDS = {
    "wait_for_files": "waits for objects under the table's prefix in the landing bucket",
    "load_files": "loads the sensed landing files into the landing table (load job)",
    "query": "runs its SQL (DML) as a BigQuery query job",
    "check_query": "runs its SQL (one row of booleans) as a BigQuery query job",
    "quality_scan": "runs the table's Dataplex data-quality scan and reads its result",
    "archive_files": "moves the loaded files from the landing to the archive bucket",
}
EACH = ("landing_tables", "curated_tables", "quality_scans")
IDENTITIES = naming.TASKS
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")


@dataclass(frozen=True)
class Task:
    """One task of one pipeline's DAG, as declared."""

    id: str
    kind: str
    identity: str
    project: str | None = None
    """Layer of the project its BigQuery jobs run in."""
    sql: str | None = None
    """The SQL template, relative to the code directory."""
    layer: str | None = None
    table: str | None = None
    place: tuple[str, int, int] = ("", 0, 0)
    """File, line and column of the declaration entry."""

    def dag_entry(self) -> dict[str, Any]:
        """What the DAG template prints for the task (no descriptor paths)."""
        entry: dict[str, Any] = {"kind": self.kind, "identity": self.identity}
        if self.project:
            entry["project"] = self.project
        if self.layer:
            entry["layer"] = self.layer
        if self.table:
            entry["table"] = self.table
        if self.sql:
            # Where df-gen writes the rendered SQL, relative to the DAG's SQL folder.
            entry["sql"] = PurePosixPath(self.sql.removesuffix(".j2")).relative_to("sql").as_posix()
        return entry


def declared(code_dir: Path) -> bool:
    """Whether the code directory declares its tasks."""
    return os.path.isfile(os.path.join(code_dir, FILE))  # asked per pipeline: no Path objects


def expand(code_dir: Path, pipeline: Mapping[str, Any], descriptor: Document | None = None) -> tuple[Task, ...]:
    """The tasks of one pipeline (its descriptor's data) from its code's ``tasks.yaml``, with
    the backfills of its table versions (placed at ``descriptor``'s table versions).

    Expanded once per loaded descriptor: the model, the tag reads and the access check all
    ask, with the same data object, within one run."""
    if not declared(code_dir):
        return ()
    doc = _load(code_dir / FILE)
    known = _EXPANDED.get(pipeline, (code_dir, doc))
    if known is not None:
        return known
    return _EXPANDED.put(pipeline, (code_dir, doc), _expand(doc, code_dir, pipeline, descriptor))


# Per descriptor data and (code directory, its loaded tasks.yaml): the tasks. The loaded
# document is the same object while tasks.yaml is unchanged (``_load``).
_EXPANDED: IdentityMemo[tuple[Task, ...]] = IdentityMemo(4096)


def _expand(doc: Document, code_dir: Path, pipeline: Mapping[str, Any],
            descriptor: Document | None) -> tuple[Task, ...]:
    problems: list[Diagnostic] = []
    entries = doc.data.get("tasks") if isinstance(doc.data, dict) else None
    if not isinstance(entries, list):
        raise DfGenError(diagnostics=[doc.error((), f"{FILE}: expected a mapping with a list 'tasks'")])
    tasks: list[Task] = []
    for index, entry in enumerate(entries):
        tasks += _entry(doc, index, entry, code_dir, pipeline, problems)
    tasks += _backfills(tasks, pipeline, descriptor)
    seen: dict[str, Task] = {}
    for task in tasks:
        if task.id in seen:
            problems.append(Diagnostic(*task.place, f"task ID '{task.id}' declared twice"))
        seen[task.id] = task
    if problems:
        raise DfGenError(diagnostics=problems)
    return tuple(tasks)


def _load(path: Path) -> Document:
    """The declaration, parsed once per run: every pipeline of a code directory shares it."""
    stat = path.stat()
    return _load_cached(path, stat.st_mtime_ns, stat.st_size, os.getcwd())


@lru_cache(maxsize=64)
def _load_cached(path: Path, _mtime: int, _size: int, _cwd: str) -> Document:
    return load(path)  # read-only to its callers


def _entry(doc: Document, index: int, entry: Any, code_dir: Path, pipeline: Mapping[str, Any],
           problems: list[Diagnostic]) -> list[Task]:
    path = ("tasks", index)
    if not isinstance(entry, dict):
        problems.append(doc.error(path, f"tasks[{index}]: expected a mapping"))
        return []
    unknown = sorted(set(entry) - {"id", "each", "kind", "identity", "project", "sql"})
    for key in unknown:
        problems.append(doc.error((*path, key), f"tasks[{index}]: unknown key '{key}'", key=True,
                                  hint="keys: id, each, kind, identity, project, sql"))
    for key, allowed in (("kind", tuple(KINDS)), ("identity", IDENTITIES)):
        if entry.get(key) not in allowed:
            problems.append(doc.error((*path, key), f"tasks[{index}].{key}: expected one of {', '.join(allowed)}"))
    project = entry.get("project")
    if project is not None and project not in naming.LAYERS:
        problems.append(doc.error((*path, "project"),
                                  f"tasks[{index}].project: expected a layer ({', '.join(naming.LAYERS)})"))
    if entry.get("kind") in ("query", "check_query") and not entry.get("sql"):
        problems.append(doc.error(path, f"tasks[{index}]: a {entry.get('kind')} task needs 'sql'"))
    each = entry.get("each")
    try:
        bindings = _bindings(each, code_dir, pipeline)
    except ValueError as exc:
        problems.append(doc.error((*path, "each"), f"tasks[{index}].each: {exc}"))
        return []
    line, col = doc.where(path)
    tasks = []
    for values in bindings:
        try:
            task_id = str(entry.get("id", "")).format(**values)
            sql = str(entry["sql"]).format(**values) if entry.get("sql") else None
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(doc.error((*path, "id"), f"tasks[{index}]: unknown placeholder {exc} "
                                                     f"(this 'each' gives {', '.join(sorted(values)) or 'none'})"))
            return []
        if not _ID.match(task_id):
            problems.append(doc.error((*path, "id"), f"tasks[{index}].id: '{task_id}' is not an Airflow task ID "
                                                     "(letters, digits, '_', '-', '.')"))
            continue
        if sql is not None and not os.path.isfile(os.path.join(code_dir, sql)):
            problems.append(doc.error((*path, "sql"), f"tasks[{index}].sql: no file {sql} in the code directory"))
            continue
        tasks.append(Task(
            id=task_id, kind=str(entry.get("kind")), identity=str(entry.get("identity")), project=project,
            sql=sql, layer=values.get("layer"), table=values.get("table"), place=(doc.display, line, col),
        ))
    return tasks


def _bindings(each: Any, code_dir: Path, pipeline: Mapping[str, Any]) -> list[dict[str, str]]:
    """The placeholder values of every task an entry declares."""
    tables = pipeline.get("tables", {})
    if each is None:
        return [{}]
    if each in ("landing_tables", "curated_tables"):
        layer = each.removesuffix("_tables")
        # {table} is the table's ID: a renamed key keeps it (naming.google_key), and with it
        # the task's SQL file, landing prefix and table.
        return [{"layer": layer, "table": name}
                for name in sorted(naming.google_key(k, t) for k, t in tables.get(layer, {}).items())]
    if each == "quality_scans":
        bindings = []
        for name in sorted(pipeline.get("data_quality", {})):
            layer, table = name.split(".", 1)
            bindings.append({"layer": layer, "table": naming.google_key(table, tables.get(layer, {}).get(table, {}))})
        return bindings
    if isinstance(each, str) and each.startswith("files:"):
        pattern = each.removeprefix("files:")
        return [
            {"name": path.name.removesuffix(".j2").removesuffix(".sql")}
            for path in sorted(code_dir.glob(pattern))
            if path.is_file()
        ]
    raise ValueError(f"expected one of {', '.join(EACH)} or files:GLOB")


def _backfills(declared_tasks: list[Task], pipeline: Mapping[str, Any], descriptor: Document | None) -> list[Task]:
    """One ``backfill`` task per table whose current version has a kept older one."""
    found = []
    for layer, by_name in sorted((pipeline.get("tables") or {}).items()):
        for name, spec in sorted(by_name.items()):
            source = versions.backfill_source(layer, name, spec)
            if source is None:
                continue
            base = naming.google_key(name, spec)  # the code's name of the table (renamed_from keeps it)
            # The account that writes the table (its load or its transformation) writes its backfill.
            writer = next((t for t in declared_tasks if t.kind in ("load_files", "query")
                           and t.layer == layer and t.table == base), None)
            version = versions.current_version(spec)
            place = descriptor.where(("tables", layer, name, "version")) if descriptor else (0, 0)
            found.append(Task(
                id=versions.backfill_task_id(layer, base), kind="backfill",
                identity=writer.identity if writer else "transformation",
                project=writer.project if writer else naming.TASK_PROJECT["transformation"],
                sql=f"sql/{versions.backfill_file(layer, base, version)}", layer=layer, table=base,
                place=(descriptor.display if descriptor else "", *place),
            ))
    return found
