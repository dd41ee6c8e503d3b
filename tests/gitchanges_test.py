"""--changed-since REF: stacks whose committed files changed, with dependants; one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from demosupport import copy_demo, opts, statuses

from generator import runner
from generator.cli import cli
from generator.errors import DfGenError
from generator.gitchanges import changed_stacks
from generator.render import load_model, render


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def init_repo(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.invalid")
    git(repo, "config", "user.name", "ci")
    (repo / ".gitignore").write_text(".df-gen/\n*_override.tf\n.terraform/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding a copy of the demo; the current directory is its root."""
    copy_demo(tmp_path)
    init_repo(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def env(repo: Path) -> Path:
    return repo / "environments" / "demo"


def test_pipeline_code_change_selects_the_stacks_rendered_from_it(repo: Path) -> None:
    assert changed_stacks(load_model(env(repo)), "HEAD") == set()
    sql = repo / "pipelines" / "retail" / "sql" / "orders.sql.j2"
    sql.write_text(sql.read_text() + "\n-- reviewed\n")
    assert changed_stacks(load_model(env(repo)), "HEAD") == set()  # not rendered yet: stacks unchanged
    render(env(repo))
    git(repo, "commit", "-qam", "sql")
    assert changed_stacks(load_model(env(repo)), "HEAD~1") == {"pipeline-ecommerce-hourly", "pipeline-store-daily"}
    assert changed_stacks(load_model(env(repo)), "HEAD") == set()


def test_module_changes_count_like_the_fingerprint_and_dependants_follow(repo: Path) -> None:
    readme = repo / "modules" / "datasource" / "README.md"
    readme.write_text(readme.read_text() + "\nmore words\n")
    assert changed_stacks(load_model(env(repo)), "HEAD") == set()
    tf = next((repo / "modules" / "datasource").glob("*.tf"))
    tf.write_text(tf.read_text() + "\n# touched\n")
    assert changed_stacks(load_model(env(repo)), "HEAD") == {
        "datasource-ecommerce", "datasource-store", "pipeline-ecommerce-hourly", "pipeline-store-daily"}
    new = repo / "modules" / "environment" / "extra.tf"  # untracked files count too
    new.write_text("# new\n")
    assert "environment" in changed_stacks(load_model(env(repo)), "HEAD")


def test_plan_runs_only_changed_stacks_without_local_records(repo: Path, fake) -> None:
    engine = fake()
    module = next((repo / "modules" / "pipeline").glob("*.tf"))
    module.write_text(module.read_text() + "\n# touched\n")
    report = runner.plan(opts(env(repo), changed_since="HEAD"))
    assert statuses(report) == {"pipeline-ecommerce-hourly": "changes", "pipeline-store-daily": "changes"}
    assert not (env(repo) / ".df-gen" / "gcp" / "fingerprints.json").exists()
    # Intersection with --stack/--only: the named stack's dependencies are not changed ones.
    report = runner.plan(opts(env(repo), changed_since="HEAD", stacks=("pipeline-store-daily",)))
    assert statuses(report) == {"pipeline-store-daily": "changes"}
    # Local records do not skip a changed stack: apply records it, plan still plans it.
    runner.apply(opts(env(repo), auto_approve=True, stacks=("pipeline-store-daily",)))
    report = runner.plan(opts(env(repo), changed_since="HEAD", stacks=("pipeline-store-daily",), only=True))
    assert statuses(report) == {"pipeline-store-daily": "changes"}
    assert "plan" in engine.commands("pipeline-store-daily")


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_bad_input_is_one_line_exit_1(repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run_cli("plan", "environments/demo", "--changed-since", "no-such-ref")
    assert code == 1
    assert output == (f"error: --changed-since: unknown git revision 'no-such-ref' in {repo.resolve()} "
                      "(a shallow clone lacks older commits: git fetch --unshallow)\n")
    code, output = run_cli("plan", "environments/demo", "--changed-since", "--all")
    assert code == 1 and output == "error: --changed-since: '--all' is not a git revision\n"

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    outside = copy_demo(elsewhere)
    code, output = run_cli("plan", str(outside), "--changed-since", "HEAD")
    assert code == 1
    assert output == (f"error: --changed-since: the environment directory {outside} is outside the git "
                      f"repository {repo.resolve()}\n")

    monkeypatch.chdir(elsewhere)
    code, output = run_cli("apply", str(outside), "--changed-since", "HEAD", "--auto-approve")
    assert code == 1
    assert output == (f"error: --changed-since: {elsewhere} is not inside a git repository "
                      "(run df-gen from the checkout)\n")


def test_changed_stacks_refuses_outside_environment_directly(repo: Path, tmp_path_factory) -> None:
    outside = copy_demo(tmp_path_factory.mktemp("other"))
    with pytest.raises(DfGenError, match="is outside the git repository"):
        changed_stacks(load_model(outside), "HEAD")
