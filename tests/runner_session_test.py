"""The session of a run (generator/runner/session.py): what every command does before Terraform."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from demosupport import ROOT, copy_demo, opts, stack_tree
from schema_changes_test import STACK, schema_file, set_table_option, table_change, with_amount

import generator.render
import generator.validate
from generator import runner
from generator.errors import DfGenError
from generator.overrides import OVERRIDE_NAME
from generator.runner.session import session


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every validation of the descriptors, wherever it is called from."""
    calls: list[Path] = []
    real = generator.validate.validate

    def counting(env_dir: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(Path(env_dir))
        return real(env_dir, *args, **kwargs)

    monkeypatch.setattr(generator.validate, "validate", counting)
    monkeypatch.setattr(generator.render, "validate", counting)
    return calls


def test_plan_and_apply_each_validate_once(tmp_path: Path, fake, validations: list[Path]) -> None:
    demo = copy_demo(tmp_path)
    engine = fake()
    assert not runner.apply(runner.RunOptions(demo, quiet=True, auto_approve=True)).failed
    original = json.loads(schema_file(demo).read_text())
    widened = with_amount(original, "BIGNUMERIC")  # a table change: the review reads the descriptors
    schema_file(demo).write_text(json.dumps(widened, indent=2) + "\n")
    set_table_option(demo, "accept_loss: true")  # so that apply goes on
    generator.render.render(demo)
    engine.script[(STACK, "show")] = [(0, json.dumps({"resource_changes": [
        table_change(original, widened, ["update"])]}))]
    validations.clear()

    report = runner.plan(runner.RunOptions(demo, quiet=True))
    assert {r.name: r.status for r in report.results}[STACK] == "changes", "\n".join(report.summary_lines())
    assert len(validations) == 1  # the up-to-date check, the model and the review share one

    report = runner.apply(runner.RunOptions(demo, quiet=True, auto_approve=True))
    assert {r.name: r.status for r in report.results}[STACK] == "applied", "\n".join(report.summary_lines())
    assert len(validations) == 2
    assert engine.commands(STACK).count("show") == 2  # each command reviewed the table change


def test_the_check_before_a_run_builds_with_collection_paused_and_the_run_collects(
        tmp_path: Path, fake, monkeypatch: pytest.MonkeyPatch) -> None:
    """The up-to-date check validates, builds and renders with the collector paused
    (generator.collector); the Terraform calls after it run with it on."""
    demo = copy_demo(tmp_path)
    fake()
    generator.render.render(demo)
    seen: list[bool] = []
    real = generator.validate.validate

    def recording(env_dir: Path) -> Any:
        seen.append(gc.isenabled())
        return real(env_dir)

    monkeypatch.setattr(generator.render, "validate", recording)
    gc.enable()
    with session(opts(demo), "plan") as (_run, names):
        assert names and gc.isenabled()
    assert seen == [False]


def test_out_of_date_stacks_are_refused(demo: Path, fake) -> None:
    fake()
    path = demo / "pipelines" / "store-daily.yaml"
    path.write_text(path.read_text().replace("retries: 2", "retries: 4").replace("retries: 3", "retries: 4"))
    with pytest.raises(DfGenError, match="stacks/ is out of date with the descriptors; run df-gen render"):
        runner.plan(opts(demo))


def test_second_run_is_refused_while_the_lock_is_held(demo: Path, fake) -> None:
    fake()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\nfrom generator.lock import env_lock\n"
         f"with env_lock(Path({str(demo)!r})):\n    print('held', flush=True)\n    time.sleep(30)\n"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DfGenError, match=rf"another df-gen run \(pid {holder.pid}\) holds .*\.df-gen/lock"):
            runner.plan(opts(demo))
    finally:
        holder.kill()
        holder.wait()
    runner.plan(opts(demo))  # the lock went with its process


def test_sandbox_override_exists_only_during_the_run(demo: Path, fake) -> None:
    before = stack_tree(demo)
    seen: dict[str, str] = {}

    def look(stack: str, args: list[str], cwd: Path) -> None:
        path = cwd / OVERRIDE_NAME
        seen[stack] = path.read_text() if path.exists() else ""

    fake(on_call=look)
    runner.apply(opts(demo, sandbox=True, auto_approve=True))
    state = (demo / ".df-gen" / "sandbox" / "state").resolve()
    assert f'path = "{state}/environment.tfstate"' in seen["environment"]
    assert "impersonate_service_account = null" in seen["environment"]
    assert 'data "terraform_remote_state" "environment"' not in seen["environment"]
    assert 'data "terraform_remote_state" "environment"' in seen["pipeline-store-daily"]
    assert f'path = "{state}/pipeline-store-daily.tfstate"' in seen["pipeline-store-daily"]
    assert stack_tree(demo) == before  # nothing left behind, nothing changed

    # A crash left one behind: the next run (any mode) removes it before Terraform runs.
    (demo / "stacks" / "environment" / OVERRIDE_NAME).write_text("# stale\n")
    seen.clear()
    fake(on_call=look)
    runner.plan(opts(demo, all_stacks=True))
    assert seen["environment"] == ""
    assert stack_tree(demo) == before
