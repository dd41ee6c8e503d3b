"""Faults during a run: however a signal arrives, Terraform gets exactly one interrupt.

A stand-in engine (a small Python program given as --terraform-bin) answers ``version
-json`` and ``init``, and during ``plan`` counts the SIGINTs it receives, then exits as
Terraform does after a graceful stop. df-gen runs as a real process in a session of its
own (as under a terminal or ``timeout``), and the signal goes to its whole process group
or to df-gen alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generator.lock import env_lock
from generator.render import render

BASE = Path(__file__).parent / "data" / "descriptors" / "base"
ROOT = Path(__file__).resolve().parent.parent

STAND_IN = textwrap.dedent('''\
    #!{python}
    """Stand-in Terraform: counts the SIGINTs it gets while planning."""
    import json, os, signal, sys, time
    work = os.environ["STAND_IN_DIR"]
    args = sys.argv[1:]
    if args[:1] == ["version"]:
        print(json.dumps({{"terraform_version": "1.15.5", "platform": "linux_amd64"}}))
        sys.exit(0)
    if args[:1] != ["plan"]:
        sys.exit(0)
    count = 0
    def interrupted(signum, frame):
        global count
        count += 1
        with open(os.path.join(work, "interrupts"), "w") as f:
            f.write(str(count))
    signal.signal(signal.SIGINT, interrupted)
    open(os.path.join(work, "planning"), "w").close()
    deadline = time.monotonic() + 30
    while not count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # a second interrupt would arrive now
    print("Interrupt received. Gracefully shutting down...", file=sys.stderr)
    sys.exit(1)
''')


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    env_dir = tmp_path / "env"
    shutil.copytree(BASE, env_dir)
    render(env_dir)
    engine = tmp_path / "stand-in-terraform"
    engine.write_text(STAND_IN.format(python=sys.executable))
    engine.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, STAND_IN_DIR=str(work), PYTHONPATH=str(ROOT), NO_COLOR="1")
    return env_dir, engine, env


def _start(env_dir: Path, engine: Path, env: dict[str, str], work: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from generator.cli import main; main()", "plan", str(env_dir),
         "--terraform-bin", str(engine), "--stack", "environment", "--only", "--all"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (work / "planning").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the stand-in never started planning"
        time.sleep(0.05)
    return proc


@pytest.mark.slow  # four runs of df-gen in its own process, signalled mid-run: the slow lane
@pytest.mark.parametrize(("target", "sig", "code"), [
    ("group", signal.SIGINT, 130),   # Ctrl-C on a terminal, timeout -s INT, kill -INT -PGID
    ("process", signal.SIGINT, 130),  # kill -INT PID
    ("process", signal.SIGTERM, 143),  # kill PID, a CI runner cancelling the job
    ("group", signal.SIGTERM, 143),
])
def test_terraform_gets_exactly_one_interrupt(setup, target, sig, code):
    env_dir, engine, env = setup
    work = Path(env["STAND_IN_DIR"])
    proc = _start(env_dir, engine, env, work)
    if target == "group":
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, out + err
    assert (work / "interrupts").read_text() == "1"
    assert err.splitlines()[-1] == ("terminated" if sig == signal.SIGTERM else "interrupted")
    with env_lock(env_dir):  # released: the next run may start
        pass


def test_ctrl_c_at_the_confirmation_prompt_exits_130(setup):
    """Ctrl-C while df-gen waits for 'Really destroy?' on a terminal: 130, as the README says."""
    import pty

    env_dir, engine, env = setup
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from generator.cli import main; main()", "destroy", str(env_dir),
         "--terraform-bin", str(engine)],
        env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"[y/N]" not in seen:
        assert time.monotonic() < deadline, seen
        try:
            seen += os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
    assert b"Really destroy? [y/N]" in seen, seen
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # say where each thread of the child waits, then end it
        tasks = Path(f"/proc/{proc.pid}/task")
        waits = {t.name: (t / "wchan").read_text() for t in tasks.iterdir()} if tasks.is_dir() else {}
        proc.kill()
        proc.wait()
        pytest.fail(f"df-gen ignored the interrupt for 30 s; its threads wait in {waits}; it printed {seen!r}")
    assert code == 130
    while True:  # the rest of the output, until the child's side is closed
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert b"Aborted!" not in seen and seen.rstrip().endswith(b"interrupted"), seen


def _run(env_dir: Path, engine: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from generator.cli import main; main()", *args, str(env_dir),
                           "--terraform-bin", engine], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"]])
def test_an_engine_that_prints_nothing_is_refused_and_records_nothing(setup, command):
    env_dir, _, env = setup
    true = shutil.which("true")
    assert true
    result = _run(env_dir, true, env, *command)
    assert result.returncode == 1
    assert result.stderr == f"error: {true} is not Terraform or OpenTofu: 'version -json' printed no JSON document\n"
    assert not list((env_dir / ".df-gen").glob("*/fingerprints.json"))


def test_an_engine_older_than_the_minimum_is_refused(setup, tmp_path):
    env_dir, engine, env = setup
    old = tmp_path / "old-terraform"
    old.write_text(engine.read_text().replace('"1.15.5"', '"1.6.6"'))
    old.chmod(0o755)
    result = _run(env_dir, str(old), env, "plan")
    assert result.returncode == 1
    assert result.stderr == (f"error: {old} is Terraform 1.6.6; df-gen needs Terraform or OpenTofu 1.7.0 or "
                             "later (moved, import and removed blocks)\n")
