"""A pipeline's rules: its code directory, table schemas, views' SQL, quality checks, DAG.

Table definitions are checked against Google's rules (:mod:`generator.bqtable`) and
migrations against the schema (:mod:`generator.migrations`), each problem at its place in
the descriptor or in the schema file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from generator import bqtable, migrations, versions, workers
from generator import cache as run_cache
from generator.defaults import time_partitioning
from generator.errors import DfGenError, Diagnostic
from generator.fsutil import outside_problem
from generator.loader import Document, display_path, json_file, load
from generator.memo import IdentityMemo
from generator.schedule import date_problem, schedule_problem
from generator.sqlcheck import view_problem
from generator.validate.descriptors import Descriptors
from generator.validate.messages import dotted


class RunInputs:
    """What the cached rules of every pipeline key on that one run works out once: where the
    pipelines directory is (as named, and really) and the working directory (messages show
    paths relative to it), the taxonomy's tags, and each code directory's digest
    (``tree_digest``). A thousand pipelines share ten code directories: per pipeline, the
    Paths alone cost as much as the cache lookups."""

    def __init__(self, d: Descriptors) -> None:
        self.d = d
        self.places = (str(d.pipelines_dir), os.path.realpath(d.pipelines_dir), os.getcwd())
        self.tags = ",".join(sorted(d.environment.data.get("policy_tags", {}).get("tags", {})))
        self._code: dict[str, tuple[str, str]] = {}

    def code(self, name: str) -> tuple[str, str]:
        """The code directory ``name`` (a descriptor's ``code``) as a path and its digest."""
        if name not in self._code:
            code_dir = self.d.pipelines_dir / name
            self._code[name] = (str(code_dir), run_cache.tree_digest(code_dir))
        return self._code[name]


def pipeline_rules_once(d: Descriptors, keys: list[str], clean: dict[str, set[str]],
                        cached: run_cache.Documents, inputs: RunInputs) -> list[list[Diagnostic]]:
    """:func:`pipeline_rules` of each pipeline of ``keys``, from the per-file cache when none
    of their inputs changed: the pipeline's bytes, its data source's datasets, the taxonomy's
    tags, its code directory (``tree_digest``, once per directory), where the directories
    are and the working directory (messages show paths relative to it). The others are
    checked in worker processes when there are many (:mod:`generator.workers`); the cache
    is written here, in the parent."""
    out: list[list[Diagnostic]] = []
    misses: list[tuple[int, list[str]]] = []
    for key in keys:
        parts = _rule_inputs(d, key, clean, cached, inputs)
        found = cached.results(parts) if parts[1] else None
        out.append([Diagnostic(*diagnostic) for diagnostic in found or ()])
        if found is None:
            misses.append((len(out) - 1, parts))
    checked = workers.ordered_map(lambda key: list(pipeline_rules(d, key, clean)), [keys[i] for i, _ in misses])
    for (index, parts), diagnostics in zip(misses, checked, strict=True):
        out[index] = diagnostics
        if parts[1]:
            cached.record(parts, [(x.path, x.line, x.col, x.message, x.hint) for x in diagnostics])
    return out


def _rule_inputs(d: Descriptors, key: str, clean: dict[str, set[str]], cached: run_cache.Documents,
                 inputs: RunInputs) -> list[str]:
    """What a pipeline's rules depend on, as the strings the cache keys on (the second is
    empty when the descriptor's bytes are unknown: then nothing is cached)."""
    doc = d.pipelines[key]
    source = doc.data["datasource"]
    code_dir, tree = inputs.code(doc.data["code"])
    if source not in d.datasources:
        datasets = "missing:" + ",".join(sorted(d.datasources))
    elif source not in clean["datasource"]:
        datasets = "invalid"
    else:
        datasets = ",".join(sorted(d.datasources[source].data["datasets"]))
    return ["pipeline-rules", cached.digests.get(doc.path, ""), doc.display, datasets, inputs.tags, *inputs.places,
            code_dir, tree]


def pipeline_rules(d: Descriptors, key: str, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    """The rules of pipeline ``key`` (its data source, code, tables, views, checks and DAG)."""
    doc = d.pipelines[key]
    data = doc.data
    source = data["datasource"]
    if source not in d.datasources:
        known = ", ".join(sorted(d.datasources)) or "none"
        yield doc.error(("datasource",), f"datasource: no data source '{source}' (known: {known})",
                        hint=f"create datasources/{source}.yaml")
        datasets: set[str] | None = None
    elif source not in clean["datasource"]:
        datasets = None
    else:
        datasets = set(d.datasources[source].data["datasets"])
    code_dir = d.pipelines_dir / data["code"]
    problems = list(_code_path_rules(d, doc, code_dir))
    if problems:
        yield from problems
        code_dir = None  # type: ignore[assignment]  # read nothing from it
    elif not code_dir.is_dir():
        yield doc.error(("code",), f"code: no pipeline code directory {display_path(code_dir)}")
        code_dir = None  # type: ignore[assignment]
    tags = set(d.environment.data.get("policy_tags", {}).get("tags", {}))
    tables = data.get("tables", {})
    for layer, by_name in sorted(tables.items()):
        if by_name and datasets is not None and layer not in datasets:
            yield doc.error(("tables", layer), f"tables.{layer}: data source '{source}' has no {layer} dataset",
                            key=True, hint=f"add datasets.{layer} to datasources/{source}.yaml")
        taken = versions.taken_ids(by_name)
        for name, table in sorted(by_name.items()):
            yield from _table_rules(doc, ("tables", layer, name), table, code_dir, tags)
            for where_in, message in versions.problems(layer, name, table, taken):
                yield doc.error(where_in, message)
            yield from _version_rules(doc, layer, name, table, code_dir)
    for name, view in sorted(data.get("views", {}).items()):
        for layer in [view["layer"], *view.get("authorized_on", [])]:
            if datasets is not None and layer not in datasets:
                yield doc.error(("views", name), f"views.{name}: data source '{source}' has no {layer} dataset")
        if code_dir is not None and not (code_dir / view["sql"]).is_file():
            yield doc.error(("views", name, "sql"),
                            f"views.{name}.sql: no file {view['sql']} in {display_path(code_dir)}")
        elif code_dir is not None and not view["sql"].endswith(".j2"):
            # Templates are checked once rendered (pipeline_code.py), when their values are known.
            yield from view_sql_rule(code_dir / view["sql"], doc.display, key, name)
    for name, rule in sorted(data.get("data_quality", {}).items()):
        layer, table = name.split(".", 1)
        if table not in tables.get(layer, {}):
            yield doc.error(("data_quality", name), f"data_quality.{name}: no {layer} table '{table}' in this pipeline",
                            key=True)
            continue
        schema = tables[layer][table]["schema"]
        columns = _schema_columns(doc, ("tables", layer, table, "schema"), code_dir, schema)
        if not isinstance(columns, set):
            continue  # reported with the table
        known_columns = {c.lower() for c in columns}  # BigQuery column names ignore case
        for check in ("not_null", "unique"):
            for index, column in enumerate(rule.get(check, [])):
                if column.lower() not in known_columns:
                    yield doc.error(("data_quality", name, check, index),
                                    f"data_quality.{name}.{check}: no column '{column}' in {schema}")
    dag = data.get("dag", {})
    problem = schedule_problem(dag["schedule"]) if "schedule" in dag else None
    if problem:
        yield doc.error(("dag", "schedule"), f"dag.schedule: {problem}",
                        hint="e.g. '0 6 * * *' for 06:00 every day, or a preset such as @daily")
    problem = date_problem(dag["start_date"]) if "start_date" in dag else None
    if problem:
        yield doc.error(("dag", "start_date"), f"dag.start_date: {problem}")


def _code_path_rules(d: Descriptors, doc: Document, code_dir: Path) -> Iterator[Diagnostic]:
    """The code directory inside the pipelines directory, and every schema and SQL path inside it."""
    code = doc.data["code"]
    problem = _place_problem(d, code, None)
    if problem:
        yield doc.error(("code",), f"code: {display_path(code_dir)} {problem}")
        return
    paths: list[tuple[tuple[Any, ...], str]] = [
        (("tables", layer, name, "schema"), table["schema"])
        for layer, by_name in sorted(doc.data.get("tables", {}).items())
        for name, table in sorted(by_name.items())
    ]
    paths += [
        ((*version.path, "schema"), version.schema)
        for version in versions.of_pipeline(doc.data.get("tables", {}))
        if not version.current
    ]
    paths += [(("views", name, "sql"), view["sql"]) for name, view in sorted(doc.data.get("views", {}).items())]
    for path, relative in paths:
        problem = _place_problem(d, code, relative)
        if problem:
            yield doc.error(path, f"{dotted(path)}: {relative} {problem}",
                            hint=f"keep schema and SQL files inside {display_path(code_dir)}")


def _place_problem(d: Descriptors, code: str, relative: str | None) -> str | None:
    """Why code directory ``code`` (a descriptor's ``code``) may not be used, or file
    ``relative`` in it, if any: asked once per validated environment (``d``), since a
    thousand pipelines share ten code directories and their files (each answer walks the
    path with ``lstat``)."""
    known = _PLACES.get(d)
    if known is None:
        known = _PLACES.put(d, None, {})
    question = (code, relative)
    if question not in known:
        code_dir = d.pipelines_dir / code
        known[question] = (
            outside_problem(d.pipelines_dir, code_dir, f"the pipelines directory {display_path(d.pipelines_dir)}")
            if relative is None else outside_problem(code_dir, code_dir / relative, "the pipeline's code directory")
        )
    return known[question]


# Per validated environment (its Descriptors): (code, file or None) -> the problem or None.
_PLACES: IdentityMemo[dict[tuple[str, str | None], str | None]] = IdentityMemo(64)


def view_sql_rule(sql_file: Path, descriptor: str, pipeline: str, view: str) -> Iterator[Diagnostic]:
    """A view whose SQL is not one BigQuery query, reported at the place in the SQL file."""
    try:
        text = sql_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield Diagnostic(display_path(sql_file), 0, 0, f"cannot read the SQL of view '{view}': {exc}")
        return
    problem = view_problem(text)
    if problem:
        line, col, why = problem
        yield Diagnostic(display_path(sql_file), line, col,
                         f"view '{view}' of pipeline '{pipeline}' ({descriptor}): {why}")


def _table_rules(doc: Document, path: tuple[Any, ...], table: dict[str, Any], code_dir: Path | None,
                 tags: set[str]) -> Iterator[Diagnostic]:
    where = dotted(path)
    schema = _load_schema(doc, (*path, "schema"), code_dir, table["schema"])
    if isinstance(schema, Diagnostic):
        yield schema
        schema = None
    columns = {str(f["name"]) for f in schema.data} if schema is not None else None
    for column, tag in sorted(table.get("policy_tags", {}).items()):
        if tag not in tags:
            yield doc.error((*path, "policy_tags", column),
                            f"{where}.policy_tags.{column}: no policy tag '{tag}' in the "
                            f"environment's taxonomy (known: {', '.join(sorted(tags)) or 'none'})")
        if columns is not None and column not in columns:
            yield doc.error((*path, "policy_tags", column),
                            f"{where}.policy_tags: no column '{column}' in {table['schema']}", key=True)
    if schema is not None:
        yield from _definition_rules(doc, path, table, schema)
        for where_in, message in migrations.problems(table.get("migrate") or {}, schema.data):
            yield doc.error((*path, "migrate", *where_in), f"{where}.{message}")


def _version_rules(doc: Document, layer: str, name: str, table: dict[str, Any],
                   code_dir: Path | None) -> Iterator[Diagnostic]:
    """Each kept version's schema file, and what the backfill from the newest one cannot copy."""
    current = _load_schema(doc, ("tables", layer, name, "schema"), code_dir, table["schema"])
    for version in versions.of_table(layer, name, table):
        if version.current:
            continue
        schema = _load_schema(doc, (*version.path, "schema"), code_dir, version.schema)
        if isinstance(schema, Diagnostic):
            yield schema
            continue
        if schema is None or not isinstance(current, Document):
            continue
        source = versions.backfill_source(layer, name, table)
        if source is not None and source.version == version.version:
            for column, why in versions.backfill_problems(schema.data, current.data):
                yield doc.error(("tables", layer, name, "version"),
                                f"tables.{layer}.{name}.version: column {column} of version "
                                f"{versions.current_version(table)} {why}; the backfill from version "
                                f"{version.version} could not copy it",
                                hint='see "Changing schemas safely" in the README')


def _definition_rules(doc: Document, path: tuple[Any, ...], table: dict[str, Any],
                      schema: Document) -> Iterator[Diagnostic]:
    """The table-definition rules Google enforces (generator/bqtable/definition.py), each at its place:
    schema problems in the schema file, partitioning and clustering in the descriptor."""
    where = dotted(path)
    partitioning = time_partitioning(path[1], table)  # path: ("tables", layer, name)
    clustering = tuple(table.get("clustering", []))
    for problem in _table_problems(schema, partitioning, clustering):
        part, *rest = problem.where
        if part == "schema":
            yield schema.error(tuple(rest), f"{where}: {problem.message}")
        elif part == "time_partitioning":
            yield doc.error((*path, "partitioning", "field"), f"{where}.partitioning: {problem.message}")
        else:
            yield doc.error((*path, "clustering", *rest), f"{where}.clustering: {problem.message}")


def _table_problems(schema: Document, partitioning: dict[str, Any] | None,
                    clustering: tuple[Any, ...]) -> list[bqtable.Problem]:
    """``bqtable.check_table`` of a definition, once per schema file version, partitioning
    and clustering: the tables of many pipelines share them (``_load_cached`` returns one
    Document per file version)."""
    key = (id(schema), json.dumps(partitioning, sort_keys=True, default=str), repr(clustering))
    known = _CHECKED.get(key)
    if known is None or known[0] is not schema:
        if len(_CHECKED) >= 4096:
            _CHECKED.clear()
        definition = bqtable.TableDefinition(schema=schema.data, time_partitioning=partitioning,
                                             clustering=clustering)
        known = _CHECKED[key] = (schema, bqtable.check_table(definition))
    return known[1]


# (id of a schema Document, partitioning, clustering) -> (the Document, kept so the id stays
# its own; the problems).
_CHECKED: dict[tuple[int, str, str], tuple[Document, list[bqtable.Problem]]] = {}


def _schema_columns(doc: Document, path: tuple[Any, ...], code_dir: Path | None,
                    relative: str) -> set[str] | Diagnostic | None:
    """The top-level column names of a table's schema (or why it cannot be read)."""
    schema = _load_schema(doc, path, code_dir, relative)
    if schema is None or isinstance(schema, Diagnostic):
        return schema
    return {str(f["name"]) for f in schema.data}


def _load_cached(path: Path) -> Document:
    """``load(path)``, once per file version: many tables share one schema file."""
    info = path.stat()
    return _load_version(path, info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=4096)
def _load_version(path: Path, mtime_ns: int, size: int) -> Document:
    return load(path)


def _load_schema(doc: Document, path: tuple[Any, ...], code_dir: Path | None,
                 relative: str) -> Document | Diagnostic | None:
    """The table's schema JSON with the position of every value (JSON is YAML, so the
    descriptor loader keeps positions), or the reason it cannot be read."""
    if code_dir is None:
        return None
    schema_file = code_dir / relative
    try:
        json_file(schema_file)
    except FileNotFoundError:
        return doc.error(path, f"{dotted(path)}: no file {relative} in {display_path(code_dir)}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return doc.error(path, f"{dotted(path)}: {relative} is not a BigQuery JSON schema ({exc})")
    try:
        schema = _load_cached(schema_file)
    except DfGenError as exc:  # valid JSON that YAML reads otherwise (tabs, odd escapes)
        return exc.diagnostics[0] if exc.diagnostics else doc.error(path, f"{dotted(path)}: {exc}")
    if not isinstance(schema.data, list) or not all(isinstance(f, dict) and "name" in f for f in schema.data):
        return doc.error(path, f"{dotted(path)}: {relative} is not a BigQuery JSON schema (a list of fields)")
    return schema
