"""No fingerprint is recorded without Terraform's own evidence that the apply happened.

A stand-in engine (a small Python program given as --terraform-bin) passes df-gen's engine
check (``version -json``) and then behaves as the test says: it exits 0 without writing
the plan file, or plans and shows a real-looking plan but prints no ``change_summary``
from ``apply -json``, or one whose counts differ from the plan. df-gen runs as a real
process; every case must fail with one line saying why and record nothing, so the next
run plans the stack again. (The real embedded Terraform against the sandbox records:
tests/runner_test.py::test_sandbox_lifecycle_of_the_demo.)
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
