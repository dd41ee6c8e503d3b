"""Progress: plain lines off a terminal, the live view only on one."""

from __future__ import annotations

import io
import re

import pytest

from generator.progress import LiveProgress, Progress, make_progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_carry_elapsed_stack_step_and_status() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.step("datasource-store", "plan")
    progress.done("datasource-store", "plan", "no changes")
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"\[ +\d+\.\ds\] datasource-store: plan \.\.\.", lines[0])
    assert re.fullmatch(r"\[ +\d+\.\ds\] datasource-store: plan \.\.\. no changes", lines[1])


def test_live_view_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert type(make_progress(["a"], stream=io.StringIO())) is Progress
    assert type(make_progress(["a"], plain=True, stream=Tty())) is Progress
    live = make_progress(["a"], stream=Tty())
    try:
        assert isinstance(live, LiveProgress)
        live.step("a", "init")
        live.done("a", "plan", "changes")
    finally:
        live.close()
    monkeypatch.setenv("NO_COLOR", "1")
    assert type(make_progress(["a"], stream=Tty())) is Progress
