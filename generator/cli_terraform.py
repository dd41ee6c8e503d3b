"""Click commands ``df-gen terraform`` and ``df-gen version`` (registered by cli.py)."""

from __future__ import annotations

import sys

import click

from generator import __version__
from generator.engine import describe_engine, run_terraform


@click.command(
    "terraform",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--sandbox", is_flag=True, help="Run against the local sandbox, not Google Cloud.")
@click.option(
    "--sandbox-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the sandbox lives (default: .df-gen/sandbox in the current directory).",
)
@click.option(
    "--terraform-bin",
    default=None,
    help="Terraform or OpenTofu executable, or 'embedded' (default: $DF_GEN_TERRAFORM, "
    "then terraform, tofu, embedded).",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def terraform_command(sandbox: bool, sandbox_dir: str | None, terraform_bin: str | None, args: tuple[str, ...]) -> None:
    """Run Terraform with ARGS in the current directory: df-gen terraform [--sandbox] -- ARGS."""
    sys.exit(run_terraform(list(args), sandbox, sandbox_dir, terraform_bin))


@click.command("version")
@click.option("--terraform-bin", default=None, hidden=True)
def version_command(terraform_bin: str | None) -> None:
    """Show df-gen's version and the Terraform engine it would use."""
    click.echo(f"df-gen {__version__}")
    engine = describe_engine(terraform_bin)
    click.echo(f"engine: {engine}")
    sandbox = describe_engine(terraform_bin, for_sandbox=True)
    if sandbox != engine:
        click.echo(f"sandbox engine: {sandbox}")
