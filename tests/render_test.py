"""Rendering: golden demo stacks, determinism, no-op, hand edits, removed descriptors, --check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from demosupport import copy_sources

from generator.cli import cli
from generator.errors import DfGenError
from generator.render import MANIFEST, load_model, render, render_files

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the repository's demo (environment and pipeline code) in tmp_path."""
    return copy_sources(tmp_path, modules=True)


def _tree(stacks: Path) -> dict[str, bytes]:
    return {p.relative_to(stacks).as_posix(): p.read_bytes() for p in sorted(stacks.rglob("*"))
            if p.is_file() and ".terraform" not in p.parts and p.name != MANIFEST and ".df-gen" not in p.parts}


def test_committed_demo_stacks_are_current():
    """Golden files: a template or model change must come with re-rendered demo stacks."""
    files = render_files(load_model(DEMO))
    on_disk = {k: v.decode() for k, v in _tree(DEMO / "stacks").items()
               if not k.endswith(".terraform.lock.hcl")}
    assert sorted(files) == sorted(on_disk), "run: df-gen render environments/demo"
    for relative, text in files.items():
        assert on_disk[relative] == text, f"stacks/{relative} is stale; run: df-gen render environments/demo"


@pytest.mark.slow  # renders the demo in several fresh processes: the slow lane
def test_render_is_deterministic_across_hash_seeds(demo):
    outputs = []
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        shutil.rmtree(demo / "stacks", ignore_errors=True)
        subprocess.run([sys.executable, "-c", "from generator.cli import main; main()", "render", str(demo)],
                       check=True, env=env, capture_output=True)
        outputs.append(_tree(demo / "stacks"))
    assert outputs[0] == outputs[1] == outputs[2]
    assert (demo / "stacks" / MANIFEST).is_file()


def test_noop_render_writes_nothing(demo):
    render(demo)
    stamps = {p: p.stat().st_mtime_ns for p in (demo / "stacks").rglob("*") if p.is_file()}
    report = render(demo)
    assert not report.changed and not report.created and not report.updated
    assert {p: p.stat().st_mtime_ns for p in (demo / "stacks").rglob("*") if p.is_file()} == stamps


def test_hand_edit_is_never_overwritten(demo):
    render(demo)
    main_tf = demo / "stacks" / "environment" / "main.tf"
    main_tf.write_text(main_tf.read_text() + "# my change\n")
    text = (demo / "environment.yaml").read_text().replace("size: small", "size: medium")
    (demo / "environment.yaml").write_text(text)
    with pytest.raises(DfGenError) as raised:
        render(demo)
    assert raised.value.lines() == [
        f"{main_tf}:1:1: error: edited by hand since df-gen wrote it (or not written by df-gen); "
        "not overwritten (hint: move your change into the descriptors or pipeline code, or re-run with --force)"
    ]
    assert main_tf.read_text().endswith("# my change\n")
    report = render(demo, force=True)
    assert report.updated == ["environment/main.tf"]
    assert "ENVIRONMENT_SIZE_MEDIUM" in main_tf.read_text()


def test_removed_descriptor_is_retired_and_pruned_only_once_released(demo):
    render(demo)
    (demo / "pipelines" / "ecommerce-hourly.yaml").unlink()
    report = render(demo)
    assert report.retired == {"pipeline-ecommerce-hourly": ("module.pipeline",)} and report.orphaned == {}
    assert (demo / "stacks" / "pipeline-ecommerce-hourly" / "lifecycle.tf").is_file()
    assert not render(demo).changed
    with pytest.raises(DfGenError, match="not pruned: df-gen has not seen its state empty"):
        render(demo, prune=True)
    assert (demo / "stacks" / "pipeline-ecommerce-hourly" / "main.tf").is_file()


def test_a_removed_stack_without_main_tf_is_reported_and_pruned_when_nothing_says_it_holds_resources(demo):
    render(demo)
    (demo / "pipelines" / "ecommerce-hourly.yaml").unlink()
    (demo / "stacks" / "pipeline-ecommerce-hourly" / "main.tf").unlink()
    report = render(demo)
    assert list(report.orphaned) == ["pipeline-ecommerce-hourly"] and report.retired == {}
    pruned = render(demo, prune=True)
    assert "pipeline-ecommerce-hourly/outputs.tf" in pruned.deleted
    assert not (demo / "stacks" / "pipeline-ecommerce-hourly").exists()
    assert not render(demo).changed


def test_check_lists_every_change_and_writes_nothing(demo, monkeypatch):
    render(demo)
    (demo / "stacks" / "datasource-store" / "outputs.tf").unlink()
    source = demo / "datasources" / "ecommerce.yaml"
    text = source.read_text().replace("delete_after_days: 14", "delete_after_days: 21")
    (demo / "datasources" / "ecommerce.yaml").write_text(text)
    monkeypatch.chdir(demo)
    result = CliRunner().invoke(cli, ["render", ".", "--check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "would create stacks/datasource-store/outputs.tf",
        "would update stacks/datasource-ecommerce/main.tf",
    ]
    assert result.stderr.startswith("stacks: out of date (1 to create, 1 to update, 0 to delete")
    assert not (demo / "stacks" / "datasource-store" / "outputs.tf").exists()
    assert CliRunner().invoke(cli, ["render", "."]).exit_code == 0
    assert CliRunner().invoke(cli, ["render", ".", "--check"]).exit_code == 0


def test_pipeline_code_change_rerenders_its_stack(demo):
    render(demo)
    sql = demo.parent.parent / "pipelines" / "retail" / "sql" / "products.sql.j2"
    sql.write_text(sql.read_text() + "\n-- reviewed\n")
    report = render(demo)
    assert sorted(report.updated) == [
        "pipeline-ecommerce-hourly/sql/products.sql",
        "pipeline-store-daily/sql/products.sql",
    ]


def test_graph_formats(demo):
    runner = CliRunner()
    mermaid = runner.invoke(cli, ["graph", str(demo)]).stdout
    assert "  environment --> datasource_store\n" in mermaid
    assert "  datasource_store --> pipeline_store_daily\n" in mermaid
    dot = runner.invoke(cli, ["graph", str(demo), "--format", "dot"]).stdout
    assert '"datasource-store" -> "pipeline-store-daily";' in dot
    import json

    document = json.loads(runner.invoke(cli, ["graph", str(demo), "--json"]).stdout)
    assert document["stacks"][0] == {"name": "environment", "kind": "environment", "needs": []}
    assert {"name": "pipeline-store-daily", "kind": "pipeline",
            "needs": ["environment", "datasource-store"]} in document["stacks"]


def test_readme_shows_the_demo_graph():
    mermaid = CliRunner().invoke(cli, ["graph", str(DEMO)]).stdout
    assert f"```mermaid\n{mermaid}```" in (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_every_rendered_demo_stack_passes_terraform_validate(demo, tmp_path):
    """Real Terraform (embedded) with the sandbox provider's google 8.7.0 schema."""
    from generator.engine import resolve_engine, sandbox_environment

    render(demo)
    engine = resolve_engine(None, for_sandbox=True)
    for stack in sorted(p for p in (demo / "stacks").iterdir() if p.is_dir()):
        env = {**os.environ, **sandbox_environment(stack, tmp_path / "sandbox"),
               "TF_DATA_DIR": str(tmp_path / "tfdata" / stack.name)}
        code, out, err = engine.run(["init", "-backend=false", "-input=false", "-no-color"], cwd=stack, env=env)
        assert code == 0, f"{stack.name}: init failed\n{out}\n{err}"
        code, out, err = engine.run(["validate", "-no-color"], cwd=stack, env=env)
        assert code == 0, f"{stack.name}: validate failed\n{out}\n{err}"
        assert "Success! The configuration is valid" in out


def test_modules_from_a_pinned_git_source(demo):
    text = (demo / "environment.yaml").read_text().replace(
        "  modules:\n    path: ../../modules",
        "  modules:\n    git:\n      url: https://git.example.com/platform/df-gen.git\n      ref: v1.2.0",
    )
    (demo / "environment.yaml").write_text(text)
    files = render_files(load_model(demo))
    assert ('  source = "git::https://git.example.com/platform/df-gen.git//modules/datasource?ref=v1.2.0"\n'
            in files["datasource-store/main.tf"])


def test_stack_dir_files_lists_what_terraform_reads_in_path_order(tmp_path: Path) -> None:
    from generator.overrides import OVERRIDE_NAME
    from generator.render import stack_dir_files

    stack = tmp_path / "stacks" / "pipeline-a"
    for relative in ("main.tf", "a-b.sql", "a/b.sql", "a/c/d.json", ".terraform/x.tf", ".hidden.tf",
                     "views/.tmp/x.sql", OVERRIDE_NAME, f"views/{OVERRIDE_NAME}", "z.tf"):
        (stack / relative).parent.mkdir(parents=True, exist_ok=True)
        (stack / relative).write_text("x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.tf").write_text("x")
    (stack / "linked.tf").symlink_to(tmp_path / "outside" / "o.tf")
    (stack / "linked-dir").symlink_to(tmp_path / "outside")
    (stack / "dangling.tf").symlink_to(tmp_path / "missing.tf")
    expected = ["pipeline-a/a/b.sql", "pipeline-a/a/c/d.json", "pipeline-a/a-b.sql", "pipeline-a/linked.tf",
                "pipeline-a/main.tf", "pipeline-a/z.tf"]
    assert stack_dir_files(tmp_path / "stacks", "pipeline-a") == expected
    # The same as listing with pathlib, as render did before.
    listed = [p.relative_to(tmp_path / "stacks").as_posix() for p in sorted(stack.rglob("*"))
              if p.is_file() and p.name != OVERRIDE_NAME
              and not any(part.startswith(".") for part in p.relative_to(stack).parts)]
    assert listed == expected
    assert stack_dir_files(tmp_path / "stacks", "missing") == []


@pytest.mark.parametrize("files", [{}, {"b/main.tf": "sha256:1", "a/x.tf": "sha256:2"},
                                   {"a/\u00e9t\u00e9.sql": "sha256:3", 'a/q"uote\\.tf': "sha256:\u2603"}])
def test_the_manifest_text_is_the_json_it_always_was(files: dict[str, str]) -> None:
    """Written out by hand (json's indenting encoder is Python): the same bytes as json.dumps."""
    import json

    from generator import __version__
    from generator.render import manifest_text

    document = {"about": "Written by df-gen render: the hash of every generated file, to detect hand edits.",
                "generator": f"df-gen {__version__}", "files": dict(sorted(files.items()))}
    assert manifest_text(files) == json.dumps(document, indent=2) + "\n"
