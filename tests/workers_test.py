"""The forked order-preserving map: same results and errors as a loop, no child left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import MappingProxyType

import pytest
from synthsupport import use_workers

from generator import workers
from generator.errors import DfGenError, Diagnostic

ROOT = Path(__file__).resolve().parent.parent
PYTEST_PROCESS = os.getpid()
REAL_OTHER_THREADS = workers.other_threads


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes for any map of two items or more, whatever the machine's CPUs."""
    use_workers(monkeypatch, 2)


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


PACE = 0.01
"""Seconds an item takes where a test needs every process to claim some: the processes claim
runs of items as they go (generator.workers), and a child takes a few milliseconds to start."""


def _paced_pid_and_square(n: int) -> tuple[int, int]:
    time.sleep(PACE)
    return os.getpid(), n * n


def _in_child() -> bool:
    return os.getpid() != PYTEST_PROCESS


def _child_does(action):  # type: ignore[no-untyped-def]
    """An item function that runs ``action`` in a child and takes :data:`PACE` in the parent."""
    def function(n: int) -> int:
        if _in_child():
            return action(n)  # type: ignore[no-any-return]
        time.sleep(PACE)
        return n
    return function


def test_results_keep_the_items_order_and_come_from_children(forked: None) -> None:
    found = workers.ordered_map(_paced_pid_and_square, list(range(101)))
    assert [square for _, square in found] == [n * n for n in range(101)]
    pids = {pid for pid, _ in found}
    assert os.getpid() in pids and len(pids) == 2


def test_three_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    use_workers(monkeypatch, 3)
    found = workers.ordered_map(_paced_pid_and_square, list(range(30)))
    assert [square for _, square in found] == [n * n for n in range(30)]
    assert len({pid for pid, _ in found}) == 3


def test_a_process_slower_than_the_others_maps_fewer_items(forked: None) -> None:
    """Items are claimed as processes get to them, not dealt out in halves."""
    def slow_child(n: int) -> tuple[int, int]:
        time.sleep(PACE * 5 if _in_child() else PACE)
        return os.getpid(), n

    found = workers.ordered_map(slow_child, list(range(64)))
    assert [n for _, n in found] == list(range(64))
    by_parent = sum(pid == os.getpid() for pid, _ in found)
    assert by_parent > 40, f"the parent mapped {by_parent} of 64 items"


def test_runs_cover_the_items_once_in_order() -> None:
    for items, processes in ((64, 2), (1101, 2), (10, 3), (100_000, 64)):
        runs = workers._runs(items, processes)
        assert [i for start, end in runs for i in range(start, end)] == list(range(items))
        assert len(runs) <= 1024 and len(runs) >= min(items, processes * workers.CHUNKS) // 2


def test_one_worker_runs_serially(forked: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DF_GEN_WORKERS", "1")
    found = workers.ordered_map(_pid_and_square, list(range(100)))
    assert {pid for pid, _ in found} == {os.getpid()}


def test_small_work_runs_serially(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DF_GEN_WORKERS", "2")
    found = workers.ordered_map(_pid_and_square, list(range(workers.MIN_ITEMS - 1)))
    assert {pid for pid, _ in found} == {os.getpid()}


def test_bad_worker_count_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DF_GEN_WORKERS", "two")
    with pytest.raises(DfGenError) as raised:
        workers.ordered_map(_pid_and_square, [1])
    assert raised.value.lines() == ["error: DF_GEN_WORKERS='two': expected a whole number of processes, 1 or more"]


def test_default_count_is_the_usable_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DF_GEN_WORKERS", raising=False)
    assert workers.count() == len(os.sched_getaffinity(0))


def _fail_on(bad: set[int]):  # type: ignore[no-untyped-def]
    def function(n: int) -> int:
        if n in bad:
            raise DfGenError(diagnostics=[Diagnostic(f"pipelines/p{n}.yaml", 3, 5, f"item {n} is bad", "fix it")])
        return n
    return function


def test_the_first_failing_items_dfgenerror_is_raised_with_its_diagnostics(forked: None) -> None:
    # Whichever process maps each item (each claims runs in the items' order and stops at its
    # first failure), the first failing item in the items' order wins.
    for bad, first in (({7, 10}, 7), ({10, 7 + 6}, 10), ({9}, 9), (set(range(20)), 0)):
        with pytest.raises(DfGenError) as raised:
            workers.ordered_map(_fail_on(bad), list(range(20)))
        assert raised.value.lines() == [f"pipelines/p{first}.yaml:3:5: error: item {first} is bad (hint: fix it)"]


def _bug(n: int) -> int:
    raise KeyError("no such thing")


def test_a_bug_in_a_child_is_raised_in_the_parent_with_the_childs_traceback(forked: None) -> None:
    with pytest.raises(KeyError) as raised:
        workers.ordered_map(_child_does(_bug), list(range(30)))
    assert raised.value.args == ("no such thing",)
    notes = "\n".join(raised.value.__notes__)
    assert "in a df-gen worker process" in notes and "_bug" in notes


class _Unpicklable(Exception):
    def __init__(self, lock: object) -> None:
        super().__init__("cannot travel")
        self.lock = lock


def _raise_unpicklable(n: int) -> int:
    import threading

    raise _Unpicklable(threading.Lock())


def test_an_exception_that_does_not_pickle_arrives_as_its_text(forked: None) -> None:
    with pytest.raises(RuntimeError, match="_Unpicklable in a df-gen worker process .not picklable.") as raised:
        workers.ordered_map(_child_does(_raise_unpicklable), list(range(30)))
    assert "cannot travel" in str(raised.value)


def _proxy(n: int) -> MappingProxyType[str, int]:
    return MappingProxyType({"n": n})


def test_read_only_mappings_travel(forked: None) -> None:
    found = workers.ordered_map(_proxy, list(range(4)))
    assert [dict(m) for m in found] == [{"n": n} for n in range(4)]
    assert all(isinstance(m, MappingProxyType) for m in found)


def _exit(n: int) -> int:
    os._exit(7)  # only ever in a child (_child_does): never in the test process


def test_a_child_that_dies_is_an_error(forked: None) -> None:
    with pytest.raises(RuntimeError, match=r"worker process \(pid \d+\) ended with exit status 7"):
        workers.ordered_map(_child_does(_exit), list(range(30)))


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


SLOW_MAP = textwrap.dedent("""
    import os, sys, time
    from generator import workers
    workers.MIN_ITEMS = 2
    os.environ["DF_GEN_WORKERS"] = "2"
    def slow(n):
        if os.getpid() == PARENT:
            print("started", flush=True)
        time.sleep(0.2)
        return n
    PARENT = os.getpid()
    workers.ordered_map(slow, list(range(200)))
""")


def _start_slow_map() -> tuple[subprocess.Popen[str], set[int]]:
    process = subprocess.Popen([sys.executable, "-c", SLOW_MAP], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "started\n"
    children = _children(process.pid)
    assert len(children) == 1
    return process, children


def _gone(pids: set[int]) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2:3]
                   for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts processes in /proc")
def test_ctrl_c_leaves_no_child() -> None:
    process, children = _start_slow_map()
    os.kill(process.pid, signal.SIGINT)  # the parent's finally kills and reaps its children
    process.wait(timeout=10)
    assert _gone(children)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts processes in /proc")
def test_a_killed_parent_leaves_no_child() -> None:
    process, children = _start_slow_map()
    process.kill()  # no finally: the child notices at its next item
    process.wait(timeout=10)
    assert _gone(children)


def test_a_running_thread_makes_the_map_serial(forked: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(workers, "other_threads", REAL_OTHER_THREADS)  # forked ignores idle threads

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        found = workers.ordered_map(_pid_and_square, list(range(100)))
    finally:
        stop.set()
        thread.join()
    assert {pid for pid, _ in found} == {os.getpid()}


def test_no_process_to_be_had_runs_the_map_in_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    use_workers(monkeypatch, 3)
    forks = []
    real_fork = os.fork

    def fork_once() -> int:
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        forks.append(real_fork())
        return forks[-1]

    monkeypatch.setattr(os, "fork", fork_once)
    found = workers.ordered_map(_pid_and_square, list(range(10)))
    assert found == [(os.getpid(), n * n) for n in range(10)]
    # The child forked first was ended and reaped.
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)
