"""Render one pipeline's code into the files of its stack: its DAG, SQL files and views.

The model computes the values (:func:`generator.model.pipeline.dag_context`); this stage
fills the code directory's Jinja templates with them, in a sandboxed environment, and
checks that each rendered view is one BigQuery query. Plain files are copied as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from generator.errors import DfGenError, Diagnostic
from generator.fsutil import outside_problem, special_file_problem
from generator.jinja import environment as jinja_environment
from generator.jinja import render as jinja_render
from generator.loader import display_path

if TYPE_CHECKING:
    from generator.analysis.cache import Analyser

DAG_TEMPLATE = "dag.py.j2"


@dataclass(frozen=True)
class Code:
    """A pipeline's rendered code, by path in its stack, and the code files it read."""

    files: Mapping[str, str]
    """``dag.py``, ``sql/<path>`` (uploaded to Composer) and ``views/<name>.sql``."""
    inputs: tuple[Path, ...]


def render(code_dir: Path, descriptor: str, key: str, data: Mapping[str, Any], context: dict[str, Any],
           analyser: Analyser, scans: dict[Path, Scan] | None = None) -> Code:
    """Render pipeline ``key``'s code from ``code_dir`` with the DAG ``context``.

    ``descriptor`` is the pipeline descriptor's display path (for messages); ``analyser``
    knows the SQL ``validate`` already checked; ``scans`` keeps each code directory's
    :func:`scan` for the run (the pipelines of one code directory share it).
    """
    jinja = _code_environment(code_dir)
    view_sql = {view["sql"] for view in data.get("views", {}).values()}
    if scans is None:
        scans = {}
    if code_dir not in scans:
        scans[code_dir] = scan(code_dir)
    found = scans[code_dir]
    files: dict[str, str] = {}
    inputs: list[Path] = []
    if found.dag is not None:
        files["dag.py"] = jinja_render(jinja, DAG_TEMPLATE, context)
        inputs.append(found.dag)
    for relative, sql in found.sql:
        inputs.append(sql)
        if relative in view_sql:
            continue
        inner = PurePosixPath(relative.removesuffix(".j2")).relative_to("sql").as_posix()
        files[f"sql/{inner}"] = jinja_render(jinja, relative, context) if relative.endswith(".j2") else sql.read_text()
    for view_name, view in sorted(data.get("views", {}).items()):
        template = view["sql"]
        text = jinja_render(jinja, template, context) if template.endswith(".j2") else (code_dir / template).read_text()
        # Plain SQL files were checked by validate; a text analysed before is one query.
        if template.endswith(".j2") and not analyser.known_query(text):
            _check_view(analyser, code_dir / template, descriptor, key, view_name, text)
        files[f"views/{view_name}.sql"] = text
    return Code(files, tuple(inputs))


@dataclass(frozen=True)
class Scan:
    """A code directory's DAG template (None: it has none) and SQL files (path relative to
    the directory, path), each refused if it is a FIFO or a link leaving the directory."""

    dag: Path | None
    sql: tuple[tuple[str, Path], ...]


def scan(code_dir: Path) -> Scan:
    """The code files :func:`render` reads, guarded."""
    dag: Path | None = code_dir / DAG_TEMPLATE
    if dag is not None and dag.is_file():
        _guard_code_file(code_dir, dag)
    else:
        dag = None
    sql_files = []
    for sql in sorted((code_dir / "sql").rglob("*.sql*")) if (code_dir / "sql").is_dir() else []:
        _guard_code_file(code_dir, sql)
        sql_files.append((sql.relative_to(code_dir).as_posix(), sql))
    return Scan(dag, tuple(sql_files))


def _guard_code_file(code_dir: Path, path: Path) -> None:
    """Refuse a pipeline code file that is a FIFO or a link leaving the code directory."""
    problem = outside_problem(code_dir, path, "the pipeline's code directory") or special_file_problem(path)
    if problem:
        raise DfGenError(diagnostics=[Diagnostic(display_path(path), 0, 0, problem)])


def _check_view(analyser: Analyser, template: Path, descriptor: str, pipeline: str, view: str, text: str) -> None:
    """Refuse a rendered view template that is not one BigQuery query (parsed once per
    canonical text: the pipelines of one code directory share it)."""
    problem = analyser.view_problem(text)
    if problem:
        line, col, why = problem
        raise DfGenError(diagnostics=[Diagnostic(display_path(template), line, col,
                                                 f"view '{view}' of pipeline '{pipeline}' ({descriptor}), "
                                                 f"once rendered: {why}")])


@cache
def _code_environment(code_dir: Path) -> Any:
    """One strict Jinja environment per pipeline code directory, so templates compile once."""
    return jinja_environment(code_dir, sandboxed=True)
