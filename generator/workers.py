"""An order-preserving map over forked worker processes, for the per-file work of big runs.

Validate and render do the same independent work for each of hundreds of files (parse and
schema-check a descriptor, model and render a pipeline). :func:`ordered_map` spreads such
work over the CPUs df-gen may use: the parent forks one child per extra CPU, and every
process, the parent too, claims runs of consecutive items (:data:`CHUNKS` per process) from
a queue they share until none is left. The queue is a pipe filled before the fork with the
runs' numbers, four bytes each, read four bytes at a time (a pipe's reads do not interleave),
so a process slowed by its start (a fork's copied pages) or by the machine's other work
takes fewer. With fixed shares (every other item), the parent parsed its share of a cold
validate's 1,101 descriptors in 0.14 s, then waited 0.09 s for its child's.

Forking, not spawning: a child starts with everything the parent has loaded and computed
(modules, parsed schemas, the function and the items themselves), so nothing goes to a
child and only its results come back, pickled through a pipe. What is pickled must stay
small: plain data, no Jinja environments or open files.

Semantics are those of ``[function(item) for item in items]``:

- results in the items' order;
- the exception of the first failing item (in the items' order) is raised in the parent,
  as raised in the child: a :class:`DfGenError` with its diagnostics, or any other (a bug,
  with the child's traceback added as a note);
- what the function changes outside its result (caches, counters) is lost for the items
  a child handled: a caller keeps its writes in the parent.

One process does everything when the work is small (fewer than ``MIN_ITEMS`` items: a fork
costs more than it saves), when one CPU is usable (``os.sched_getaffinity``), while any
other thread runs (a child would inherit the locks it holds, and nothing to release them:
the runner's threads, a live progress view) or when ``DF_GEN_WORKERS=1``
(``DF_GEN_WORKERS=N``: N processes at most, even beyond the CPUs).

No child outlives its work: a child ends on Ctrl-C (default SIGINT handling), stops at the
next item when its parent has gone, and the parent kills and reaps every child it started
on any way out (an exception, Ctrl-C, SIGTERM as the CLI handles it).
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import io
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from generator.errors import DfGenError

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 64
"""Fewer items than this are mapped in the calling process (tests lower it)."""

CHUNKS = 16
"""Runs of items per process (1,024 runs at most): the last run claimed decides how long the
others wait for it."""

ENV = "DF_GEN_WORKERS"


def count() -> int:
    """How many processes a large map uses: ``DF_GEN_WORKERS`` when set, else the CPUs usable."""
    value = os.environ.get(ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise DfGenError(f"{ENV}={value!r}: expected a whole number of processes, 1 or more")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def other_threads() -> bool:
    """Whether a thread besides this one runs: forking then is unsafe (see the module's doc)."""
    return threading.active_count() > 1


def forks(items: int) -> bool:
    """Whether :func:`ordered_map` over this many items starts worker processes (what the
    parent loads before it, the workers inherit)."""
    processes = min(count(), items)  # first: a bad DF_GEN_WORKERS is an error on any map
    return items >= MIN_ITEMS and processes >= 2 and hasattr(os, "fork") and not other_threads()


def ordered_map(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[function(item) for item in items]``, over forked processes when the work is large."""
    if not forks(len(items)):
        return [function(item) for item in items]
    processes = min(count(), len(items))
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    reaped: set[int] = set()
    runs = _runs(len(items), processes)
    try:
        queue, filling = os.pipe()
    except OSError:
        return [function(item) for item in items]
    try:
        try:  # at most 4 KiB (PIPE_BUF): written at once, never waiting for a reader
            os.write(filling, b"".join(number.to_bytes(4, "little") for number in range(len(runs))))
        finally:
            os.close(filling)  # read to its end, the queue says there is nothing left
        parent = os.getpid()
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream: nothing to duplicate
            sys.stdout.flush()
            sys.stderr.flush()
        for _ in range(1, processes):
            try:
                read_end, write_end = os.pipe()
            except OSError:
                return _serially(function, items, children, reaped)
            try:
                pid = os.fork()
            except OSError:  # no process to be had (a limit, memory): the same work in this one
                os.close(read_end)
                os.close(write_end)
                return _serially(function, items, children, reaped)
            if pid == 0:  # pragma: no cover - runs in the child, which never returns
                try:
                    os.close(read_end)
                    _child(function, items, runs, queue, parent, write_end)
                finally:
                    os._exit(1)  # whatever happens, the child never runs its parent's code on
            os.close(write_end)
            children.append((pid, read_end))
        outcomes = [_claimed(function, items, runs, queue, None)]
        for pid, read_end in children:
            outcomes.append(_receive(pid, read_end, reaped))
    finally:
        os.close(queue)
        for pid, read_end in children:
            _end(pid, read_end, reaped)
    return _merge(items, outcomes)


def _runs(items: int, processes: int) -> list[tuple[int, int]]:
    """The items cut into about :data:`CHUNKS` runs per process, 1,024 at most: (first index, end)."""
    size = max(1, -(-items // min(processes * CHUNKS, 1024)))
    return [(start, min(start + size, items)) for start in range(0, items, size)]


def _serially(function: Callable[[T], R], items: Sequence[T], children: list[tuple[int, int]],
              reaped: set[int]) -> list[R]:
    """The whole map in this process, the children started so far ended first."""
    for pid, read_end in children:
        _end(pid, read_end, reaped)
    children.clear()
    return [function(item) for item in items]


# What one process came to: the results of each run it claimed (its first index, results),
# and its first failure (item index, exception), if any.
_Outcome = tuple[list[tuple[int, list[Any]]], "tuple[int, BaseException] | None"]


def _claimed(function: Callable[[T], R], items: Sequence[T], runs: list[tuple[int, int]], queue: int,
             parent: int | None) -> _Outcome:
    """Map ``function`` over the runs this process claims from ``queue``, until none is
    left or the first exception (a process claims runs in the items' order, so every item
    before the first failure of all is mapped by whichever process claimed it)."""
    done: list[tuple[int, list[Any]]] = []
    while True:
        claim = os.read(queue, 4)
        if len(claim) < 4:
            return done, None
        start, end = runs[int.from_bytes(claim, "little")]
        results: list[Any] = []
        done.append((start, results))
        for index in range(start, end):
            if parent is not None and os.getppid() != parent:
                os._exit(1)  # the parent has gone: nobody wants the rest
            try:
                results.append(function(items[index]))
            except Exception as exc:  # handed to the parent, raised there
                return done, (index, exc)


def _child(function: Callable[[Any], Any], items: Sequence[Any], runs: list[tuple[int, int]], queue: int,
           parent: int, write_end: int) -> None:  # pragma: no cover - runs in the child
    """A child's life: the runs it claims, its outcome pickled into the pipe, then
    ``os._exit`` (no atexit handlers, no flushing of buffers copied from the parent)."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        gc.disable()  # a short life: collecting would only copy the parent's pages
        done, failure = _claimed(function, items, runs, queue, parent)
        if failure is not None:
            failure = (failure[0], _portable(failure[1]))
        try:
            data = _dumps((done, failure))
        except Exception as exc:  # a result that does not pickle is a bug: say which
            data = _dumps(([], (-1, RuntimeError(f"a df-gen worker's results do not pickle: {exc!r}"))))
        with os.fdopen(write_end, "wb") as stream:
            stream.write(data)
        status = 0
    finally:
        os._exit(status)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` with the child's traceback as a note (a bug's traceback must say where it
    happened); replaced by a RuntimeError with its text when it does not pickle."""
    if not isinstance(exc, DfGenError):
        exc.add_note("in a df-gen worker process:\n" + "".join(traceback.format_exception(exc)).rstrip())
    try:
        pickle.loads(_dumps(exc))
    except Exception:  # any pickling failure
        text = "".join(traceback.format_exception(exc)).rstrip()
        return RuntimeError(f"{type(exc).__name__} in a df-gen worker process (not picklable):\n{text}")
    return exc


def _receive(pid: int, read_end: int, reaped: set[int]) -> _Outcome:
    """A child's outcome; RuntimeError when it died without sending one."""
    with os.fdopen(read_end, "rb", closefd=False) as stream:
        data = stream.read()
    try:
        outcome: _Outcome = pickle.loads(data)
    except Exception as exc:  # nothing, or a cut-off stream
        _, status = os.waitpid(pid, 0)
        reaped.add(pid)
        how = f"signal {-os.waitstatus_to_exitcode(status)}" if os.WIFSIGNALED(status) \
            else f"exit status {os.waitstatus_to_exitcode(status)}"
        raise RuntimeError(f"a df-gen worker process (pid {pid}) ended with {how} before sending its results") \
            from exc
    return outcome


def _end(pid: int, read_end: int, reaped: set[int]) -> None:
    """Kill (if still running) and reap a child, close its pipe."""
    os.close(read_end)
    if pid in reaped:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # pragma: no cover - a zombie can still be signalled
        pass
    os.waitpid(pid, 0)


def _merge(items: Sequence[Any], outcomes: list[_Outcome]) -> list[Any]:
    """The results in the items' order, or the first failing item's exception."""
    failures = [failure for _, failure in outcomes if failure is not None]
    if failures:
        raise min(failures, key=lambda failure: failure[0])[1]
    merged: list[Any] = [None] * len(items)
    for done, _ in outcomes:
        for start, results in done:
            merged[start:start + len(results)] = results
    return merged


def _proxy(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(mapping)


class _Pickler(pickle.Pickler):
    """Pickles the model's read-only mappings (``MappingProxyType``) as copies of their dicts."""

    dispatch_table = {**copyreg.dispatch_table, MappingProxyType: lambda mapping: (_proxy, (dict(mapping),))}


def _dumps(value: Any) -> bytes:
    stream = io.BytesIO()
    _Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return stream.getvalue()
