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


@dags_group.command("run")
@ENV_DIR
@click.option("--pipeline", "key", required=True, metavar="KEY", help="The pipeline whose DAG to run.")
@click.option("--wait/--no-wait", default=False, help="Follow the run to its end (exit 0 success, 1 failed, "
              "124 timeout); without it, exit once triggered. A DAG file Airflow cannot import exits 1 either way.")
@click.option("--timeout", type=click.FloatRange(min=1), default=3600, show_default=True, metavar="SECONDS",
              help="For the web server, the parse of the uploaded DAG version, answers to the unpause "
                   "and trigger, and the run, together.")
@click.option("--airflow-url", default=None, metavar="URL",
              help="The Airflow web server (default: the environment stack's composer.airflow_uri output).")
@click.option("--token", envvar="DF_GEN_AIRFLOW_TOKEN", default=None,
              help="A bearer token ($DF_GEN_AIRFLOW_TOKEN; default: Google credentials).")
@click.option("--username", envvar="DF_GEN_AIRFLOW_USERNAME", default=None,
              help="A user of a plain Airflow; the password comes from $DF_GEN_AIRFLOW_PASSWORD.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def run_command(env_dir: Path, key: str, wait: bool, timeout: float, airflow_url: str | None, token: str | None,
                username: str | None, as_json: bool) -> None:
    """Run pipeline KEY's DAG through Composer's Airflow REST API, once the uploaded version is parsed.

    While waiting for the parse, an import error Airflow records for the DAG file ends the
    wait: exit 1 with one line, the rendered dag.py and the stack trace's last line (the
    whole trace in --json's import_error).
    """
    import os
    import time

    from generator.dags.run import airflow_url as environment_airflow_url
    from generator.dags.run import connect, make_auth, pipeline_dag, run_dag
    from generator.naming import dag_object
    from generator.render import load_model

    dag_id, dag_file = pipeline_dag(load_model(env_dir), key)
    started = time.monotonic()
    api = connect(airflow_url or environment_airflow_url(env_dir),
                  make_auth(token, username, os.environ.get("DF_GEN_AIRFLOW_PASSWORD")), dag_id, timeout,
                  say=lambda line: click.echo(line, err=True))
    outcome = run_dag(api, dag_id, dag_file, dag_object(key), timeout, wait=wait,
                      say=lambda line: click.echo(line, err=True), start=started)
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), indent=2))
    else:
        for task in outcome.tasks:
            click.echo(f"  {task.task_id}: {task.state}")
        for note in outcome.notes:
            click.echo(f"{dag_id}: {note}", err=True)
        for error in outcome.errors:
            click.echo(error, err=True)
        click.echo(f"{dag_id}: run {outcome.run_id or '-'}: {outcome.state}")
    sys.exit(outcome.exit_code)
