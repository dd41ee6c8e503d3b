"""What each command does to one stack: plan, apply, destroy, output.

Each function takes the :class:`~generator.runner.run.Run` of the command and one stack,
and returns how the stack ended; a :class:`~generator.runner.results.StackFailed` it raises
becomes a failed result (:meth:`Run.over_graph`).
"""

from __future__ import annotations

from collections.abc import Sequence

from generator import adoption, schema_changes
from generator.fingerprint import outputs_digest
from generator.guard import PlanSummary
from generator.model import Stack
from generator.runner.evidence import applied_counts, check_applied
from generator.runner.results import BLOCKED, StackFailed, StackResult
from generator.runner.run import Run
from generator.runner.selection import reads_outputs_of
from generator.status import Status


def plan_stack(run: Run, stack: Stack) -> StackResult:
    """Plan ``stack`` unless it is unchanged since its last apply (every one with ``--all``)."""
    waits_for = _first_apply_pending(run, stack)
    if waits_for:
        note = f"waits for the first apply of {waits_for} (its outputs do not exist yet)"
        run.progress.done(stack.name, "plan", f"blocked: {note}")
        return StackResult(stack.name, stack.kind, BLOCKED, note=note, waiting=True)
    fp = run.fingerprint(stack)
    upstream_changes = [n for n in stack.needs if run.results.get(n, None) is not None
                        and run.results[n].status == Status.CHANGES]
    if not run.options.every_stack and not upstream_changes and run.records.fingerprint(stack.name) == fp:
        run.progress.done(stack.name, "plan", "skipped (unchanged since the last apply)")
        return StackResult(stack.name, stack.kind, Status.SKIPPED, note="unchanged since the last apply")
    summary = run.plans.make(stack, fp)
    status = Status.CHANGES if summary.has_changes else Status.NO_CHANGES
    note = f"upstream {', '.join(upstream_changes)} has changes" if upstream_changes else ""
    if stack.name in run.retired and not summary.has_changes:
        # Without configuration, anything left in its state would be forgotten or deleted:
        # no changes means the state is empty, read from the stack's own backend.
        run.records.release(stack.name, fp)
        note = "retired: nothing left in its state; df-gen render --prune may delete its files"
    text = summary.text() if summary.has_changes else "no changes"
    if summary.destructive:
        text += f"; DATA LOSS ({len(summary.destructive)} stateful resources)"
    run.progress.done(stack.name, "plan", text)
    return run.retired_result(stack, StackResult(stack.name, stack.kind, status, summary.counts(),
                                                 summary.destructive, note, summary=summary))


def _first_apply_pending(run: Run, stack: Stack) -> str | None:
    """The upstream stack whose outputs this one reads but that was never applied."""
    for name in stack.needs:
        upstream = run.results.get(name)
        if upstream is None:
            continue
        if upstream.waiting:
            return name
        never_applied = (upstream.status == Status.CHANGES and run.records.fingerprint(name) is None
                         and run.options.changed_since is None)  # a CI runner has no records
        if never_applied and name in reads_outputs_of(run.model, stack):
            return name
    return None


def apply_stack(run: Run, stack: Stack) -> StackResult:
    """Apply ``stack`` from its saved plan when still current, else from a new one; record it."""
    fp = run.fingerprint(stack)
    if not run.options.every_stack and run.records.fingerprint(stack.name) == fp:
        run.progress.done(stack.name, "apply", "skipped (unchanged since the last apply)")
        return StackResult(stack.name, stack.kind, Status.SKIPPED, note="unchanged since the last apply")
    return run.retired_result(stack, _apply(run, stack, fp))


def _apply(run: Run, stack: Stack, fp: str) -> StackResult:
    summary = run.plans.saved(stack, fp)
    note = "applied the saved plan"
    if summary is None:
        had_plan = run.plans.had(stack)
        note = "re-planned: inputs changed since the saved plan" if had_plan else "planned and applied"
        if had_plan:
            run.progress.note(f"{stack.name}: inputs changed since the saved plan; planning again")
        summary = run.plans.make(stack, fp)
    else:
        run.tf.init(stack)
    refused = schema_changes.unresolved(summary.schema_changes)
    if refused:
        raise StackFailed(
            f"{len(refused)} schema change(s) lose data and no way forward is chosen; apply refuses them "
            "even with --allow-destroy (choose one in the descriptor)",
            error=[schema_changes.text_line(item) for item in refused])
    migrations = schema_changes.migration_targets(summary.schema_changes)
    if migrations:
        summary = _migrate_first(run, stack, fp, migrations)
    if summary.destructive and not run.options.allow_destroy:
        raise StackFailed(
            f"the plan deletes or replaces stateful resources ({', '.join(summary.destructive)}); "
            "apply refuses it without --allow-destroy"
        )
    status = Status.NO_CHANGES
    if summary.has_changes:
        try:
            replanned = _apply_plan(run, stack, fp, summary)
        except StackFailed:
            run.plans.drop(stack)  # a partial apply changed the state: the plan is spent
            raise
        if replanned is not None:  # report what Terraform applied, not the stale plan
            summary = replanned
            note = "planned again and applied: the saved plan could not be applied as it was"
        status = Status.APPLIED if summary.has_changes else Status.NO_CHANGES
        if not summary.has_changes:
            note = "planned again: the saved plan could not be applied, and nothing was left to apply"
    else:
        note = "no changes"
    if migrations:  # the jobs were applied on their own before this plan
        status, note = Status.APPLIED, f"ran {len(migrations)} migration job(s) first, then {note}"
    run.plans.drop(stack)
    if stack.name in run.retired:  # its state is empty now: nothing is left to apply or read
        run.records.release(stack.name, fp)
        note = f"{note}; retired: {'destroyed' if run.retirement(stack) == 'destroy' else 'released'}"
    else:
        outputs = run.tf.read_outputs(stack)
        run.records.record(stack.name, fp, outputs_digest(outputs))
    run.progress.done(stack.name, "apply", summary.text() if summary.has_changes else "no changes")
    return StackResult(stack.name, stack.kind, status, summary.counts(), summary.destructive, note,
                       summary=summary)


def _migrate_first(run: Run, stack: Stack, fp: str, targets: Sequence[str]) -> PlanSummary:
    """Apply the chosen in-place migration jobs alone, then plan afresh: the tables' schemas
    on BigQuery are then the new ones, so no table is replaced (generator.migrations)."""
    run.progress.step(stack.name, "migrate")
    run.tf.call(stack, "migrate", ["apply", "-input=false", "-no-color", "-auto-approve",
                                   *(f"-target={target}" for target in targets)])
    run.plans.drop(stack)
    summary = run.plans.make(stack, fp)
    left = [item for item in summary.schema_changes if item.get("chosen") == schema_changes.MIGRATE]
    if left:
        raise StackFailed(
            f"{len(left)} schema change(s) chose migrate, but the table is still planned to lose data after "
            "its migration job ran: the job failed or has not finished (see the job's status.error_result "
            "in the state); nothing else was applied",
            error=[schema_changes.text_line(item) for item in left])
    return summary


def _apply_plan(run: Run, stack: Stack, fp: str, planned: PlanSummary) -> PlanSummary | None:
    """Apply the saved plan; return the new plan's summary when it had to plan again.

    After a transient error the saved plan may be stale: retry by planning again. A
    plan made stale by someone else's apply is planned again once, at once. Apply runs
    with ``-json`` so that Terraform's own ``change_summary`` proves what it applied
    (:mod:`generator.runner.evidence`; the log gets the human text).
    """
    replanned: PlanSummary | None = None

    def replan() -> bool:
        nonlocal replanned
        replanned = run.plans.make(stack, fp)
        if schema_changes.unresolved(replanned.schema_changes):
            raise StackFailed("the new plan has schema changes that lose data and no way forward is chosen")
        if replanned.destructive and not run.options.allow_destroy:
            raise StackFailed("the new plan deletes or replaces stateful resources; "
                              "apply refuses it without --allow-destroy")
        if not replanned.has_changes:
            return False
        run.progress.step(stack.name, "apply")
        return True

    run.progress.step(stack.name, "apply")
    args = ["apply", "-input=false", "-no-color", "-auto-approve", "-json", str(run.ws.plan_file(stack.name))]
    _, out = run.tf.call(stack, "apply", args, replan=replan)
    if replanned is None or replanned.has_changes:  # else the new plan had nothing left to apply
        check_applied(replanned or planned, applied_counts(out), "terraform " + " ".join(args))
    return replanned


def destroy_stack(run: Run, stack: Stack) -> StackResult:
    """Destroy what ``stack``'s state holds and forget its record (a retired stack's says released)."""
    run.tf.init(stack)
    _, listed = run.tf.call(stack, "destroy", ["state", "list", "-no-color"])
    addresses = [line for line in listed.splitlines() if line.strip()]
    run.plans.drop(stack)
    if not addresses:
        _forget(run, stack)
        run.progress.done(stack.name, "destroy", "nothing to destroy")
        return StackResult(stack.name, stack.kind, Status.SKIPPED, note="nothing in state")
    kept = [] if run.options.destroy_adopted else [a for a in adoption.addresses(stack.adopted) if a in addresses]
    if kept:
        # Adopted resources existed before df-gen: destroy hands them back instead of
        # deleting them (Terraform's "state rm", what a removed block with destroy = false
        # does; the import blocks stay, so the next apply adopts them again).
        run.progress.step(stack.name, "forget adopted")
        run.tf.call(stack, "destroy", ["state", "rm", "-no-color", *kept])
        addresses = [a for a in addresses if a not in kept]
    note = f"{len(addresses)} resources"
    if kept:
        note += f"; kept {len(kept)} adopted (removed from state): {', '.join(kept)}"
    if addresses:
        run.progress.step(stack.name, "destroy")
        run.tf.call(stack, "destroy", run.tf.engine.destroy_args("-no-color"))
    _forget(run, stack)
    run.progress.done(stack.name, "destroy", f"destroyed {note}")
    return StackResult(stack.name, stack.kind, Status.DESTROYED, note=note)


def _forget(run: Run, stack: Stack) -> None:
    """After a destroy: the stack's record goes; a retired stack's says its state is empty."""
    if stack.name in run.retired:
        run.records.release(stack.name, run.fingerprint(stack))
    else:
        run.records.clear(stack.name)


def output_stack(run: Run, stack: Stack) -> StackResult:
    """Read ``stack``'s outputs (sensitive ones are named, and hidden when printed)."""
    run.tf.init(stack)
    raw = run.tf.read_outputs(stack)
    values = {name: item.get("value") for name, item in raw.items()}
    sensitive = frozenset(name for name, item in raw.items() if item.get("sensitive"))
    run.progress.done(stack.name, "output", f"{len(values)} outputs")
    return StackResult(stack.name, stack.kind, Status.OK, outputs=values, sensitive=sensitive)
