"""Progress of a run: a live table on a terminal, plain lines otherwise.

Each stack goes through steps (init, plan, apply, destroy, output) and ends with a
result. :func:`make_progress` picks the view: a ``rich`` live table (stack, step, status,
elapsed) when stderr is a terminal and neither ``NO_COLOR`` nor plain output is asked for;
otherwise one line per event on stderr, ``[  3.2s] datasource-store: plan ... no changes``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from generator.status import Status


class Progress:
    """Plain lines: ``[elapsed] stack: step ... status``."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    def step(self, stack: str, step: str) -> None:
        """``stack`` starts ``step``."""
        self._line(f"{stack}: {step} ...")

    def done(self, stack: str, step: str, status: str) -> None:
        """``stack`` finished ``step`` with ``status`` (no step: the stack as a whole)."""
        self._line(f"{stack}: {step} ... {status}" if step else f"{stack}: {status}")

    def note(self, message: str) -> None:
        """A line about the run as a whole."""
        self._line(message)

    def close(self) -> None:
        """End the view (nothing to do for plain lines)."""

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(f"[{self.elapsed():5.1f}s] {text}\n")
            self.stream.flush()


class LiveProgress(Progress):
    """A ``rich`` live table: one row per stack with its step, status and elapsed time."""

    def __init__(self, stacks: Sequence[str], stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        from rich.console import Console
        from rich.live import Live

        self._rows: dict[str, dict[str, Any]] = {
            name: {"step": "", "status": "waiting", "start": None, "end": None} for name in stacks
        }
        self._console = Console(file=self.stream, stderr=self.stream is sys.stderr)
        self._live = Live(get_renderable=self._table, console=self._console,
                          refresh_per_second=8, transient=False)
        self._live.start()

    def step(self, stack: str, step: str) -> None:
        with self._lock:
            row = self._rows.setdefault(stack, {"step": "", "status": "", "start": None, "end": None})
            row.update(step=step, status="running")
            if row["start"] is None:
                row["start"] = time.monotonic()

    def done(self, stack: str, step: str, status: str) -> None:
        with self._lock:
            row = self._rows.setdefault(stack, {"step": step, "status": "", "start": None, "end": None})
            row.update(step=step or row["step"], status=status, end=time.monotonic())

    def note(self, message: str) -> None:
        self._live.console.print(message, markup=False, highlight=False)

    def close(self) -> None:
        self._live.stop()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("stack", "step", "status", "elapsed"):
            table.add_column(column, justify="right" if column == "elapsed" else "left")
        now = time.monotonic()
        with self._lock:
            for name, row in self._rows.items():
                start, end = row["start"], row["end"]
                seconds = "" if start is None else f"{(end or now) - start:.1f}s"
                table.add_row(name, row["step"], _styled(row["status"]), seconds)
        return table


def _styled(status: str) -> str:
    # The first word: a done step may say more ("destroyed 3 resources"); "running" is the view's own.
    colour = {Status.FAILED: "red", Status.BLOCKED: "yellow", Status.CHANGES: "cyan", "running": "blue"}.get(
        status.split(" ")[0]
    )
    return f"[{colour}]{status}[/{colour}]" if colour else status


def make_progress(stacks: Sequence[str], plain: bool = False, stream: IO[str] | None = None) -> Progress:
    """The live view when stderr is a terminal and colour is allowed, plain lines otherwise."""
    stream = stream or sys.stderr
    live = (not plain and not os.environ.get("NO_COLOR") and hasattr(stream, "isatty")
            and stream.isatty() and os.environ.get("TERM") != "dumb")
    return LiveProgress(stacks, stream) if live else Progress(stream)
