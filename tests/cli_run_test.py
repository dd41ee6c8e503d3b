"""The run commands' CLI (generator/cli_run.py): plan --json and --detailed-exitcode, the
confirmation in and out of a terminal, output, a damaged sandbox store as one line (with
a fake engine (tests/fakeengine.py)).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from demosupport import ALL

from generator.cli import DfGenGroup
from generator.cli_run import apply_command, destroy_command, output_command, plan_command
from generator.loader import display_path
from generator.status import PLAN_STATUSES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli() -> click.Group:
    group = DfGenGroup(name="df-gen")
    for command in (plan_command, apply_command, destroy_command, output_command):
        group.add_command(command)
    return group


def test_plan_json_document_and_detailed_exitcode(demo: Path, fake, cli: click.Group) -> None:
    fake()
    assert CliRunner().invoke(cli, ["apply", str(demo), "--auto-approve"]).exit_code == 0
    fake({("datasource-store", "plan"): [(1, "Error: nope\n")]})
    result = CliRunner().invoke(cli, ["plan", str(demo), "--json", "--all"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [s["name"] for s in document["stacks"]] == ALL
    for entry in document["stacks"]:
        assert set(entry) >= {"name", "kind", "status", "changes", "destructive"}
        assert entry["kind"] in ("environment", "datasource", "pipeline")
        assert entry["status"] in PLAN_STATUSES
        assert (entry["changes"] is None) == (entry["status"] in ("skipped", "blocked", "failed"))
    assert document["summary"] == {"skipped": 0, "no-changes": 0, "changes": 3, "blocked": 1, "failed": 1}
    failed = next(s for s in document["stacks"] if s["status"] == "failed")
    assert failed["error"]["lines"] == ["Error: nope"] and failed["error"]["log"].endswith("datasource-store.log")

    fake()
    result = CliRunner().invoke(cli, ["plan", str(demo), "--detailed-exitcode", "--stack", "environment", "--all"])
    assert result.exit_code == 2, result.output
    assert "environment" in result.stdout and "1 to add, 0 to change, 0 to destroy" in result.stdout


@pytest.mark.parametrize("damage", ['{"resources": {"google_project/x": {"ty', "[]"])
def test_damaged_sandbox_store_is_one_line(demo: Path, fake, cli: click.Group, damage: str) -> None:
    fake()
    store = demo / ".df-gen" / "sandbox" / "store.json"
    store.parent.mkdir(parents=True)
    store.write_text(damage)
    result = CliRunner().invoke(cli, ["plan", str(demo), "--sandbox"])
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {display_path(store)}: ")
    assert line.endswith(f"restore it from a copy, or delete {display_path(store.parent)} to start the sandbox "
                         "afresh")


def test_cli_apply_without_terminal_refuses_and_output_prints_values(demo: Path, fake, cli: click.Group) -> None:
    fake()
    result = CliRunner().invoke(cli, ["apply", str(demo)])
    assert result.exit_code == 1
    assert "apply needs a confirmation: run it in a terminal, or pass --auto-approve" in result.output
    result = CliRunner().invoke(cli, ["apply", str(demo), "--auto-approve"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["output", str(demo)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f'{name}.name = "{name}"' for name in ALL]
    result = CliRunner().invoke(cli, ["output", str(demo), "--json", "--stack", "datasource-store", "--only"])
    assert json.loads(result.stdout) == {"datasource-store": {"name": "datasource-store"}}


def test_cli_apply_in_a_terminal_shows_the_plans_and_asks_once(demo: Path, fake, cli: click.Group,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import cli_run

    monkeypatch.setattr(cli_run, "_can_ask", lambda: True)
    engine = fake()
    result = CliRunner().invoke(cli, ["apply", str(demo)], input="n\n")
    assert result.exit_code == 1
    # The environment only: every other stack reads its outputs (the data sources the agents
    # their pipelines' scans and DLP write with), so waits for its first apply.
    assert result.stdout.count("Apply the changes of 1 stack(s) (gcp)? [y/N]") == 1
    assert "apply cancelled; nothing was changed" in result.output
    assert all(c != "apply" for _, c in engine.calls)
    engine = fake()
    result = CliRunner().invoke(cli, ["apply", str(demo)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "apply (gcp): 5 stacks: 5 applied" in result.stdout
    result = CliRunner().invoke(cli, ["destroy", str(demo)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Destroy every resource of 5 stack(s) (gcp)" in result.stdout


ASK_IN_A_CHILD = """
import os, signal, sys, threading, time
from generator.cli_run import _ask

def interrupt():
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGINT)

threading.Thread(target=interrupt).start()  # started first: SIGINT stays open in this thread
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # so the kernel can only hand it there
try:
    print(_ask(sys.argv[1]))
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_an_interrupt_that_misses_the_read_still_ends_the_question(tmp_path: Path) -> None:
    """Ctrl-C at the confirmation exits 130 even when the read(2) never sees the signal.

    ``input()`` holds such an interrupt until Enter (CPython gh-112585: one that lands just
    before its read blocks). Here the signal goes to another thread, which the main thread's
    read cannot notice either; nothing is ever typed on the open pipe.
    """
    read_end, write_end = os.pipe()
    try:
        result = subprocess.run([sys.executable, "-c", ASK_IN_A_CHILD, "Really destroy?"], stdin=read_end,
                                capture_output=True, text=True, timeout=30, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.returncode == 130, result.stderr
    assert result.stdout == "Really destroy? [y/N]: "


@pytest.mark.parametrize(("typed", "answer"), [(b"y\n", True), (b" YES \n", True), (b"n\n", False), (b"", False)])
def test_the_question_reads_one_line_from_the_standard_input_file(typed: bytes, answer: bool) -> None:
    result = subprocess.run([sys.executable, "-c", "import sys; from generator.cli_run import _ask; "
                             "print(_ask(sys.argv[1]))", "Apply?"], input=typed, capture_output=True,
                            timeout=30, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"Apply? [y/N]: {answer}\n"
