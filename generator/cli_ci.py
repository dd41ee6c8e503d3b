"""Click commands ``df-gen ci ENV_DIR...``, ``df-gen ci comment`` and ``df-gen ci plan-key``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from generator.ci.workflows import PROVIDERS


class _DefaultGroup(click.Group):
    """``df-gen ci ENV_DIR...`` writes the workflows; ``df-gen ci comment|plan-key`` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["generate", *args]
        return super().parse_args(ctx, args)


@click.group("ci", cls=_DefaultGroup)
def ci_group() -> None:
    """Generate CI for environment directories: df-gen ci ENV_DIR... --provider github|gitlab|cloudbuild.

    Pull/merge requests: validate, render --check, plan of the changed stacks, the change
    report as one comment updated on every push. Default branch: apply behind the CI
    system's approval, from the request's saved plans when still current. Schedule: drift.
    See the README's "Git workflow".
    """


@ci_group.command("generate")
@click.argument("env_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path),
                metavar="ENV_DIR...")
@click.option("--provider", type=click.Choice(PROVIDERS), required=True, help="The CI system.")
@click.option("--install", default=None, metavar="COMMAND",
              help="How the runs install df-gen (default: pip install of this version with the embedded engine).")
@click.option("--default-branch", default="main", show_default=True,
              help="The branch merges land on (GitHub; GitLab and Cloud Build know it themselves).")
@click.option("--promote", default=None, metavar="ENV,ENV...",
              help="Promotion order on merge (e.g. dev,prod): apply the first, run the changed pipelines' "
              "DAGs there, then apply the next behind its approval.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file would change or appear.")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited by hand.")
def generate_command(env_dirs: tuple[Path, ...], provider: str, install: str | None, default_branch: str,
                     promote: str | None, check: bool, force: bool) -> None:
    """Write the workflow files for ENV_DIR... at the repository root (never over a hand edit)."""
    from generator.ci.generate import generate

    order = [name.strip() for name in (promote or "").split(",") if name.strip()]
    root, written = generate(env_dirs, provider, install=install, force=force, check=check,
                             branch=default_branch, promote=order)
    for verb, paths in (("create", written.created), ("update", written.updated)):
        for relative in paths:
            click.echo(f"{'would ' if check else ''}{verb} {relative}")
    for conflict in written.conflicts:
        click.echo(conflict.format(), err=True)
    if check and written.changed:
        click.echo("CI files are out of date; run df-gen ci again", err=True)
        sys.exit(1)
    click.echo(f"{root}: {len(written.created)} created, {len(written.updated)} updated, "
               f"{len(written.unchanged)} unchanged")


@ci_group.command("comment")
@click.option("--provider", type=click.Choice(("github", "gitlab")), required=True)
@click.option("--report", "reports", multiple=True, required=True, metavar="FILE.json",
              type=click.Path(dir_okay=False, path_type=Path), help="A JSON report of plan --report (repeatable).")
@click.option("--run-url", default=None, help="Link to the run (its logs, reports and artifacts).")
@click.option("--api-url", default=None,
              help="API root (default: $GITHUB_API_URL or https://api.github.com; $CI_API_V4_URL).")
@click.option("--repository", default=None, help="owner/name (default $GITHUB_REPOSITORY) or GitLab project "
              "ID (default $CI_PROJECT_ID).")
@click.option("--number", type=int, default=None, help="Pull request number or merge request IID "
              "(default: from $GITHUB_EVENT_PATH or $CI_MERGE_REQUEST_IID).")
def comment_command(provider: str, reports: tuple[Path, ...], run_url: str | None, api_url: str | None,
                    repository: str | None, number: int | None) -> None:
    """Post the change report as one comment on the pull/merge request, or update the earlier one."""
    from generator.ci.comment import comment, target_from_environment

    verb, ident = comment(target_from_environment(provider, api_url, repository, number, os.environ),
                          reports, run_url)
    click.echo(f"{verb} comment {ident}")


@ci_group.command("plan-key")
@click.argument("env_dir", type=click.Path(file_okay=False, path_type=Path), metavar="ENV_DIR")
def plan_key_command(env_dir: Path) -> None:
    """Print the key under which CI keeps ENV_DIR's saved plans (git trees of it and its modules)."""
    from generator.ci.plankey import plan_key

    click.echo(plan_key(env_dir))


