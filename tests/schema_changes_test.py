"""Schema changes that lose data: classification against plan JSON and git refs, the ways
forward chosen in the descriptor, the apply gate (fast: real descriptors, real git; slow:
real Terraform against the sandbox on a demo copy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from demosupport import git, opts, statuses

from generator import runner
from generator.cli import cli
from generator.render import render
from generator.schema_changes import review_plan, text_line

ORDERS = 'module.pipeline.google_bigquery_table.tables["curated-orders"]'
STACK = "pipeline-store-daily"


def schema_file(env_dir: Path) -> Path:
    return env_dir.parent.parent / "pipelines" / "retail" / "schemas" / "curated" / "orders.json"


def descriptor(env_dir: Path) -> Path:
    return env_dir / "pipelines" / "store-daily.yaml"


def set_table_option(env_dir: Path, line: str) -> None:
    """Add ``line`` under tables.curated.orders of store-daily (after its schema key)."""
    path = descriptor(env_dir)
    text = path.read_text()
    anchor = "      schema: schemas/curated/orders.json\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + f"      {line}\n", 1))


def table_change(before: list[Any], after: list[Any], actions: list[str], protected: bool = False,
                 **extra: Any) -> dict[str, Any]:
    return {"address": ORDERS, "type": "google_bigquery_table", "mode": "managed",
            "change": {"actions": actions,
                       "before": {"schema": json.dumps(before), "deletion_protection": protected},
                       "after": {"schema": json.dumps(after), "deletion_protection": False}, **extra}}


def with_amount(fields: list[Any], kind: str) -> list[Any]:
    return [dict(f, type=kind) if f["name"] == "amount" else f for f in fields]


# ------------------------------------------------------------------ plan JSON


def test_type_change_in_a_plan_is_reported_at_the_schema_field_and_is_destructive(demo: Path) -> None:
    original = json.loads(schema_file(demo).read_text())
    changed = with_amount(original, "FLOAT64")
    schema_file(demo).write_text(json.dumps(changed, indent=2) + "\n")
    plan = {"resource_changes": [table_change(original, changed, ["delete", "create"])]}
    summary = review_plan(demo, STACK, plan)
    assert summary.destructive == (ORDERS,)
    (item,) = summary.schema_changes
    index = next(i for i, f in enumerate(changed) if f["name"] == "amount")
    # json.dumps(indent=2): '[' then per field '{' + 4 keys + '}', "type" the 2nd key.
    lines = schema_file(demo).read_text().splitlines()
    type_line = next(n for n, text in enumerate(lines, 1) if '"FLOAT64"' in text)
    assert (item["line"], item["col"]) == (type_line, lines[type_line - 1].index('"FLOAT64"') + 1)
    assert item["file"].endswith("pipelines/retail/schemas/curated/orders.json") and index >= 0
    assert item["table"] == {"stack": STACK, "address": ORDERS, "table_id": "orders"}
    assert item["column"] == "amount" and item["kind"] == "incompatible"
    assert item["reason"] == "type changed from NUMERIC to FLOAT64"
    assert "replaces table orders" in item["on_google_cloud"]
    assert item["ways_forward"] == ["new_version", "migrate", "accept_loss"]  # NUMERIC -> FLOAT64 coerces
    assert item["chosen"] is None
    assert text_line(item).startswith(f"{item['file']}:{type_line}:")


def test_accept_loss_lets_exactly_that_table_through(demo: Path) -> None:
    original = json.loads(schema_file(demo).read_text())
    changed = with_amount(original, "STRING")
    schema_file(demo).write_text(json.dumps(changed, indent=2) + "\n")
    set_table_option(demo, "accept_loss: true")
    other = 'module.pipeline.google_bigquery_table.tables["curated-products"]'
    plan = {"resource_changes": [
        table_change(original, changed, ["delete", "create"]),
        {"address": other, "type": "google_bigquery_table", "mode": "managed",
         "change": {"actions": ["delete"], "before": {"schema": "[]"}, "after": None}},
    ]}
    summary = review_plan(demo, STACK, plan)
    (item,) = summary.schema_changes
    assert item["ways_forward"] == ["new_version", "accept_loss"]  # NUMERIC -> STRING is no widening
    assert item["chosen"] == "accept_loss"
    assert summary.destructive == (other,)  # only the acknowledged table is let through


def test_accept_loss_waits_for_deletion_protection_to_be_lifted(demo: Path) -> None:
    original = json.loads(schema_file(demo).read_text())
    changed = with_amount(original, "STRING")
    schema_file(demo).write_text(json.dumps(changed, indent=2) + "\n")
    set_table_option(demo, "accept_loss: true")
    plan = {"resource_changes": [table_change(original, changed, ["delete", "create"], protected=True)]}
    summary = review_plan(demo, STACK, plan)
    (item,) = summary.schema_changes
    assert item["chosen"] is None
    assert item["note"].startswith("deletion_protection is still true in the state")
    assert summary.destructive == (ORDERS,)


def test_dropped_column_is_lossy_and_flagged_though_terraform_shows_an_update(demo: Path) -> None:
    original = json.loads(schema_file(demo).read_text())
    changed = [f for f in original if f["name"] != "amount"]
    schema_file(demo).write_text(json.dumps(changed, indent=2) + "\n")
    summary = review_plan(demo, STACK, {"resource_changes": [table_change(original, changed, ["update"])]})
    (item,) = summary.schema_changes
    assert item["kind"] == "lossy_in_place" and item["column"] == "amount"
    assert item["ways_forward"] == ["new_version", "migrate", "accept_loss"]
    assert (item["line"], item["col"]) == (1, 1)  # the column is gone: its list
    assert summary.destructive == (ORDERS,)
    assert summary.counts() == {"add": 0, "change": 1, "replace": 0, "destroy": 0, "import": 0, "forget": 0}


def test_compatible_change_is_not_reported(demo: Path) -> None:
    original = json.loads(schema_file(demo).read_text())
    changed = [*original, {"name": "coupon", "type": "STRING", "mode": "NULLABLE"}]
    schema_file(demo).write_text(json.dumps(changed, indent=2) + "\n")
    summary = review_plan(demo, STACK, {"resource_changes": [table_change(original, changed, ["update"])]})
    assert summary.schema_changes == () and summary.destructive == ()


def test_partitioning_field_change_is_reported_at_the_descriptor(demo: Path) -> None:
    original = json.loads(schema_file(demo).read_text())
    plan = {"resource_changes": [table_change(original, original, ["delete", "create"],
                                              replace_paths=[["time_partitioning", 0, "field"]])]}
    (item,) = review_plan(demo, STACK, plan).schema_changes
    assert item["file"].endswith("store-daily.yaml") and item["column"] == ""
    assert item["reason"].startswith("time_partitioning.0.field changed")
    assert item["ways_forward"] == ["new_version", "accept_loss"]


# ------------------------------------------------------------------ validate --against


def validate_against(env_dir: Path, ref: str = "HEAD") -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["validate", str(env_dir), "--against", ref, "--json"])
    return result.exit_code, json.loads(result.output)


def test_validate_against_a_ref_lists_the_change_and_exits_1_until_a_way_is_chosen(repo: Path) -> None:
    original = json.loads(schema_file(repo).read_text())
    schema_file(repo).write_text(json.dumps(with_amount(original, "STRING"), indent=2) + "\n")
    code, document = validate_against(repo)
    assert code == 1 and document["valid"] is False
    # Both pipelines use the retail code: each one's curated.orders changes.
    found = [(i["table"]["stack"], i["column"], i["kind"], i["chosen"]) for i in document["schema_changes"]]
    assert found == [("pipeline-ecommerce-hourly", "amount", "incompatible", None),
                     (STACK, "amount", "incompatible", None)]
    set_table_option(repo, "accept_loss: true")
    code, document = validate_against(repo)
    assert code == 1  # the ecommerce pipeline has chosen nothing yet
    assert [i["chosen"] for i in document["schema_changes"]] == [None, "accept_loss"]
    other = repo / "pipelines" / "ecommerce-hourly.yaml"
    anchor = "      schema: schemas/curated/orders.json\n"
    other.write_text(other.read_text().replace(anchor, anchor + "      accept_loss: true\n"))
    code, document = validate_against(repo)
    assert code == 0 and document["valid"] is True


def test_validate_against_a_ref_without_changes_and_with_a_compatible_one(repo: Path) -> None:
    assert validate_against(repo) == (0, validate_against(repo)[1])
    original = json.loads(schema_file(repo).read_text())
    schema_file(repo).write_text(json.dumps([*original, {"name": "x", "type": "STRING"}], indent=2) + "\n")
    code, document = validate_against(repo)
    assert code == 0 and document["schema_changes"] == []


def test_validate_against_a_ref_whose_schema_is_not_json(repo: Path) -> None:
    path = schema_file(repo)
    good = path.read_text()
    path.write_text('[\n  {"name": "order_id",\n')
    git(repo.parent.parent, "commit", "-q", "-am", "broken")
    path.write_text(good)
    result = CliRunner().invoke(cli, ["validate", str(repo), "--against", "HEAD"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("HEAD:") and "orders.json:3:1: error: not valid JSON at HEAD" in line, line


def test_validate_against_an_unknown_ref_is_one_line(repo: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(repo), "--against", "no-such-ref"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: --against no-such-ref: no such git revision"


# ------------------------------------------------------------------ real Terraform (slow)


def entry(report: runner.RunReport, name: str = STACK) -> dict[str, Any]:
    return next(s for s in report.plan_document()["stacks"] if s["name"] == name)


@pytest.mark.slow
def test_demo_after_apply_type_change_refused_then_accepted_and_a_drop_flagged(applied_demo: Path) -> None:
    demo = applied_demo  # every stack applied (tests/conftest.py)
    original = json.loads(schema_file(demo).read_text())
    only = {"sandbox": True, "stacks": (STACK,), "only": True}

    # A type change: reported at the schema field, refused even with --allow-destroy.
    schema_file(demo).write_text(json.dumps(with_amount(original, "STRING"), indent=2) + "\n")
    render(demo)
    planned = entry(runner.plan(opts(demo, **only)))
    (item,) = planned["schema_changes"]
    assert (item["column"], item["kind"], item["chosen"]) == ("amount", "incompatible", None)
    assert planned["destructive"] == [ORDERS]
    refused = runner.apply(opts(demo, auto_approve=True, allow_destroy=True, **only))
    result = next(r for r in refused.results if r.name == STACK)
    assert result.status == "failed" and "no way forward is chosen" in result.note
    assert any("type changed from NUMERIC to STRING" in line for line in result.error)

    # Accepted loss (the demo's tables have deletion_protection false): replaced, no --allow-destroy.
    set_table_option(demo, "accept_loss: true")
    render(demo)
    accepted = runner.apply(opts(demo, auto_approve=True, **only))
    assert statuses(accepted)[STACK] == "applied", accepted.summary_lines()
    assert next(r for r in accepted.results if r.name == STACK).changes["destroy"] == 1

    # A dropped column: Terraform plans an update; the guard flags it as data loss.
    without = [f for f in with_amount(original, "STRING") if f["name"] != "channel"]
    descriptor(demo).write_text(descriptor(demo).read_text().replace("      accept_loss: true\n", ""))
    schema_file(demo).write_text(json.dumps(without, indent=2) + "\n")
    render(demo)
    planned = entry(runner.plan(opts(demo, **only)))
    assert planned["changes"] == {"add": 0, "change": 1, "replace": 0, "destroy": 0, "import": 0, "forget": 0}
    assert [(i["column"], i["kind"]) for i in planned["schema_changes"]] == [("channel", "lossy_in_place")]
    assert planned["destructive"] == [ORDERS]
    refused = runner.apply(opts(demo, auto_approve=True, allow_destroy=True, **only))
    assert statuses(refused)[STACK] == "failed"

    # A compatible change plans in place without any warning.
    schema_file(demo).write_text(json.dumps([*with_amount(original, "STRING"),
                                             {"name": "coupon", "type": "STRING"}], indent=2) + "\n")
    render(demo)
    planned = entry(runner.plan(opts(demo, **only)))
    assert planned["schema_changes"] == [] and planned["destructive"] == []
    assert planned["changes"] == {"add": 0, "change": 1, "replace": 0, "destroy": 0, "import": 0, "forget": 0}
