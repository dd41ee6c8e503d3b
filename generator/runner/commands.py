"""The four commands: plan, apply, destroy and output over the selected stacks.

Each opens a :func:`~generator.runner.session.session`, walks the graph with one stack
function of :mod:`generator.runner.per_stack`, and returns a :class:`RunReport`. apply and
destroy ask for one confirmation for the whole run unless ``auto_approve``.
"""

from __future__ import annotations

from collections.abc import Callable

from generator.errors import DfGenError
from generator.progress import make_progress
from generator.runner.options import RunOptions
from generator.runner.per_stack import apply_stack, destroy_stack, output_stack, plan_stack
from generator.runner.results import RunReport
from generator.runner.session import session


def plan(options: RunOptions) -> RunReport:
    """Plan the selected stacks (changed ones only, every one with ``all_stacks``)."""
    with session(options, "plan") as (run, names):
        results = run.over_graph(names, plan_stack)
        return RunReport("plan", run.ws.mode, results)


def apply(options: RunOptions, confirm: Callable[[RunReport], bool] | None = None) -> RunReport:
    """Apply the selected stacks in order, from their saved plans when still current.

    Without ``auto_approve``: plan first, then ``confirm(plan report)`` once for the whole
    run (refused when there is no terminal to ask on).
    """
    if not options.auto_approve and confirm is None:
        raise DfGenError("apply needs a confirmation: run it in a terminal, or pass --auto-approve")
    with session(options, "apply") as (run, names):
        if not options.auto_approve:
            assert confirm is not None
            planned = RunReport("plan", run.ws.mode, run.over_graph(names, plan_stack))
            run.progress.close()
            if planned.has_changes and not confirm(planned):
                raise DfGenError("apply cancelled; nothing was changed")
            if not options.quiet:
                run.progress = make_progress(names, plain=options.plain)
            run.results.clear()
        results = run.over_graph(names, apply_stack)
        return RunReport("apply", run.ws.mode, results)


def destroy(options: RunOptions, confirm: Callable[[list[str], str], bool] | None = None) -> RunReport:
    """Destroy the selected stacks (and the stacks that need them), dependants first."""
    if not options.auto_approve and confirm is None:
        raise DfGenError("destroy needs a confirmation: run it in a terminal, or pass --auto-approve")
    with session(options, "destroy", reverse=True) as (run, names):
        if not options.auto_approve:
            assert confirm is not None
            run.progress.close()
            if not confirm(names, run.ws.mode):
                raise DfGenError("destroy cancelled; nothing was changed")
            if not options.quiet:
                run.progress = make_progress(names, plain=options.plain)
        results = run.over_graph(list(reversed(names)), destroy_stack, reverse=True)
        return RunReport("destroy", run.ws.mode, results)


def output(options: RunOptions) -> RunReport:
    """Read the outputs of the selected stacks."""
    with session(options, "output") as (run, names):
        results = run.over_graph(names, output_stack)
        return RunReport("output", run.ws.mode, results)
