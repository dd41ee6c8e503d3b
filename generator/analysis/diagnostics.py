"""The access check as ``validate`` runs it: each problem one ``file:line:col: error:`` line.

A problem is placed where a data engineer fixes it:

- a task that lacks a permission: its SQL file, at the first mention of the column (or
  table) it reads there; a task without SQL: its entry in the code's ``tasks.yaml``;
- a view that exposes a tagged column: the view's SQL file, at the column;
- a column copied from a tagged one without a tag: the table in the pipeline descriptor;
- a persona reading a tagged column through a grant outside its persona roles: that grant's
  entry (``datasets.<layer>.iam`` of the data source, or the environment's ``shared``).

SQL sqlglot cannot analyse stops the check with its place; ``df-gen validate --skip-access``
skips it (the model then grants such a pipeline's task accounts every tag of its tables).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from generator.analysis.check import AccessReport, Problem
from generator.errors import Diagnostic
from generator.validate import Descriptors

SKIP_HINT = "df-gen access explains it; df-gen validate --skip-access skips the access check"


def access_diagnostics(descriptors: Descriptors, model: Any = None) -> list[Diagnostic]:
    """Check the access of a validated environment; one diagnostic per problem.

    Raises :class:`DfGenError` (with the file and line) for SQL sqlglot cannot analyse."""
    from generator.analysis.report import report_for
    from generator.model import build

    report = report_for(descriptors, model if model is not None else build(descriptors))
    return [_place(descriptors, report, problem) for problem in report.problems]


def _place(descriptors: Descriptors, report: AccessReport, problem: Problem) -> Diagnostic:
    message = f"access: {problem.message}"
    if problem.kind == "task-missing-role":
        item = next(t.item for t in report.tasks if (t.item.pipeline, t.item.task.id) == (problem.pipeline,
                                                                                           problem.task))
        if item.sql_file:
            word = problem.column.rsplit(".", 1)[-1] if problem.column else problem.resource.rsplit("/", 1)[-1]
            line, col = _find(Path(item.sql_file), word)
            return Diagnostic(item.sql_file, line, col, message, SKIP_HINT)
        return Diagnostic(*item.task.place, message, SKIP_HINT)
    table = report.tables.get(problem.column.rsplit(".", 1)[0]) if problem.column else None
    if problem.kind == "view-exposes-tag" and table is not None and table.view_file:
        line, col = _find(Path(table.view_file), problem.column.rsplit(".", 1)[-1])
        return Diagnostic(table.view_file, line, col, message, SKIP_HINT)
    if problem.kind == "direct-tagged-read" and table is not None and problem.stack.startswith("datasource-"):
        doc = descriptors.datasources[problem.stack.removeprefix("datasource-")]
        line, col = doc.where(("datasets", table.layer, "iam"))
        return Diagnostic(doc.display, line, col, message, SKIP_HINT)
    if problem.kind == "direct-tagged-read" and table is not None:
        doc = descriptors.environment
        line, col = doc.where(("shared",))
        return Diagnostic(doc.display, line, col, message, SKIP_HINT)
    if table is not None and table.pipeline in descriptors.pipelines:
        doc = descriptors.pipelines[table.pipeline]
        line, col = doc.where(("tables", table.layer, table.fqn.rsplit(".", 1)[-1]))
        return Diagnostic(doc.display, line, col, message, SKIP_HINT)
    doc = descriptors.environment
    return Diagnostic(doc.display, 1, 1, message, SKIP_HINT)


def _find(path: Path, word: str) -> tuple[int, int]:
    """Line and column of the first mention of ``word`` outside ``--`` comments (1:1 if none)."""
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1, 1
    for number, text in enumerate(lines, 1):
        code = text.split("--", 1)[0]
        found = pattern.search(code)
        if found:
            return number, found.start() + 1
    return 1, 1
