"""Click commands ``df-gen dags check`` and ``df-gen dags run`` (the data processing workflow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

ENV_DIR = click.argument("env_dir", type=click.Path(file_okay=False, path_type=Path), metavar="ENV_DIR")


@click.group("dags")
def dags_group() -> None:
    """Check the rendered DAGs in Airflow, and run a pipeline's DAG on Composer."""


@dags_group.command("check")
@ENV_DIR
@click.option("--airflow-python", "pythons", multiple=True, metavar="PATH",
              help="An interpreter with Airflow installed (repeatable; also $DF_GEN_AIRFLOW_PYTHON). "
              "The one matching the Composer image's Airflow major.minor is used.")
@click.option("--stack", "stacks", multiple=True, metavar="NAME", help="Only this pipeline stack (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (README, \"dags check\").")
def check_command(env_dir: Path, pythons: tuple[str, ...], stacks: tuple[str, ...], as_json: bool) -> None:
    """Load every rendered DAG into a DagBag of the environment's Airflow version.

    Fails (exit 1) on import errors, cycles, parse time over 2 s after a warm-up import,
    Airflow Variables the environment does not set and referenced files that are missing.
    """
    from generator.dags.check import check
    from generator.render import load_model

    result = check(load_model(env_dir), pythons, stacks=stacks)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for problem in result.problems:
            click.echo(problem.format(), err=True)
        for dag_file in result.files:
            seconds = "-" if dag_file.parse_seconds is None else f"{dag_file.parse_seconds:.2f} s"
            status = "ok" if not dag_file.problems else f"{len(dag_file.problems)} problem(s)"
            click.echo(f"{dag_file.path}: {', '.join(dag_file.dags) or 'no DAG'}: {status} (parse {seconds})")
        click.echo(f"Airflow {result.airflow.version} ({result.image_version}): "
                   f"{len(result.files)} DAG file(s), {len(result.problems)} problem(s)")
    if result.problems:
        sys.exit(1)
