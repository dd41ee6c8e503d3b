"""Renames without recreation (generator.renames): a renamed table key moves within its
stack, a renamed data source's stack is released by the old stack and imported by the new.

Fast: the rendered files and the stack order on a demo copy; the bad input through the CLI.
Slow: real Terraform against the sandbox on a demo copy after an apply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from demosupport import opts, statuses

from generator import runner, schema_changes
from generator.cli import cli
from generator.render import load_model, render
from generator.scheduler import order

PIPELINE = "pipeline-ecommerce-hourly"
OLD_SOURCE, NEW_SOURCE = "datasource-ecommerce", "datasource-webshop"


def rename_table(env_dir: Path) -> None:
    """tables.landing.products of ecommerce-hourly becomes tables.landing.items."""
    path = env_dir / "pipelines" / "ecommerce-hourly.yaml"
    text = path.read_text()
    old = "    products:\n      schema: schemas/landing/products.json\n"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "    items:\n      renamed_from: products\n"
                                      "      schema: schemas/landing/products.json\n"))


def rename_source(env_dir: Path) -> None:
    """Data source ecommerce becomes webshop (its file and its pipeline's reference)."""
    old = env_dir / "datasources" / "ecommerce.yaml"
    text = old.read_text().replace("\ndescription:", "\nrenamed_from: ecommerce\ndescription:", 1)
    (env_dir / "datasources" / "webshop.yaml").write_text(text)
    old.unlink()
    pipeline = env_dir / "pipelines" / "ecommerce-hourly.yaml"
    pipeline.write_text(pipeline.read_text().replace("datasource: ecommerce\n", "datasource: webshop\n"))


def stacks_files(env_dir: Path, stack: str) -> dict[str, str]:
    root = env_dir / "stacks" / stack
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ rendering


def test_renamed_table_key_keeps_its_table_id_and_code_and_moves_its_address(demo: Path) -> None:
    before = stacks_files(demo, PIPELINE)
    rename_table(demo)
    render(demo)
    after = stacks_files(demo, PIPELINE)
    # The DAG, the SQL and the schema files address the table by its ID: unchanged.
    assert {k: v for k, v in after.items() if k not in ("main.tf", "lifecycle.tf")} == {
        k: v for k, v in before.items() if k != "main.tf"}
    table = load_model(demo).stack(PIPELINE).arguments["tables"]["landing-items"]
    assert (table["table_id"], table["schema"].expression) == (
        "products", 'file("${path.module}/schemas/landing.products.json")')
    assert "landing-products" not in load_model(demo).stack(PIPELINE).arguments["tables"]
    assert after["lifecycle.tf"].endswith(
        "moved {\n"
        '  from = module.pipeline.google_bigquery_table.tables["landing-products"]\n'
        '  to   = module.pipeline.google_bigquery_table.tables["landing-items"]\n'
        "}\n")
    # A second render is a no-op: the old key is still found in the prior rendering.
    report = render(demo)
    assert not report.changed and not report.created


def test_renamed_table_with_dlp_keeps_its_trigger_id(demo: Path) -> None:
    path = demo / "pipelines" / "store-daily.yaml"
    text = path.read_text()
    old = "    orders:\n      schema: schemas/curated/orders.json\n"
    path.write_text(text.replace(old, "    sales:\n      renamed_from: orders\n"
                                      "      schema: schemas/curated/orders.json\n"))
    path.write_text(path.read_text().replace("  curated.orders:\n", "  curated.sales:\n"))
    render(demo)
    args = load_model(demo).stack("pipeline-store-daily").arguments
    assert args["dlp"]["trigger_names"] == {"curated-sales": "curated-orders"}
    assert "store-daily-curated-orders" in args["data_quality"]  # the scan ID follows the table ID
    lifecycle = (demo / "stacks" / "pipeline-store-daily" / "lifecycle.tf").read_text()
    assert 'google_data_loss_prevention_job_trigger.tables["curated-orders"]' in lifecycle
    assert 'to   = module.pipeline.google_data_loss_prevention_job_trigger.tables["curated-sales"]' in lifecycle


def test_renamed_datasource_old_stack_releases_first_and_new_stack_imports(demo: Path) -> None:
    before = stacks_files(demo, OLD_SOURCE)
    rename_source(demo)
    render(demo)
    released = stacks_files(demo, OLD_SOURCE)
    assert released["backend.tf"] == before["backend.tf"]  # the same state
    assert "module \"" not in released["main.tf"]
    assert 'required_version = ">= 1.7.0"' in released["versions.tf"]
    assert released["lifecycle.tf"].endswith(
        "removed {\n  from = module.datasource\n  lifecycle {\n    destroy = false\n  }\n}\n")
    new = stacks_files(demo, NEW_SOURCE)
    # Same module call (the Google names come from the old key), another header.
    assert new["main.tf"].split("\n", 1)[1] == before["main.tf"].split("\n", 1)[1]
    imports = [line.split("= ", 1)[1] for line in new["lifecycle.tf"].splitlines() if line.startswith("  id = ")]
    assert imports == [
        '"acme-demo-ecommerce-landing"', '"acme-demo-ecommerce-archive"',
        '"projects/acme-demo-lnd/datasets/acme_demo_ecommerce_landing"',
        '"projects/acme-demo-cur/datasets/acme_demo_ecommerce_curated"',
        '"projects/acme-demo-exp/datasets/acme_demo_ecommerce_exposure"',
        '"projects/acme-demo-prc/serviceAccounts/ecommerce-proc@acme-demo-prc.iam.gserviceaccount.com"',
        '"projects/acme-demo-lnd/topics/ecommerce-orders"',
        '"projects/acme-demo-lnd/topics/ecommerce-orders-dead-letter"',
        '"projects/acme-demo-lnd/subscriptions/ecommerce-orders-dead-letter"',
        '"projects/acme-demo-lnd/subscriptions/ecommerce-orders-ingest"',
    ]
    model = load_model(demo)
    names = [s.name for s in model.stacks]
    ordered = order(names, {s.name: s.needs for s in model.stacks})
    assert ordered.index(OLD_SOURCE) < ordered.index(NEW_SOURCE) < ordered.index(PIPELINE)
    # The pipeline's datasets and buckets keep their names.
    assert stacks_files(demo, PIPELINE)["dag.py"] == (
        Path(__file__).parent.parent / "environments" / "demo" / "stacks" / PIPELINE / "dag.py").read_text()


def test_bad_renamed_from_is_one_line_and_nothing_is_applied(demo: Path) -> None:
    rename_table(demo)
    path = demo / "pipelines" / "ecommerce-hourly.yaml"
    path.write_text(path.read_text().replace("renamed_from: products", "renamed_from: goods"))
    result = CliRunner().invoke(cli, ["apply", str(demo), "--sandbox", "--auto-approve"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        "pipelines/ecommerce-hourly.yaml:26:21: error: tables.landing.items.renamed_from: no landing table 'goods' "
        "in the prior rendering of pipeline-ecommerce-hourly (no schemas/landing.goods.json in stacks/'s manifest) "
        "(hint: renamed_from names a key that df-gen rendered before; drop it for a new table)"), lines
    assert not (demo / ".df-gen" / "sandbox" / "state").exists()


# ------------------------------------------------------------------ against the sandbox


def store(env_dir: Path) -> dict[str, Any]:
    resources = json.loads((env_dir / ".df-gen" / "sandbox" / "store.json").read_text())["resources"]
    return {key: entry["state"] for key, entry in resources.items()}


def actions(plans: dict[str, Any]) -> dict[str, list[str]]:
    """Every planned action, by stack, as ``address action,...`` (no-ops left out)."""
    found: dict[str, list[str]] = {}
    for stack, plan in plans.items():
        for item in plan.get("resource_changes") or ():
            change = item["change"]
            kinds = [a for a in change["actions"] if a not in ("no-op", "read")]
            if change.get("importing"):
                kinds.append("import")
            if item.get("previous_address"):
                kinds.append("move")
            if kinds:
                found.setdefault(stack, []).append(f"{item['address']} {','.join(kinds)}")
    return found


@pytest.mark.slow
def test_renames_apply_in_the_sandbox_without_destroying_anything(applied_demo: Path, monkeypatch) -> None:
    demo = applied_demo  # every stack applied (tests/conftest.py)
    plans: dict[str, Any] = {}
    review = schema_changes.review_plan

    def keep(env_dir: Path, stack: str, plan: Any, *rest: Any) -> Any:  # the plan JSON each stack planned
        plans[stack] = plan
        return review(env_dir, stack, plan, *rest)

    monkeypatch.setattr(schema_changes, "review_plan", keep)
    select = {"sandbox": True, "stacks": (PIPELINE,)}
    held = store(demo)

    # A renamed table key: one move, nothing else.
    rename_table(demo)
    render(demo)
    plans.clear()
    moved = runner.apply(opts(demo, auto_approve=True, **select))
    assert statuses(moved)[PIPELINE] == "applied", moved.summary_lines()
    assert actions(plans) == {PIPELINE: ['module.pipeline.google_bigquery_table.tables["landing-items"] move']}
    assert store(demo) == held

    # A renamed data source: the old stack forgets, the new one imports; nothing is deleted.
    rename_source(demo)
    render(demo)
    plans.clear()
    renamed = runner.apply(opts(demo, auto_approve=True, **select))
    assert statuses(renamed)[OLD_SOURCE] == statuses(renamed)[NEW_SOURCE] == "applied", renamed.summary_lines()
    planned = actions(plans)
    assert not [a for lines in planned.values() for a in lines if "delete" in a.split(" ", 1)[1]], planned
    # Every resource the old stack forgets, the new stack imports or (IAM members) adds again.
    assert sorted(planned[OLD_SOURCE]) == sorted(a.rsplit(" ", 1)[0] + " forget" for a in planned[NEW_SOURCE])
    assert len([a for a in planned[NEW_SOURCE] if a.endswith(" import")]) == 10
    # What the new stack creates are IAM members, which Google adds idempotently.
    assert all("_iam_member." in a for a in planned[NEW_SOURCE] if a.endswith(" create")), planned[NEW_SOURCE]
    assert set(store(demo)) == set(held)
    assert {k: v for k, v in store(demo).items() if "_iam_member/" not in k} == {
        k: v for k, v in held.items() if "_iam_member/" not in k}

    # A later plan is clean.
    plans.clear()
    later = runner.plan(opts(demo, all_stacks=True, **select))
    assert {s["name"]: s["status"] for s in later.plan_document()["stacks"]} == {
        name: "no-changes" for name in ("environment", OLD_SOURCE, NEW_SOURCE, PIPELINE)}, later.summary_lines()


def test_validate_against_a_ref_compares_a_renamed_table_with_its_old_key(demo: Path) -> None:
    from demosupport import git
    from schema_changes_test import schema_file, validate_against, with_amount

    base = demo.parent.parent
    git(base, "init", "-q", "-b", "main")
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "demo")
    path = demo / "pipelines" / "store-daily.yaml"
    old = "    orders:\n      schema: schemas/curated/orders.json\n"
    path.write_text(path.read_text().replace(old, "    sales:\n      renamed_from: orders\n"
                                                   "      schema: schemas/curated/orders.json\n")
                    .replace("  curated.orders:\n", "  curated.sales:\n"))
    assert validate_against(demo)[0] == 0  # a rename alone changes no schema
    schema_file(demo).write_text(json.dumps(with_amount(json.loads(schema_file(demo).read_text()), "STRING")))
    code, document = validate_against(demo)
    found = [(i["table"]["stack"], i["table"]["address"], i["table"]["table_id"], i["column"])
             for i in document["schema_changes"]]
    assert code == 1 and ("pipeline-store-daily", 'module.pipeline.google_bigquery_table.tables["curated-sales"]',
                          "orders", "amount") in found


def test_renamed_versioned_table_moves_every_kept_version_and_the_sql_still_names_it(demo: Path) -> None:
    from versions_test import new_version

    new_version(demo)  # store-daily's curated.orders at version 2, version 1 kept
    render(demo)
    dag = (demo / "stacks" / "pipeline-store-daily" / "dag.py").read_text()
    path = demo / "pipelines" / "store-daily.yaml"
    path.write_text(path.read_text().replace("    orders:\n      schema: schemas/curated/orders_v2.json\n",
                                             "    sales:\n      renamed_from: orders\n"
                                             "      schema: schemas/curated/orders_v2.json\n")
                    .replace("  curated.orders:\n", "  curated.sales:\n"))
    render(demo)
    args = load_model(demo).stack("pipeline-store-daily").arguments
    assert {k: v["table_id"] for k, v in args["tables"].items() if k.startswith("curated-sales")} == {
        "curated-sales": "orders", "curated-sales-v2": "orders_v2"}
    lifecycle = (demo / "stacks" / "pipeline-store-daily" / "lifecycle.tf").read_text()
    for old, new in (("curated-orders", "curated-sales"), ("curated-orders-v2", "curated-sales-v2")):
        assert (f'  from = module.pipeline.google_bigquery_table.tables["{old}"]\n'
                f'  to   = module.pipeline.google_bigquery_table.tables["{new}"]\n') in lifecycle
    # The shared code names the table as before (ref.curated.orders), so the DAG is the same.
    assert (demo / "stacks" / "pipeline-store-daily" / "dag.py").read_text() == dag
