"""After a killed run (SIGKILL), the next run says what it cleaned up.

A real ``df-gen apply --sandbox`` is slowed down by the sandbox (DF_GEN_SANDBOX_APPLY_DELAY)
and, while Terraform is creating resources, df-gen and the Terraform it started are killed
with SIGKILL (as an OOM killer or ``kill -9`` of both does). That leaves the sandbox
override files, Terraform's ``.environment.tfstate.lock.info`` and the provider process
(now without its Terraform). The next run names each one it removed or stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from demosupport import ROOT, copy_demo

from generator.overrides import OVERRIDE_NAME, stale_state_locks


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _wait(condition, what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
def test_the_run_after_sigkill_says_what_it_cleaned_up(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    sandbox = env_dir / ".df-gen" / "sandbox"
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", DF_GEN_SANDBOX_APPLY_DELAY="5")
    cli = [sys.executable, "-c", "from generator.cli import main; main()"]
    proc = subprocess.Popen([*cli, "apply", str(env_dir), "--sandbox", "--auto-approve", "--stack", "environment",
                             "--only"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    log = sandbox / "logs" / "environment.log"
    _wait(lambda: log.is_file() and "Creating..." in log.read_text(), "the apply never started creating")
    records = [json.loads(p.read_text()) for p in (sandbox / "providers").glob("*.json")]
    assert records, "the serving provider wrote no pid file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for terraform in {r["parent"] for r in records}:
        os.kill(terraform, signal.SIGKILL)
    for record in records:  # the provider outlives its Terraform: an orphan
        _wait(lambda r=record: not _alive(r["parent"]), "Terraform did not die", 30)
        assert _alive(record["pid"])
    lock_info = sandbox / "state" / ".environment.tfstate.lock.info"
    assert lock_info.is_file()
    override = env_dir / "stacks" / "environment" / OVERRIDE_NAME
    assert override.is_file()

    result = subprocess.run([*cli, "plan", str(env_dir), "--sandbox", "--stack", "environment", "--only"],
                            env=dict(env, DF_GEN_SANDBOX_APPLY_DELAY="0"), capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()

    def _shown(path: Path) -> str:  # the run's working directory is tmp_path
        return os.path.relpath(path, tmp_path)

    assert f"{_shown(override)}: removed, left behind by an interrupted or killed run" in lines
    assert (f"{_shown(lock_info)}: removed, Terraform's state lock info left behind by a killed run "
            "(no process holds the lock)") in lines
    for record in records:
        assert (f"{_shown(sandbox)}: stopped sandbox provider process {record['pid']}, left running by a "
                "killed run") in lines
        assert not _alive(record["pid"])
    assert not lock_info.exists()
    assert not list((sandbox / "providers").glob("*.json"))  # the plan's own providers removed theirs


def test_a_lock_held_by_a_running_process_is_kept(tmp_path: Path) -> None:
    """The lock-info file is removed only when Terraform's own fcntl lock can be taken."""
    state = tmp_path / "environment.tfstate"
    state.write_text("{}")
    info = tmp_path / ".environment.tfstate.lock.info"
    info.write_text("{}")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'r+b'); "
         "fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)", str(state)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert stale_state_locks(tmp_path) == ([], [info])
        assert info.is_file()
    finally:
        holder.kill()
        holder.wait()
    assert stale_state_locks(tmp_path) == ([info], [])
    assert not info.exists()
