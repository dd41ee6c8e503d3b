"""Terraform's evidence (generator/runner/evidence.py): no fingerprint is recorded without
Terraform's own evidence that the apply happened.

A stand-in engine (a small Python program given as --terraform-bin) passes df-gen's engine
check (``version -json``) and then behaves as the test says: it exits 0 without writing
the plan file, or plans and shows a real-looking plan but prints no ``change_summary``
from ``apply -json``, or one whose counts differ from the plan. df-gen runs as a real
process; every case must fail with one line saying why and record nothing, so the next
run plans the stack again. (The real embedded Terraform against the sandbox records:
tests/runner_commands_test.py::test_sandbox_lifecycle_of_the_demo.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.render import render
from generator.runner.evidence import applied_counts, json_ui_text

BASE = Path(__file__).parent / "data" / "descriptors" / "base"
ROOT = Path(__file__).resolve().parent.parent

STAND_IN = textwrap.dedent('''\
    #!{python}
    """Stand-in Terraform that passes the version check; STAND_IN_MODE says what else it does."""
    import json, os, sys
    mode = os.environ["STAND_IN_MODE"]
    args = sys.argv[1:]
    if args[:1] == ["version"]:
        print(json.dumps({{"terraform_version": "1.15.5", "platform": "linux_amd64"}}))
        sys.exit(0)
    if mode == "silent" or args[:1] == ["init"]:
        sys.exit(0)
    plan = {{"format_version": "1.2", "resource_changes": [
        {{"address": "google_storage_bucket.b", "mode": "managed", "type": "google_storage_bucket",
          "change": {{"actions": ["create"]}}}}]}}
    if args[:1] == ["plan"]:
        out = next(a.split("=", 1)[1] for a in args if a.startswith("-out="))
        with open(out, "w") as f:
            f.write("plan")
        print("Plan: 1 to add, 0 to change, 0 to destroy.")
        sys.exit(2)
    if args[:1] == ["show"]:
        print(json.dumps(plan))
    elif args[:1] == ["output"]:
        print("{{}}")
    elif args[:1] == ["apply"] and mode == "other-counts":
        print(json.dumps({{"@message": "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.",
                          "type": "change_summary",
                          "changes": {{"add": 0, "change": 0, "import": 0, "remove": 0, "operation": "apply"}}}}))
    sys.exit(0)
''')


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    env_dir = tmp_path / "env"
    shutil.copytree(BASE, env_dir)
    render(env_dir)
    return env_dir


@pytest.mark.slow  # two df-gen processes and a dozen stand-in engine processes each: seconds
@pytest.mark.parametrize(("mode", "why"), [
    ("silent", "the engine exited 0 but plan -out wrote no plan file: no evidence that it planned; "
               "nothing recorded"),
    ("no-summary", "the engine exited 0 but printed no apply summary (no change_summary message in apply -json): "
                   "no evidence that the apply happened; nothing recorded"),
    ("other-counts", "Terraform applied 0 to add, 0 to change, 0 to destroy but the plan was 1 to add, 0 to "
                     "change, 0 to destroy; nothing recorded: the next apply plans this stack again"),
])
def test_an_engine_without_apply_evidence_records_nothing(env_dir: Path, tmp_path: Path, mode: str, why: str):
    engine = tmp_path / "stand-in-terraform"
    engine.write_text(STAND_IN.format(python=sys.executable))
    engine.chmod(0o755)
    env = dict(os.environ, STAND_IN_MODE=mode, PYTHONPATH=str(ROOT), NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-c", "from generator.cli import main; main()", "apply", str(env_dir), "--auto-approve",
         "--terraform-bin", str(engine), "--stack", "environment", "--only"],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert f"  {why}\n" in output
    assert "Traceback" not in output
    records = env_dir / ".df-gen" / "gcp" / "fingerprints.json"
    assert not records.exists() or "environment" not in json.loads(records.read_text()).get("stacks", {})
    # The next run plans the stack again instead of skipping it as applied.
    result = subprocess.run(
        [sys.executable, "-c", "from generator.cli import main; main()", "plan", str(env_dir),
         "--terraform-bin", str(engine), "--stack", "environment", "--only", "--json"],
        env=env, capture_output=True, text=True, timeout=120)
    [stack] = json.loads(result.stdout)["stacks"]
    assert stack["status"] != "skipped"


def test_json_ui_lines_read_as_terraform_prints_them_without_json() -> None:
    diagnostic = json.dumps({"@level": "error", "@message": "Error: Saved plan is stale", "type": "diagnostic",
                             "diagnostic": {"severity": "error", "summary": "Saved plan is stale",
                                            "detail": "The given plan file can no longer be applied."}})
    assert json_ui_text(diagnostic) == "Error: Saved plan is stale\n\nThe given plan file can no longer be applied."
    assert json_ui_text(json.dumps({"@message": "google_storage_bucket.b: Creating...", "type": "apply_start"})) \
        == "google_storage_bucket.b: Creating..."
    assert json_ui_text("not JSON at all") == "not JSON at all"


def test_applied_counts_read_the_last_apply_summary_only() -> None:
    plan_summary = json.dumps({"@message": "Plan: 1 to add", "type": "change_summary",
                               "changes": {"add": 1, "change": 0, "import": 0, "remove": 0, "operation": "plan"}})
    assert applied_counts(plan_summary) is None
    applied = json.dumps({"@message": "Apply complete!", "type": "change_summary",
                          "changes": {"add": 2, "change": 1, "import": 0, "remove": 1, "operation": "apply"}})
    assert applied_counts(f"{plan_summary}\nnoise\n{applied}\n") == {"add": 2, "change": 1, "destroy": 1, "import": 0}
