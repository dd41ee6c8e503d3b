"""Upgrade: an environment applied with an earlier df-gen plans onto today's modules without
deleting or replacing anything that holds data or identity (issue 11, "Done when").

The demo of a fixed commit (its descriptors, rendered stacks, bundled modules, pipeline
code and the df-gen of that commit, sandbox included) is exported with ``git archive`` and
applied to a sandbox by that commit's own runner, in a subprocess. Then today's descriptors,
modules and pipeline code replace the old ones in the same directory, today's df-gen renders
them over the old stacks, and plans every stack against the same sandbox state.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from tfsupport import require_sandbox

from generator import runner
from generator.render import render
from generator.runner.session import session

ROOT = Path(__file__).resolve().parent.parent

# The main branch before the issue 11 wave: the demo as users applied it.
BASE_COMMIT = "5888012"
# The main branch whose pipeline stacks granted the agents' entries of the shared results and
# findings datasets (google_bigquery_dataset_access.agents); the data source grants them now.
PIPELINE_DATASET_GRANTS_COMMIT = "c50b036"

# Resources whose deletion or replacement loses data, keys or identity (a superset of the
# runner's data-loss guard: identities, Composer and the taxonomy cannot be recreated as
# they were either).
STATEFUL_TYPES = frozenset(
    {
        "google_project",
        "google_storage_bucket",
        "google_bigquery_dataset",
        "google_bigquery_table",
        "google_pubsub_topic",
        "google_pubsub_subscription",
        "google_kms_key_ring",
        "google_kms_crypto_key",
        "google_service_account",
        "google_composer_environment",
        "google_data_catalog_taxonomy",
        "google_data_catalog_policy_tag",
    }
)

OLD_APPLY = """
import sys
from pathlib import Path
from generator import runner
report = runner.apply(runner.RunOptions(Path(sys.argv[1]), sandbox=True, auto_approve=True, quiet=True))
print("\\n".join(report.summary_lines()))
sys.exit(1 if report.failed else 0)
"""


def export(commit: str, paths: list[str], target: Path) -> None:
    """``git archive`` of ``paths`` at ``commit``, unpacked under ``target``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit, *paths],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def replace_tree(source: Path, target: Path) -> None:
    shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".df-gen", ".terraform*", "__pycache__"))


def lost(plan: dict[str, Any]) -> list[str]:
    """Addresses of stateful resources the plan deletes or replaces."""
    return sorted(
        f"{rc['address']} ({'/'.join(rc['change']['actions'])})"
        for rc in plan.get("resource_changes") or ()
        if rc["mode"] == "managed" and rc["type"] in STATEFUL_TYPES and "delete" in rc["change"]["actions"]
    )


AGENT_ENTRY_TYPES = ("google_bigquery_dataset_access", "google_bigquery_dataset_iam_member")


def agent_dataset_entries(env_dir: Path) -> dict[str, set[tuple[str, str, str]]]:
    """The sandbox's entries for the Dataplex and DLP agents on the data sources' datasets, by
    resource type: (dataset, role, agent e-mail)."""
    store = json.loads((env_dir / ".df-gen" / "sandbox" / "store.json").read_text())["resources"]
    found: dict[str, set[tuple[str, str, str]]] = {}
    for entry in store.values():
        state = entry["state"]
        member = str(state.get("member") or state.get("user_by_email") or "").removeprefix("serviceAccount:")
        if entry["type"] in AGENT_ENTRY_TYPES and (
                member.endswith(("@gcp-sa-dataplex.iam.gserviceaccount.com", "@dlp-api.iam.gserviceaccount.com"))):
            found.setdefault(entry["type"], set()).add((state["dataset_id"], state["role"], member))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("base_commit", [BASE_COMMIT, PIPELINE_DATASET_GRANTS_COMMIT])
def test_demo_applied_with_the_base_commit_upgrades_without_losing_state(tmp_path: Path, base_commit: str) -> None:
    require_sandbox()
    base = tmp_path / "repo"
    try:
        export(base_commit, ["generator", "templates", "environments/demo", "pipelines", "modules"], base)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"commit {base_commit} is not in this clone: {exc.stderr.decode().strip()}")
    env_dir = base / "environments" / "demo"

    # 1. The old df-gen applies the old stacks (its own sandbox, its own modules).
    env = {**os.environ, "PYTHONPATH": str(base)}
    old = subprocess.run([sys.executable, "-c", OLD_APPLY, str(env_dir)], cwd=base, env=env,
                         capture_output=True, text=True, timeout=1800)
    assert old.returncode == 0, f"{old.stdout}\n{old.stderr[-4000:]}"

    # 2. Today's descriptors, modules and pipeline code; today's df-gen renders over the stacks.
    for name in ("environment.yaml", "datasources", "pipelines"):
        source, target = ROOT / "environments" / "demo" / name, env_dir / name
        if source.is_dir():
            replace_tree(source, target)
        else:
            shutil.copyfile(source, target)
    replace_tree(ROOT / "modules", base / "modules")
    replace_tree(ROOT / "pipelines", base / "pipelines")
    for old_code in ("generator", "templates"):  # only today's df-gen from here on
        shutil.rmtree(base / old_code)
    render(env_dir)

    # 3. Plan every stack against the state the old apply left.
    options = runner.RunOptions(env_dir, sandbox=True, all_stacks=True, quiet=True)
    report = runner.plan(options)
    assert not report.failed, "\n".join(report.summary_lines())
    # The old state is really there: today's modules change it in place (the environment
    # since the issue 11 wave began; the data sources and pipelines since the agents' dataset
    # grants moved).
    changed = [r.name for r in report.results if r.status == "changes"]
    if base_commit == BASE_COMMIT:
        assert "environment" in changed
    else:
        assert {"datasource-store", "datasource-ecommerce", "pipeline-store-daily",
                "pipeline-ecommerce-hourly"} <= set(changed)
    losses = {}
    agent_actions: dict[str, list[str]] = {}
    dropped_apis: dict[str, bool] = {}
    moved_policies: dict[str, tuple[str, list[str]]] = {}
    with session(options, "plan") as (run, names):
        for name in names:
            planfile = run.ws.plan_file(name)
            if planfile.is_file():
                shown = run.tf.show(run.model.stack(name), planfile)
                found = lost(shown)
                if found:
                    losses[name] = found
                agent_actions.update({
                    f"{name}: {rc['address']}": rc["change"]["actions"] for rc in shown.get("resource_changes") or ()
                    if rc["name"] == "agents" and rc["type"] in AGENT_ENTRY_TYPES})
                if name == "environment":
                    moved_policies = {rc["previous_address"]: (rc["address"], rc["change"]["actions"])
                                      for rc in shown.get("resource_changes") or ()
                                      if rc["type"] == "google_monitoring_alert_policy" and rc.get("previous_address")}
                    dropped_apis = {rc["change"]["before"]["service"]: rc["change"]["before"]["disable_on_destroy"]
                                    for rc in shown.get("resource_changes") or ()
                                    if rc["type"] == "google_project_service" and rc["change"]["actions"] == ["delete"]}
    assert losses == {}, json.dumps(losses, indent=2)
    granted_by_pipelines = agent_dataset_entries(env_dir).get("google_bigquery_dataset_access", set())
    assert bool(granted_by_pipelines) == (base_commit == PIPELINE_DATASET_GRANTS_COMMIT)
    # The pipelines' dataset entries are released (forget, never delete: the data source's
    # IAM member is the same entry), the data sources' grants created.
    assert {actions[0] for key, actions in agent_actions.items() if "dataset_access" in key} == (
        {"forget"} if granted_by_pipelines else set())
    assert {tuple(actions) for key, actions in agent_actions.items() if "dataset_iam_member" in key} == {("create",)}
    # The Kubernetes Engine API, which Composer 3 does not use, leaves the state only: its
    # disable_on_destroy is false, so the provider's Delete makes no API call
    # (resource_google_project_service.go) and the live project keeps it enabled.
    assert dropped_apis == ({"container.googleapis.com": False} if base_commit == BASE_COMMIT else {})
    # The alert policies the old module made one resource each (count) are today one resource
    # over a map: its moved blocks carry them to their keys, kept, not replaced.
    old_policy = "module.environment.google_monitoring_alert_policy.{}[0]"
    new_policy = 'module.environment.google_monitoring_alert_policy.alerts["{}"]'
    policies = ("failed_dag_runs", "composer_health")
    if base_commit == PIPELINE_DATASET_GRANTS_COMMIT:  # the alerts the issue 11 wave added, too
        policies += ("dead_letters", "data_quality_failures")
    assert {old: address for old, (address, _) in moved_policies.items()} == {
        old_policy.format(key): new_policy.format(key) for key in policies}
    assert all("create" not in actions and "delete" not in actions for _, actions in moved_policies.values())

    # 4. And the upgrade applies.
    report = runner.apply(runner.RunOptions(env_dir, sandbox=True, auto_approve=True, quiet=True))
    assert not report.failed, "\n".join(report.summary_lines())
    # The agents' entries are the data sources' IAM members now; those the pipeline stacks
    # granted are released, not deleted (the same entries of the access lists), and the next
    # plan of every stack is clean.
    entries = agent_dataset_entries(env_dir)
    members = {(dataset, {"roles/bigquery.dataEditor": "WRITER"}[role], agent)
               for dataset, role, agent in entries["google_bigquery_dataset_iam_member"]}
    assert granted_by_pipelines <= members
    assert entries.get("google_bigquery_dataset_access", set()) == granted_by_pipelines
    report = runner.plan(runner.RunOptions(env_dir, sandbox=True, all_stacks=True, quiet=True))
    assert {r.status for r in report.results} == {"no-changes"}, "\n".join(report.summary_lines())
