"""``df-gen ci comment``: the change report as ONE comment per environment, updated on every push.

The comment carries a hidden marker naming the environment(s); the next run finds the
comment with that marker and edits it instead of adding another. Endpoints used:

- GitHub REST: ``GET /repos/{repo}/issues/{number}/comments`` (pages of 100),
  ``POST`` the same path, ``PATCH /repos/{repo}/issues/comments/{id}``; token in
  ``Authorization: Bearer`` (GitHub Actions' ``GITHUB_TOKEN`` with ``pull-requests: write``).
- GitLab REST v4: ``GET /projects/{id}/merge_requests/{iid}/notes`` (pages of 100),
  ``POST`` the same path, ``PUT /projects/{id}/merge_requests/{iid}/notes/{note_id}``;
  token in ``PRIVATE-TOKEN`` (a project access token: GitLab's job token may not write notes).

Every request has a timeout; a failure is one line naming the method, URL and status.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import report as change_report
from generator.errors import DfGenError

TIMEOUT = 30
MAX_PAGES = 50
MARKER = "<!-- df-gen-report: {} -->"


@dataclass(frozen=True)
class Target:
    """Where the comment goes."""

    provider: str  # github | gitlab
    api_url: str
    project: str  # owner/name (GitHub) or project ID or path (GitLab)
    number: int  # pull request number or merge request IID
    token: str


def body(documents: Sequence[dict[str, Any]], run_url: str | None = None) -> str:
    """The comment: each environment's Markdown report, the marker last."""
    names = sorted(d["environment"] for d in documents)
    marker = MARKER.format(", ".join(names))
    footer = (f"Logs, reports and saved plans of this run: {run_url}\n" if run_url else "") + marker
    limit = change_report.GITHUB_COMMENT_LIMIT // max(len(documents), 1) - len(footer) - 2
    parts = [change_report.to_markdown(d, limit=limit) for d in sorted(documents, key=lambda d: d["environment"])]
    return "\n".join(parts) + "\n" + footer + "\n"


def _request(target: Target, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    url = target.api_url.rstrip("/") + path
    headers = {"Accept": "application/json", "User-Agent": "df-gen"}
    if target.provider == "github":
        headers["Authorization"] = f"Bearer {target.token}"
        headers["Accept"] = "application/vnd.github+json"
    else:
        headers["PRIVATE-TOKEN"] = target.token
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # http(s) only, checked below
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace").strip().replace("\n", " ")
        raise DfGenError(f"ci comment: {method} {url}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DfGenError(f"ci comment: {method} {url}: {reason}") from None
    except ValueError:
        raise DfGenError(f"ci comment: {method} {url}: the answer is not JSON") from None


def _paths(target: Target) -> tuple[str, str]:
    """The list/create path and the edit path prefix."""
    if target.provider == "github":
        return (f"/repos/{target.project}/issues/{target.number}/comments", f"/repos/{target.project}/issues/comments/")
    project = urllib.parse.quote(target.project, safe="")
    notes = f"/projects/{project}/merge_requests/{target.number}/notes"
    return notes, notes + "/"


def find(target: Target, marker: str) -> int | None:
    """The ID of the comment carrying ``marker``, if any."""
    listing, _ = _paths(target)
    for page in range(1, MAX_PAGES + 1):
        items = _request(target, "GET", f"{listing}?per_page=100&page={page}")
        if not isinstance(items, list):
            raise DfGenError(f"ci comment: GET {listing}: expected a list of comments")
        for item in items:
            if marker in str(item.get("body", "")):
                return int(item["id"])
        if len(items) < 100:
            return None
    return None


def post(target: Target, text: str) -> tuple[str, int]:
    """Create the comment, or update the one with the same marker; return (verb, id)."""
    if not target.api_url.startswith(("https://", "http://")):
        raise DfGenError(f"ci comment: API URL must be http(s): {target.api_url}")
    if not target.token:
        raise DfGenError("ci comment: no token (GitHub: GITHUB_TOKEN; GitLab: DF_GEN_GITLAB_TOKEN)")
    marker = text.rstrip().rsplit("\n", 1)[-1]
    listing, edit = _paths(target)
    existing = find(target, marker)
    if existing is None:
        created = _request(target, "POST", listing, {"body": text})
        return "created", int(created["id"])
    method = "PATCH" if target.provider == "github" else "PUT"
    _request(target, method, f"{edit}{existing}", {"body": text})
    return "updated", existing


def comment(target: Target, reports: Sequence[Path], run_url: str | None = None) -> tuple[str, int]:
    """Post or update the comment for the reports (JSON files written by ``--report``)."""
    if not reports:
        raise DfGenError("ci comment: give at least one --report FILE.json")
    documents = [change_report.load(path) for path in reports]
    return post(target, body(documents, run_url))


def github_number(event_path: str | None) -> int | None:
    """The pull request number from GitHub's event file (``GITHUB_EVENT_PATH``)."""
    if not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text())
        return int(event["pull_request"]["number"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def target_from_environment(provider: str, api_url: str | None, project: str | None, number: int | None,
                            environ: Mapping[str, str]) -> Target:
    """The comment's target from the options, else the CI system's own variables."""
    if provider == "github":
        api = api_url or environ.get("GITHUB_API_URL") or "https://api.github.com"
        project = project or environ.get("GITHUB_REPOSITORY")
        number = number or github_number(environ.get("GITHUB_EVENT_PATH"))
        token = environ.get("GITHUB_TOKEN", "")
    else:
        api = api_url or environ.get("CI_API_V4_URL") or ""
        project = project or environ.get("CI_PROJECT_ID")
        iid = environ.get("CI_MERGE_REQUEST_IID")
        number = number or (int(iid) if iid and iid.isdigit() else None)
        token = environ.get("DF_GEN_GITLAB_TOKEN", "")
    if not api or not project or not number:
        missing = [name for name, value in (("--api-url", api), ("--repository", project), ("--number", number))
                   if not value]
        raise DfGenError(f"ci comment: {', '.join(missing)} not given and not found in the CI variables "
                         "(is this a pull/merge request run?)")
    return Target(provider, api, project, number, token)
