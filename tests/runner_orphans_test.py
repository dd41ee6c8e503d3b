"""Stacks whose descriptor was removed (generator/runner/orphans.py): one without main.tf
must be destroyed first, orphans keep their dependency order, prune waits for destroy
(with a fake engine (tests/fakeengine.py)).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from demosupport import ALL, opts, statuses

from generator import runner
from generator.errors import DfGenError
from generator.loader import display_path
from generator.render import render
from generator.runner.orphans import orphan_stack


def test_stack_without_descriptor_or_main_tf_must_be_destroyed_before_other_runs(demo: Path, fake) -> None:
    # The hourly pipeline: without it the environment stays as it is (the daily one still
    # needs the same service agents and tag grants); its data source's grant to the Dataplex
    # agent of its scans goes.
    fake()
    runner.apply(opts(demo, auto_approve=True))
    (demo / "pipelines" / "ecommerce-hourly.yaml").unlink()
    (demo / "stacks" / "pipeline-ecommerce-hourly" / "main.tf").unlink()  # nothing left to retire it from
    render(demo)  # reports the orphan, keeps its files
    with pytest.raises(DfGenError, match="descriptor was removed and that have no main.tf to release their "
                                         "resources from: pipeline-ecommerce-hourly; destroy them"):
        runner.plan(opts(demo))
    engine = fake()
    report = runner.destroy(opts(demo, auto_approve=True, stacks=("pipeline-ecommerce-hourly",)))
    assert statuses(report) == {"pipeline-ecommerce-hourly": "destroyed"}
    assert engine.commands("pipeline-ecommerce-hourly") == ["init", "state", "destroy"]
    render(demo, prune=True)
    assert statuses(runner.plan(opts(demo))) == {
        name: "changes" if name == "datasource-ecommerce" else "skipped"
        for name in ALL if name != "pipeline-ecommerce-hourly"}


def test_orphaned_stacks_keep_their_dependency_order_and_prune_waits_for_destroy(demo: Path, fake) -> None:
    fake()
    runner.apply(opts(demo, auto_approve=True))
    (demo / "datasources" / "store.yaml").unlink()
    (demo / "pipelines" / "store-daily.yaml").unlink()
    render(demo)
    assert orphan_stack(demo / "stacks" / "pipeline-store-daily").needs == ("environment", "datasource-store")
    # Prune refuses: df-gen applied these stacks and has not released or destroyed them.
    with pytest.raises(DfGenError) as raised:
        render(demo, prune=True)
    records = display_path(demo / ".df-gen" / "gcp" / "fingerprints.json")
    assert raised.value.lines() == [
        f"{display_path(demo / 'stacks' / name)}: error: not pruned: df-gen applied this stack and has not "
        f"released or destroyed it ({records}); its files are the only way to reach its resources (hint: release "
        f"them: df-gen apply {display_path(demo)} (with --sandbox for the sandbox; --destroy-removed destroys them "
        "instead), then prune)"
        for name in ("datasource-store", "pipeline-store-daily")]
    assert (demo / "stacks" / "datasource-store" / "main.tf").is_file()
    # Destroying the data source takes its orphaned pipeline along, pipeline first.
    order: list[str] = []
    engine = fake(on_call=lambda stack, args, cwd: order.append(stack) if args[0] == "destroy" else None)
    report = runner.destroy(opts(demo, auto_approve=True, stacks=("datasource-store",), parallelism=4))
    assert statuses(report) == {"pipeline-store-daily": "destroyed", "datasource-store": "destroyed"}
    assert order == ["pipeline-store-daily", "datasource-store"]
    assert engine.commands("environment") == []
    pruned = render(demo, prune=True)
    assert "datasource-store/main.tf" in pruned.deleted and "pipeline-store-daily/main.tf" in pruned.deleted
