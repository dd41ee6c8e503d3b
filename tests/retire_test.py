"""Retirement: a removed descriptor's stack is released (default) or destroyed, then pruned.

Fast tests drive render and the runner with the fake engine (tests/fakeengine.py; Terraform's
answers are scripted, shaped like Terraform 1.15's ``show -json`` for removed blocks); the
slow ones run the embedded Terraform against the sandbox on a copy of the applied demo.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from demosupport import opts, statuses
from tfsupport import fmt_problems

from generator import report, retire, runner
from generator.cli import cli
from generator.errors import DfGenError
from generator.loader import display_path
from generator.render import MANIFEST, render
from generator.runner.orphans import orphan_stack

STORE = "pipeline-store-daily"
TABLE = 'module.pipeline.google_bigquery_table.tables["curated-orders"]'
DAG = "module.pipeline.google_storage_bucket_object.dag"


def forget_plan(*addresses: tuple[str, str], action: str = "forget") -> str:
    """``show -json`` of a retired stack: each resource of its state forgotten (or deleted)."""
    return json.dumps({"resource_changes": [
        {"address": address, "mode": "managed", "type": kind, "action_reason": "delete_because_no_resource_config",
         "change": {"actions": [action], "before": {"name": address}, "after": None}}
        for address, kind in addresses]})


PIPELINE_STATE = ((TABLE, "google_bigquery_table"), (DAG, "google_storage_bucket_object"))


def retire_store(demo: Path, fake: Any) -> None:
    """Apply the demo (fake engine), remove the store pipeline's descriptor, render."""
    fake()
    runner.apply(opts(demo, auto_approve=True))
    (demo / "pipelines" / "store-daily.yaml").unlink()
    render(demo)


# ------------------------------------------------------------------ render


def test_render_rewrites_a_removed_descriptors_stack_into_removed_blocks(demo: Path) -> None:
    (demo / "pipelines" / "store-daily.yaml").unlink()
    done = render(demo)
    stack = demo / "stacks" / STORE
    assert done.retired == {STORE: ("module.pipeline",)} and done.orphaned == {}
    assert sorted(p.name for p in stack.iterdir()) == ["backend.tf", "lifecycle.tf", "main.tf", "providers.tf",
                                                       "versions.tf"]
    assert f"{STORE}/dag.py" in done.deleted and f"{STORE}/outputs.tf" in done.deleted
    main = (stack / "main.tf").read_text()
    assert main.startswith(retire.RETIRED_MARK) and "module \"" not in main
    assert "# Rendered from datasources/store.yaml, environment.yaml, pipelines/store-daily.yaml." in main
    assert "removed {\n  from = module.pipeline\n  lifecycle {\n    destroy = false\n  }\n}\n" in (
        stack / "lifecycle.tf").read_text()
    assert 'required_version = ">= 1.7.0"' in (stack / "versions.tf").read_text()
    providers = (stack / "providers.tf").read_text()
    assert 'provider "google"' in providers and "terraform_remote_state" not in providers
    assert fmt_problems(stack) == ""
    # The state stays where it was: backend.tf is the one the stack was applied with.
    assert (stack / "backend.tf").read_text() == (Path(__file__).parent.parent / "environments" / "demo" / "stacks"
                                                  / STORE / "backend.tf").read_text()
    # Retired is up to date: --check passes, a second render writes nothing, order is kept.
    again = render(demo, check=True)
    assert not again.changed and again.retired == {STORE: ("module.pipeline",)}
    assert render(demo).created == [] and render(demo).updated == []
    assert orphan_stack(stack).needs == ("environment", "datasource-store")
    manifest = json.loads((demo / "stacks" / MANIFEST).read_text())["files"]
    assert sorted(k for k in manifest if k.startswith(f"{STORE}/")) == [
        f"{STORE}/{name}" for name in ("backend.tf", "lifecycle.tf", "main.tf", "providers.tf", "versions.tf")]


def test_a_hand_edit_in_a_removed_stack_is_not_adopted(demo: Path) -> None:
    backend = demo / "stacks" / STORE / "backend.tf"
    backend.write_text(backend.read_text().replace("demo/pipeline-store-daily", "elsewhere"))
    (demo / "pipelines" / "store-daily.yaml").unlink()
    with pytest.raises(DfGenError) as raised:
        render(demo)
    assert raised.value.lines()[0].startswith(f"{display_path(backend)}:1:1: error: edited by hand")
    assert (demo / "stacks" / STORE / "dag.py").is_file()  # nothing written


def test_removing_a_data_source_its_pipelines_use_is_refused(demo: Path) -> None:
    (demo / "datasources" / "store.yaml").unlink()
    with pytest.raises(DfGenError) as raised:
        render(demo)
    assert raised.value.lines() == [
        f"{display_path(demo / 'pipelines' / 'store-daily.yaml')}:8:13: error: datasource: no data source 'store' "
        "(known: ecommerce) (hint: create datasources/store.yaml)"]
    # Removed together, both retire; the pipeline keeps needing the data source.
    (demo / "pipelines" / "store-daily.yaml").unlink()
    assert set(render(demo).retired) == {"datasource-store", STORE}
    assert orphan_stack(demo / "stacks" / STORE).needs == ("environment", "datasource-store")
    assert orphan_stack(demo / "stacks" / "datasource-store").needs == ("environment",)


# ------------------------------------------------------------------ plan and apply (fake engine)


def test_plan_shows_each_resource_kept_and_apply_releases_then_prune_deletes(
        demo: Path, fake: Any, tmp_path: Path) -> None:
    retire_store(demo, fake)
    with pytest.raises(DfGenError) as raised:  # not released yet
        render(demo, prune=True)
    records = display_path(demo / ".df-gen" / "gcp" / "fingerprints.json")
    assert raised.value.lines()[0].startswith(
        f"{display_path(demo / 'stacks' / STORE)}: error: not pruned: df-gen applied this stack and has not released "
        f"or destroyed it ({records}); its files are the only way to reach its resources")
    argv: list[tuple[str, list[str]]] = []
    fake({(STORE, "show"): [(0, forget_plan(*PIPELINE_STATE))]}, on_call=lambda stack, args, cwd: argv.append(
        (stack, args)))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["plan", str(demo), "--json", "--report", str(out)])
    assert result.exit_code == 0, result.output
    entry = next(s for s in json.loads(result.stdout)["stacks"] if s["name"] == STORE)
    assert entry["status"] == "changes" and entry["changes"]["forget"] == 2 and entry["destructive"] == []
    assert entry["retired"] == {
        "action": "release",
        "rendered_from": ["datasources/store.yaml", "environment.yaml", "pipelines/store-daily.yaml"],
        "resources": [{"address": TABLE, "type": "google_bigquery_table", "action": "forget"},
                      {"address": DAG, "type": "google_storage_bucket_object", "action": "forget"}]}
    document = json.loads(out.read_text())
    jsonschema.validate(document, report.schema())
    assert next(s for s in document["stacks"] if s["name"] == STORE)["retired"] == entry["retired"]
    assert all(s["retired"] is None for s in document["stacks"] if s["name"] != STORE)
    plan_args = next(args for stack, args in argv if stack == STORE and args[0] == "plan")
    assert "-destroy" not in plan_args
    # The text summary lists every resource and its fate.
    text = CliRunner().invoke(cli, ["plan", str(demo), "--all"])
    assert f"kept on Google Cloud, released from Terraform: {TABLE}" in text.output
    # Apply releases: no --allow-destroy needed, nothing deleted; the record says released.
    fake({(STORE, "show"): [(0, forget_plan(*PIPELINE_STATE))]})
    applied = runner.apply(opts(demo, auto_approve=True))
    assert statuses(applied)[STORE] == "applied"
    store = next(r for r in applied.results if r.name == STORE)
    assert store.retired == "release" and "retired: released" in store.note
    records = json.loads((demo / ".df-gen" / "gcp" / "fingerprints.json").read_text())["stacks"]
    assert records[STORE]["released"] is True
    # A second run has nothing to do for it; prune now deletes its files.
    assert statuses(runner.plan(opts(demo)))[STORE] == "skipped"
    pruned = render(demo, prune=True)
    assert f"{STORE}/lifecycle.tf" in pruned.deleted and not (demo / "stacks" / STORE).exists()
    assert STORE not in json.loads((demo / "stacks" / MANIFEST).read_text())["files"].__repr__()
    assert STORE not in statuses(runner.plan(opts(demo, all_stacks=True)))


def test_destroy_removed_destroys_dependants_first_through_the_guard(demo: Path, fake: Any) -> None:
    fake()
    runner.apply(opts(demo, auto_approve=True))
    (demo / "pipelines" / "store-daily.yaml").unlink()
    (demo / "datasources" / "store.yaml").unlink()
    render(demo)
    deleting = {
        STORE: forget_plan(*PIPELINE_STATE, action="delete"),
        "datasource-store": forget_plan(('module.datasource.google_storage_bucket.buckets["landing"]',
                                         "google_storage_bucket"), action="delete"),
    }
    argv: list[tuple[str, list[str]]] = []
    fake({(name, "show"): [(0, plan)] for name, plan in deleting.items()},
         on_call=lambda stack, args, cwd: argv.append((stack, args)))
    planned = runner.plan(opts(demo, destroy_removed=True))
    assert [r.name for r in planned.results][-2:] == [STORE, "datasource-store"]  # dependants first
    entry = next(r for r in planned.results if r.name == STORE).as_json()
    assert entry["retired"]["action"] == "destroy" and entry["destructive"] == [TABLE]
    assert {item["action"] for item in entry["retired"]["resources"]} == {"delete"}
    assert all("-destroy" in args for stack, args in argv if args[0] == "plan" and stack in deleting)
    order: list[str] = []
    # The guard: stateful resources need --allow-destroy, as for any plan that deletes them.
    fake({(name, "show"): [(0, plan)] for name, plan in deleting.items()},
         on_call=lambda stack, args, cwd: order.append(stack) if args[0] == "apply" else None)
    refused = runner.apply(opts(demo, auto_approve=True, destroy_removed=True))
    # (The environment changes too: its grants for the removed pipeline go.)
    assert {n: statuses(refused)[n] for n in (STORE, "datasource-store")} == {STORE: "failed",
                                                                             "datasource-store": "blocked"}
    assert "apply refuses it without --allow-destroy" in next(r for r in refused.results if r.name == STORE).note
    assert [name for name in order if name in deleting] == []
    fake({(name, "show"): [(0, plan)] for name, plan in deleting.items()},
         on_call=lambda stack, args, cwd: order.append(stack) if args[0] == "apply" else None)
    done = runner.apply(opts(demo, auto_approve=True, destroy_removed=True, allow_destroy=True, parallelism=4))
    assert statuses(done)[STORE] == "applied" and statuses(done)["datasource-store"] == "applied"
    assert [name for name in order if name in deleting] == [STORE, "datasource-store"]
    assert "retired: destroyed" in next(r for r in done.results if r.name == STORE).note
    pruned = render(demo, prune=True)
    assert not (demo / "stacks" / STORE).exists() and not (demo / "stacks" / "datasource-store").exists()
    assert pruned.retired == {}


def test_a_saved_release_plan_is_not_applied_as_a_destroy(demo: Path, fake: Any) -> None:
    retire_store(demo, fake)
    fake({(STORE, "show"): [(0, forget_plan(*PIPELINE_STATE))]})
    runner.plan(opts(demo))
    argv: list[tuple[str, list[str]]] = []
    fake({(STORE, "show"): [(0, forget_plan(*PIPELINE_STATE, action="delete"))]},
         on_call=lambda stack, args, cwd: argv.append((stack, args)))
    done = runner.apply(opts(demo, auto_approve=True, destroy_removed=True, allow_destroy=True))
    assert "re-planned" in next(r for r in done.results if r.name == STORE).note
    assert any("-destroy" in args for stack, args in argv if stack == STORE and args[0] == "plan")


def test_a_plan_that_finds_the_state_empty_records_the_release(demo: Path, fake: Any) -> None:
    # Applied elsewhere (CI): this machine has no record; a plan reads the backend's state.
    (demo / "pipelines" / "store-daily.yaml").unlink()
    render(demo)
    with pytest.raises(DfGenError, match="df-gen has not seen its state empty"):
        render(demo, prune=True)
    fake({(STORE, "plan"): [(0, "No changes.\n")]})
    planned = runner.plan(opts(demo, stacks=(STORE,), only=True))
    assert statuses(planned) == {STORE: "no-changes"} and "nothing left in its state" in planned.results[0].note
    render(demo, prune=True)
    assert not (demo / "stacks" / STORE).exists()


def test_prune_refuses_while_a_sandbox_state_lists_resources(demo: Path, fake: Any) -> None:
    (demo / "pipelines" / "store-daily.yaml").unlink()
    render(demo)
    fake({(STORE, "plan"): [(0, "No changes.\n")]})
    runner.plan(opts(demo, stacks=(STORE,), only=True))  # a gcp record says released...
    state = demo / ".df-gen" / "sandbox" / "state" / f"{STORE}.tfstate"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"version": 4, "resources": [{"type": "google_bigquery_table"}]}))
    with pytest.raises(DfGenError) as raised:  # ...but the sandbox still holds its resources
        render(demo, prune=True)
    assert f"{display_path(state)} lists 1 resources" in raised.value.lines()[0]
    state.write_text("{broken")
    with pytest.raises(DfGenError, match="cannot be read"):
        render(demo, prune=True)


def test_prune_on_the_render_that_retires_writes_the_retirement_and_fails(demo: Path) -> None:
    (demo / "pipelines" / "store-daily.yaml").unlink()
    result = CliRunner().invoke(cli, ["render", str(demo), "--prune"])
    assert result.exit_code == 1
    assert "not pruned: its resources have not been released" in result.output
    assert retire.is_retired((demo / "stacks" / STORE / "main.tf").read_text())


def test_destroy_of_a_retired_stack_records_it_released(demo: Path, fake: Any) -> None:
    retire_store(demo, fake)
    fake()
    report_ = runner.destroy(opts(demo, auto_approve=True, stacks=(STORE,)))
    assert statuses(report_) == {STORE: "destroyed"}
    render(demo, prune=True)
    assert not (demo / "stacks" / STORE).exists()


def test_changed_since_selects_a_retired_stack_and_nothing_else(demo: Path, fake: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    repo = demo.parent.parent

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "add", "-A")
    git("-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "commit", "-qm", "base")
    monkeypatch.chdir(repo)
    # The hourly pipeline: removing it leaves the environment as it is (the daily one needs the
    # same grants), so its retired stack and its data source (whose grant to the agent of the
    # hourly scans goes) are the only changes.
    hourly = "pipeline-ecommerce-hourly"
    (demo / "pipelines" / "ecommerce-hourly.yaml").unlink()
    render(demo)
    fake({(hourly, "show"): [(0, forget_plan(*PIPELINE_STATE))]})
    planned = runner.plan(opts(demo, changed_since="HEAD"))
    assert statuses(planned) == {hourly: "changes", "datasource-ecommerce": "changes"}
    assert {r.name: r.retired for r in planned.results} == {hourly: "release", "datasource-ecommerce": None}


def test_the_markdown_report_names_each_resource_and_its_fate(demo: Path, fake: Any,
                                                              tmp_path: Path) -> None:
    retire_store(demo, fake)
    fake({(STORE, "show"): [(0, forget_plan(*PIPELINE_STATE))]})
    out = tmp_path / "report.md"
    assert CliRunner().invoke(cli, ["plan", str(demo), "--report", str(out)]).exit_code == 0
    markdown = out.read_text()
    assert "- 🗄️ retired: no descriptor renders it (rendered from datasources/store.yaml" in markdown
    assert f"  - kept on Google Cloud, released from Terraform: `{TABLE}`" in markdown


# ------------------------------------------------------------------ real Terraform against the sandbox (slow)


CURATED_ORDERS = "google_bigquery_table/projects/acme-demo-cur/datasets/acme_demo_store_curated/tables/orders"


def sandbox_store(demo: Path) -> dict[str, Any]:
    """The sandbox's Google Cloud: every resource it holds, keyed by type/id."""
    return dict(json.loads((demo / ".df-gen" / "sandbox" / "store.json").read_text())["resources"])


def sandbox_state(demo: Path, stack: str) -> list[Any]:
    return list(json.loads((demo / ".df-gen" / "sandbox" / "state" / f"{stack}.tfstate").read_text())["resources"])


def pipeline_objects(store: dict[str, Any]) -> list[str]:
    return sorted(k for k in store if k.startswith("google_storage_bucket_object/") and "/store-daily" in k)


@pytest.mark.slow
def test_sandbox_release_keeps_every_resource_then_prune_deletes_the_files(applied_demo: Path) -> None:
    demo = applied_demo  # every stack applied (tests/conftest.py)
    before = sandbox_store(demo)
    held = sandbox_state(demo, STORE)
    assert CURATED_ORDERS in before and pipeline_objects(before)

    (demo / "pipelines" / "store-daily.yaml").unlink()
    assert STORE in render(demo).retired
    planned = runner.plan(opts(demo, sandbox=True, stacks=(STORE,), only=True))
    entry = planned.plan_document()["stacks"][0]
    # Every resource instance of its state, each kept (forget), none destroyed.
    assert entry["status"] == "changes" and entry["destructive"] == []
    managed = sum(len(r["instances"]) for r in held if r["mode"] == "managed")  # data sources are only read
    assert entry["changes"]["forget"] == managed and entry["changes"]["destroy"] == 0
    assert {item["action"] for item in entry["retired"]["resources"]} == {"forget"}
    assert TABLE in {item["address"] for item in entry["retired"]["resources"]}
    assert any(line.endswith(f"kept on Google Cloud, released from Terraform: {TABLE}") for line in
               planned.summary_lines())

    released = runner.apply(opts(demo, sandbox=True, auto_approve=True, stacks=(STORE,), only=True))
    assert statuses(released) == {STORE: "applied"}, released.summary_lines()
    assert sandbox_state(demo, STORE) == []  # Terraform no longer manages them...
    after = sandbox_store(demo)
    assert after[CURATED_ORDERS]["state"]["schema"] == before[CURATED_ORDERS]["state"]["schema"]  # ...Google keeps them
    assert pipeline_objects(after) == pipeline_objects(before)
    assert set(before) == set(after)

    pruned = render(demo, prune=True)
    assert f"{STORE}/lifecycle.tf" in pruned.deleted and not (demo / "stacks" / STORE).exists()
    assert STORE not in statuses(runner.plan(opts(demo, sandbox=True, all_stacks=True, stacks=("datasource-store",))))


@pytest.mark.slow
def test_sandbox_destroy_removed_goes_dependants_first_and_needs_allow_destroy(applied_demo: Path) -> None:
    demo = applied_demo  # every stack applied (tests/conftest.py)
    landing = next(k for k in sandbox_store(demo) if k.startswith("google_storage_bucket/")
                   and "store" in k and "landing" in k)
    (demo / "pipelines" / "store-daily.yaml").unlink()
    (demo / "datasources" / "store.yaml").unlink()
    render(demo)
    retired = (STORE, "datasource-store")
    planned = runner.plan(opts(demo, sandbox=True, destroy_removed=True, stacks=retired, only=True))
    assert [r.name for r in planned.results] == [STORE, "datasource-store"]
    pipeline = planned.plan_document()["stacks"][0]
    assert pipeline["retired"]["action"] == "destroy" and TABLE in pipeline["destructive"]
    assert pipeline["changes"]["forget"] == 0 and pipeline["changes"]["destroy"] > 0

    refused = runner.apply(opts(demo, sandbox=True, auto_approve=True, destroy_removed=True, stacks=retired,
                                only=True))
    assert statuses(refused) == {STORE: "failed", "datasource-store": "blocked"}
    assert CURATED_ORDERS in sandbox_store(demo) and sandbox_state(demo, STORE)

    done = runner.apply(opts(demo, sandbox=True, auto_approve=True, destroy_removed=True, allow_destroy=True,
                             stacks=retired, only=True))
    assert statuses(done) == {STORE: "applied", "datasource-store": "applied"}, done.summary_lines()
    store = sandbox_store(demo)
    assert CURATED_ORDERS not in store and landing not in store and pipeline_objects(store) == []
    assert sandbox_state(demo, STORE) == [] and sandbox_state(demo, "datasource-store") == []
    render(demo, prune=True)
    assert not (demo / "stacks" / STORE).exists() and not (demo / "stacks" / "datasource-store").exists()
