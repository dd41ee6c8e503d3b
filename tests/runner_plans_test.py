"""Saved plans (generator/runner/plans.py): applied when current, planned again when inputs
changed, the plan record damaged or stale, spent by a failed apply (with a fake engine (tests/fakeengine.py)).
"""

from __future__ import annotations

import json
from pathlib import Path

from demosupport import opts, statuses

from generator import runner


def test_failed_apply_spends_the_saved_plan_and_transient_apply_errors_replan(demo: Path, fake) -> None:
    engine = fake({("environment", "apply"): [(1, "Error: googleapi: Error 503: backendError\n"), (0, "")]})
    report = runner.apply(opts(demo, auto_approve=True, stacks=("environment",)))
    assert statuses(report) == {"environment": "applied"}
    assert engine.commands("environment") == ["init", "plan", "show", "apply", "plan", "show", "apply", "output"]

    fake({("environment", "apply"): [(1, "Error: Quota exhausted for good\n")]})
    report = runner.apply(opts(demo, auto_approve=True, all_stacks=True, stacks=("environment",)))
    assert statuses(report) == {"environment": "failed"}
    assert not (demo / ".df-gen" / "gcp" / "plans" / "environment.tfplan").exists()


def test_saved_plan_is_applied_when_current_and_replanned_when_inputs_changed(demo: Path, fake) -> None:
    engine = fake()
    runner.plan(opts(demo))
    engine = fake()
    report = runner.apply(opts(demo, auto_approve=True, stacks=("environment",)))
    assert engine.commands("environment") == ["apply", "output"]  # the saved plan, no new plan
    assert report.results[0].note == "applied the saved plan"

    # A module change after the plan: the pipelines' saved plans are stale.
    engine = fake()
    runner.plan(opts(demo))
    with open(demo.parent.parent / "modules" / "pipeline" / "main.tf", "a") as fh:
        fh.write("\n# changed after the plan\n")
    engine = fake()
    report = runner.apply(opts(demo, auto_approve=True))
    notes = {r.name: r.note for r in report.results}
    assert notes["pipeline-store-daily"] == "re-planned: inputs changed since the saved plan"
    assert notes["datasource-store"] == "applied the saved plan"
    assert "plan" in engine.commands("pipeline-store-daily")
    assert "plan" not in engine.commands("datasource-store")


def test_stale_saved_plan_reports_what_was_applied(demo: Path, fake) -> None:
    """'Saved plan is stale': the summary shows the new plan Terraform applied, not the old one."""
    old = {"resource_changes": [
        {"address": f"google_storage_bucket.b{i}", "mode": "managed", "type": "google_storage_bucket",
         "change": {"actions": ["update"]}} for i in range(15)]}
    new = {"resource_changes": [
        {"address": "google_storage_bucket.b0", "mode": "managed", "type": "google_storage_bucket",
         "change": {"actions": ["update"]}}]}
    fake({("environment", "show"): [(0, json.dumps(old))]})
    report = runner.plan(opts(demo, stacks=("environment",), only=True))
    assert report.results[0].changes == {"add": 0, "change": 15, "replace": 0, "destroy": 0, "import": 0, "forget": 0}
    engine = fake({("environment", "apply"): [(1, "Error: Saved plan is stale\n"), (0, "Apply complete!\n")],
                   ("environment", "show"): [(0, json.dumps(new))]})
    report = runner.apply(opts(demo, stacks=("environment",), only=True, auto_approve=True))
    [result] = report.results
    assert (result.status, result.changes) == ("applied", {"add": 0, "change": 1, "replace": 0, "destroy": 0,
                                                           "import": 0, "forget": 0})
    assert result.note == "planned again and applied: the saved plan could not be applied as it was"
    assert engine.commands("environment").count("apply") == 2


def test_damaged_plan_record_is_planned_again(demo: Path, fake) -> None:
    fake()
    runner.plan(opts(demo, stacks=("environment",), only=True))
    meta = demo / ".df-gen" / "gcp" / "plans" / "environment.json"
    record = json.loads(meta.read_text())
    record["changes"] = None
    meta.write_text(json.dumps(record))
    engine = fake()
    report = runner.apply(opts(demo, stacks=("environment",), only=True, auto_approve=True))
    assert [(r.name, r.status) for r in report.results] == [("environment", "applied")]
    assert report.results[0].note == "re-planned: inputs changed since the saved plan"
    assert engine.commands("environment").count("plan") == 1
