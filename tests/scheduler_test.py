"""The graph scheduler: order, parallelism, blocking, reverse order, Ctrl-C."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from generator.errors import DfGenError
from generator.scheduler import order, prerequisites, run_graph

NEEDS = {"env": (), "ds-a": ("env",), "ds-b": ("env",), "p-a": ("env", "ds-a"), "p-b": ("env", "ds-b")}
NAMES = list(NEEDS)


@dataclass
class Result:
    name: str
    status: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Recorder:
    def __init__(self, fail: set[str] = frozenset(), delay: float = 0.02) -> None:
        self.fail = fail
        self.delay = delay
        self.started: list[str] = []
        self.finished: list[str] = []
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def work(self, name: str) -> Result:
        with self.lock:
            self.started.append(name)
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.delay)
        with self.lock:
            self.running -= 1
            self.finished.append(name)
        return Result(name, "failed" if name in self.fail else "ok")


def blocked(name: str, culprit: str) -> Result:
    return Result(name, f"blocked by {culprit}")


def test_dependencies_first_and_independent_stacks_in_parallel() -> None:
    rec = Recorder()
    results = run_graph(NAMES, NEEDS, rec.work, blocked, parallelism=4)
    assert all(r.ok for r in results.values())
    for name, needs in NEEDS.items():
        for need in needs:
            assert rec.finished.index(need) < rec.started.index(name)
    assert rec.peak == 2


def test_parallelism_one_is_serial_and_same_result() -> None:
    rec = Recorder()
    serial = run_graph(NAMES, NEEDS, rec.work, blocked, parallelism=1)
    assert rec.peak == 1
    assert serial == run_graph(NAMES, NEEDS, Recorder().work, blocked, parallelism=4)


def test_failure_blocks_dependants_only() -> None:
    rec = Recorder(fail={"ds-a"})
    results = run_graph(NAMES, NEEDS, rec.work, blocked, parallelism=2)
    assert {n: r.status for n, r in results.items()} == {
        "env": "ok", "ds-a": "failed", "ds-b": "ok", "p-a": "blocked by ds-a", "p-b": "ok"}
    assert "p-a" not in rec.started


def test_blocking_is_transitive() -> None:
    results = run_graph(NAMES, NEEDS, Recorder(fail={"env"}).work, blocked)
    assert results["env"].status == "failed"
    assert {n: results[n].status for n in NAMES[1:]} == {
        "ds-a": "blocked by env", "ds-b": "blocked by env", "p-a": "blocked by ds-a", "p-b": "blocked by ds-b"}


def test_reverse_runs_dependants_first() -> None:
    rec = Recorder()
    run_graph(list(reversed(NAMES)), NEEDS, rec.work, blocked, reverse=True)
    assert rec.started[-1] == "env"
    assert rec.finished.index("p-a") < rec.started.index("ds-a")
    assert prerequisites(NAMES, NEEDS, reverse=True)["env"] == {"ds-a", "ds-b", "p-a", "p-b"}


def test_stacks_outside_the_selection_are_taken_as_they_are() -> None:
    assert prerequisites(["p-a"], NEEDS) == {"p-a": set()}
    results = run_graph(["p-a"], NEEDS, Recorder().work, blocked)
    assert results["p-a"].ok


def test_interrupt_stops_scheduling_waits_for_running_work_and_reraises() -> None:
    rec = Recorder(delay=0.2)
    interrupted = []

    def work(name: str) -> Result:
        if name == "ds-a":
            raise KeyboardInterrupt  # what the main thread sees on Ctrl-C
        return rec.work(name)

    cancel = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        run_graph(NAMES, NEEDS, work, blocked, parallelism=4, cancel=cancel,
                  on_interrupt=lambda: interrupted.append(True))
    assert cancel.is_set() and interrupted == [True]
    assert "p-a" not in rec.started and "p-b" not in rec.started
    assert rec.running == 0  # ds-b finished before run_graph returned


def test_order_keeps_a_dependency_ordered_list_and_sorts_any_other() -> None:
    assert order(NAMES, NEEDS) == NAMES
    assert order(list(reversed(NAMES)), NEEDS) == ["env", "ds-b", "p-b", "ds-a", "p-a"]  # earliest ready first
    assert order(NAMES, NEEDS, reverse=True) == ["p-a", "ds-a", "p-b", "ds-b", "env"]
    assert order(["p-a", "ds-a"], NEEDS) == ["ds-a", "p-a"]  # needs outside the list are taken as they are


def test_a_cycle_is_one_readable_error_before_anything_runs() -> None:
    needs = {"a": ("c",), "b": ("a",), "c": ("b",), "d": ()}
    with pytest.raises(DfGenError) as caught:
        order(list(needs), needs)
    message = str(caught.value)
    assert message.startswith("the stack graph has a cycle: ")
    path = message.split(": ", 1)[1].split(" -> ")
    assert path[0] == path[-1] and set(path) == {"a", "b", "c"}
    for name, needed in zip(path, path[1:], strict=False):
        assert needed in needs[name]  # each arrow reads "needs"
    rec = Recorder()
    with pytest.raises(DfGenError, match="cycle"):
        run_graph(list(needs), needs, rec.work, blocked)
    assert rec.started == []
