"""The commands (generator/runner/commands.py): apply asks once for the whole run, and the
demo's whole life in the sandbox (plan, apply, output, a code change, destroy).

The fast test drives the runner with a fake engine (tests/fakeengine.py); the slow one runs the embedded
Terraform against the sandbox on a copy of the applied demo.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from demosupport import ALL, opts, sandbox_store, stack_tree, statuses

from generator import runner
from generator.errors import DfGenError
from generator.overrides import OVERRIDE_NAME
from generator.render import MANIFEST, render


def test_apply_asks_once_and_refuses_without_a_terminal(demo: Path, fake) -> None:
    # Without scans and DLP the store's pipeline needs no agent grants on the store's
    # datasets, so the store's stack reads none of the environment's outputs.
    daily = demo / "pipelines" / "store-daily.yaml"
    data = yaml.safe_load(daily.read_text(encoding="utf-8"))
    del data["dlp"], data["data_quality"]
    daily.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    render(demo)
    fake()
    with pytest.raises(DfGenError, match="needs a confirmation.*--auto-approve"):
        runner.apply(opts(demo))
    asked: list[runner.RunReport] = []
    engine = fake()
    with pytest.raises(DfGenError, match="apply cancelled"):
        runner.apply(opts(demo), confirm=lambda report: asked.append(report) or False)
    assert len(asked) == 1 and asked[0].command == "plan"
    assert all(c != "apply" for _, c in engine.calls)
    engine = fake()
    report = runner.apply(opts(demo), confirm=lambda report: asked.append(report) or True)
    assert len(asked) == 2 and statuses(report) == {name: "applied" for name in ALL}
    shown = {r.name: r.status for r in asked[1].results}
    assert shown["environment"] == "changes" and shown["datasource-store"] == "changes"
    # stacks reading the environment's outputs wait for its first apply, then get planned
    assert shown["datasource-ecommerce"] == shown["pipeline-store-daily"] == "blocked"
    assert all(engine.commands(name).count("plan") == 1 for name in ALL)  # nothing planned twice


# ------------------------------------------------------------------ real Terraform (slow)


@pytest.mark.slow
def test_sandbox_lifecycle_of_the_demo(applied_demo: Path, applied_demo_once: Path) -> None:
    env_dir = applied_demo  # a copy of the demo applied once per session (tests/conftest.py)
    tree = stack_tree(env_dir)
    assert not any(name.endswith((OVERRIDE_NAME, ".terraform.lock.hcl")) for name in tree)
    assert MANIFEST in tree

    started = time.monotonic()
    report = runner.plan(opts(env_dir, sandbox=True))
    assert statuses(report) == {name: "skipped" for name in ALL}
    assert time.monotonic() - started < 5

    report = runner.plan(opts(env_dir, sandbox=True, all_stacks=True))
    assert statuses(report) == {name: "no-changes" for name in ALL}, report.summary_lines()
    # The copy is a demo of its own: nothing it holds names the directory it was copied from.
    original = str(applied_demo_once.resolve())
    assert [p for p in env_dir.rglob("*") if p.is_file() and original.encode() in p.read_bytes()] == []

    outputs = runner.outputs_document(runner.output(opts(env_dir, sandbox=True)))
    assert sorted(outputs) == sorted(ALL)
    assert outputs["environment"]["projects"]["landing"]["project_id"] == "acme-demo-lnd"
    assert outputs["datasource-store"]["buckets"]["landing"] == "acme-demo-store-landing"

    # One pipeline code file changes: only the stacks rendered from it are planned.
    sql = env_dir.parent.parent / "pipelines" / "retail" / "sql" / "customers.sql.j2"
    sql.write_text(sql.read_text() + "\n-- reviewed\n")
    render(env_dir)
    report = runner.plan(opts(env_dir, sandbox=True))
    assert statuses(report) == {"environment": "skipped", "datasource-ecommerce": "skipped",
                                "datasource-store": "skipped", "pipeline-ecommerce-hourly": "changes",
                                "pipeline-store-daily": "changes"}, report.summary_lines()
    report = runner.apply(opts(env_dir, sandbox=True, auto_approve=True))
    assert {r.name: r.note for r in report.results}["pipeline-store-daily"] == "applied the saved plan"
    # apply ran with -json (Terraform's evidence); the log holds the human text.
    log = (env_dir / ".df-gen" / "sandbox" / "logs" / "pipeline-store-daily.log").read_text()
    assert "\nApply complete! Resources: 0 added, 1 changed, 0 destroyed.\n" in log, log
    assert '"@message"' not in log
    assert statuses(runner.plan(opts(env_dir, sandbox=True))) == {name: "skipped" for name in ALL}

    report = runner.destroy(opts(env_dir, sandbox=True, auto_approve=True))
    assert statuses(report) == {name: "destroyed" for name in ALL}, report.summary_lines()
    assert sandbox_store(env_dir) == {}
    report = runner.destroy(opts(env_dir, sandbox=True, auto_approve=True))
    assert statuses(report) == {name: "skipped" for name in ALL}, report.summary_lines()
    tree_after = stack_tree(env_dir)
    changed = {k for k in tree if tree_after.get(k) != tree[k]} | (set(tree_after) - set(tree))
    assert changed == {"pipeline-ecommerce-hourly/sql/customers.sql", "pipeline-store-daily/sql/customers.sql",
                       MANIFEST}  # the re-render, nothing from the runs
