"""``df-gen dags run``: trigger a pipeline's DAG on Composer and wait for the outcome.

The one place where df-gen acts on Google Cloud other than through Terraform (DESIGN's
exception, see the README): Airflow's REST API on the Composer environment's web server.

Before triggering, the run waits until Airflow has parsed the DAG version that Terraform
uploaded: the DAG's source as Airflow stored it when parsing (``dagSources``) must equal
the rendered ``stacks/pipeline-KEY/dag.py``. Content, not times: Composer's bucket sync and
the DAG processor's own clock make ``last_parsed_time`` against an upload time unreliable,
and equal content proves the very version runs.

While it waits, it also reads Airflow's import errors: when the uploaded file fails to import
(a missing provider package, a syntax error, a Variable read at parse time), Airflow never
parses that version, and waiting for the timeout would only hide why. An import error of the
pipeline's DAG file that Airflow recorded after the wait started ends it (exit 1, the error's
last line); one already there when it started may be the previous upload's, so it ends the
wait only once Airflow records it again (its next parse of the file: see ``importerrors``).

A poll that gets no answer or a transient status (``api.Unavailable``: a 502 while Composer's
web server restarts, a request timed out on a busy server) is asked again at the next poll,
said once; only the deadline ends a wait, with the last such error among its notes. So are
the unpause and the trigger, until the deadline (then their last error is the command's). A
trigger asked again cannot start a second run: its run ID is chosen here, and Airflow refuses
a run ID it has (409), which then means the first try started the run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from generator.dags.api import AirflowApi, ApiError, Auth, NotFound, Unavailable
from generator.dags.importerrors import ImportErrorReport, for_file
from generator.errors import DfGenError
from generator.fsutil import display_path
from generator.model import Model
from generator.naming import stack_name

EXIT_FAILED = 1
EXIT_TIMEOUT = 124  # as timeout(1)
FINISHED = {"success": 0, "failed": EXIT_FAILED}
POLL_SECONDS = 5.0
CONFLICT = 409

R = TypeVar("R")


@dataclass(frozen=True)
class TaskState:
    """One task of the run: its state, or its mapped instances' states counted."""

    task_id: str
    state: str


@dataclass
class RunOutcome:
    """How ``dags run`` ended."""

    dag_id: str
    run_id: str | None
    state: str
    exit_code: int
    tasks: list[TaskState] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    import_error: ImportErrorReport | None = None
    errors: list[str] = field(default_factory=list)
    """User-caused errors, each one ``path:line:col: error: message`` line."""

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {"dag_id": self.dag_id, "run_id": self.run_id, "state": self.state,
                "exit_code": self.exit_code, "notes": self.notes, "errors": self.errors,
                "import_error": self.import_error.as_dict() if self.import_error else None,
                "tasks": [{"task_id": t.task_id, "state": t.state} for t in self.tasks]}


def pipeline_dag(model: Model, key: str) -> tuple[str, Path]:
    """(DAG ID, rendered DAG file) of pipeline ``key``."""
    names = [s.key for s in model.stacks if s.kind == "pipeline"]
    if key not in names:
        raise DfGenError(f"{model.env_dir}: no pipeline {key!r} (pipelines: {', '.join(sorted(names)) or 'none'})")
    dag_file = model.env_dir / "stacks" / stack_name("pipeline", key) / "dag.py"
    if not dag_file.is_file():
        raise DfGenError(f"{dag_file}: not rendered (run df-gen render)")
    return key, dag_file  # the retail template's DAG ID is the pipeline key (model/pipeline.py: dag_context)


def connect(url: str, auth: Auth, dag_id: str, timeout: float, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep, say: Callable[[str], None] = lambda line: None,
            poll: float | None = None) -> AirflowApi:
    """The REST API of the web server at ``url``, asked again every poll while it answers a
    transient status (a web server that is restarting or overloaded answers 502 or 503; an
    update of the Composer environment, as an apply that changes its PyPI packages, variables
    or Airflow configuration makes, restarts Airflow's components: "Update environments",
    https://cloud.google.com/composer/docs/composer-3/update-environments) for up to
    ``timeout`` seconds. A server that does not answer at all (a wrong URL) fails at once."""
    return _asked_again(lambda again: AirflowApi(url, auth), clock() + timeout, clock, sleep,
                        _Outage(dag_id, say), POLL_SECONDS if poll is None else poll,
                        worth_asking=lambda exc: exc.status is not None)


def task_states(instances: list[dict[str, Any]]) -> list[TaskState]:
    """One line per task; mapped tasks as counts of their instances' states."""
    by_task: dict[str, Counter[str]] = {}
    for instance in instances:
        by_task.setdefault(str(instance["task_id"]), Counter())[str(instance.get("state") or "none")] += 1
    states = []
    for task_id, counts in sorted(by_task.items()):
        if sum(counts.values()) == 1:
            states.append(TaskState(task_id, next(iter(counts))))
        else:
            states.append(TaskState(task_id, ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))))
    return states


def run_dag(api: AirflowApi, dag_id: str, dag_file: Path, object_name: str, timeout: float, wait: bool = True,
            clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
            say: Callable[[str], None] = lambda line: None, poll: float | None = None,
            start: float | None = None) -> RunOutcome:
    """Wait for the uploaded version to be parsed, trigger a run, and (with wait) follow it.

    ``object_name`` is the DAG file's name in Composer's DAG folder (naming.dag_object);
    ``poll`` the seconds between two requests (default POLL_SECONDS); ``start`` the
    ``clock()`` reading ``timeout`` counts from (default: now; the CLI's is before
    :func:`connect`, whose wait the timeout bounds too).
    """
    poll = POLL_SECONDS if poll is None else poll
    deadline = (clock() if start is None else start) + timeout
    expected = dag_file.read_text(encoding="utf-8")
    outcome = RunOutcome(dag_id, None, "waiting for parse", EXIT_TIMEOUT)
    outage = _Outage(dag_id, say)
    dag = _parsed(api, dag_id, object_name, expected, deadline, clock, sleep, outage, poll)
    if isinstance(dag, ImportErrorReport):
        outcome.state, outcome.exit_code, outcome.import_error = "import error", EXIT_FAILED, dag
        line = dag.line(object_name)
        where = f"{display_path(dag_file)}:{line}:1" if line else display_path(dag_file)
        outcome.errors.append(f"{where}: error: Airflow cannot import {dag.filename} "
                              f"(parsed {dag.timestamp}): {dag.last_line()}")
        return outcome
    if dag is None:
        outcome.notes.append(f"Airflow did not parse the rendered {dag_file.name} within {timeout:g} s")
        outcome.notes.extend(outage.notes())
        return outcome
    if dag.get("is_paused"):
        _asked_again(lambda again: api.unpause(dag_id), deadline, clock, sleep, outage, poll)
        outcome.notes.append("unpaused the DAG (a paused DAG's runs never start)")
        say(f"{dag_id}: unpaused")
    now = datetime.now(UTC)
    run_id = outcome.run_id = f"df-gen__{now.strftime('%Y%m%dT%H%M%S.%fZ')}"
    logical_date = now.isoformat().replace("+00:00", "Z")

    def trigger(again: bool) -> dict[str, Any]:
        try:
            return api.trigger(dag_id, run_id, logical_date)
        except ApiError as exc:
            # Airflow answers 409 for a run ID it has (Airflow 2: AlreadyExists in
            # api_connexion/endpoints/dag_run_endpoint.py; 3: the unique constraint handler of
            # api_fastapi/common/exceptions.py). Asked again, it means the request that got no
            # answer created the run: the ID is this command's own.
            if not again or exc.status != CONFLICT:
                raise
            return api.run(dag_id, run_id)

    run = _asked_again(trigger, deadline, clock, sleep, outage, poll)
    outcome.state = str(run.get("state") or "queued")
    say(f"{dag_id}: triggered run {outcome.run_id}")
    if not wait:
        outcome.exit_code = 0
        return outcome
    while outcome.state not in FINISHED:
        if clock() >= deadline:
            outcome.notes.append(f"the run did not finish within {timeout:g} s")
            break
        sleep(poll)
        try:
            state = str(api.run(dag_id, outcome.run_id).get("state"))
        except Unavailable as exc:
            outage.failed(exc)
            continue
        outage.over()
        if state != outcome.state:
            say(f"{dag_id}: run {state}")
        outcome.state = state
    outcome.exit_code = FINISHED.get(outcome.state, EXIT_TIMEOUT)
    outcome.notes.extend(outage.notes())
    try:
        outcome.tasks = task_states(api.task_instances(dag_id, outcome.run_id))
    except Unavailable as exc:  # the run's outcome stands; only its task states are missing
        outcome.notes.append(f"no task states: {exc}")
    return outcome


def _asked_again(request: Callable[[bool], R], deadline: float, clock: Callable[[], float],
                 sleep: Callable[[float], None], outage: _Outage, poll: float,
                 worth_asking: Callable[[Unavailable], bool] = lambda exc: True) -> R:
    """``request(again)`` (``again``: an earlier try got no answer), asked again at the next
    poll while it gets no answer (:class:`Unavailable`), until ``deadline``: then its last
    error is raised, as is at once one ``worth_asking`` says is not worth asking again. For the
    requests outside the waits (the first ones, unpause, trigger): right after an apply,
    Composer's web server may be restarting."""
    again = False
    while True:
        try:
            answer = request(again)
        except Unavailable as exc:
            if not worth_asking(exc) or clock() >= deadline:
                raise
            outage.failed(exc)
            again = True
            sleep(poll)
            continue
        outage.over()
        return answer


class _Outage:
    """Polls that got no answer (:class:`Unavailable`): each new error said once, the last one
    kept for the notes when the wait runs out."""

    def __init__(self, dag_id: str, say: Callable[[str], None]) -> None:
        self.dag_id, self.say = dag_id, say
        self.last: str | None = None

    def failed(self, exc: Unavailable) -> None:
        if str(exc) != self.last:
            self.say(f"{self.dag_id}: {exc}; asking again at the next poll")
        self.last = str(exc)

    def over(self) -> None:
        if self.last is not None:
            self.say(f"{self.dag_id}: Airflow answers again")
        self.last = None

    def notes(self) -> list[str]:
        return [] if self.last is None else [f"the last poll got no answer: {self.last}"]


def _parsed(api: AirflowApi, dag_id: str, object_name: str, expected: str, deadline: float,
            clock: Callable[[], float], sleep: Callable[[float], None], outage: _Outage,
            poll: float) -> dict[str, Any] | ImportErrorReport | None:
    """The DAG once Airflow's stored source equals the rendered file; None at the deadline.

    Or the import error of ``object_name`` that Airflow recorded since the first poll (the
    first poll that read them).
    """
    say = outage.say
    last = ""
    before: set[tuple[int, str]] | None = None  # the file's import errors at the first poll
    readable = True  # False once the API refused the import errors
    while True:
        try:
            dag, current, status = _dag_status(api, dag_id, expected)
            errors = _import_errors(api, dag_id, object_name, say) if readable and not current else None
        except Unavailable as exc:
            outage.failed(exc)
        else:
            outage.over()
            if status != last:
                say(f"{dag_id}: Airflow {status}")
                last = status
            if current:
                return dag
            readable = errors is not None
            if errors is not None:
                if before is None:
                    before = {e.seen for e in errors}
                    for error in errors:
                        say(f"{dag_id}: Airflow reports an import error in {error.filename} from "
                            f"{error.timestamp}; waiting for its next parse of the file")
                fresh = [e for e in errors if e.seen not in before]
                if fresh:
                    return fresh[-1]
        if clock() >= deadline:
            return None
        sleep(poll)


def _dag_status(api: AirflowApi, dag_id: str, expected: str) -> tuple[dict[str, Any], bool, str]:
    """The DAG as Airflow knows it, whether its stored source is the rendered one, and a word on it."""
    try:
        dag = api.dag(dag_id)
        current = api.source(dag) == expected
        return dag, current, "parsed the rendered version" if current else "has an older version"
    except NotFound:
        return {}, False, "does not know the DAG yet"


def _import_errors(api: AirflowApi, dag_id: str, object_name: str,
                   say: Callable[[str], None]) -> list[ImportErrorReport] | None:
    """The DAG file's import errors; None when the API refuses them (said once).

    Reading them needs the ImportError view (Airflow's Viewer role has it); without it the
    wait goes on by content alone, as before.
    """
    try:
        return for_file(api.import_errors(), object_name)
    except ApiError as exc:
        if exc.status not in (401, 403, 404):
            raise
        say(f"{dag_id}: cannot read Airflow's import errors ({exc}); waiting for the parse only")
        return None


def google_token() -> Callable[[], str]:
    """Google credentials (Application Default Credentials) as a bearer token source.

    Composer's Airflow web server accepts the caller's Google OAuth access token with the
    cloud-platform scope ("Access the Airflow REST API", Composer documentation:
    https://cloud.google.com/composer/docs/composer-3/access-airflow-api). google-auth is an
    optional dependency (``pip install 'df-gen[google]'``).
    """
    try:
        import google.auth
        import google.auth.transport.requests
    except ImportError as exc:
        raise DfGenError("Google credentials need google-auth (pip install 'df-gen[google]'); "
                         "or pass --token, or --username with DF_GEN_AIRFLOW_PASSWORD") from exc
    try:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise DfGenError(f"no Google credentials: {exc}") from exc

    def token() -> str:
        if not credentials.valid:
            credentials.refresh(google.auth.transport.requests.Request())
        return str(credentials.token)

    return token


def airflow_url(env_dir: Path) -> str:
    """The Composer environment's Airflow web server (the environment stack's outputs)."""
    from generator import runner

    report = runner.output(runner.RunOptions(env_dir, stacks=("environment",), only=True, quiet=True, plain=True))
    outputs = runner.outputs_document(report).get("environment", {})
    url = (outputs.get("composer") or {}).get("airflow_uri")
    if not url:
        raise DfGenError(f"{env_dir}: the environment stack has no composer.airflow_uri output "
                         "(apply it first, or pass --airflow-url)")
    return str(url)


def make_auth(token: str | None, username: str | None, password: str | None) -> Auth:
    """--token, then --username with its password, then Google credentials."""
    if token:
        return Auth(token=token)
    if username:
        return Auth(username=username, password=password)
    return Auth(token=google_token())
