"""Shared dataset grants: the pipelines of one data source come and go, the data source's
grants to their service agents follow, and every apply succeeds (issue 11).

The pipelines of a data source share its datasets: Dataplex exports every scan's results and
DLP saves every trigger's findings there, as the agents the environment provisioned. The
data source's stack grants each (agent, role, dataset) entry once
(``access.datasource_agent_grants``); the sandbox refuses a second
``google_bigquery_dataset_access`` of an entry (conformance ``dataset-access-entry-twice``),
which is what broke when the granting pipeline changed while pipelines granted them.
Real Terraform against the sandbox, on a private copy of the applied demo.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from demosupport import opts, statuses
from tfsupport import require_sandbox

from generator import runner
from generator.render import render

STORE = "datasource-store"
DAILY = "pipeline-store-daily"
STORE_STACKS = ("environment", STORE, DAILY)


def add_pipeline(env_dir: Path, key: str, scans: dict[str, Any]) -> str:
    """A store pipeline ``key`` with DLP and ``scans`` on tables of its own (landing and
    curated ``<key>_orders``), with code that has no tasks; its stack's name."""
    table = key.replace("-", "_") + "_orders"
    code = env_dir.parent.parent / "pipelines" / key
    (code / "schemas").mkdir(parents=True)
    shutil.copy(env_dir.parent.parent / "pipelines/retail/schemas/curated/orders.json", code / "schemas/orders.json")
    (code / "tasks.yaml").write_text("tasks: []\n", encoding="utf-8")
    (code / "dag.py.j2").write_text("# No tasks.\n", encoding="utf-8")
    daily = yaml.safe_load((env_dir / "pipelines/store-daily.yaml").read_text(encoding="utf-8"))
    pipeline = {
        **{k: daily[k] for k in ("apiVersion", "kind", "datasource", "dag", "dlp")},
        "code": key,
        "tables": {layer: {table: {"schema": "schemas/orders.json", "deletion_protection": False}}
                   for layer in ("landing", "curated")},
        "data_quality": {f"{layer}.{table}": rule for layer, rule in scans.items()},
    }
    (env_dir / "pipelines" / f"{key}.yaml").write_text(yaml.safe_dump(pipeline), encoding="utf-8")
    return f"pipeline-{key}"


def agent_entries(env_dir: Path) -> set[tuple[str, str, str, str]]:
    """The store dataset's entries for the Dataplex and DLP agents, as the sandbox's Google
    Cloud holds them: (type, dataset, role, agent e-mail's domain and project number)."""
    store = json.loads((env_dir / ".df-gen" / "sandbox" / "store.json").read_text())["resources"]
    found = set()
    for entry in store.values():
        state = entry["state"]
        member = state.get("member") or state.get("user_by_email") or ""
        if entry["type"] in ("google_bigquery_dataset_iam_member", "google_bigquery_dataset_access") and (
                "dataplex" in member or "dlp-api" in member) and "store" in state["dataset_id"]:
            found.add((entry["type"], state["dataset_id"], state["role"], member.split(":")[-1]))
    return found


def plan_is_clean(env_dir: Path, stacks: tuple[str, ...]) -> None:
    planned = runner.plan(opts(env_dir, sandbox=True, all_stacks=True, stacks=stacks))
    assert statuses(planned) == dict.fromkeys(planned_names(planned), "no-changes"), planned.summary_lines()


def planned_names(report: runner.RunReport) -> list[str]:
    return [r.name for r in report.results]


@pytest.mark.slow
def test_pipelines_come_and_go_and_the_data_source_grants_follow(applied_demo: Path) -> None:
    require_sandbox()
    env_dir = applied_demo
    first = agent_entries(env_dir)
    assert {(kind, role) for kind, _, role, _ in first} == {
        ("google_bigquery_dataset_iam_member", "roles/bigquery.dataEditor")}
    assert len(first) == 2 and {d for _, d, _, _ in first} == {"acme_demo_store_curated"}
    # A second store pipeline that scans curated and runs DLP as store-daily does: the same
    # two entries, so its stack applies and the data source's does not change.
    weekly = add_pipeline(env_dir, "store-weekly", {"curated": {"not_null": ["order_id"]}})
    render(env_dir)
    applied = runner.apply(opts(env_dir, sandbox=True, auto_approve=True, stacks=(DAILY, weekly)))
    assert statuses(applied)[weekly] == "applied", applied.summary_lines()
    assert {statuses(applied)[STORE], statuses(applied)[DAILY]} <= {"skipped", "no-changes"}
    assert agent_entries(env_dir) == first
    plan_is_clean(env_dir, (*STORE_STACKS, weekly))

    # A pipeline whose key sorts first, with a scan in landing too: the landing project's
    # Dataplex agent needs write on the curated dataset as well. Only the data source's
    # grants and the new pipeline change.
    audit = add_pipeline(env_dir, "store-audit", {"landing": {"not_null": ["order_id"]},
                                                  "curated": {"min_rows": 1}})
    render(env_dir)
    planned = runner.plan(opts(env_dir, sandbox=True, stacks=(DAILY, weekly, audit)))
    assert not planned.failed, planned.summary_lines()
    assert {statuses(planned)[DAILY], statuses(planned)[weekly]} <= {"skipped", "no-changes"}  # unchanged
    applied = runner.apply(opts(env_dir, sandbox=True, auto_approve=True, stacks=(DAILY, weekly, audit)))
    assert statuses(applied)[STORE] == statuses(applied)[audit] == "applied", applied.summary_lines()
    grown = agent_entries(env_dir)
    assert first < grown and len(grown) == 3
    assert [m for _, _, _, m in grown - first][0].endswith("@gcp-sa-dataplex.iam.gserviceaccount.com")
    plan_is_clean(env_dir, (*STORE_STACKS, weekly, audit))

    # The first pipeline by key goes (released): the data source drops the entry only it
    # needed and keeps the shared ones; the others' scans and triggers are untouched.
    (env_dir / "pipelines" / "store-audit.yaml").unlink()
    render(env_dir)
    applied = runner.apply(opts(env_dir, sandbox=True, auto_approve=True, stacks=(DAILY, weekly, audit)))
    assert statuses(applied)[audit] == statuses(applied)[STORE] == "applied", applied.summary_lines()
    assert {statuses(applied)[DAILY], statuses(applied)[weekly]} <= {"skipped", "no-changes"}
    assert agent_entries(env_dir) == first
    plan_is_clean(env_dir, (*STORE_STACKS, weekly))
