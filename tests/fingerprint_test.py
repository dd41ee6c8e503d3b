"""Fingerprints: what changes them and what does not; the record of the last apply."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.fingerprint import Records, fingerprint, module_files, outputs_digest, stack_files
from generator.render import load_model, render

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "environments" / "demo", tmp_path / "environments" / "demo",
                    ignore=shutil.ignore_patterns(".df-gen"))
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    shutil.copytree(ROOT / "modules", tmp_path / "modules", ignore=shutil.ignore_patterns(".terraform*"))
    env_dir = tmp_path / "environments" / "demo"
    render(env_dir)
    return env_dir


def prints(env_dir: Path, upstream: dict[str, str | None] | None = None) -> dict[str, str]:
    model = load_model(env_dir)
    return {s.name: fingerprint(s, env_dir / "stacks", upstream or {}) for s in model.stacks}


def test_fingerprint_is_stable_and_ignores_terraform_and_override_files(demo: Path) -> None:
    first = prints(demo)
    assert first == prints(demo) and len(set(first.values())) == len(first)
    (demo / "stacks" / "environment" / "df_gen_sandbox_override.tf").write_text("# run-time only")
    (demo / "stacks" / "environment" / ".terraform.lock.hcl").write_text("# init")
    assert prints(demo) == first


def test_rendered_file_change_touches_only_its_stacks(demo: Path) -> None:
    before = prints(demo)
    sql = demo.parent.parent / "pipelines" / "retail" / "sql" / "orders.sql.j2"
    sql.write_text(sql.read_text() + "\n-- tweak\n")
    render(demo)
    after = prints(demo)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"pipeline-ecommerce-hourly", "pipeline-store-daily"}


def test_module_files_count_but_not_readmes_or_examples(demo: Path) -> None:
    modules = demo.parent.parent / "modules"
    before = prints(demo)
    (modules / "datasource" / "README.md").write_text("docs")
    (modules / "datasource" / "examples" / "minimal" / "main.tf").write_text("# example")
    assert prints(demo) == before
    assert all(p.suffix != ".md" and "examples" not in p.parts for p in module_files(modules / "datasource"))
    with open(modules / "datasource" / "buckets.tf", "a") as fh:
        fh.write("\n# changed\n")
    after = prints(demo)
    assert {n for n in before if before[n] != after[n]} == {"datasource-ecommerce", "datasource-store"}


def test_upstream_outputs_count(demo: Path) -> None:
    model = load_model(demo)
    stack = model.stack("pipeline-store-daily")
    one = fingerprint(stack, demo / "stacks", {"environment": "sha256:aaa"})
    assert one != fingerprint(stack, demo / "stacks", {"environment": "sha256:bbb"})
    assert one != fingerprint(stack, demo / "stacks", {"environment": None})


def test_stack_files_come_from_the_manifest(demo: Path) -> None:
    files = stack_files("pipeline-store-daily", demo / "stacks")
    assert "pipeline-store-daily/main.tf" in files and "pipeline-store-daily/dag.py" in files
    assert all(f.startswith("pipeline-store-daily/") for f in files)


def test_outputs_digest_ignores_types_and_order() -> None:
    a = {"x": {"value": [1, 2], "type": ["list", "number"], "sensitive": False}, "y": {"value": "s"}}
    b = {"y": {"value": "s", "type": "string"}, "x": {"value": [1, 2]}}
    assert outputs_digest(a) == outputs_digest(b)
    assert outputs_digest(a) != outputs_digest({"x": {"value": [2, 1]}, "y": {"value": "s"}})


def test_records_round_trip_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "fingerprints.json"
    records = Records(path)
    assert records.fingerprint("environment") is None
    records.record("environment", "sha256:f", "sha256:o")
    again = Records(path)
    assert (again.fingerprint("environment"), again.outputs("environment")) == ("sha256:f", "sha256:o")
    again.clear("environment")
    assert Records(path).fingerprint("environment") is None
    path.write_text("not json")
    assert Records(path).fingerprint("environment") is None  # broken record: everything counts as changed
