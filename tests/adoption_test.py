"""Adoption (``existing: true``): import blocks rendered instead of creation, bad input, and
(slow) real Terraform against a seeded sandbox: imported, not created, data kept, later plans
clean, a missing object reported at its descriptor key, destroy leaving adopted resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from runner_test import copy_demo, fake, opts, statuses  # noqa: F401 - fake is a fixture
from tfsupport import fmt_problems

from generator import adoption, runner
from generator.cli import cli
from generator.render import render

BUCKET = 'module.datasource.google_storage_bucket.default["landing"]'
DATASET = 'module.datasource.google_bigquery_dataset.default["curated"]'
TOPIC = 'module.datasource.google_pubsub_topic.default["orders"]'
TABLE = 'module.pipeline.google_bigquery_table.tables["curated-products"]'
SHARED = 'module.environment.google_storage_bucket.shared["temp"]'


def mark_existing(env_dir: Path, what: tuple[str, ...] = ("bucket", "dataset", "topic", "table")) -> None:
    """Mark the ecommerce source's landing bucket, curated dataset and orders topic, and the
    ecommerce-hourly pipeline's curated.products table ``existing: true``."""
    edits = {
        "bucket": ("datasources/ecommerce.yaml", "  landing:\n    lifecycle:\n",
                   "  landing:\n    existing: true\n    lifecycle:\n"),
        "dataset": ("datasources/ecommerce.yaml", "  curated: {}\n", "  curated:\n    existing: true\n"),
        "topic": ("datasources/ecommerce.yaml", "    orders:\n      message_retention_hours",
                  "    orders:\n      existing: true\n      message_retention_hours"),
        "table": ("pipelines/ecommerce-hourly.yaml", "    products:\n      schema: schemas/curated/",
                  "    products:\n      existing: true\n      schema: schemas/curated/"),
        "shared": ("environment.yaml", "    temp:\n      storage_class",
                   "    temp:\n      existing: true\n      storage_class"),
    }
    for key in what:
        name, old, new = edits[key]
        path = env_dir / name
        text = path.read_text()
        assert old in text, (key, old)
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return copy_demo(tmp_path)


# ------------------------------------------------------------------ rendering (fast)


def test_existing_renders_import_blocks_with_the_providers_id_formats(demo: Path) -> None:
    mark_existing(demo, ("bucket", "dataset", "topic", "table", "shared"))
    render(demo)
    stacks = demo / "stacks"
    source = (stacks / "datasource-ecommerce" / "main.tf").read_text()
    assert source.endswith(
        "\n# Adopted (datasources/ecommerce.yaml: existing: true): bucket \"acme-demo-ecommerce-landing\" "
        "already exists; imported, not created.\n"
        "import {\n"
        f"  to = {BUCKET}\n"
        '  id = "acme-demo-lnd/acme-demo-ecommerce-landing"\n'
        "}\n\n"
        "# Adopted (datasources/ecommerce.yaml: existing: true): dataset \"acme_demo_ecommerce_curated\" "
        "already exists; imported, not created.\n"
        "import {\n"
        f"  to = {DATASET}\n"
        '  id = "projects/acme-demo-cur/datasets/acme_demo_ecommerce_curated"\n'
        "}\n\n"
        "# Adopted (datasources/ecommerce.yaml: existing: true): topic \"ecommerce-orders\" "
        "already exists; imported, not created.\n"
        "import {\n"
        f"  to = {TOPIC}\n"
        '  id = "projects/acme-demo-lnd/topics/ecommerce-orders"\n'
        "}\n"
    )
    pipeline = (stacks / "pipeline-ecommerce-hourly" / "main.tf").read_text()
    assert pipeline.count("import {") == 1
    assert f"  to = {TABLE}\n" in pipeline
    assert '  id = "projects/acme-demo-cur/datasets/acme_demo_ecommerce_curated/tables/products"\n' in pipeline
    environment = (stacks / "environment" / "main.tf").read_text()
    assert f"  to = {SHARED}\n" in environment and '  id = "acme-demo-orc/acme-demo-temp"\n' in environment
    # Untouched stacks render no import block; everything stays terraform-fmt clean.
    assert "import {" not in (stacks / "datasource-store" / "main.tf").read_text()
    assert fmt_problems(stacks) == ""


def test_existing_false_is_created_as_before(demo: Path) -> None:
    before = (demo / "stacks" / "datasource-ecommerce" / "main.tf").read_text()
    path = demo / "datasources" / "ecommerce.yaml"
    path.write_text(path.read_text().replace("  curated: {}\n", "  curated:\n    existing: false\n"))
    render(demo)
    assert (demo / "stacks" / "datasource-ecommerce" / "main.tf").read_text() == before


def test_existing_that_is_not_a_boolean_is_one_line_at_the_key(demo: Path) -> None:
    path = demo / "datasources" / "ecommerce.yaml"
    path.write_text(path.read_text().replace("  curated: {}\n", "  curated:\n    existing: acme_old_sales\n"))
    result = CliRunner().invoke(cli, ["validate", str(demo)])
    assert result.exit_code == 1
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "existing:" in text)
    (error,) = [text for text in result.output.splitlines() if "error:" in text]
    assert error == (f"{path}:{line}:15: error: datasets.curated.existing: expected true or false, "
                     "got string 'acme_old_sales'")


# ------------------------------------------------------------------ failure mapping (fast)


def test_missing_object_is_reported_at_the_existing_key(demo: Path) -> None:
    mark_existing(demo, ("topic",))
    from generator.render import load_model

    (item,) = load_model(demo).stack("datasource-ecommerce").imports
    # Terraform's own text (internal/terraform/node_resource_plan_instance.go), address %q-quoted.
    output = (
        "Error: Cannot import non-existent remote object\n\n"
        "While attempting to import an existing object to\n"
        '"module.datasource.google_pubsub_topic.default[\\"orders\\"]", the provider\n'
        "detected that no object exists with the given id. Only pre-existing objects\n"
        "can be imported; check that the id is correct and that it is associated with\n"
        "the provider's configured region or endpoint, or use \"terraform apply\" to\n"
        "create a new remote object for this resource.\n"
    )
    (diagnostic,) = adoption.missing_objects([item], output, sandbox=True)
    path = demo / "datasources" / "ecommerce.yaml"
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "existing:" in text)
    assert (diagnostic.line, diagnostic.col) == (line, 7)
    assert diagnostic.message.startswith('topic "ecommerce-orders" is marked existing but does not exist in the '
                                         "sandbox (Terraform: Cannot import non-existent remote object")
    assert adoption.missing_objects([item], "Error: Invalid bucket name\n", sandbox=True) == []


# ------------------------------------------------------------------ destroy (fast, fake engine)


@pytest.mark.parametrize("destroy_adopted", [False, True], ids=["default", "destroy-adopted"])
def test_destroy_forgets_adopted_resources_unless_asked(demo: Path, fake, destroy_adopted: bool) -> None:  # noqa: F811
    mark_existing(demo, ("bucket", "topic"))
    render(demo)
    listing = "\n".join([BUCKET, 'module.datasource.google_storage_bucket.default["archive"]', TOPIC]) + "\n"
    calls: list[list[str]] = []
    fake({("datasource-ecommerce", "state"): [(0, listing), (0, "Removed 2 objects\n")]},
         on_call=lambda stack, args, cwd: calls.append(args) if stack == "datasource-ecommerce" else None)
    report = runner.destroy(opts(demo, sandbox=True, auto_approve=True, stacks=("datasource-ecommerce",),
                                 only=True, destroy_adopted=destroy_adopted))
    (result,) = report.results
    assert result.status == "destroyed"
    commands = [args[:2] for args in calls if args[0] in ("state", "destroy")]
    if destroy_adopted:
        assert commands == [["state", "list"], ["destroy", "-auto-approve"]]
        assert result.note == "3 resources"
    else:
        assert commands == [["state", "list"], ["state", "rm"], ["destroy", "-auto-approve"]]
        (removal,) = [args for args in calls if args[:2] == ["state", "rm"]]
        assert removal[2:] == ["-no-color", BUCKET, TOPIC]
        assert result.note == f"1 resources; kept 2 adopted (removed from state): {BUCKET}, {TOPIC}"


# ------------------------------------------------------------------ real Terraform (slow)


def adopting_demo(tmp_path: Path) -> Path:
    """A demo copy whose landing and curated projects are adopted (``existing: <id>``), with a
    seed file declaring what exists there before the first run: the ecommerce landing bucket
    (holding a file), curated dataset, orders topic, and the curated products table (42 rows),
    all marked ``existing: true``. CMEK is off in this copy: the seeded resources predate the
    environment's keys."""
    env_dir = copy_demo(tmp_path)
    path = env_dir / "environment.yaml"
    text = path.read_text()
    text = text.replace("  landing: {}\n", "  landing:\n    existing: acme-old-lnd\n")
    text = text.replace("  curated: {}\n", "  curated:\n    existing: acme-old-cur\n")
    start = text.index("kms:\n")
    path.write_text(text[:start] + text[text.index("policy_tags:\n"):])
    mark_existing(env_dir)
    render(env_dir)
    schema = (env_dir / "stacks" / "pipeline-ecommerce-hourly" / "schemas" / "curated.products.json").read_text()
    dataset = {"project": "acme-old-cur", "dataset_id": "acme_demo_ecommerce_curated"}
    seed = {
        "projects": {"acme-old-lnd": {}, "acme-old-cur": {}},
        "resources": [
            {"type": "google_storage_bucket", "state": {"project": "acme-old-lnd", "name": LANDING, "location": "EU"}},
            {"type": "google_storage_bucket_object", "state": {"bucket": LANDING, "name": "orders/2024-01-01.csv",
                                                               "content": "order_id\n1\n"}},
            {"type": "google_bigquery_dataset", "state": {**dataset, "location": "EU"}},
            {"type": "google_bigquery_table", "state": {**dataset, "table_id": "products", "schema": schema,
                                                        "num_rows": 42}},
            {"type": "google_pubsub_topic", "state": {"project": "acme-old-lnd", "name": "ecommerce-orders"}},
        ],
    }
    sandbox = env_dir / ".df-gen" / "sandbox"
    sandbox.mkdir(parents=True)
    (sandbox / "seed.json").write_text(json.dumps(seed, indent=2))
    return env_dir


LANDING = "acme-demo-ecommerce-landing"
ADOPTED_KEYS = {
    f"google_storage_bucket/{LANDING}",
    f"google_storage_bucket_object/{LANDING}-orders/2024-01-01.csv",
    "google_bigquery_dataset/projects/acme-old-cur/datasets/acme_demo_ecommerce_curated",
    "google_bigquery_table/projects/acme-old-cur/datasets/acme_demo_ecommerce_curated/tables/products",
    "google_pubsub_topic/projects/acme-old-lnd/topics/ecommerce-orders",
}


def stored(env_dir: Path) -> dict[str, Any]:
    return dict(json.loads((env_dir / ".df-gen" / "sandbox" / "store.json").read_text())["resources"])


def type_counts(report: runner.RunReport, stack: str) -> dict[str, dict[str, int]]:
    result = next(r for r in report.results if r.name == stack)
    assert result.summary is not None
    return result.summary.type_counts()


@pytest.mark.slow
def test_adopted_resources_are_imported_kept_and_a_missing_one_is_one_line(tmp_path: Path) -> None:
    env_dir = adopting_demo(tmp_path)
    applied = runner.apply(opts(env_dir, sandbox=True, auto_approve=True))
    assert set(statuses(applied).values()) == {"applied"}, applied.summary_lines()
    # Imported, never created: the other bucket, datasets and the dead-letter topic are created.
    source = type_counts(applied, "datasource-ecommerce")
    assert (source["google_storage_bucket"]["import"], source["google_storage_bucket"]["add"]) == (1, 1)
    assert (source["google_bigquery_dataset"]["import"], source["google_bigquery_dataset"]["add"]) == (1, 2)
    assert (source["google_pubsub_topic"]["import"], source["google_pubsub_topic"]["add"]) == (1, 1)
    tables = type_counts(applied, "pipeline-ecommerce-hourly")["google_bigquery_table"]
    assert tables["import"] == 1 and tables["destroy"] == 0 and tables["replace"] == 0
    assert all(r.destructive == () for r in applied.results)
    # The data is still there: the rows of the table, the file in the bucket.
    store = stored(env_dir)
    assert ADOPTED_KEYS <= set(store)
    table = store["google_bigquery_table/projects/acme-old-cur/datasets/acme_demo_ecommerce_curated/tables/products"]
    assert table["state"]["num_rows"] == 42
    assert table["state"]["labels"]["df_pipeline"] == "ecommerce-hourly"  # managed from now on

    # Import blocks stay: once in state they are no-ops, every later plan is clean.
    planned = runner.plan(opts(env_dir, sandbox=True, all_stacks=True))
    assert set(statuses(planned).values()) == {"no-changes"}, planned.summary_lines()

    # Adopting something that does not exist: one line at the `existing` key, exit 1,
    # nothing applied (Terraform imports at plan time).
    descriptor = env_dir / "datasources" / "ecommerce.yaml"
    original = descriptor.read_text()
    descriptor.write_text(original.replace("  topics:\n", "  topics:\n    returns:\n      existing: true\n", 1))
    line = original.splitlines().index("  topics:") + 3
    render(env_dir)
    before = stored(env_dir)
    result = CliRunner().invoke(cli, ["apply", str(env_dir), "--sandbox", "--auto-approve"])
    assert result.exit_code == 1
    # The summary's line for the stack (progress lines, on stderr, repeat it after a prefix).
    errors = [text.strip() for text in result.output.splitlines() if text.strip().startswith(str(descriptor))]
    assert errors == [(
        f"{descriptor}:{line}:7: error: topic \"ecommerce-returns\" is marked existing but does not exist in the "
        "sandbox (Terraform: Cannot import non-existent remote object, import id "
        "projects/acme-old-lnd/topics/ecommerce-returns); nothing of this stack was applied "
        "(hint: fix the name, create it first, or drop 'existing' to let df-gen create it)"
    )], result.output
    assert stored(env_dir) == before
    descriptor.write_text(original)
    render(env_dir)

    # destroy hands adopted resources back: removed from state, left in place with their data.
    destroyed = runner.destroy(opts(env_dir, sandbox=True, auto_approve=True))
    assert set(statuses(destroyed).values()) == {"destroyed"}, destroyed.summary_lines()
    left = stored(env_dir)
    assert ADOPTED_KEYS <= set(left)
    assert left[next(k for k in ADOPTED_KEYS if "tables/products" in k)]["state"]["num_rows"] == 42
    created = [k for k in left if k.startswith(("google_storage_bucket/", "google_bigquery_", "google_pubsub_"))]
    assert sorted(created) == sorted(k for k in ADOPTED_KEYS if "_object/" not in k)
