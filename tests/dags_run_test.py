"""``df-gen dags run`` against a real local Airflow 3: ``airflow standalone`` of the pinned
test environment (tests/airflow3-requirements.txt) on 127.0.0.1, SQLite, a temporary
AIRFLOW_HOME and its simple auth manager (a user, a password exchanged for a JWT at
``/auth/token``). Only the Google authentication step of Composer is not exercised.

The DAG folder stands in for Composer's bucket: the test writes the rendered DAG there as
Terraform would upload it, and dags run must wait until Airflow parsed that version.

The import-error cases run against both majors' REST API shapes without a real Airflow
(Google Cloud Composer cannot run here; that mock is the allowed one): tests/fakeairflow.py
serves /api/v1 (Airflow 2) and /api/v2 (Airflow 3) over real HTTP on 127.0.0.1, and
``run_dag`` gets a fake clock, so "did not wait for the timeout" is a count of polls. One
slow test makes the real Airflow 3 record an import error for an uploaded file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from demosupport import copy_sources
from fakeairflow import FakeAirflow, serve

from generator.dags.run import RunOutcome

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
START_LIMIT = 150  # seconds for the server to answer


SUCCEEDS = '''\
"""A small DAG standing in for {dag_id}'s rendered DAG ({version})."""
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    BashOperator(task_id="extract", bash_command="echo {version}") >> BashOperator(
        task_id="load", bash_command="sleep {sleep}")
'''

FAILS = '''\
"""A small DAG whose second task fails."""
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    BashOperator(task_id="extract", bash_command="echo ok") >> BashOperator(
        task_id="load", bash_command="exit 3", retries=0)
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Airflow:
    """A running ``airflow standalone``: its URL, DAG folder, user and password."""

    def __init__(self, url: str, dags: Path, password: str) -> None:
        self.url, self.dags, self.username, self.password = url, dags, "admin", password

    def upload(self, name: str, text: str) -> None:
        """What Terraform's upload to the DAG bucket does, here to the local DAG folder."""
        (self.dags / name).write_text(text, encoding="utf-8")


# The tests on the one airflow standalone a module starts: on one pytest-xdist worker under
# --dist loadgroup, so that a run starts it once (its start took 24 s of a one-process run).
STANDALONE = pytest.mark.xdist_group("airflow3-standalone")


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    python = os.environ.get("DF_GEN_AIRFLOW3_PYTHON")
    if not python:
        pytest.skip("DF_GEN_AIRFLOW3_PYTHON is not set (make test sets it to the Airflow 3 venv it builds)")
    base = tmp_path_factory.mktemp("airflow3")
    home, dags = base / "home", base / "dags"
    dags.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        # List the folder and parse changed files every few seconds (defaults: 300 s, 30 s).
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "3",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # Task processes report to the API server's execution API (default: localhost:8080).
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "4",  # LocalExecutor workers (default 32) on a small machine
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    log = (base / "standalone.log").open("w")
    server = subprocess.Popen([str(Path(python).parent / "airflow"), "standalone"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_LIMIT
        passwords = home / "simple_auth_manager_passwords.json.generated"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/version", timeout=5) as answer:
                    if answer.status == 200 and passwords.is_file():
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"airflow standalone did not answer within {START_LIMIT} s: "
                            f"{(base / 'standalone.log').read_text()[-2000:]}")
            time.sleep(2)
        yield Airflow(url, dags, json.loads(passwords.read_text())["admin"])
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the processes it started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        # Workers and a scheduler may outlive standalone itself: end the whole group.
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return copy_sources(tmp_path, modules=True)


def render_dag(demo: Path, key: str, text: str) -> None:
    """Stand in for the rendered DAG of pipeline ``key`` (what Terraform uploads)."""
    (demo / "stacks" / f"pipeline-{key}" / "dag.py").write_text(text, encoding="utf-8")


def dags_run(airflow: Airflow, demo: Path, key: str, timeout: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DF_GEN_AIRFLOW_USERNAME": airflow.username,
           "DF_GEN_AIRFLOW_PASSWORD": airflow.password}
    env.pop("DF_GEN_AIRFLOW_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-c", "from generator.cli import main; main()", "dags", "run", str(demo),
         "--pipeline", key, "--wait", "--timeout", str(timeout), "--airflow-url", airflow.url, *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@STANDALONE
def test_waits_for_the_uploaded_version_then_runs_to_success(airflow: Airflow, demo: Path) -> None:
    airflow.upload("store-daily.py", SUCCEEDS.format(dag_id="store-daily", version="v1", sleep=0))
    new = SUCCEEDS.format(dag_id="store-daily", version="v2", sleep=8)
    render_dag(demo, "store-daily", new)
    # Let Airflow parse v1 first, so dags run meets an older version and must wait.
    time.sleep(10)
    process = dags_run(airflow, demo, "store-daily", 200, "--json")
    time.sleep(12)
    airflow.upload("store-daily.py", new)
    out, err = process.communicate(timeout=260)
    assert process.returncode == 0, (out, err)
    outcome = json.loads(out)
    assert outcome["state"] == "success"
    assert outcome["tasks"] == [{"task_id": "extract", "state": "success"}, {"task_id": "load", "state": "success"}]
    assert "unpaused the DAG (a paused DAG's runs never start)" in outcome["notes"]
    progress = err.splitlines()
    assert progress.index("store-daily: Airflow has an older version") < progress.index(
        "store-daily: Airflow parsed the rendered version") < progress.index("store-daily: unpaused")

    # The run did use v2: it ran `sleep 8`, and a second, text-mode run with a short limit
    # finds the version parsed at once, then runs out of time while `load` sleeps.
    process = dags_run(airflow, demo, "store-daily", 4)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 124, err
    assert "store-daily: Airflow parsed the rendered version" in err
    assert "the run did not finish within 4 s" in err
    assert "store-daily: run df-gen__" in out


@pytest.mark.slow
@STANDALONE
def test_a_failed_run_exits_1_with_its_task_states(airflow: Airflow, demo: Path) -> None:
    text = FAILS.format(dag_id="ecommerce-hourly")
    render_dag(demo, "ecommerce-hourly", text)
    airflow.upload("ecommerce-hourly.py", text)
    process = dags_run(airflow, demo, "ecommerce-hourly", 200)
    out, err = process.communicate(timeout=260)
    assert process.returncode == 1, err
    assert "  extract: success\n  load: failed\n" in out
    assert out.rstrip().endswith(": failed")

    # Airflow refuses a run ID it has with 409, whatever the logical date: what makes a
    # trigger asked again start no second run (generator/dags/run.py).
    from generator.dags.api import AirflowApi, ApiError, Auth

    client = AirflowApi(airflow.url, Auth(username=airflow.username, password=airflow.password))
    client.trigger("ecommerce-hourly", "df-gen__twice", "2026-01-01T00:00:00Z")
    with pytest.raises(ApiError) as caught:
        client.trigger("ecommerce-hourly", "df-gen__twice", "2026-01-02T00:00:00Z")
    assert caught.value.status == 409, caught.value


@pytest.mark.slow
@STANDALONE
def test_a_version_never_parsed_times_out_with_124(airflow: Airflow, demo: Path) -> None:
    render_dag(demo, "store-daily", SUCCEEDS.format(dag_id="store-daily", version="never uploaded", sleep=0))
    process = dags_run(airflow, demo, "store-daily", 8)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 124, err
    assert "did not parse the rendered dag.py within 8 s" in err
    assert "run -: waiting for parse" in out


# --- without a server ------------------------------------------------------------------


def test_task_states_count_mapped_instances() -> None:
    from generator.dags.run import TaskState, task_states

    assert task_states([
        {"task_id": "load", "state": "success", "map_index": -1},
        {"task_id": "archive", "state": "success", "map_index": 0},
        {"task_id": "archive", "state": "failed", "map_index": 1},
        {"task_id": "archive", "state": "success", "map_index": 2},
        {"task_id": "check", "state": None, "map_index": -1},
    ]) == [TaskState("archive", "1 failed, 2 success"), TaskState("check", "none"), TaskState("load", "success")]


def test_unknown_pipeline_and_unreachable_server_are_one_line_errors(demo: Path) -> None:
    from click.testing import CliRunner

    from generator.cli import cli

    result = CliRunner().invoke(cli, ["dags", "run", str(demo), "--pipeline", "nope", "--token", "t",
                                      "--airflow-url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {demo}: no pipeline 'nope' (pipelines: ecommerce-hourly, store-daily)"]
    result = CliRunner().invoke(cli, ["dags", "run", str(demo), "--pipeline", "store-daily", "--token", "t",
                                      "--airflow-url", f"http://127.0.0.1:{_free_port()}"])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: Airflow API GET http://127.0.0.1:") and "Connection refused" in line


# --- import errors: the real Airflow 3 -----------------------------------------------------

BROKEN = '''\
"""{dag_id}'s DAG importing a package the environment lacks."""
from datetime import datetime

import df_gen_no_such_provider  # noqa: F401

from airflow.sdk import DAG

with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    pass
'''


@pytest.mark.slow
@STANDALONE
def test_an_upload_that_does_not_import_ends_the_wait_with_its_error_then_a_fixed_one_runs(
        airflow: Airflow, demo: Path) -> None:
    broken = BROKEN.format(dag_id="ecommerce-hourly")
    render_dag(demo, "ecommerce-hourly", broken)
    airflow.upload("ecommerce-hourly.py", broken)
    time.sleep(8)  # Airflow records the error before dags run starts, as after a Terraform apply
    started = time.monotonic()
    process = dags_run(airflow, demo, "ecommerce-hourly", 200, "--json")
    out, err = process.communicate(timeout=260)
    assert process.returncode == 1, (out, err)
    assert time.monotonic() - started < 100  # its next parse of the file, not the 200 s limit
    assert out.strip(), err  # an error that ends the command before its outcome is on stderr
    outcome = json.loads(out)
    assert outcome["state"] == "import error" and outcome["run_id"] is None
    assert outcome["import_error"]["filename"] == "ecommerce-hourly.py"  # relative to the bundle
    assert "df_gen_no_such_provider" in outcome["import_error"]["stack_trace"]
    [error] = outcome["errors"]
    assert error.endswith("dag.py:4:1: error: Airflow cannot import ecommerce-hourly.py (parsed "
                          f"{outcome['import_error']['timestamp']}): "
                          "ModuleNotFoundError: No module named 'df_gen_no_such_provider'"), error
    assert "Airflow reports an import error in ecommerce-hourly.py from " in err

    # Fixed and uploaded: Airflow clears the error on its next parse, and the run goes ahead.
    fixed = SUCCEEDS.format(dag_id="ecommerce-hourly", version="fixed", sleep=0)
    render_dag(demo, "ecommerce-hourly", fixed)
    airflow.upload("ecommerce-hourly.py", fixed)
    process = dags_run(airflow, demo, "ecommerce-hourly", 200)
    out, err = process.communicate(timeout=260)
    assert process.returncode == 0, (out, err)
    assert out.rstrip().endswith(": success")


# --- import errors: Airflow 2 and 3 API shapes (tests/fakeairflow.py) -------------------------

TRACE = """Traceback (most recent call last):
  File "{path}", line 7, in <module>
    from airflow.providers.nope.operators import NopeOperator
ModuleNotFoundError: No module named 'airflow.providers.nope'
"""
OLD, NEW = "# the version Airflow has\n", "# the rendered version\n"


class FakeTime:
    """A clock that only ``sleep`` moves: polls cost no real time, and are counted."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def fake_run(fake: FakeAirflow, tmp_path: Path, lines: list[str], timeout: float = 3600) -> RunOutcome:
    from generator.dags.api import AirflowApi, Auth
    from generator.dags.run import run_dag

    dag_file = tmp_path / "stacks" / "pipeline-store-daily" / "dag.py"
    dag_file.parent.mkdir(parents=True, exist_ok=True)
    dag_file.write_text(NEW, encoding="utf-8")
    fake_time = FakeTime()
    return run_dag(AirflowApi(fake.url, Auth(token="t")), "store-daily", dag_file, "store-daily.py", timeout,
                   clock=fake_time.clock, sleep=fake_time.sleep, say=lines.append, poll=5)


@pytest.fixture(params=[2, 3], ids=["airflow2", "airflow3"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeAirflow]:
    airflow = FakeAirflow(request.param, "store-daily")
    airflow.source = OLD
    with serve(airflow):
        yield airflow


def test_an_import_error_recorded_while_waiting_exits_1_at_once(fake: FakeAirflow, tmp_path: Path) -> None:
    path = fake.file_path("store-daily.py")
    fake.at(3, lambda f: f.record_import_error("store-daily.py", TRACE.format(path=path), "2026-12-02T08:00:03Z"))
    outcome = fake_run(fake, tmp_path, [])
    assert fake.polls == 3  # not the 721 polls of a 3600 s wait
    assert (outcome.state, outcome.exit_code, outcome.run_id) == ("import error", 1, None)
    assert outcome.errors == [
        f"{tmp_path}/stacks/pipeline-store-daily/dag.py:7:1: error: Airflow cannot import {path} "
        "(parsed 2026-12-02T08:00:03Z): ModuleNotFoundError: No module named 'airflow.providers.nope'"]
    assert outcome.notes == []
    assert outcome.as_dict()["import_error"] == {
        "import_error_id": 1, "filename": path, "timestamp": "2026-12-02T08:00:03Z",
        "stack_trace": TRACE.format(path=path)}
    assert not [r for r in fake.requests if r[0] != "GET"]  # nothing unpaused, nothing triggered


def test_an_import_error_there_before_the_wait_ends_it_when_airflow_records_it_again(
        fake: FakeAirflow, tmp_path: Path) -> None:
    path = fake.file_path("store-daily.py")
    fake.record_import_error("store-daily.py", "SyntaxError: old upload", "2026-12-02T07:00:00Z")
    fake.at(4, lambda f: f.record_import_error("store-daily.py", TRACE.format(path=path), "2026-12-02T08:00:20Z"))
    lines: list[str] = []
    outcome = fake_run(fake, tmp_path, lines)
    assert fake.polls == 4 and outcome.exit_code == 1
    assert outcome.errors[0].endswith("(parsed 2026-12-02T08:00:20Z): ModuleNotFoundError: "
                                      "No module named 'airflow.providers.nope'")
    assert (f"store-daily: Airflow reports an import error in {path} from 2026-12-02T07:00:00Z; "
            "waiting for its next parse of the file") in lines


def test_an_import_error_cleared_then_the_version_parsed_runs(fake: FakeAirflow, tmp_path: Path) -> None:
    fake.record_import_error("store-daily.py", "SyntaxError: the previous upload", "2026-12-02T07:00:00Z")
    fake.at(3, lambda f: f.parse_ok("store-daily.py", NEW))
    lines: list[str] = []
    outcome = fake_run(fake, tmp_path, lines)
    assert (outcome.state, outcome.exit_code, outcome.errors) == ("success", 0, [])
    assert outcome.import_error is None and fake.polls == 3
    assert lines[-4:] == ["store-daily: Airflow parsed the rendered version", "store-daily: unpaused",
                          f"store-daily: triggered run {outcome.run_id}", "store-daily: run success"]


def test_import_errors_of_other_dag_files_are_ignored(fake: FakeAirflow, tmp_path: Path) -> None:
    # Others: another pipeline's DAG, a file in a subfolder of the bundle (Airflow 3 gives
    # relative paths), names that only contain ours.
    others = ["ecommerce-hourly.py", "legacy/store-daily.py", "old-store-daily.py", "store-daily.py.bak"]
    if fake.major == 2:
        others.remove("legacy/store-daily.py")  # an absolute path is matched by its last component
    for poll, name in enumerate(others, start=2):
        fake.at(poll, lambda f, name=name, poll=poll: f.record_import_error(name, "ImportError: x", f"T{poll}"))
    fake.at(len(others) + 3, lambda f: f.parse_ok("store-daily.py", NEW))
    outcome = fake_run(fake, tmp_path, [])
    assert (outcome.state, outcome.exit_code) == ("success", 0)
    assert len(fake.import_errors) == len(others) and fake.polls == len(others) + 3


def test_import_errors_are_read_page_by_page(fake: FakeAirflow, tmp_path: Path) -> None:
    for n in range(230):
        fake.record_import_error(f"generated/dag_{n}.py", "ImportError: not ours", "2026-12-02T07:00:00Z")
    path = fake.file_path("store-daily.py")
    fake.at(2, lambda f: f.record_import_error("store-daily.py", TRACE.format(path=path), "2026-12-02T08:00:00Z"))
    outcome = fake_run(fake, tmp_path, [])
    assert outcome.exit_code == 1 and outcome.import_error is not None
    assert outcome.import_error.error_id == 231  # on the third page
    pages = [r[1] for r in fake.requests if r[1].startswith(f"{fake.prefix}/importErrors")]
    assert [p.split("offset=")[1].split("&")[0] for p in pages] == ["0", "100", "200"] * 2


def test_import_errors_the_role_may_not_read_leave_the_content_wait(fake: FakeAirflow, tmp_path: Path) -> None:
    fake.import_errors_status = 403
    fake.at(4, lambda f: f.parse_ok("store-daily.py", NEW))
    lines: list[str] = []
    outcome = fake_run(fake, tmp_path, lines)
    assert outcome.exit_code == 0
    [said] = [line for line in lines if "import errors" in line]
    assert said.startswith("store-daily: cannot read Airflow's import errors (Airflow API GET "
                           f"{fake.prefix}/importErrors?limit=100&offset=0&order_by=import_error_id: HTTP 403:")
    assert len([r for r in fake.requests if "/importErrors" in r[1]]) == 1  # asked once, not on every poll


def test_a_version_never_parsed_still_times_out(fake: FakeAirflow, tmp_path: Path) -> None:
    fake.record_import_error("store-daily.py", "SyntaxError: the previous upload", "2026-12-02T07:00:00Z")
    outcome = fake_run(fake, tmp_path, [], timeout=60)
    assert (outcome.state, outcome.exit_code) == ("waiting for parse", 124)
    assert outcome.notes == ["Airflow did not parse the rendered dag.py within 60 s"]
    assert fake.polls == 13


# --- polls without an answer: a busy or restarting web server ------------------------------


def test_polls_without_an_answer_are_asked_again_and_the_run_goes_ahead(
        fake: FakeAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.dags import api

    monkeypatch.setattr(api, "TIMEOUT", 0.3)  # a held answer times out in 0.3 s, not 30
    dag = "/dags/store-daily"
    fake.trouble(dag, 503, 503, 502, 1.0)  # polls 1-4: Composer restarting, then too busy to answer
    fake.trouble("/importErrors", 500)  # poll 5: the DAG answers, its import errors do not
    fake.trouble(f"{dag}/dagRuns/[^/]+", 504)  # the first poll of the run
    fake.at(7, lambda f: f.parse_ok("store-daily.py", NEW))
    lines: list[str] = []
    outcome = fake_run(fake, tmp_path, lines)
    assert (outcome.state, outcome.exit_code) == ("success", 0)
    assert outcome.notes == ["unpaused the DAG (a paused DAG's runs never start)"]  # no outage left
    assert fake.polls == 7
    said = [line.split(": ", 1)[1] for line in lines]
    prefix = f"Airflow API GET {fake.prefix}"
    assert said[:7] == [
        f"{prefix}{dag}: HTTP 503: {{\"detail\": \"HTTP 503 as the test asked\"}}; asking again at the next poll",
        f"{prefix}{dag}: HTTP 502: {{\"detail\": \"HTTP 502 as the test asked\"}}; asking again at the next poll",
        f"Airflow API GET {fake.url}{fake.prefix}{dag}: timed out; asking again at the next poll",
        f"{prefix}/importErrors?limit=100&offset=0&order_by=import_error_id: HTTP 500: "
        f"{{\"detail\": \"HTTP 500 as the test asked\"}}; asking again at the next poll",
        "Airflow answers again",
        "Airflow has an older version",  # poll 6: the first whose every request was answered
        "Airflow parsed the rendered version",
    ]  # the second 503 is not said again
    run = [line for line in said if "dagRuns" in line or line.startswith("run ")]
    assert run[0].startswith(f"{prefix}{dag}/dagRuns/{outcome.run_id}: HTTP 504: ")
    assert run[1:] == ["run success"]


def test_a_wait_that_runs_out_without_answers_times_out_with_the_last_error(
        fake: FakeAirflow, tmp_path: Path) -> None:
    fake.trouble("/dags/store-daily", *[503] * 20)
    outcome = fake_run(fake, tmp_path, [], timeout=60)
    assert (outcome.state, outcome.exit_code) == ("waiting for parse", 124)
    assert outcome.notes == [
        "Airflow did not parse the rendered dag.py within 60 s",
        f"the last poll got no answer: Airflow API GET {fake.prefix}/dags/store-daily: HTTP 503: "
        '{"detail": "HTTP 503 as the test asked"}']
    assert fake.polls == 13


def test_task_states_the_server_does_not_give_leave_the_runs_outcome(fake: FakeAirflow, tmp_path: Path) -> None:
    fake.source = NEW
    fake.trouble("/dags/store-daily/dagRuns/[^/]+/taskInstances", 503)
    outcome = fake_run(fake, tmp_path, [])
    assert (outcome.state, outcome.exit_code, outcome.tasks) == ("success", 0, [])
    [note] = outcome.notes[1:]  # after "unpaused the DAG"
    assert note.startswith("no task states: Airflow API GET ") and ": HTTP 503: " in note


def test_an_answer_that_says_no_still_ends_the_command(fake: FakeAirflow, tmp_path: Path) -> None:
    from generator.dags.api import Unavailable
    from generator.errors import DfGenError

    fake.trouble("/dags/store-daily", 403)
    with pytest.raises(DfGenError) as caught:
        fake_run(fake, tmp_path, [])
    assert not isinstance(caught.value, Unavailable)
    assert str(caught.value).startswith(f"Airflow API GET {fake.prefix}/dags/store-daily: HTTP 403: ")
    assert fake.polls == 1


def test_an_unpause_and_a_trigger_without_an_answer_are_asked_again_and_start_one_run(
        fake: FakeAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.dags import api

    monkeypatch.setattr(api, "TIMEOUT", 0.3)  # a held answer times out in 0.3 s, not 30
    fake.source = NEW
    fake.trouble("/dags/store-daily", 503, method="PATCH")
    # A 502 before the run is created, then a run created whose answer never comes back.
    fake.trouble("/dags/store-daily/dagRuns", 502, 0.6, method="POST")
    lines: list[str] = []
    outcome = fake_run(fake, tmp_path, lines)
    assert (outcome.state, outcome.exit_code) == ("success", 0)
    assert list(fake.runs) == [outcome.run_id]  # one run, the one the unanswered request created
    runs = f"{fake.prefix}/dags/store-daily/dagRuns"
    assert [r for r in fake.requests if r[0] in ("PATCH", "POST")] == [
        ("PATCH", f"{fake.prefix}/dags/store-daily?update_mask=is_paused")] * 2 + [("POST", runs)] * 3
    assert ("GET", f"{runs}/{outcome.run_id}") in fake.requests  # read after the third POST's 409
    said = [line.split(": ", 1)[1] for line in lines]
    assert said[said.index("unpaused") - 2:said.index("unpaused")] == [
        f"Airflow API PATCH {fake.prefix}/dags/store-daily?update_mask=is_paused: HTTP 503: "
        '{"detail": "HTTP 503 as the test asked"}; asking again at the next poll', "Airflow answers again"]
    assert said[said.index("unpaused") + 1:] == [
        f"Airflow API POST {runs}: HTTP 502: {{\"detail\": \"HTTP 502 as the test asked\"}}; asking again at the "
        "next poll",
        f"Airflow API POST {fake.url}{runs}: timed out; asking again at the next poll",
        "Airflow answers again", f"triggered run {outcome.run_id}"]


def test_a_trigger_without_an_answer_until_the_timeout_is_one_error(fake: FakeAirflow, tmp_path: Path) -> None:
    from generator.dags.api import Unavailable

    fake.source, fake.is_paused = NEW, False
    fake.trouble("/dags/store-daily/dagRuns", *[503] * 20, method="POST")
    with pytest.raises(Unavailable, match="POST .*/dagRuns: HTTP 503: "):
        fake_run(fake, tmp_path, [], timeout=60)
    assert sum(method == "POST" for method, _ in fake.requests) == 13  # every 5 s from 0 to 60
    assert fake.runs == {}


def test_a_run_id_airflow_has_on_the_first_trigger_is_an_error(fake: FakeAirflow, tmp_path: Path) -> None:
    """A 409 is the first request's own success only when asked again."""
    from generator.dags.api import ApiError

    fake.source, fake.is_paused = NEW, False
    fake.trouble("/dags/store-daily/dagRuns", 409, method="POST")
    with pytest.raises(ApiError, match="POST .*/dagRuns: HTTP 409: ") as caught:
        fake_run(fake, tmp_path, [])
    assert caught.value.status == 409
    assert sum(method == "POST" for method, _ in fake.requests) == 1


def test_a_web_server_answering_503_at_the_start_is_asked_again(
        fake: FakeAirflow, demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A web server restarting or overloaded (as after an apply that updated the Composer
    # environment) answers 502/503: dags run waits for it as for the parse.
    from click.testing import CliRunner

    from generator.cli import cli
    from generator.dags import run

    monkeypatch.setattr(run, "POLL_SECONDS", 0.01)
    fake.source = (demo / "stacks" / "pipeline-store-daily" / "dag.py").read_text(encoding="utf-8")
    fake.trouble("/version", 503, 502)
    result = CliRunner().invoke(cli, ["dags", "run", str(demo), "--pipeline", "store-daily", "--token", "t",
                                      "--airflow-url", fake.url, "--wait", "--timeout", "5"])
    assert result.exit_code == 0, result.output
    said = result.stderr.splitlines()
    version = f"Airflow API GET {fake.prefix}/version"
    assert said[:3] == [
        f'store-daily: {version}: HTTP 503: {{"detail": "HTTP 503 as the test asked"}}; asking again at the next poll',
        f'store-daily: {version}: HTTP 502: {{"detail": "HTTP 502 as the test asked"}}; asking again at the next poll',
        "store-daily: Airflow answers again"]
    assert result.stdout.endswith(": success\n")


def test_the_timeout_counts_from_before_the_web_server_answered_and_is_said_as_given(
        fake: FakeAirflow, demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from generator.cli import cli
    from generator.dags import run

    monkeypatch.setattr(run, "POLL_SECONDS", 0.05)
    fake.trouble("/version", 503, 503)  # Airflow keeps its older version: the parse never comes
    result = CliRunner().invoke(cli, ["dags", "run", str(demo), "--pipeline", "store-daily", "--token", "t",
                                      "--airflow-url", fake.url, "--timeout", "1"])
    assert result.exit_code == 124, result.output
    assert result.stderr.splitlines()[-1] == "store-daily: Airflow did not parse the rendered dag.py within 1 s"

    # Counted from start: 10 s went to the web server, so the wait ends at 60, not 70.
    from generator.dags.api import AirflowApi, Auth

    dag_file = demo / "stacks" / "pipeline-store-daily" / "dag.py"
    fake_time = FakeTime()
    fake_time.now = 10.0
    outcome = run.run_dag(AirflowApi(fake.url, Auth(token="t")), "store-daily", dag_file, "store-daily.py", 60,
                          clock=fake_time.clock, sleep=fake_time.sleep, poll=5, start=0.0)
    assert outcome.notes == ["Airflow did not parse the rendered dag.py within 60 s"] and fake_time.now == 60


def test_a_start_that_gets_only_503_until_the_timeout_is_one_error(fake: FakeAirflow) -> None:
    from generator.dags.api import Auth, Unavailable
    from generator.dags.run import connect

    fake.trouble("/version", *[503] * 20)
    fake_time = FakeTime()
    with pytest.raises(Unavailable) as raised:
        connect(fake.url, Auth(token="t"), "store-daily", 60, clock=fake_time.clock, sleep=fake_time.sleep, poll=5)
    assert str(raised.value) == (f"Airflow API GET {fake.prefix}/version: HTTP 503: "
                                 '{"detail": "HTTP 503 as the test asked"}')
    assert fake_time.now == 60 and fake.polls == 0  # 13 attempts, 5 s apart; no DAG asked for


def test_the_cli_prints_the_import_error_as_one_line_and_exits_1(
        fake: FakeAirflow, demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from generator.cli import cli
    from generator.dags import run

    monkeypatch.setattr(run, "POLL_SECONDS", 0.01)
    path = fake.file_path("store-daily.py")
    fake.at(2, lambda f: f.record_import_error("store-daily.py", TRACE.format(path=path), "2026-12-02T08:00:00Z"))
    args = ["dags", "run", str(demo), "--pipeline", "store-daily", "--token", "t", "--airflow-url", fake.url,
            "--timeout", "5"]  # a regression fails in 5 s, not in the default hour
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    dag_py = demo / "stacks" / "pipeline-store-daily" / "dag.py"
    assert result.stderr.splitlines()[-1] == (
        f"{dag_py}:7:1: error: Airflow cannot import {path} (parsed 2026-12-02T08:00:00Z): "
        "ModuleNotFoundError: No module named 'airflow.providers.nope'")
    assert "Traceback" not in result.stderr
    assert result.stdout == "store-daily: run -: import error\n"

    fake.at(fake.polls + 2, lambda f: f.record_import_error("store-daily.py", TRACE.format(path=path), "T9"))
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["import_error"]["stack_trace"] == TRACE.format(path=path)
    assert document["exit_code"] == 1 and document["errors"][0].endswith("(parsed T9): ModuleNotFoundError: "
                                                                         "No module named 'airflow.providers.nope'")


def test_import_error_file_names_and_trace_lines() -> None:
    from generator.dags.importerrors import ImportErrorReport, names_file

    assert names_file("store-daily.py", "store-daily.py")
    assert names_file("/home/airflow/gcs/dags/store-daily.py", "store-daily.py")
    assert not names_file("sub/store-daily.py", "store-daily.py")
    assert not names_file("/home/airflow/gcs/dags/store-daily.pyc", "store-daily.py")
    syntax = ImportErrorReport(1, "store-daily.py", "T", '  File "/opt/dags/store-daily.py", line 12\n'
                               "    with DAG(\n        ^\nSyntaxError: '(' was never closed\n\n")
    assert (syntax.line("store-daily.py"), syntax.last_line()) == (12, "SyntaxError: '(' was never closed")
    assert ImportErrorReport(2, "x.py", "T", "").last_line() == "(no stack trace)"
    assert ImportErrorReport(2, "x.py", "T", 'File "/d/other.py", line 3').line("store-daily.py") == 0
