"""What each command does to one stack (generator/runner/per_stack.py): the data-loss guard
before apply, destroy and a second destroy, a stack planned because a file of it changed.

Fast tests drive the runner with a fake engine (tests/fakeengine.py); the slow one runs the embedded
Terraform against the sandbox on a copy of the applied demo.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from demosupport import ALL, opts, statuses

from generator import runner


def test_data_loss_guard_flags_and_refuses_without_allow_destroy(demo: Path, fake) -> None:
    replace = json.dumps({"resource_changes": [
        {"address": "module.pipeline.google_bigquery_table.tables[\"curated-orders\"]", "mode": "managed",
         "type": "google_bigquery_table", "change": {"actions": ["delete", "create"]}},
        {"address": "module.pipeline.google_storage_bucket_object.files[\"a\"]", "mode": "managed",
         "type": "google_storage_bucket_object", "change": {"actions": ["delete"]}}]})
    script = {("pipeline-store-daily", "show"): [(0, replace)]}
    fake()
    runner.apply(opts(demo, auto_approve=True))
    with open(demo.parent.parent / "modules" / "pipeline" / "tables.tf", "a") as fh:
        fh.write("\n# a change that (in this script) replaces a table\n")
    fake(dict(script))
    report = runner.plan(opts(demo))
    entry = next(s for s in report.plan_document()["stacks"] if s["name"] == "pipeline-store-daily")
    assert entry["destructive"] == ["module.pipeline.google_bigquery_table.tables[\"curated-orders\"]"]
    assert entry["changes"] == {"add": 1, "change": 0, "replace": 1, "destroy": 2, "import": 0, "forget": 0}
    assert "DATA LOSS" in "\n".join(report.summary_lines())

    engine = fake(dict(script))
    report = runner.apply(opts(demo, auto_approve=True))
    refused = next(r for r in report.results if r.name == "pipeline-store-daily")
    assert refused.status == "failed" and "--allow-destroy" in refused.note
    assert "apply" not in engine.commands("pipeline-store-daily")
    assert statuses(report)["pipeline-ecommerce-hourly"] == "applied"

    engine = fake(dict(script))
    report = runner.apply(opts(demo, auto_approve=True, allow_destroy=True))
    assert statuses(report)["pipeline-store-daily"] == "applied"


def test_destroy_runs_backwards_and_a_second_destroy_succeeds(demo: Path, fake) -> None:
    fake()
    runner.apply(opts(demo, auto_approve=True))
    engine = fake()
    report = runner.destroy(opts(demo, auto_approve=True))
    assert statuses(report) == {name: "destroyed" for name in ALL}
    destroyed = [s for s, c in engine.calls if c == "destroy"]
    assert destroyed[-1] == "environment"
    assert destroyed.index("pipeline-store-daily") < destroyed.index("datasource-store")
    assert not json.loads((demo / ".df-gen" / "gcp" / "fingerprints.json").read_text())["stacks"]
    engine = fake({(name, "state"): [(0, "")] for name in ALL})
    report = runner.destroy(opts(demo, auto_approve=True))
    assert statuses(report) == {name: "skipped" for name in ALL}
    assert all(c != "destroy" for _, c in engine.calls)


# ------------------------------------------------------------------ real Terraform (slow)


@pytest.mark.slow
def test_a_file_added_by_hand_is_planned_not_skipped(applied_demo: Path) -> None:
    applied = applied_demo
    extra = applied / "stacks" / "datasource-store" / "extra.tf"
    extra.write_text('resource "google_storage_bucket" "extra" {\n  name     = "acme-demo-hand-added"\n'
                     '  project  = "acme-demo-lnd"\n  location = "EU"\n}\n')
    try:
        report = runner.plan(opts(applied, sandbox=True))
        # Its dependant is planned too (the upstream may change what it reads): no changes there.
        assert statuses(report) == {**{name: "skipped" for name in ALL}, "datasource-store": "changes",
                                    "pipeline-store-daily": "no-changes"}, report.summary_lines()
        [store] = [r for r in report.results if r.name == "datasource-store"]
        assert store.changes == {"add": 1, "change": 0, "replace": 0, "destroy": 0, "import": 0, "forget": 0}, \
            report.summary_lines()
    finally:
        extra.unlink()
    assert statuses(runner.plan(opts(applied, sandbox=True))) == {name: "skipped" for name in ALL}
