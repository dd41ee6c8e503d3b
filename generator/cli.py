"""The df-gen command line: parses options and calls one function per command."""

from __future__ import annotations

import click

from generator import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="df-gen")
def cli() -> None:
    """Build a Data Foundation on Google Cloud from YAML descriptors."""


def main() -> None:
    """Console-script entry point."""
    cli()
