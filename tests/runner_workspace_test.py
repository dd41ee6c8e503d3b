"""Where a run works (generator/runner/workspace.py): separate data per mode, and what a
killed run left reported and cleaned (with a fake engine (tests/fakeengine.py)).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from demosupport import opts
from fakeengine import FakeEngine

from generator import runner
from generator.loader import display_path
from generator.overrides import OVERRIDE_NAME
from generator.runner import session as runner_session


def test_cleanup_after_a_killed_run_is_reported(demo: Path, fake, capsys: pytest.CaptureFixture[str]) -> None:
    stale = demo / "stacks" / "environment" / OVERRIDE_NAME
    stale.write_text("# left by a run that was killed\n")
    fake()
    runner.plan(opts(demo))
    assert not stale.exists()
    assert capsys.readouterr().err == f"{display_path(stale)}: removed, left behind by an interrupted or killed run\n"


def test_sandbox_and_gcp_runs_keep_separate_data(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    envs: dict[str, str] = {}

    class Spy(FakeEngine):
        def popen(self, args: list[str], cwd: Any = None, env: Any = None, inherit_stdio: bool = False) -> Any:
            envs[f"{Path(cwd).name}:{'sandbox' if 'DF_GEN_SANDBOX_DIR' in env else 'gcp'}"] = env["TF_DATA_DIR"]
            return super().popen(args, cwd, env)

    engine = Spy()
    monkeypatch.setattr(runner_session, "resolve_engine", lambda *a, **k: engine)
    runner.plan(opts(demo, stacks=("environment",)))
    runner.plan(opts(demo, stacks=("environment",), sandbox=True))
    base = demo.resolve() / ".df-gen"
    assert envs["environment:gcp"] == str(base / "gcp" / "tfdata" / "environment")
    assert envs["environment:sandbox"] == str(base / "sandbox" / "tfdata" / "environment")
