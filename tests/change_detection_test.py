"""Hand edits and extra files: render --check, plan's freshness check and fingerprints see them.

Also: a stacks/ that cannot be written gives one line naming the file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.fingerprint import fingerprint, stack_files
from generator.render import load_model, render

BASE = Path(__file__).parent / "data" / "descriptors" / "base"
EXTRA = 'resource "google_storage_bucket" "extra" {\n  name     = "acme-test-hand-added"\n  location = "EU"\n}\n'


@pytest.fixture
def env_dir(tmp_path: Path, monkeypatch) -> Path:
    """The base test environment, rendered, as the working directory."""
    shutil.copytree(BASE, tmp_path / "env")
    monkeypatch.chdir(tmp_path / "env")
    render(Path("."))
    return Path(".")


def _edit(env_dir: Path) -> Path:
    main = env_dir / "stacks" / "datasource-sales" / "main.tf"
    main.write_text(main.read_text().replace('"NEARLINE"', '"COLDLINE"'))
    return main


def test_check_reports_a_hand_edited_file(env_dir):
    _edit(env_dir)
    result = CliRunner().invoke(cli, ["render", ".", "--check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "stacks/datasource-sales/main.tf:1:1: error: edited by hand since df-gen wrote it (or not written by "
        "df-gen); not overwritten (hint: move your change into the descriptors or pipeline code, or re-run with "
        "--force)",
        "stacks: out of date (0 to create, 0 to update, 0 to delete, 0 orphaned stacks, 1 edited by hand, "
        "0 not written by df-gen); run df-gen render .",
    ]


def test_plan_refuses_a_hand_edited_file(env_dir):
    _edit(env_dir)
    result = CliRunner().invoke(cli, ["plan", ".", "--sandbox"])
    assert result.exit_code == 1
    assert result.output == (
        "stacks/datasource-sales/main.tf:1:1: error: edited by hand since df-gen wrote it; plan and apply run "
        "only what df-gen rendered (hint: move the change into the descriptors, or restore the file with "
        "df-gen render . --force)\n"
    )


def test_force_restores_the_edit_and_check_passes_again(env_dir):
    main = _edit(env_dir)
    edited = main.read_text()
    assert CliRunner().invoke(cli, ["render", ".", "--force"]).exit_code == 0
    assert main.read_text() != edited
    assert CliRunner().invoke(cli, ["render", ".", "--check"]).output == "stacks: up to date\n"


def test_check_reports_files_df_gen_did_not_write(env_dir):
    (env_dir / "stacks" / "datasource-sales" / "extra.tf").write_text(EXTRA)
    (env_dir / "stacks" / "datasource-sales" / ".terraform.lock.hcl").write_text("# Terraform's own\n")
    result = CliRunner().invoke(cli, ["render", ".", "--check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "stacks/datasource-sales/extra.tf: warning: not written by df-gen; Terraform reads it as part of the "
        "stack (move it into the descriptors, or delete it)",
        "stacks: out of date (0 to create, 0 to update, 0 to delete, 0 orphaned stacks, 0 edited by hand, "
        "1 not written by df-gen); run df-gen render .",
    ]


def test_every_file_of_a_stack_counts_in_its_fingerprint(env_dir):
    model = load_model(env_dir)
    stack = model.stack("datasource-sales")
    stacks_dir = env_dir / "stacks"
    before = fingerprint(stack, stacks_dir, {})
    (stacks_dir / "datasource-sales" / "extra.tf").write_text(EXTRA)
    assert "datasource-sales/extra.tf" in stack_files("datasource-sales", stacks_dir)
    assert fingerprint(stack, stacks_dir, {}) != before
    (stacks_dir / "datasource-sales" / "extra.tf").unlink()
    assert fingerprint(stack, stacks_dir, {}) == before
    # Terraform's own files and df-gen's temporary override do not count.
    (stacks_dir / "datasource-sales" / ".terraform.lock.hcl").write_text("# lock\n")
    (stacks_dir / "datasource-sales" / "df_gen_sandbox_override.tf").write_text("# override\n")
    assert fingerprint(stack, stacks_dir, {}) == before


def test_unwritable_stack_directory_is_one_line(env_dir, immutable):
    descriptor = env_dir / "datasources" / "sales.yaml"
    descriptor.write_text(descriptor.read_text().replace("domain: sales", "domain: sales2"))
    immutable(env_dir / "stacks" / "datasource-sales")
    result = CliRunner().invoke(cli, ["render", "."])
    assert result.exit_code == 1
    assert result.output == (
        "stacks/datasource-sales/main.tf: error: cannot write this file: Operation not permitted "
        "(hint: check the permissions of stacks/ (and chattr/immutable flags))\n"
    )


def test_unwritable_manifest_is_one_line(env_dir, immutable):
    descriptor = env_dir / "datasources" / "sales.yaml"
    descriptor.write_text(descriptor.read_text().replace("domain: sales", "domain: sales2"))
    immutable(env_dir / "stacks")
    result = CliRunner().invoke(cli, ["render", "."])
    assert result.exit_code == 1
    assert result.output == (
        "stacks/.df-gen-manifest.json: error: cannot write this file: Operation not permitted "
        "(hint: check the permissions of stacks/ (and chattr/immutable flags))\n"
    )
