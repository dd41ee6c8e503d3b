"""A stand-in for Composer's Airflow web server: the REST API endpoints ``dags run`` calls.

Google Cloud Composer cannot run here, and the suite's real Airflow (``airflow standalone``
in dags_run_test.py) is Airflow 3 only and slow to start. This fake answers on 127.0.0.1,
over real HTTP, in the shapes of Airflow 2.10's ``/api/v1`` and Airflow 3.1's ``/api/v2``
(field names and paging as in their sources: ``api_connexion/schemas/error_schema.py`` and
``api_fastapi/core_api/datamodels/import_error.py``), so ``AirflowApi`` runs unchanged
against it. Tests script Airflow's DAG processor with ``at(poll, change)``: a change applied
when ``dags run`` asks for the DAG for the poll-th time.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE_LIMIT = 100  # Airflow's default [api] maximum_page_limit


class FakeAirflow:
    """The state of one fake Airflow: one DAG, its parsed source, the import errors."""

    def __init__(self, major: int, dag_id: str) -> None:
        self.major, self.dag_id = major, dag_id
        self.prefix = "/api/v2" if major == 3 else "/api/v1"
        self.source: str | None = None  # None: Airflow does not know the DAG yet
        self.is_paused = True
        self.import_errors: list[dict[str, Any]] = []
        self.import_errors_status = 200  # e.g. 403: the user's role lacks the ImportError view
        self.polls = 0  # GETs of the DAG: one per poll of dags run
        self.requests: list[tuple[str, str]] = []
        self.runs: dict[str, str] = {}
        self._troubles: list[tuple[str, list[int | float]]] = []
        self._script: dict[int, list[Callable[[FakeAirflow], None]]] = {}
        self._next_id = 1
        self.url = ""

    def at(self, poll: int, change: Callable[[FakeAirflow], None]) -> None:
        """Apply ``change`` when the DAG is asked for the ``poll``-th time (before answering)."""
        self._script.setdefault(poll, []).append(change)

    def trouble(self, route: str, *answers: int | float, method: str | None = None) -> None:
        """The next requests to ``route`` (a regex the path after the API prefix must match;
        with ``method``, only requests of that method) go wrong, one answer each: an int is
        the HTTP status answered instead (nothing done), a float the seconds the answer is
        held once the request is done (a server too busy to answer in the client's time)."""
        self._troubles.append((f"{method or '[A-Z]+'} {route}", list(answers)))

    def _troubled(self, method: str, route: str) -> int | float | None:
        for pattern, answers in self._troubles:
            if answers and re.fullmatch(pattern, f"{method} {route}"):
                return answers.pop(0)
        return None

    def file_path(self, relative: str) -> str:
        """An import error's ``filename`` as the major gives it (absolute on 2, relative on 3)."""
        return relative if self.major == 3 else f"/home/airflow/gcs/dags/{relative}"

    def record_import_error(self, relative: str, stack_trace: str, timestamp: str) -> None:
        """What the DAG processor does on a failed parse: add the file's error or rewrite it."""
        filename = self.file_path(relative)
        for error in self.import_errors:
            if error["filename"] == filename:
                error.update(timestamp=timestamp, stack_trace=stack_trace)
                return
        entry = {"import_error_id": self._next_id, "timestamp": timestamp, "filename": filename,
                 "stack_trace": stack_trace}
        if self.major == 3:
            entry["bundle_name"] = "dags-folder"
        self._next_id += 1
        self.import_errors.append(entry)

    def parse_ok(self, relative: str, source: str) -> None:
        """A good parse of the file: its import error goes, its source is stored."""
        self.import_errors = [e for e in self.import_errors if e["filename"] != self.file_path(relative)]
        self.source = source

    # --- the API ----------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        self.requests.append((method, path + ("?" + urllib.parse.urlencode(query) if query else "")))
        if not path.startswith(self.prefix + "/"):
            return 404, {"detail": "Not Found"}
        route = path[len(self.prefix):]
        dag = f"/dags/{self.dag_id}"
        if route == dag and method == "GET":
            self.polls += 1
            for change in self._script.pop(self.polls, []):
                change(self)
        trouble = self._troubled(method, route)
        if isinstance(trouble, int):
            return trouble, {"detail": f"HTTP {trouble} as the test asked"}
        answer = self._answer(method, route, query, body)
        if trouble is not None:
            time.sleep(trouble)
        return answer

    def _answer(self, method: str, route: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        dag = f"/dags/{self.dag_id}"
        if route == "/version":
            return 200, {"version": "3.1.7" if self.major == 3 else "2.10.5"}
        if route == dag and method == "GET":
            if self.source is None:
                return 404, {"detail": "DAG not found"}
            return 200, {"dag_id": self.dag_id, "is_paused": self.is_paused, "file_token": "token-1"}
        if route in (f"/dagSources/{self.dag_id}", "/dagSources/token-1") and self.source is not None:
            return 200, {"content": self.source}
        if route == "/importErrors" and method == "GET":
            if self.import_errors_status != 200:
                return self.import_errors_status, {"detail": "Forbidden"}
            ordered = sorted(self.import_errors, key=lambda e: e["import_error_id"])
            offset = int(query.get("offset", 0))
            limit = min(int(query.get("limit", PAGE_LIMIT)), PAGE_LIMIT)
            return 200, {"import_errors": ordered[offset:offset + limit], "total_entries": len(ordered)}
        if route == dag and method == "PATCH":
            self.is_paused = bool(body["is_paused"])
            return 200, {"dag_id": self.dag_id, "is_paused": self.is_paused}
        if route == f"{dag}/dagRuns" and method == "POST":
            if body["dag_run_id"] in self.runs:  # as Airflow 2's AlreadyExists, 3's unique constraint handler
                return 409, ({"detail": f"DAGRun with DAG ID: '{self.dag_id}' and DAGRun ID: "
                                        f"'{body['dag_run_id']}' already exists"} if self.major == 2 else
                             {"detail": {"reason": "Unique constraint violation"}})
            self.runs[body["dag_run_id"]] = "success"
            return 200, {"dag_run_id": body["dag_run_id"], "state": "queued"}
        match = re.fullmatch(rf"{re.escape(dag)}/dagRuns/([^/]+)(/taskInstances)?", route)
        if match and match.group(1) in self.runs:
            if match.group(2):
                return 200, {"task_instances": [{"task_id": "load", "state": "success", "map_index": -1}],
                             "total_entries": 1}
            return 200, {"dag_run_id": match.group(1), "state": self.runs[match.group(1)]}
        return 404, {"detail": f"no route {method} {route}"}


@contextmanager
def serve(airflow: FakeAirflow) -> Iterator[FakeAirflow]:
    """Serve ``airflow`` on a free port of 127.0.0.1 while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = airflow.answer(self.command, urllib.parse.unquote(parts.path), query, body)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a client that stopped waiting (trouble: a held answer)

        do_GET = do_POST = do_PATCH = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    airflow.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield airflow
    finally:
        server.shutdown()
        server.server_close()
