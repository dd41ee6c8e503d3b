"""Terraform's own evidence that it did what df-gen records.

A stack is recorded as applied only when Terraform says so in its machine-readable UI:
``apply -json`` ends with a ``change_summary`` message whose counts must be the plan's.
An engine that exits 0 without it (a stand-in, a wrapper that swallows the command, a
truncated output) fails the stack, and nothing is recorded. The message format is
Terraform's "Machine-readable UI Output Reference"
(developer.hashicorp.com/terraform/internals/machine-readable-ui).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from generator.guard import PlanSummary
from generator.runner.results import StackFailed


def json_ui_text(line: str) -> str:
    """The human text of one line of ``-json`` UI output (without a final newline).

    Each message carries its text in ``@message``; a diagnostic reads as Terraform prints
    it without ``-json`` (``Error: summary``, a blank line, the detail), so that the log,
    :func:`~generator.runner.terraform.error_lines` and the retry patterns read it. A line
    that is not such a message is kept as it is.
    """
    try:
        message = json.loads(line)
    except ValueError:
        return line
    if not isinstance(message, dict) or "@message" not in message:
        return line
    diagnostic = message.get("diagnostic")
    if message.get("type") == "diagnostic" and isinstance(diagnostic, dict):
        head = f"{str(diagnostic.get('severity') or 'error').capitalize()}: {diagnostic.get('summary', '')}"
        detail = str(diagnostic.get("detail") or "")
        return f"{head}\n\n{detail}" if detail else head
    return str(message["@message"])


def applied_counts(out: str) -> dict[str, int] | None:
    """What Terraform says it applied: the last ``change_summary`` message of operation
    ``apply`` as ``{"add", "change", "destroy", "import"}``, or None without one."""
    for line in reversed(out.splitlines()):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict) or message.get("type") != "change_summary":
            continue
        changes = message.get("changes")
        if not isinstance(changes, dict) or changes.get("operation") != "apply":
            continue
        try:
            return {"add": int(changes.get("add", 0)), "change": int(changes.get("change", 0)),
                    "destroy": int(changes.get("remove", 0)), "import": int(changes.get("import", 0))}
        except (TypeError, ValueError):
            return None
    return None


def check_applied(planned: PlanSummary, applied: Mapping[str, int] | None, command: str) -> None:
    """Refuse to record a stack unless Terraform's own summary shows the plan was applied."""
    if applied is None:
        raise StackFailed("the engine exited 0 but printed no apply summary (no change_summary message in "
                          "apply -json): no evidence that the apply happened; nothing recorded", command, 0)
    expected = {"add": planned.add, "change": planned.change, "destroy": planned.destroy,
                "import": planned.imports}
    if dict(applied) != expected:
        said = PlanSummary(applied["add"], applied["change"], applied["destroy"], imports=applied["import"])
        raise StackFailed(f"Terraform applied {said.text()} but the plan was {planned.text()}; nothing "
                          "recorded: the next apply plans this stack again", command, 0)
