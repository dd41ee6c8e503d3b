"""Saved plans: ``plan -out`` beside a record of the fingerprint it was made at.

``plans/<stack>.tfplan`` is Terraform's plan; ``plans/<stack>.json`` says at which
fingerprint it was made, what it changes (:class:`generator.guard.PlanSummary`), which
ways forward for schema changes were chosen then and, for a retired stack, whether it was
planned to release or to destroy its resources. ``apply`` uses a saved plan only when
both still hold, and drops it once applied (or spent by a failed apply).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from generator import adoption, schema_changes
from generator.guard import PlanSummary
from generator.loader import display_path
from generator.model import Stack
from generator.runner.results import StackFailed
from generator.runner.terraform import Terraform

if TYPE_CHECKING:  # validate imports jsonschema: only the session needs it at run time
    from generator.validate import Descriptors


class SavedPlans:
    """Make, read back and drop the saved plans of one environment and mode."""

    def __init__(self, terraform: Terraform, env_dir: Path, descriptors: Descriptors | None = None,
                 retirement: Callable[[Stack], str | None] = lambda stack: None) -> None:
        self.tf = terraform
        self.ws = terraform.ws
        self.env_dir = env_dir
        self.descriptors = descriptors  # validated once per run: read for the schema changes
        self.retirement = retirement  # "destroy" plans a retired stack with -destroy (generator.retire)

    def make(self, stack: Stack, fp: str) -> PlanSummary:
        """Init, ``plan -out``, and summarise the saved plan (kept with its fingerprint)."""
        self.tf.init(stack)
        self.tf.progress.step(stack.name, "plan")
        planfile = self.ws.plan_file(stack.name)
        planfile.parent.mkdir(parents=True, exist_ok=True)
        self.ws.plan_meta(stack.name).unlink(missing_ok=True)
        destroy = ["-destroy"] if self.retirement(stack) == "destroy" else []
        try:
            code, _ = self.tf.call(
                stack, "plan",
                ["plan", "-input=false", "-no-color", "-detailed-exitcode", *destroy, f"-out={planfile}"],
                ok_codes=(0, 2),
            )
        except StackFailed as exc:
            raise self._adoption_failure(stack, exc) from None
        if not planfile.is_file():  # "no changes" is recorded as applied: only on Terraform's word
            raise StackFailed("the engine exited 0 but plan -out wrote no plan file: no evidence that it planned; "
                              "nothing recorded", f"terraform plan -out={planfile}", code)
        summary = PlanSummary()
        if code == 2:
            summary = schema_changes.review_plan(self.env_dir, stack.name, self.tf.show(stack, planfile),
                                                 self.descriptors)
        meta = {"fingerprint": fp, **summary.to_meta(), "choices": schema_changes.choices_key(stack),
                "retirement": self.retirement(stack)}
        self.ws.plan_meta(stack.name).write_text(json.dumps(meta, indent=2) + "\n")
        return summary

    def _adoption_failure(self, stack: Stack, exc: StackFailed) -> StackFailed:
        """``exc``, or the one-line error at the descriptor's ``existing`` key when the plan
        failed because an adopted object does not exist (Terraform imports at plan time, so
        nothing of the stack was applied)."""
        if not stack.adopted:
            return exc
        try:
            text = self.ws.log(stack.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = "\n".join(exc.error)
        found = adoption.missing_objects(stack.adopted, text, self.tf.sandbox)
        if not found:
            return exc
        return StackFailed("; ".join(d.format() for d in found), exc.command, exc.code)

    def saved(self, stack: Stack, fp: str) -> PlanSummary | None:
        """The saved plan's summary when it was made at fingerprint ``fp``, else None."""
        path = self.ws.plan_meta(stack.name)
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("fingerprint") != fp or not self.ws.plan_file(stack.name).is_file():
            return None
        if meta.get("choices") != schema_changes.choices_key(stack):
            return None  # a way forward chosen or withdrawn since: the schema changes must be judged again
        if meta.get("retirement") != self.retirement(stack):
            return None  # planned to release, now asked to destroy (or back): a different plan
        try:
            return PlanSummary.from_meta(meta)
        except (KeyError, TypeError, ValueError, AttributeError):
            # A damaged record: the plan file cannot be trusted either; plan again.
            self.tf.progress.note(f"{stack.name}: {display_path(path)} is not a df-gen plan record; planning again")
            return None

    def had(self, stack: Stack) -> bool:
        """True when a plan record exists for ``stack`` (current or not)."""
        return self.ws.plan_meta(stack.name).is_file()

    def drop(self, stack: Stack) -> None:
        """Forget the saved plan of ``stack``."""
        self.ws.plan_file(stack.name).unlink(missing_ok=True)
        self.ws.plan_meta(stack.name).unlink(missing_ok=True)
