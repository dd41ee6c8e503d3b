"""One command over the selected stacks: what it shares, and the walk over the graph.

A :class:`Run` holds what the stacks of one command share (options, model, the
:class:`~generator.runner.terraform.Terraform` caller, saved plans, the local records and
the results so far) and walks the graph (:func:`generator.scheduler.run_graph`): each
stack's work runs once the stacks it needs are done, and a failure becomes a result that
blocks only its dependants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import DfGenError
from generator.fingerprint import Records, fingerprint
from generator.model import Model, Stack
from generator.progress import Progress
from generator.runner.options import RunOptions
from generator.runner.plans import SavedPlans
from generator.runner.results import BLOCKED, FAILED, StackFailed, StackResult
from generator.runner.selection import reads_outputs_of
from generator.runner.terraform import Terraform
from generator.scheduler import run_graph

if TYPE_CHECKING:  # validate imports jsonschema: only the session needs it at run time
    from generator.validate import Descriptors

StackWork = Callable[["Run", Stack], StackResult]


class Run:
    """One command over the selected stacks: Terraform calls, logs, records."""

    def __init__(self, options: RunOptions, model: Model, terraform: Terraform,
                 descriptors: Descriptors | None = None) -> None:
        self.options = options
        self.model = model
        self.tf = terraform
        self.ws = terraform.ws
        self.plans = SavedPlans(terraform, model.env_dir, descriptors, self.retirement)
        self.records = Records(self.ws.records())
        self.results: dict[str, StackResult] = {}
        self.retired: dict[str, tuple[str, ...]] = {}  # retired stack -> the descriptors it was rendered from

    @property
    def progress(self) -> Progress:
        """Where each stack's steps are shown (replaced after a confirmation prompt)."""
        return self.tf.progress

    @progress.setter
    def progress(self, progress: Progress) -> None:
        self.tf.progress = progress

    def fingerprint(self, stack: Stack) -> str:
        """The stack's fingerprint now: its files and the outputs it reads (generator.fingerprint)."""
        upstream = {name: self.records.outputs(name) for name in reads_outputs_of(self.model, stack)}
        return fingerprint(stack, self.ws.stacks_dir, upstream)

    def retirement(self, stack: Stack) -> str | None:
        """``release`` or ``destroy`` (``--destroy-removed``) for a retired stack, else None."""
        if stack.name not in self.retired:
            return None
        return "destroy" if self.options.destroy_removed else "release"

    def retired_result(self, stack: Stack, result: StackResult) -> StackResult:
        """``result`` with what becomes of a retired stack's resources."""
        if stack.name in self.retired:
            result.retired = self.retirement(stack)
            result.rendered_from = self.retired[stack.name]
        return result

    # -------------------------------------------------------------- graph

    def over_graph(self, names: Sequence[str], work: StackWork, reverse: bool = False) -> list[StackResult]:
        """Run ``work`` for each named stack over the graph; return the results in ``names`` order."""
        needs = {s.name: s.needs for s in self.model.stacks}
        results = run_graph(names, needs, self._guarded(work), self._blocked,
                            parallelism=self.options.parallelism, reverse=reverse,
                            cancel=self.tf.cancel, on_interrupt=self.tf.interrupt)
        return [results[n] for n in names if n in results]

    def _guarded(self, work: StackWork) -> Callable[[str], StackResult]:
        """Wrap a stack's work: progress, failures as results, results kept for dependants."""

        def run(name: str) -> StackResult:
            stack = self.model.stack(name)
            try:
                result = work(self, stack)
            except StackFailed as exc:
                result = StackResult(name, stack.kind, FAILED, note=exc.message, command=exc.command,
                                     exit_code=exc.code, error=exc.error, log=self._log_if_any(name))
                self.progress.done(name, "", f"failed: {exc.message}")
            except DfGenError as exc:
                result = StackResult(name, stack.kind, FAILED, note=exc.message)
                self.progress.done(name, "", f"failed: {exc.message}")
            self.results[name] = result
            return result

        return run

    def _log_if_any(self, name: str) -> Path | None:
        path = self.ws.log(name)
        return path if path.is_file() else None

    def _blocked(self, name: str, culprit: str) -> StackResult:
        stack = self.model.stack(name)
        result = StackResult(name, stack.kind, BLOCKED, note=f"not run: {culprit} did not succeed")
        self.results[name] = result
        self.progress.done(name, "", f"blocked by {culprit}")
        return result
