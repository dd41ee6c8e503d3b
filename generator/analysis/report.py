"""``df-gen access`` output: text, Markdown or JSON.

The JSON document::

    {"ok": bool,
     "tasks": [{"pipeline", "task", "kind", "identity", "member", "sql",
                "reads": {"TABLE": [columns]}, "writes": {"table", "columns"} | null,
                "needs": [{"permission", "resource", "column", "why", "actor",
                           "allowed", "granted_by": {"member", "role", "resource", "stack"} | null,
                           "missing_role"}]}],
     "personas": [{"persona", "members",
                   "tables": [{"table", "via": "direct" | "view",
                               "raw": [tagged columns read raw], "masked": [...],
                               "denied": [...], "untagged_columns": int}]}],
     "problems": [{"kind", "pipeline", "task", "persona", "resource", "column",
                   "missing_role", "message"}],
     "unchecked_pipelines": [pipelines whose code declares no tasks]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.analysis import grants as access_model
from generator.analysis import inventory as inventory_module
from generator.analysis.check import AccessReport, TaskResult, check
from generator.analysis.roles import LEAST_ROLE


def access_report(env_dir: Path) -> AccessReport:
    """Validate ``env_dir``, build its model and check its access."""
    from generator.model import build as build_model
    from generator.validate import validate

    descriptors = validate(env_dir)
    model = build_model(descriptors)
    return report_for(descriptors, model)


def report_for(descriptors: Any, model: Any) -> AccessReport:
    """The access report of an already built model (tests pass mutated models)."""
    inventory = inventory_module.build(descriptors, model)
    access = access_model.build(model, inventory.tables)
    return check(access, inventory, descriptors.environment.data["prefix"])


def as_json(report: AccessReport) -> dict[str, Any]:
    """The JSON document described in the module docstring."""
    return {
        "ok": report.ok,
        "tasks": [_task(t) for t in report.tasks],
        "personas": [
            {"persona": p.persona, "members": list(p.members), "tables": [
                {"table": r.table, "via": r.via, "raw": list(r.raw), "masked": list(r.masked),
                 "denied": list(r.denied), "untagged_columns": r.untagged} for r in p.reach]}
            for p in report.personas
        ],
        "problems": [p.as_dict() for p in report.problems],
        "unchecked_pipelines": list(report.undeclared),
    }


def _task(result: TaskResult) -> dict[str, Any]:
    item = result.item
    analysis = item.analysis
    reads: dict[str, list[str]] = {}
    for table, column in sorted(analysis.reads if analysis else ()):
        reads.setdefault(table, []).append(column)
    return {
        "pipeline": item.pipeline, "task": item.task.id, "kind": item.task.kind, "identity": item.task.identity,
        "member": result.member, "sql": item.sql_file or None, "reads": reads,
        "writes": {"table": analysis.target, "columns": sorted(analysis.writes)}
        if analysis and analysis.target else None,
        "needs": [{
            "permission": r.need.permission, "resource": r.need.resource, "column": r.need.column or None,
            "why": r.need.why, "actor": r.need.actor, "allowed": r.granted_by is not None,
            "granted_by": {"member": r.granted_by.member, "role": r.granted_by.role,
                           "resource": r.granted_by.resource, "stack": r.granted_by.stack}
            if r.granted_by else None,
            "missing_role": None if r.granted_by else LEAST_ROLE.get(r.need.permission),
        } for r in result.results],
    }


def _short(fqn: str) -> str:
    """``dataset.table`` of ``project.dataset.table``."""
    return fqn.split(".", 1)[1]


def format_report(report: AccessReport, fmt: str) -> str:
    """The report in ``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps(as_json(report), indent=2) + "\n"
    md = fmt == "markdown"
    lines: list[str] = ["## Tasks" if md else "Tasks", ""]
    if md:
        lines += ["| pipeline | task | identity | reads | writes | access |", "| --- | --- | --- | --- | --- | --- |"]
    for result in report.tasks:
        item = result.item
        analysis = item.analysis
        reads = ", ".join(f"{_short(t)} ({len(cs)})" for t, cs in sorted(_group(analysis.reads).items())) \
            if analysis else ""
        writes = _short(analysis.target) if analysis and analysis.target else ""
        missing = [r for r in result.results if r.granted_by is None]
        status = "ok" if not missing else f"MISSING {len(missing)}"
        if md:
            lines.append(f"| {item.pipeline} | `{item.task.id}` | {item.task.identity} | {reads or '-'} | "
                         f"{writes or '-'} | {status} |")
        else:
            detail = f"  reads {reads}" if reads else ""
            detail += f"  writes {writes}" if writes else ""
            lines.append(f"  {item.pipeline:<18} {item.task.id:<26} {item.task.identity:<15} {status}{detail}")
    lines += ["", "## Personas" if md else "Personas", ""]
    if md:
        lines += ["| persona | table | via | tagged columns read raw | masked | denied |",
                  "| --- | --- | --- | --- | --- | --- |"]
    for persona in report.personas:
        if not md:
            lines.append(f"  {persona.persona} ({', '.join(persona.members)})")
        for reach in persona.reach:
            raw, masked, denied = (", ".join(x) or "-" for x in (reach.raw, reach.masked, reach.denied))
            if md:
                lines.append(f"| {persona.persona} | {_short(reach.table)} | {reach.via} | {raw} | {masked} | "
                             f"{denied} |")
            else:
                lines.append(f"    {_short(reach.table):<46} {reach.via:<6} raw: {raw}; masked: {masked}; "
                             f"denied: {denied}")
    lines += ["", "## Problems" if md else "Problems", ""]
    for problem in report.problems:
        lines.append(f"- {problem.message}" if md else f"  error: {problem.message}")
    if not report.problems:
        lines.append("none: every task has what it needs; no persona reads a tagged column its tag does not list")
    for pipeline in report.undeclared:
        lines.append(f"{'- ' if md else '  '}warning: pipeline {pipeline}: its code has no tasks.yaml, so its DAG "
                     "is not checked")
    return "\n".join(lines) + "\n"


def _group(columns: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for table, column in columns:
        out.setdefault(table, []).append(column)
    return out
