"""A small client of the Airflow stable REST API: Airflow 2's ``/api/v1``, Airflow 3's ``/api/v2``.

Only what ``df-gen dags run`` needs: the version, a DAG and its source as parsed, the import
errors of the DAG files, unpausing, triggering a run, the run's state and its task instances. Endpoints as documented in
Airflow's REST API references (https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html,
https://airflow.apache.org/docs/apache-airflow/3.1.7/stable-rest-api-ref.html).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.errors import DfGenError

TIMEOUT = 30  # seconds per request
PAGE = 100  # the default [api] maximum_page_limit of Airflow 2.10 and 3.1: a larger limit is cut to it


TRANSIENT = frozenset({429, 500, 502, 503, 504})
"""Statuses that say "not now" rather than "no": too many requests, and the server or its
proxy failing (Composer's web server answers 502/503 while it restarts or scales)."""


class ApiError(DfGenError):
    """A request that failed: ``status`` is the HTTP status it got, None when no answer came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(ApiError):
    """The resource does not exist (HTTP 404)."""


class Unavailable(ApiError):
    """No answer (refused, reset, timed out) or a transient status (:data:`TRANSIENT`): the
    same request may succeed later. A wait asks again at its next poll."""


@dataclass(frozen=True)
class Auth:
    """How requests are authenticated: a bearer token, or a user and password.

    A user and password is HTTP basic authentication on Airflow 2 (the ``basic_auth`` API
    backend) and, on Airflow 3, exchanged for a JWT at ``/auth/token``. ``token`` may be a
    callable that returns a fresh token (Google credentials refresh themselves).
    """

    token: str | Callable[[], str] | None = None
    username: str | None = None
    password: str | None = None


class AirflowApi:
    """The REST API of one Airflow web server (Composer's ``airflow_uri``)."""

    def __init__(self, url: str, auth: Auth) -> None:
        self.url = url.rstrip("/")
        self.auth = auth
        self._jwt: str | None = None
        self.prefix = self._detect()

    # --- transport -------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        auth = self.auth
        if auth.token is not None:
            token = auth.token() if callable(auth.token) else auth.token
            return {"Authorization": f"Bearer {token}"}
        if auth.username is not None:
            if self._jwt:
                return {"Authorization": f"Bearer {self._jwt}"}
            pair = f"{auth.username}:{auth.password or ''}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
        return {}

    def request(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        """Send one request; return the decoded JSON body (None when empty)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", **(self._headers() if auth else {})}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # the Airflow URL given
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip().replace("\n", " ")[:300]
            error = NotFound if exc.code == 404 else Unavailable if exc.code in TRANSIENT else ApiError
            raise error(f"Airflow API {method} {path}: HTTP {exc.code}: {detail}", exc.code) from exc
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out (socket.timeout)
            reason = getattr(exc, "reason", exc)
            raise Unavailable(f"Airflow API {method} {self.url}{path}: {reason}") from exc
        try:
            return json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError as exc:  # e.g. a sign-in page instead of the API
            raise DfGenError(f"Airflow API {method} {path}: the answer is not JSON "
                             "(wrong URL, or not signed in?)") from exc

    def _detect(self) -> str:
        """``/api/v2`` (Airflow 3) when it answers, else ``/api/v1`` (Airflow 2)."""
        for prefix in ("/api/v2", "/api/v1"):
            try:
                self.request("GET", f"{prefix}/version")
            except NotFound:
                continue
            except ApiError as exc:
                if exc.status not in (401, 403):
                    raise
            if prefix == "/api/v2" and self.auth.token is None and self.auth.username is not None:
                # Airflow 3 takes no basic authentication: exchange the password for a JWT.
                answer = self.request("POST", "/auth/token", {"username": self.auth.username,
                                                              "password": self.auth.password or ""}, auth=False)
                self._jwt = str(answer["access_token"])
            return prefix
        raise DfGenError(f"{self.url} answers neither /api/v2/version nor /api/v1/version: not an Airflow web server")

    @property
    def major(self) -> int:
        """2 or 3."""
        return 3 if self.prefix == "/api/v2" else 2

    # --- endpoints -------------------------------------------------------------------

    def dag(self, dag_id: str) -> dict[str, Any]:
        """The DAG (raises NotFound while Airflow has not parsed it yet)."""
        return dict(self.request("GET", f"{self.prefix}/dags/{_q(dag_id)}"))

    def source(self, dag: dict[str, Any]) -> str:
        """The DAG file's source as Airflow stored it when it last parsed the file."""
        if self.major == 3:
            path = f"{self.prefix}/dagSources/{_q(dag['dag_id'])}"
        else:
            path = f"{self.prefix}/dagSources/{_q(dag['file_token'])}"
        return str(self.request("GET", path)["content"])

    def import_errors(self) -> list[dict[str, Any]]:
        """Every import error Airflow records now: one per DAG file whose last parse failed.

        ``GET importErrors``, paged by ``limit``/``offset`` in ``import_error_id`` order until
        ``total_entries``. Fields: ``import_error_id``, ``timestamp`` (of the last failed
        parse: Airflow rewrites it on each failed parse and deletes the error on a good one),
        ``filename`` and ``stack_trace``. ``filename`` is the file's absolute path on Airflow 2
        (``api_connexion/schemas/error_schema.py``) and its path relative to the DAG bundle on
        Airflow 3 (``api_fastapi/core_api/datamodels/import_error.py``, the bundle's
        ``relative_fileloc``).
        """
        errors: list[dict[str, Any]] = []
        while True:
            answer = self.request("GET", f"{self.prefix}/importErrors?limit={PAGE}&offset={len(errors)}"
                                         "&order_by=import_error_id")
            page = list(answer.get("import_errors", []))
            errors.extend(page)
            if not page or len(errors) >= int(answer.get("total_entries", 0)):
                return errors

    def unpause(self, dag_id: str) -> None:
        """Unpause the DAG (a paused DAG's triggered runs never start)."""
        self.request("PATCH", f"{self.prefix}/dags/{_q(dag_id)}?update_mask=is_paused", {"is_paused": False})

    def trigger(self, dag_id: str, run_id: str, logical_date: str) -> dict[str, Any]:
        """Start a run of the DAG with this run ID."""
        body: dict[str, Any] = {"dag_run_id": run_id, "conf": {}}
        if self.major == 3:
            body["logical_date"] = logical_date  # a field Airflow 3.0's API requires
        return dict(self.request("POST", f"{self.prefix}/dags/{_q(dag_id)}/dagRuns", body))

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """The run (its ``state``: queued, running, success, failed)."""
        return dict(self.request("GET", f"{self.prefix}/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's task instances (one per map index for mapped tasks)."""
        answer = self.request("GET", f"{self.prefix}/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}/taskInstances?limit=1000")
        return list(answer.get("task_instances", []))


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")
