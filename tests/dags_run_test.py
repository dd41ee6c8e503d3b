"""``df-gen dags run`` against a real local Airflow 3: ``airflow standalone`` of the pinned
test environment (tests/airflow3-requirements.txt) on 127.0.0.1, SQLite, a temporary
AIRFLOW_HOME and its simple auth manager (a user, a password exchanged for a JWT at
``/auth/token``). Only the Google authentication step of Composer is not exercised.

The DAG folder stands in for Composer's bucket: the test writes the rendered DAG there as
Terraform would upload it, and dags run must wait until Airflow parsed that version.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    shutil.copytree(DEMO, tmp_path / "environments" / "demo", ignore=shutil.ignore_patterns(".df-gen"))
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    shutil.copytree(ROOT / "modules", tmp_path / "modules", ignore=shutil.ignore_patterns(".terraform*"))
    return tmp_path / "environments" / "demo"


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
def test_a_failed_run_exits_1_with_its_task_states(airflow: Airflow, demo: Path) -> None:
    text = FAILS.format(dag_id="ecommerce-hourly")
    render_dag(demo, "ecommerce-hourly", text)
    airflow.upload("ecommerce-hourly.py", text)
    process = dags_run(airflow, demo, "ecommerce-hourly", 200)
    out, err = process.communicate(timeout=260)
    assert process.returncode == 1, err
    assert "  extract: success\n  load: failed\n" in out
    assert out.rstrip().endswith(": failed")


@pytest.mark.slow
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
