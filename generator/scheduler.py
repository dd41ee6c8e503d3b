"""Run work over a stack graph: dependencies first, independent stacks in parallel.

:func:`run_graph` calls ``work(name)`` for every stack once all the stacks it waits for
have finished successfully. A stack whose prerequisite failed (or was itself blocked) is
not run: it gets the result of ``blocked(name, culprit)``; its independent siblings go on.
With ``reverse`` (destroy) a stack waits for the stacks that need it instead.

Ctrl-C (KeyboardInterrupt in the calling thread) sets ``cancel``, lets ``on_interrupt``
stop the running commands, waits for the running work to end, and re-raises.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from graphlib import CycleError, TopologicalSorter
from typing import Protocol, TypeVar

from generator.errors import DfGenError


class Outcome(Protocol):
    """A result that says whether dependants may go on."""

    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=Outcome)


def prerequisites(
    names: Sequence[str], needs: Mapping[str, Sequence[str]], reverse: bool = False
) -> dict[str, set[str]]:
    """For each of ``names``, the stacks among ``names`` it must wait for."""
    selected = set(names)
    waits: dict[str, set[str]] = {name: set() for name in names}
    for name in names:
        for need in needs.get(name, ()):
            if need not in selected:
                continue  # outside the run (--only): taken as it is
            if reverse:
                waits[need].add(name)
            else:
                waits[name].add(need)
    return waits


def order(names: Sequence[str], needs: Mapping[str, Sequence[str]], reverse: bool = False) -> list[str]:
    """``names`` with every stack after the stacks it waits for; ties keep the given order.

    A list already in dependency order comes back unchanged (the model lists the
    environment, then data sources, then pipelines). A cycle is a :class:`DfGenError`
    naming it: ``the stack graph has a cycle: a -> b -> a``.
    """
    sorter = TopologicalSorter(prerequisites(names, needs, reverse))
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = exc.args[1] if reverse else list(reversed(exc.args[1]))  # as "needs" arrows
        raise DfGenError(f"the stack graph has a cycle: {' -> '.join(cycle)}") from None
    position = {name: index for index, name in enumerate(names)}
    ready = [(position[name], name) for name in sorter.get_ready()]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:  # one at a time, the earliest given first: ties keep the caller's order
        _, name = heapq.heappop(ready)
        ordered.append(name)
        sorter.done(name)
        for freed in sorter.get_ready():
            heapq.heappush(ready, (position[freed], freed))
    return ordered


def run_graph(
    names: Sequence[str],
    needs: Mapping[str, Sequence[str]],
    work: Callable[[str], R],
    blocked: Callable[[str, str], R],
    parallelism: int = 4,
    reverse: bool = False,
    cancel: threading.Event | None = None,
    on_interrupt: Callable[[], None] | None = None,
) -> dict[str, R]:
    """Run ``work`` over ``names`` in dependency order; return every stack's result.

    A cycle among ``names`` is a :class:`DfGenError` before anything runs.
    """
    cancel = cancel or threading.Event()
    waits = prerequisites(names, needs, reverse)
    results: dict[str, R] = {}
    pending = order(names, needs, reverse)  # ties keep the caller's order
    running: dict[Future[R], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="stack") as pool:
        try:
            while pending or running:
                for name in list(pending):
                    if cancel.is_set():
                        break
                    before = waits[name]
                    culprit = next((b for b in sorted(before) if b in results and not results[b].ok), None)
                    if culprit is not None:
                        results[name] = blocked(name, culprit)
                        pending.remove(name)
                    elif all(b in results for b in before) and len(running) < max(1, parallelism):
                        running[pool.submit(work, name)] = name
                        pending.remove(name)
                if cancel.is_set() and not running:
                    break
                if not running:
                    if pending:  # nothing runnable and nothing running: blocked ones resolved above
                        continue
                    break
                done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    results[running.pop(future)] = future.result()
        except KeyboardInterrupt:
            cancel.set()
            if on_interrupt is not None:
                on_interrupt()
            for future, name in list(running.items()):
                try:
                    results[name] = future.result()
                except Exception:  # the interrupt is what we report
                    pass
            raise
    return results
