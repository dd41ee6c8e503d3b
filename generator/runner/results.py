"""How a run ends: one :class:`StackResult` per stack, the :class:`RunReport`, and their text and JSON.

The report is what every command returns; ``plan --json``, the human summary and
``output`` are printed from it, and :mod:`generator.report` writes the run report files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import schema_changes
from generator.guard import PlanSummary
from generator.loader import display_path
from generator.status import PLAN_STATUSES, Status

# Statuses a stack can end with (generator.status); ``ok`` ones let dependants go on.
FAILED, BLOCKED = Status.FAILED, Status.BLOCKED


@dataclass
class StackResult:
    """How one stack ended."""

    name: str
    kind: str
    status: Status
    changes: dict[str, int] | None = None
    destructive: tuple[str, ...] = ()
    note: str = ""
    command: str = ""
    exit_code: int | None = None
    error: list[str] = field(default_factory=list)
    log: Path | None = None
    outputs: dict[str, Any] | None = None
    sensitive: frozenset[str] = frozenset()
    waiting: bool = False  # blocked only until an upstream stack is applied (not a failure)
    summary: PlanSummary | None = None  # what Terraform planned (counts per type, losses)
    retired: str | None = None  # for a retired stack: "release" or "destroy" (generator.retire)
    rendered_from: tuple[str, ...] = ()  # for a retired stack: the descriptors it was rendered from

    def retirement(self) -> dict[str, Any] | None:
        """What becomes of a retired stack's resources (None for a stack with a descriptor):
        each resource its plan saw in the state, ``forget`` (kept on Google Cloud) or ``delete``."""
        if self.retired is None:
            return None
        leaving = self.summary.leaving if self.summary else ()
        return {"action": self.retired, "rendered_from": list(self.rendered_from),
                "resources": [{"address": a, "type": t, "action": act} for a, t, act in leaving]}

    @property
    def schema_changes(self) -> tuple[dict[str, Any], ...]:
        """Schema changes that lose data (generator.schema_changes), JSON-shaped."""
        return self.summary.schema_changes if self.summary else ()

    @property
    def ok(self) -> bool:
        """True when the stacks that need this one may go on."""
        return self.waiting or self.status not in (FAILED, BLOCKED)

    def as_json(self) -> dict[str, Any]:
        """This stack's entry in ``plan --json``."""
        document: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "changes": self.changes,
            "destructive": list(self.destructive),
            "resource_types": self.summary.type_counts() if self.summary and self.changes is not None else {},
            "schema_changes": list(self.schema_changes),
            "retired": self.retirement(),
        }
        if self.status == FAILED:
            document["error"] = {
                "message": self.note,
                "command": self.command or None,
                "exit_code": self.exit_code,
                "lines": self.error,
                "log": str(self.log) if self.log else None,
            }
        elif self.status == BLOCKED:
            document["error"] = {"message": self.note}
        return document


@dataclass
class RunReport:
    """The results of one command over the selected stacks, in graph order."""

    command: str
    mode: str
    results: list[StackResult]

    @property
    def failed(self) -> list[StackResult]:
        """Stacks that failed or were blocked by a failure."""
        return [r for r in self.results if not r.ok]

    @property
    def has_changes(self) -> bool:
        """True when some plan has changes."""
        return any(r.status == Status.CHANGES for r in self.results)

    def counts(self) -> dict[str, int]:
        """How many stacks ended with each status."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def plan_document(self) -> dict[str, Any]:
        """The ``plan --json`` document."""
        summary: dict[str, int] = {status: 0 for status in PLAN_STATUSES}
        summary.update(self.counts())
        return {"stacks": [r.as_json() for r in self.results], "summary": summary}

    def summary_lines(self) -> list[str]:
        """The human summary: one line per stack, failure details, then the totals."""
        width = max((len(r.name) for r in self.results), default=0)
        lines = []
        for r in self.results:
            detail = ""
            if r.changes is not None:
                detail = _changes_text(r.changes) if r.status != Status.NO_CHANGES else "no changes"
            if r.note and r.status not in (FAILED, BLOCKED):
                detail = f"{detail} ({r.note})" if detail else r.note
            if r.status == BLOCKED:
                detail = r.note
            lines.append(f"  {r.name:<{width}}  {r.status:<10} {detail}".rstrip())
            if r.destructive:
                lines.append(f"  {'':<{width}}  DATA LOSS: deletes or replaces {', '.join(r.destructive)}")
            lines += [f"  {'':<{width}}  {schema_changes.text_line(item)}" for item in r.schema_changes]
            lines += [f"  {'':<{width}}  {line}" for line in _retirement_lines(r)]
            if r.status == FAILED:
                if r.command:
                    lines.append(f"  {'':<{width}}  $ {r.command}  (exit code {r.exit_code})")
                if r.note:
                    lines.append(f"  {'':<{width}}  {r.note}")
                lines += [f"  {'':<{width}}  | {line}" for line in r.error]
                if r.log:
                    lines.append(f"  {'':<{width}}  log: {display_path(r.log)}")
        totals = ", ".join(f"{n} {status}" for status, n in self.counts().items())
        lines.append(f"{self.command} ({self.mode}): {len(self.results)} stacks: {totals}")
        return lines


def _retirement_lines(result: StackResult) -> list[str]:
    """A retired stack's resources and what happens to them, one line each."""
    retirement = result.retirement()
    if retirement is None:
        return []
    lines = [f"retired: no descriptor renders it (it was rendered from {', '.join(result.rendered_from)})"]
    fate = {"forget": "kept on Google Cloud, released from Terraform", "delete": "DESTROYED"}
    lines += [f"{fate.get(item['action'], item['action'])}: {item['address']}" for item in retirement["resources"]]
    return lines


def _changes_text(changes: Mapping[str, int]) -> str:
    return PlanSummary(changes["add"], changes["change"], changes["destroy"], imports=changes.get("import", 0),
                       forgets=changes.get("forget", 0)).text()


class StackFailed(Exception):
    """A Terraform command of one stack failed (or df-gen refused to go on)."""

    def __init__(self, message: str, command: str = "", code: int | None = None,
                 error: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.command = command
        self.code = code
        self.error = list(error)


def format_outputs(report: RunReport) -> list[str]:
    """``stack.output = value`` lines (sensitive values hidden)."""
    lines = []
    for result in report.results:
        for name, value in sorted((result.outputs or {}).items()):
            shown = "(sensitive)" if name in result.sensitive else json.dumps(value, sort_keys=True)
            lines.append(f"{result.name}.{name} = {shown}")
    return lines


def outputs_document(report: RunReport) -> dict[str, dict[str, Any]]:
    """``output --json``: ``{stack: {output: value}}``."""
    return {r.name: dict(sorted((r.outputs or {}).items())) for r in report.results if r.ok}
