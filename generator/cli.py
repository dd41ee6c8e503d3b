"""The df-gen command line: each command parses its options and calls one function.

Errors a user can cause arrive as :class:`DfGenError` and are printed one per line on
stderr with exit code 1; Ctrl-C exits 130; anything else is a bug and keeps its traceback
(always with ``--debug``).
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from generator import __version__, collector
from generator.errors import DfGenError, Terminated
from generator.fsutil import display_path

ENV_DIR = click.argument(
    "env_dir", type=click.Path(file_okay=False, path_type=Path), metavar="ENV_DIR"
)


LAZY_COMMANDS = {
    "plan": ("generator.cli_run", "plan_command"),
    "apply": ("generator.cli_run", "apply_command"),
    "destroy": ("generator.cli_run", "destroy_command"),
    "output": ("generator.cli_run", "output_command"),
    "terraform": ("generator.cli_terraform", "terraform_command"),
    "version": ("generator.cli_terraform", "version_command"),
    "ci": ("generator.cli_ci", "ci_group"),
    "dags": ("generator.cli_dags", "dags_group"),
}
"""Commands whose modules are imported when the command runs (or help lists it): the runner
and engine take longer to import than a no-op render takes (issue 13)."""


class DfGenGroup(click.Group):
    """A click group that maps DfGenError to exit 1 and Ctrl-C to exit 130."""

    lazy: dict[str, tuple[str, str]] = {}
    """Command name -> (module, attribute), imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        previous = _handle_sigterm()
        try:
            return super().invoke(ctx)
        except DfGenError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            for line in exc.lines():
                click.echo(line, err=True)
            ctx.exit(1)
        except Terminated:
            click.echo("terminated", err=True)
            ctx.exit(143)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _handle_sigterm() -> Any:
    """Make SIGTERM stop df-gen as Ctrl-C does (once); return the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread

    def terminate(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one graceful stop, not a second
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminate)


@click.group(cls=DfGenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="df-gen")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Build a Data Foundation on Google Cloud from YAML descriptors.

    An environment directory holds environment.yaml, datasources/*.yaml and
    pipelines/*.yaml. df-gen validates them, renders Terraform stacks into
    ENV_DIR/stacks/ and runs Terraform over them in dependency order.

    \b
    Typical flow:
      df-gen new environments/dev        scaffold descriptors
      df-gen validate environments/dev   check them (every error, with file:line:col)
      df-gen render environments/dev     write the Terraform stacks
      df-gen plan environments/dev       plan every stack
      df-gen apply environments/dev      apply in dependency order
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _format_option(*choices: str) -> Any:
    def decorate(func: Any) -> Any:
        func = click.option(
            "--json", "as_json", is_flag=True, help="Short for --format json."
        )(func)
        return click.option(
            "--format", "fmt", type=click.Choice(choices), default=choices[0],
            show_default=True, help="Output format.",
        )(func)

    return decorate


@cli.command()
@ENV_DIR
@_format_option("text", "json")
@click.option("--against", "against", metavar="REF", default=None,
              help="Also compare every table's schema with the git revision REF: list the changes that "
                   "lose data; exit 1 for those with no way forward chosen.")
@click.option("--skip-access", is_flag=True,
              help="Skip the access check (df-gen access), e.g. for SQL sqlglot cannot parse.")
@collector.paused()
def validate(env_dir: Path, fmt: str, as_json: bool, against: str | None, skip_access: bool) -> None:
    """Check every descriptor of ENV_DIR against the schemas and the semantic rules, then
    the access check of `df-gen access` (every task can do what its SQL needs, no persona
    reads a tagged column its tag does not list; SQL analyses are cached in
    ENV_DIR/.df-gen/cache/).

    Prints one line per problem, `path:line:col: error: message`, and exits 1; exits 0
    with a one-line summary when everything is valid. With --format json, prints
    {"valid": bool, "errors": [{"path", "line", "column", "message", "hint"}],
    "summary": {"environments", "datasources", "pipelines"}}; with --against REF also
    "schema_changes": [...] (shape in the README, "Changing schemas safely").
    """
    from generator import cache

    if as_json:
        fmt = "json"
    known = cache.validated(env_dir, access=not skip_access) if against is None else None
    if known is not None:  # nothing changed since the last good validate
        _print_valid(env_dir, fmt, known)
        return
    from generator.validate import validate as run_validate

    changes: list[dict[str, Any]] = []
    since = cache.now()
    try:
        if against is not None:
            # Imported only here: it takes 0.15 s, a tenth of a cold validate (issue 13).
            from generator.schema_changes import against_ref, check_ref

            check_ref(env_dir, against)
        descriptors = run_validate(env_dir)
        if not skip_access:
            from generator.analysis.diagnostics import access_diagnostics

            problems = access_diagnostics(descriptors)
            if problems:
                raise DfGenError(diagnostics=problems)
        if against is not None:
            changes = [item.as_json() for item in against_ref(env_dir, against, descriptors)]
    except DfGenError as exc:
        if fmt != "json":
            raise
        _print_json({"valid": False, "errors": [d.as_dict() for d in exc.diagnostics] or
                     [{"path": str(env_dir), "line": 0, "column": 0, "message": exc.message, "hint": None}],
                     "summary": None, **({"schema_changes": []} if against is not None else {})})
        sys.exit(1)
    summary = {
        "environments": 1,
        "datasources": len(descriptors.datasources),
        "pipelines": len(descriptors.pipelines),
    }
    if against is None:
        cache.record_validate(env_dir, since, descriptors.pipelines_dir, summary, access=not skip_access)
    refused: list[Any] = []
    if changes:
        from generator.schema_changes import unresolved

        refused = unresolved(changes)
    if fmt == "json":
        _print_json({"valid": not refused, "errors": [], "summary": summary,
                     **({"schema_changes": changes} if against is not None else {})})
    else:
        if changes:
            from generator.schema_changes import text_line

            for item in changes:
                click.echo(text_line(item), err=bool(item in refused))
        _print_valid(env_dir, fmt, summary,
                     f"; {len(changes)} schema change(s) lose data since {against}, {len(refused)} without a way "
                     "forward" if changes else "")
    if refused:
        sys.exit(1)


def _print_valid(env_dir: Path, fmt: str, summary: dict[str, int], extra: str = "") -> None:
    if fmt == "json":
        _print_json({"valid": True, "errors": [], "summary": summary})
        return
    click.echo(f"{env_dir}: valid (1 environment, {_count(summary['datasources'], 'data source')}, "
               f"{_count(summary['pipelines'], 'pipeline')}){extra}")


@cli.command()
@ENV_DIR
@click.option("--datasource", default="sales", show_default=True, help="Key of the example data source.")
@click.option("--pipeline", default="sales-daily", show_default=True, help="Key of the example pipeline.")
@click.option("--prefix", default=None, help="Resource prefix (default: acme-<ENV_DIR name>).")
def new(env_dir: Path, datasource: str, pipeline: str, prefix: str | None) -> None:
    """Scaffold ENV_DIR with a commented environment, data source and pipeline.

    Each file starts with a yaml-language-server modeline pointing at the shipped
    JSON Schema, so editors complete and check keys. Existing files are never
    overwritten.
    """
    from generator.scaffold import scaffold

    for path in scaffold(env_dir, datasource=datasource, pipeline=pipeline, prefix=prefix):
        click.echo(f"created {path}")
    click.echo(f"next: df-gen validate {env_dir}")


@cli.command()
@ENV_DIR
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 listing every file that would change, appear or go (for CI).")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited by hand.")
@click.option("--prune", is_flag=True,
              help="Delete the files of retired stacks (descriptor removed) whose release df-gen has seen applied.")
@collector.paused()
def render(env_dir: Path, check: bool, force: bool, prune: bool) -> None:
    """Render ENV_DIR's descriptors into Terraform stacks under ENV_DIR/stacks/.

    One root per stack: stacks/environment, stacks/datasource-<key>,
    stacks/pipeline-<key>. Unchanged files are not touched; a generated file edited by
    hand stops the render (exit 1) unless --force. A stack whose descriptor was removed is
    retired: rewritten into removed blocks that release its resources (kept on Google
    Cloud) when applied; --prune deletes its files once df-gen has seen the release applied.
    """
    from generator import cache

    unchanged = cache.rendered(env_dir) if not prune else None  # prune reads .df-gen records too
    if unchanged is not None:  # neither the inputs nor stacks/ changed since the last render
        where = display_path(Path(env_dir) / "stacks")
        click.echo(f"{where}: up to date" if check else
                   f"{where}: 0 created, 0 updated, 0 deleted, {unchanged} unchanged")
        return
    from generator.render import render as run_render

    report = run_render(env_dir, check=check, force=force, prune=prune, model=False)
    where = display_path(report.stacks_dir)
    listed = [f"{'would ' if check else ''}{verb} {where}/{relative}"
              for verb, paths in (("create", report.created), ("update", report.updated), ("delete", report.deleted))
              for relative in paths]
    if listed:  # one write: a cold render lists 11,000 files
        click.echo("\n".join(listed))
    for stack, addresses in sorted(report.retired.items()):
        click.echo(
            f"{where}/{stack}: retired: no descriptor renders it any more; df-gen apply releases "
            f"{', '.join(addresses) or 'what its state holds'} from Terraform and keeps the resources "
            "(--destroy-removed destroys them), then df-gen render --prune deletes its files",
            err=True,
        )
    for stack, paths in sorted(report.orphaned.items()):
        click.echo(
            f"{where}/{stack}: warning: no descriptor renders this stack any more and it has no main.tf to "
            f"release its resources from; destroy them first, then remove its {len(paths)} files with --prune",
            err=True,
        )
    for diagnostic in report.conflicts:
        click.echo(diagnostic.format(), err=True)
    for relative in report.unknown:
        click.echo(f"{where}/{relative}: warning: not written by df-gen; Terraform reads it as part of the "
                   "stack (move it into the descriptors, or delete it)", err=True)
    counts = (f"{len(report.created)} created, {len(report.updated)} updated, "
              f"{len(report.deleted)} deleted, {len(report.unchanged)} unchanged")
    if check:
        if report.changed:
            pending = (f"{len(report.created)} to create, {len(report.updated)} to update, "
                       f"{len(report.deleted)} to delete, {len(report.orphaned)} orphaned stacks, "
                       f"{len(report.conflicts)} edited by hand, {len(report.unknown)} not written by df-gen")
            click.echo(f"{where}: out of date ({pending}); run df-gen render {env_dir}", err=True)
            sys.exit(1)
        click.echo(f"{where}: up to date")
        return
    click.echo(f"{where}: {counts}")


@cli.command()
@ENV_DIR
@_format_option("mermaid", "dot", "json")
@collector.paused()
def graph(env_dir: Path, fmt: str, as_json: bool) -> None:
    """Print the stack graph of ENV_DIR: environment -> data sources -> pipelines.

    Formats: mermaid (default, for Markdown), dot (Graphviz) or json
    ({"stacks": [{"name", "kind", "needs": [...]}]}).
    """
    from generator.graph import format_graph
    from generator.render import load_model

    click.echo(format_graph(load_model(env_dir), "json" if as_json else fmt), nl=False)


@cli.command()
@ENV_DIR
@_format_option("text", "markdown", "json")
@collector.paused()
def access(env_dir: Path, fmt: str, as_json: bool) -> None:
    """Check what each DAG task and persona of ENV_DIR can read and write.

    For each task declared in the pipeline code's tasks.yaml: its identity, the tables
    and columns its SQL reads and writes, and every permission it needs, granted or
    missing (with the role to grant, the resource and the column). For each persona: the
    tables and views it reads, and its tagged columns raw, masked or denied. Exits 1 when a
    task lacks a permission or a persona reads tagged data its tag does not list. The JSON
    shape is documented in generator/analysis/report.py and the README.
    """
    from generator.analysis.report import access_report, format_report

    report = access_report(env_dir)
    click.echo(format_report(report, "json" if as_json else fmt), nl=False)
    if not report.ok:
        sys.exit(1)


@cli.command()
@ENV_DIR
@_format_option("mermaid", "dot", "json")
@collector.paused()
def lineage(env_dir: Path, fmt: str, as_json: bool) -> None:
    """Print the column lineage of ENV_DIR's pipelines: landing -> curated -> exposure.

    Built from the SQL of every declared task and view; tagged columns (and columns
    computed from them) are marked. Formats: mermaid (default), dot or json ({"columns":
    [{"id", "table", "column", "layer", "pipeline", "kind", "tag", "tagged_sources"}],
    "edges": [{"from", "to", "via"}]}).
    """
    from generator.analysis.lineage import format_lineage, lineage_of

    click.echo(format_lineage(lineage_of(env_dir), "json" if as_json else fmt), nl=False)


cli.lazy = LAZY_COMMANDS


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=False))


def main() -> None:
    """Console-script entry point."""
    collector.configure()
    cli(prog_name="df-gen")
