"""Click commands ``df-gen plan|apply|destroy|output`` (registered by cli.py).

Each parses its options and calls one function of :mod:`generator.runner`.
"""

from __future__ import annotations

import io
import json
import os
import select
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from generator import report as change_report
from generator import runner
from generator.errors import DfGenError
from generator.status import Status

ENV_DIR = click.argument("env_dir", type=click.Path(file_okay=False, path_type=Path), metavar="ENV_DIR")


def _common(func: Callable[..., Any], stack_help: str = "Only this stack and what it depends on (repeatable).",
            only_help: str = "With --stack: exactly the named stacks, no dependencies.") -> Callable[..., Any]:
    """Options every run command shares (declared once)."""
    options = [
        click.option("--stack", "stacks", multiple=True, metavar="NAME", help=stack_help),
        click.option("--only", is_flag=True, help=only_help),
        click.option("--sandbox", is_flag=True,
                     help="Run against the local sandbox (state under ENV_DIR/.df-gen/sandbox), not Google Cloud."),
        click.option("--parallelism", type=click.IntRange(min=1), default=4, show_default=True,
                     help="Independent stacks run at the same time."),
        click.option("--terraform-bin", envvar="DF_GEN_TERRAFORM", default=None,
                     help="Terraform or OpenTofu executable, or 'embedded' (default: terraform, tofu, embedded)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _check_report_paths(ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]) -> tuple[Path, ...]:
    for path in value:
        try:
            change_report.report_format(path)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return value


def _change_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options plan and apply share: the change report and the git selection (declared once)."""
    options = [
        click.option("--changed-since", metavar="REF", default=None,
                     help="Only stacks whose files differ between git REF and the working tree (rendered "
                     "stack files, local modules), with their dependants; ignores the local records."),
        click.option("--destroy-removed", is_flag=True,
                     help="Retired stacks (descriptor removed): destroy their resources, dependants first, "
                     "instead of releasing them from Terraform (the default keeps them and their data)."),
        click.option("--report", "reports", multiple=True, metavar="FILE",
                     type=click.Path(dir_okay=False, path_type=Path), callback=_check_report_paths,
                     help="Write the change report to FILE: .md (for a pull-request comment) or .json "
                     "(schema: generator/schemas/plan-report.json). Repeatable."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _finish(report: runner.RunReport, options: runner.RunOptions, reports: tuple[Path, ...]) -> None:
    """Write the reports, print the summary, fail when a stack failed."""
    change_report.write(reports, report, options)
    _print_summary(report)
    _fail_if_failed(report)


def _options(env_dir: Path, **kwargs: Any) -> runner.RunOptions:
    return runner.RunOptions(env_dir=env_dir, stacks=tuple(kwargs.pop("stacks", ())), **kwargs)


def _print_summary(report: runner.RunReport, err: bool = False) -> None:
    for line in report.summary_lines():
        click.echo(line, err=err)


def _fail_if_failed(report: runner.RunReport) -> None:
    failed = report.failed
    if failed:
        names = ", ".join(f"{r.name} ({r.status})" for r in failed)
        raise DfGenError(f"{report.command} did not succeed for {len(failed)} stack(s): {names}")


def _can_ask() -> bool:
    return sys.stdin.isatty()


@click.command("plan")
@ENV_DIR
@_common
@click.option("--all", "all_stacks", is_flag=True, help="Plan every stack, also those unchanged since the last apply.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when some plan has changes (as Terraform does).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (shape in the README).")
@_change_options
def plan_command(env_dir: Path, as_json: bool, detailed_exitcode: bool, reports: tuple[Path, ...],
                 **kwargs: Any) -> None:
    """Plan the stacks of ENV_DIR in dependency order; save one plan per stack.

    Stacks unchanged since their last apply (same rendered files, module files and
    upstream outputs) are skipped without running Terraform; --all plans them too.
    A plan that deletes or replaces a stateful resource is flagged (DATA LOSS). A retired
    stack (its descriptor removed) lists each resource in its state and what happens to it:
    kept and released from Terraform, or destroyed with --destroy-removed.
    Exit codes: 0 success, 1 a stack failed, with --detailed-exitcode 2 changes present.
    """
    options = _options(env_dir, plain=as_json, **kwargs)
    report = runner.plan(options)
    if as_json:
        change_report.write(reports, report, options)
        click.echo(json.dumps(report.plan_document(), indent=2))
        _fail_if_failed(report)
    else:
        _finish(report, options, reports)
    if detailed_exitcode and report.has_changes:
        sys.exit(2)


@click.command("apply")
@ENV_DIR
@_common
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--all", "all_stacks", is_flag=True,
              help="Plan and apply every stack, also those unchanged since the last apply (drift).")
@click.option("--allow-destroy", is_flag=True,
              help="Apply plans that delete or replace stateful resources "
              "(projects, buckets, datasets, tables, keys, topics).")
@_change_options
def apply_command(env_dir: Path, reports: tuple[Path, ...], **kwargs: Any) -> None:
    """Apply the stacks of ENV_DIR in dependency order.

    A saved plan is applied as it is when the stack's inputs have not changed since it was
    made; otherwise the stack is planned again first. Without --auto-approve, every plan
    is shown and confirmed once for the whole run. A retired stack's resources are released
    from Terraform and kept (data and all); --destroy-removed destroys them, dependants
    first, and stateful ones still need --allow-destroy.
    """
    options = _options(env_dir, **kwargs)

    def confirm(planned: runner.RunReport) -> bool:
        _print_summary(planned)
        count = sum(1 for r in planned.results if r.status == Status.CHANGES)
        return _ask(f"Apply the changes of {count} stack(s) ({planned.mode})?")

    report = runner.apply(options, confirm if _can_ask() else None)
    _finish(report, options, reports)


def _ask(question: str) -> bool:
    """Ask yes/no on the terminal; no answer (end of input) is no.

    Unlike ``click.confirm``, Ctrl-C is not turned into "Aborted!" with exit 1: it stays an
    interrupt, so the command exits 130 as the README promises.
    """
    click.echo(f"{question} [y/N]: ", nl=False)
    answer = _read_line()
    if not answer:  # end of input
        click.echo(err=True)
        return False
    return answer.strip().lower() in ("y", "yes")


def _read_line() -> str:
    """One line from standard input ("" at its end), ended early by Ctrl-C however it lands.

    Not ``input()``: a SIGINT that arrives after its last check for signals and before its
    read(2) blocks is held until the user presses Enter (CPython gh-112585), and so is one
    the kernel hands to another thread of the process. Waiting in short ``select`` rounds
    lets Python run the interrupt within a tenth of a second either way.
    """
    try:
        fd = sys.stdin.fileno()
    except (io.UnsupportedOperation, ValueError):  # not a file (a test runner's input)
        return sys.stdin.readline()
    while not select.select([fd], [], [], 0.1)[0]:
        pass
    return os.read(fd, 4096).decode(errors="replace")  # a terminal hands over one line per read


def _common_destroy(func: Callable[..., Any]) -> Callable[..., Any]:
    return _common(func, "Only this stack and the stacks that need it (repeatable).",
                   "With --stack: exactly the named stacks, not the stacks that need them.")


@click.command("destroy")
@ENV_DIR
@_common_destroy
@click.option("--auto-approve", is_flag=True, help="Destroy without asking.")
@click.option("--destroy-adopted", is_flag=True,
              help="Also delete the resources descriptors adopt (existing: true); by default destroy "
              "removes them from Terraform's state and leaves them in place.")
def destroy_command(env_dir: Path, **kwargs: Any) -> None:
    """Destroy every resource of the stacks of ENV_DIR, dependants first.

    --stack NAME destroys NAME and the stacks that need it (unless --only). Resources the
    descriptors adopt (existing: true) are left in place, removed from Terraform's state,
    unless --destroy-adopted.
    """
    options = _options(env_dir, **kwargs)

    def confirm(names: list[str], mode: str) -> bool:
        click.echo(f"Destroy every resource of {len(names)} stack(s) ({mode}): {', '.join(names)}")
        return _ask("Really destroy?")

    report = runner.destroy(options, confirm if _can_ask() else None)
    _print_summary(report)
    _fail_if_failed(report)


@click.command("output")
@ENV_DIR
@_common
@click.option("--json", "as_json", is_flag=True, help="Print {stack: {output: value}} as JSON.")
def output_command(env_dir: Path, as_json: bool, **kwargs: Any) -> None:
    """Print the outputs of the stacks of ENV_DIR: stack.output = value."""
    report = runner.output(_options(env_dir, plain=True, quiet=not report_progress(), **kwargs))
    if as_json:
        click.echo(json.dumps(runner.outputs_document(report), indent=2, sort_keys=True))
    else:
        for line in runner.format_outputs(report):
            click.echo(line)
    if report.failed:
        _print_summary(report, err=True)
    _fail_if_failed(report)


def report_progress() -> bool:
    """Outputs are quick: progress lines only when stderr is a terminal."""
    return sys.stderr.isatty()
