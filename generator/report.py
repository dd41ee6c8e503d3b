"""``--report FILE.md|FILE.json`` on plan and apply: one change report across the stacks.

The JSON document follows ``generator/schemas/plan-report.json`` (a JSON Schema shipped with
the package). Per stack: its status, the counts Terraform gives (add / change / replace /
destroy / import / forget, a replacement counting as one add and one destroy as well as one
replace), the same counts per resource type, every destructive item with why, the schema
changes of its tables, for a retired stack (descriptor removed) each resource and whether
it is kept or destroyed, and where its log and saved plan are.

The Markdown form is made for a pull-request comment: a summary table first, the details
of each stack folded in ``<details>``, and — when the whole would not fit — details left
out from the last stack backwards with a note saying so. GitHub refuses an issue or
pull-request comment body above 65,536 characters ("Body is too long (maximum is 65536
characters)", the REST API's 422 answer; see danger/danger#424 and
telia-oss/github-pr-resource#259); GitLab's note limit is far larger (1,000,000).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import DfGenError
from generator.guard import COUNT_KEYS
from generator.loader import display_path
from generator.status import Status

if TYPE_CHECKING:
    from generator.runner import RunOptions, RunReport

REPORT_VERSION = 1
SCHEMA_NAME = "plan-report.json"
GITHUB_COMMENT_LIMIT = 65536
FORMATS = {".md": "markdown", ".json": "json"}
_ICONS = {Status.CHANGES: "🟡", Status.APPLIED: "✅", Status.NO_CHANGES: "⚪", Status.SKIPPED: "⚪",
          Status.FAILED: "❌", Status.BLOCKED: "⛔"}


def report_format(path: Path) -> str:
    """``markdown`` or ``json`` from the file's suffix; ValueError for any other."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: the suffix picks the format: .md or .json") from None


def schema() -> dict[str, Any]:
    """The report's JSON Schema."""
    return dict(json.loads((Path(__file__).parent / "schemas" / SCHEMA_NAME).read_text()))


def _path(path: Path | None) -> str | None:
    return display_path(path) if path is not None and path.is_file() else None


def build(report: RunReport, options: RunOptions) -> dict[str, Any]:
    """The JSON document of one run."""
    from generator.runner import Workspace

    ws = Workspace(Path(options.env_dir), options.sandbox)
    stacks: list[dict[str, Any]] = []
    totals = dict.fromkeys(COUNT_KEYS, 0)
    for result in report.results:
        entry = result.as_json()
        changes = None
        if result.changes is not None:
            changes = {key: result.changes.get(key, 0) for key in COUNT_KEYS}
        for key in COUNT_KEYS:
            totals[key] += (changes or {}).get(key, 0)
        losses = [loss.as_json() for loss in result.summary.losses] if result.summary else [
            {"address": address, "type": _resource_type(address), "action": "delete",
             "reason": "deletes or replaces a resource that holds data"}
            for address in result.destructive]
        stacks.append({
            "name": result.name,
            "kind": result.kind,
            "status": result.status,
            "note": result.note or None,
            "changes": changes,
            "resource_types": entry.get("resource_types") or {},
            "destructive": losses,
            "schema_changes": [dict(item) for item in entry.get("schema_changes") or () if isinstance(item, Mapping)],
            "retired": entry.get("retired"),
            "error": entry.get("error"),
            "log": _path(result.log) or _path(ws.log(result.name)),
            "plan_file": _path(ws.plan_file(result.name)),
        })
    statuses: dict[str, int] = {}
    for result in report.results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    return {
        "version": REPORT_VERSION,
        "command": report.command,
        "mode": report.mode,
        "environment": display_path(Path(options.env_dir)),
        "selection": {
            "stacks": list(options.stacks),
            "only": options.only,
            "all": options.all_stacks,
            "changed_since": options.changed_since,
        },
        "summary": {
            "stacks": len(report.results),
            "statuses": statuses,
            "changes": totals,
            "destructive": sum(len(s["destructive"]) for s in stacks),
            "schema_changes": sum(len(s["schema_changes"]) for s in stacks),
            "has_changes": report.has_changes or any(r.status == Status.APPLIED for r in report.results),
            "failed": len(report.failed),
        },
        "stacks": stacks,
    }


def _resource_type(address: str) -> str:
    """``google_x`` from ``module.m.google_x.name["key"]``."""
    parts = address.split("[", 1)[0].split(".")
    return parts[-2] if len(parts) >= 2 else ""


# ------------------------------------------------------------------ markdown


def _counts_cells(changes: Mapping[str, int] | None) -> str:
    if changes is None:
        return " | ".join("–" for _ in COUNT_KEYS)
    return " | ".join(str(changes.get(key, 0)) for key in COUNT_KEYS)


def _schema_change_text(item: Mapping[str, Any]) -> str:
    table = item.get("table") or item.get("address") or ""
    column = item.get("column")
    if isinstance(column, list):
        column = ".".join(str(c) for c in column)
    what = f"`{table}`" + (f" column `{column}`" if column else "")
    kind = item.get("kind") or item.get("change") or "change"
    reason = item.get("reason") or ""
    return f"{what}: {kind}" + (f" — {reason}" if reason else "")


def _details(stack: Mapping[str, Any]) -> str:
    lines = [f"<details><summary><b>{stack['name']}</b>: {stack['status']}"
             + (f" ({stack['note']})" if stack.get("note") else "") + "</summary>", ""]
    types = stack.get("resource_types") or {}
    if types:
        lines += ["| resource type | " + " | ".join(COUNT_KEYS) + " |",
                  "| --- | " + " | ".join("---:" for _ in COUNT_KEYS) + " |"]
        lines += [f"| `{kind}` | {_counts_cells(counts)} |" for kind, counts in sorted(types.items())]
        lines.append("")
    for loss in stack.get("destructive") or ():
        lines.append(f"- ⚠️ **{loss['action']}** `{loss['address']}`: {loss['reason']}")
    for item in stack.get("schema_changes") or ():
        lines.append(f"- 🧬 schema change {_schema_change_text(item)}")
    retired = stack.get("retired")
    if retired:
        lines.append(f"- 🗄️ retired: no descriptor renders it (rendered from {', '.join(retired['rendered_from'])})")
        fate = {"forget": "kept on Google Cloud, released from Terraform", "delete": "**destroyed**"}
        lines += [f"  - {fate.get(item['action'], item['action'])}: `{item['address']}`"
                  for item in retired["resources"]]
    error = stack.get("error")
    if error:
        lines.append(f"- ❌ {error.get('message')}")
        if error.get("command"):
            lines.append(f"  `$ {error['command']}` (exit code {error.get('exit_code')})")
        if error.get("lines"):
            lines += ["", "```", *error["lines"], "```"]
    for label, key in (("log", "log"), ("saved plan", "plan_file")):
        if stack.get(key):
            lines.append(f"- {label}: `{stack[key]}`")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def to_markdown(document: Mapping[str, Any], limit: int = GITHUB_COMMENT_LIMIT, footer: str = "") -> str:
    """The Markdown report, at most ``limit`` characters (and UTF-8 bytes), ``footer`` included."""
    summary = document["summary"]
    changes = summary["changes"]
    title = (f"### df-gen {document['command']}: `{document['environment']}` ({document['mode']})")
    since = document["selection"].get("changed_since")
    lines = [title, ""]
    lines.append(
        f"{summary['stacks']} stack(s); {changes['add']} to add, {changes['change']} to change, "
        f"{changes['destroy']} to destroy ({changes['replace']} replaced), {changes['import']} to import, "
        f"{changes['forget']} to forget"
        + (f"; stacks changed since `{since}`" if since else "") + "."
    )
    if summary["destructive"]:
        lines.append(f"\n> [!WARNING]\n> **{summary['destructive']} destructive change(s)**: data is lost "
                     "where a stateful resource is deleted or replaced (details below).")
    if summary["schema_changes"]:
        lines.append(f"\n**{summary['schema_changes']} table schema change(s)** (details below).")
    if summary["failed"]:
        lines.append(f"\n**{summary['failed']} stack(s) failed or blocked.**")
    lines += ["", "| stack | status | " + " | ".join(COUNT_KEYS) + " | data loss |",
              "| --- | --- | " + " | ".join("---:" for _ in COUNT_KEYS) + " | ---: |"]
    for stack in document["stacks"]:
        icon = _ICONS.get(stack["status"], "")
        lines.append(f"| {stack['name']} | {icon} {stack['status']} | {_counts_cells(stack['changes'])} | "
                     f"{len(stack['destructive']) or ''} |")
    head = "\n".join(lines) + "\n\n"
    details = [_details(s) for s in document["stacks"] if _worth_details(s)]
    tail = f"\n{footer}\n" if footer else ""

    def fits(text: str) -> bool:
        return len(text) <= limit and len(text.encode()) <= limit

    # Keep as many details as fit, from the first: sizes are summed, not texts joined, so
    # that thousands of stacks do not make this quadratic.
    fixed = (len(head) + len(tail), len(head.encode()) + len(tail.encode()))
    chars, octets = [0], [0]
    for detail in details:
        chars.append(chars[-1] + len(detail))
        octets.append(octets[-1] + len(detail.encode()))
    for kept in range(len(details), 0, -1):
        left_out = len(details) - kept
        note = _truncation_note(left_out, limit) if left_out else ""
        if fixed[0] + chars[kept] + len(note) <= limit and fixed[1] + octets[kept] + len(note.encode()) <= limit:
            return head + "".join(details[:kept]) + note + tail
    text = head + (_truncation_note(len(details), limit) if details else "") + tail
    if not fits(text):  # even the summary table is too long: cut it at a line
        note = _truncation_note(len(details), limit, table=True)
        budget = limit - len((note + tail).encode())
        cut = head.encode()[:max(budget, 0)].decode(errors="ignore")
        text = cut[: cut.rfind("\n") + 1] + note + tail
    return text


def _worth_details(stack: Mapping[str, Any]) -> bool:
    return bool(stack.get("resource_types") or stack.get("destructive") or stack.get("schema_changes")
                or stack.get("retired") or stack.get("error"))


def _truncation_note(left_out: int, limit: int, table: bool = False) -> str:
    what = "the summary table and " if table else ""
    return (f"\n> [!NOTE]\n> Report truncated: {what}the details of {left_out} stack(s) are left out to stay "
            f"under the comment size limit ({limit:,} characters). The full report is in the run's "
            "artifacts (the `--report` JSON and Markdown files).\n")


# ------------------------------------------------------------------ writing


def write(paths: Sequence[Path], report: RunReport, options: RunOptions) -> dict[str, Any] | None:
    """Write the report to every path (format by suffix); return the document (None when no path)."""
    if not paths:
        return None
    from generator.fsutil import atomic_write

    document = build(report, options)
    for path in paths:
        text = (json.dumps(document, indent=2) + "\n" if report_format(path) == "json"
                else to_markdown(document))
        try:
            atomic_write(Path(path), text.encode())
        except OSError as exc:
            raise DfGenError(f"{path}: cannot write the report: {exc.strerror or exc}") from None
    return document


def load(path: Path) -> dict[str, Any]:
    """A report JSON written by ``--report`` (checked against the schema), or a one-line error."""
    import jsonschema

    try:
        document = json.loads(Path(path).read_text())
        jsonschema.validate(document, schema())
    except OSError as exc:
        raise DfGenError(f"{path}: cannot read the report: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DfGenError(f"{path}: not a JSON document: {exc}") from None
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise DfGenError(f"{path}: not a df-gen report ({where}: {exc.message})") from None
    return dict(document)

