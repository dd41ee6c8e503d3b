"""One command's walk over the stack graph (generator/runner/run.py): dependency order,
fingerprints recorded, a failure blocking only its dependants, bounded parallelism.

Fast tests drive the runner with a fake engine (tests/fakeengine.py); the slow one runs the embedded
Terraform against the sandbox on copies of the demo.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from demosupport import ALL, copy_demo, opts, sandbox_store, state_addresses, statuses

from generator import runner


def test_apply_in_order_records_fingerprints_then_plan_skips_without_terraform(demo: Path, fake) -> None:
    engine = fake()
    report = runner.apply(opts(demo, auto_approve=True))
    assert statuses(report) == {name: "applied" for name in ALL}
    order = [(s, c) for s, c in engine.calls if c == "apply"]
    applied = [s for s, _ in order]
    assert applied[0] == "environment"
    for pipeline, source in (("pipeline-store-daily", "datasource-store"),
                             ("pipeline-ecommerce-hourly", "datasource-ecommerce")):
        assert applied.index(source) < applied.index(pipeline)
        # a dependant starts only after its upstream recorded its outputs
        first_call = engine.calls.index((pipeline, "init"))
        assert engine.calls.index((source, "output")) < first_call
    records = json.loads((demo / ".df-gen" / "gcp" / "fingerprints.json").read_text())
    assert sorted(records["stacks"]) == sorted(ALL)

    engine = fake()
    report = runner.plan(opts(demo))
    assert statuses(report) == {name: "skipped" for name in ALL}
    assert engine.calls == []
    report = runner.plan(opts(demo, all_stacks=True))
    assert statuses(report) == {name: "changes" for name in ALL}  # the fake always has changes


def test_failed_stack_blocks_its_dependants_not_its_siblings(demo: Path, fake) -> None:
    error = "Planning failed.\n\nError: bucket name taken\n\n  with google_storage_bucket.landing,\n"
    fake({("datasource-store", "plan"): [(1, error)]})
    report = runner.apply(opts(demo, auto_approve=True))
    assert statuses(report) == {
        "environment": "applied", "datasource-ecommerce": "applied", "datasource-store": "failed",
        "pipeline-ecommerce-hourly": "applied", "pipeline-store-daily": "blocked"}
    failed = next(r for r in report.results if r.name == "datasource-store")
    assert failed.command.startswith("terraform plan ") and failed.exit_code == 1
    assert failed.error[0] == "Error: bucket name taken"
    assert failed.log == demo.resolve() / ".df-gen" / "gcp" / "logs" / "datasource-store.log"
    assert "Error: bucket name taken" in failed.log.read_text()
    text = "\n".join(report.summary_lines())
    assert "$ terraform plan" in text and "(exit code 1)" in text and "| Error: bucket name taken" in text
    assert "not run: datasource-store did not succeed" in text


def test_parallelism_bounds_concurrent_terraform(demo: Path, fake) -> None:
    # Each call lasts a while, so that calls that may overlap do.
    engine = fake(delay=0.05)
    runner.apply(opts(demo, parallelism=1, auto_approve=True))
    assert engine.max_running == 1
    shutil.rmtree(demo / ".df-gen")
    engine = fake(delay=0.05)
    runner.apply(opts(demo, parallelism=4, auto_approve=True))
    assert engine.max_running == 2  # two data sources, then two pipelines, side by side


# ------------------------------------------------------------------ real Terraform (slow)


@pytest.mark.slow
def test_sandbox_failure_blocks_dependants_and_parallel_matches_serial(tmp_path: Path, applied_demo: Path) -> None:
    # Serial run of a second copy: same stacks, same resources as the parallel fixture run.
    serial = copy_demo(tmp_path / "serial")
    report = runner.apply(opts(serial, sandbox=True, auto_approve=True, parallelism=1))
    assert statuses(report) == {name: "applied" for name in ALL}

    # A third copy where the store's landing bucket name is already taken (GCS names are
    # global): datasource-store fails, its pipeline is blocked, the siblings are applied.
    broken = copy_demo(tmp_path / "broken")
    from generator.sandbox.store import Store

    store = Store(broken / ".df-gen" / "sandbox")
    store.put("google_storage_bucket", "acme-demo-store-landing", {"name": "acme-demo-store-landing"})
    report = runner.apply(opts(broken, sandbox=True, auto_approve=True))
    assert statuses(report) == {
        "environment": "applied", "datasource-ecommerce": "applied", "datasource-store": "failed",
        "pipeline-ecommerce-hourly": "applied", "pipeline-store-daily": "blocked"}, report.summary_lines()
    failed = next(r for r in report.results if r.status == "failed")
    assert failed.command.startswith("terraform apply") and failed.exit_code == 1
    assert any("acme-demo-store-landing" in line and "already exists" in line for line in failed.error)
    assert failed.log and failed.log.is_file()
    assert not (broken / ".df-gen" / "sandbox" / "state" / "pipeline-store-daily.tfstate").exists()

    expected = state_addresses(serial)
    assert sorted(expected) == sorted(ALL)
    parallel = applied_demo  # applied once per session with --parallelism 4 (tests/conftest.py)
    assert state_addresses(parallel) == expected
    assert sorted(sandbox_store(parallel)) == sorted(sandbox_store(serial))
    assert os.path.exists(parallel / ".df-gen" / "sandbox" / "fingerprints.json")
