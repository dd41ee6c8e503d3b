"""The Makefile's ``test`` target: how it runs pytest (README, "Two commands")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_line(*variables: str) -> str:
    """The pytest command ``make test`` would run (``make -n`` prints it, running nothing)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "test", *variables],
                         capture_output=True, text=True, check=True).stdout
    [line] = [line for line in out.splitlines() if " -m pytest" in line]
    return line.split(" -m pytest", 1)[1].strip()


def test_make_test_runs_the_whole_suite_on_two_workers_keeping_groups_together() -> None:
    assert pytest_line() == "-n 2 --dist loadgroup"


def test_pytest_args_replace_the_default() -> None:
    assert pytest_line("PYTEST_ARGS=-m 'not slow' -n 2") == "-m 'not slow' -n 2"
