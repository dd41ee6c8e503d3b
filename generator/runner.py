"""``df-gen plan|apply|destroy|output``: Terraform over every stack, in dependency order.

One entry function per command (:func:`plan`, :func:`apply`, :func:`destroy`,
:func:`output`), each returning a :class:`RunReport`. Every run:

1. checks that ``stacks/`` is up to date with the descriptors;
2. takes the environment's lock (:mod:`generator.lock`) and removes what a crashed run
   left behind, naming each (sandbox override files, moved lock files, Terraform's state
   lock info, orphaned sandbox providers);
3. in sandbox mode writes the override files (:mod:`generator.overrides`) for the run;
4. runs the stacks over the graph (:mod:`generator.scheduler`): environment, then data
   sources, then pipelines (destroy: backwards), independent stacks in parallel, a failed
   stack blocking its dependants only.

Everything df-gen keeps per environment lives in ``ENV_DIR/.df-gen/<mode>/`` (mode
``sandbox`` or ``gcp``): ``plans/`` (saved plans and the fingerprint each was made at),
``logs/<stack>.log`` (Terraform's output), ``tfdata/<stack>/`` (``TF_DATA_DIR``),
``fingerprints.json`` (:mod:`generator.fingerprint`) and, in sandbox mode, ``state/`` and
the sandbox's store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import schema_changes
from generator.engine import (
    CACHE_WRITERS,
    Process,
    TerraformEngine,
    check_sandbox_store,
    pump,
    resolve_engine,
    sandbox_environment,
)
from generator.errors import DfGenError
from generator.fingerprint import Records, fingerprint, outputs_digest
from generator.guard import PlanSummary
from generator.loader import display_path
from generator.lock import env_lock
from generator.model import Backend, Model, Stack
from generator.overrides import (
    keep_lock_file,
    override_text,
    remove_stale,
    restore_lock_files,
    sandbox_overrides,
    stale_state_locks,
)
from generator.progress import Progress, make_progress
from generator.scheduler import order, run_graph
from generator.status import PLAN_STATUSES, Status

DEFAULT_RETRY_PATTERNS = (
    r"Error 429",
    r"Error 503",
    r"rateLimitExceeded",
    r"backendError",
    r"connection reset by peer",
)
ENV_RETRY_PATTERNS = "DF_GEN_RETRY_PATTERNS"
ENV_RETRY_BACKOFF = "DF_GEN_RETRY_BACKOFF"  # seconds before the 2nd attempt (doubles)
MAX_ATTEMPTS = 3
ERROR_LINES = 20

# Statuses a stack can end with (generator.status); ``ok`` ones let dependants go on.
FAILED, BLOCKED = Status.FAILED, Status.BLOCKED


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for (the CLI options, parsed)."""

    env_dir: Path
    sandbox: bool = False
    stacks: tuple[str, ...] = ()
    only: bool = False
    parallelism: int = 4
    auto_approve: bool = False
    all_stacks: bool = False
    allow_destroy: bool = False
    changed_since: str | None = None  # a git ref: only stacks whose files changed since (gitchanges)
    terraform_bin: str | None = None
    plain: bool = False  # plain progress lines even on a terminal (--json)
    quiet: bool = False  # no progress at all (tests, benchmarks)


@dataclass
class StackResult:
    """How one stack ended."""

    name: str
    kind: str
    status: Status
    changes: dict[str, int] | None = None
    destructive: tuple[str, ...] = ()
    note: str = ""
    command: str = ""
    exit_code: int | None = None
    error: list[str] = field(default_factory=list)
    log: Path | None = None
    outputs: dict[str, Any] | None = None
    sensitive: frozenset[str] = frozenset()
    waiting: bool = False  # blocked only until an upstream stack is applied (not a failure)
    summary: PlanSummary | None = None  # what Terraform planned (counts per type, losses)

    @property
    def schema_changes(self) -> tuple[dict[str, Any], ...]:
        """Schema changes that lose data (generator.schema_changes), JSON-shaped."""
        return self.summary.schema_changes if self.summary else ()

    @property
    def ok(self) -> bool:
        """True when the stacks that need this one may go on."""
        return self.waiting or self.status not in (FAILED, BLOCKED)

    def as_json(self) -> dict[str, Any]:
        """This stack's entry in ``plan --json``."""
        document: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "changes": self.changes,
            "destructive": list(self.destructive),
            "resource_types": self.summary.type_counts() if self.summary and self.changes is not None else {},
            "schema_changes": list(self.schema_changes),
        }
        if self.status == FAILED:
            document["error"] = {
                "message": self.note,
                "command": self.command or None,
                "exit_code": self.exit_code,
                "lines": self.error,
                "log": str(self.log) if self.log else None,
            }
        elif self.status == BLOCKED:
            document["error"] = {"message": self.note}
        return document


@dataclass
class RunReport:
    """The results of one command over the selected stacks, in graph order."""

    command: str
    mode: str
    results: list[StackResult]

    @property
    def failed(self) -> list[StackResult]:
        """Stacks that failed or were blocked by a failure."""
        return [r for r in self.results if not r.ok]

    @property
    def has_changes(self) -> bool:
        """True when some plan has changes."""
        return any(r.status == Status.CHANGES for r in self.results)

    def counts(self) -> dict[str, int]:
        """How many stacks ended with each status."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def plan_document(self) -> dict[str, Any]:
        """The ``plan --json`` document."""
        summary: dict[str, int] = {status: 0 for status in PLAN_STATUSES}
        summary.update(self.counts())
        return {"stacks": [r.as_json() for r in self.results], "summary": summary}

    def summary_lines(self) -> list[str]:
        """The human summary: one line per stack, failure details, then the totals."""
        width = max((len(r.name) for r in self.results), default=0)
        lines = []
        for r in self.results:
            detail = ""
            if r.changes is not None:
                detail = _changes_text(r.changes) if r.status != Status.NO_CHANGES else "no changes"
            if r.note and r.status not in (FAILED, BLOCKED):
                detail = f"{detail} ({r.note})" if detail else r.note
            if r.status == BLOCKED:
                detail = r.note
            lines.append(f"  {r.name:<{width}}  {r.status:<10} {detail}".rstrip())
            if r.destructive:
                lines.append(f"  {'':<{width}}  DATA LOSS: deletes or replaces {', '.join(r.destructive)}")
            lines += [f"  {'':<{width}}  {schema_changes.text_line(item)}" for item in r.schema_changes]
            if r.status == FAILED:
                if r.command:
                    lines.append(f"  {'':<{width}}  $ {r.command}  (exit code {r.exit_code})")
                if r.note:
                    lines.append(f"  {'':<{width}}  {r.note}")
                lines += [f"  {'':<{width}}  | {line}" for line in r.error]
                if r.log:
                    lines.append(f"  {'':<{width}}  log: {display_path(r.log)}")
        totals = ", ".join(f"{n} {status}" for status, n in self.counts().items())
        lines.append(f"{self.command} ({self.mode}): {len(self.results)} stacks: {totals}")
        return lines


def _changes_text(changes: Mapping[str, int]) -> str:
    return PlanSummary(changes["add"], changes["change"], changes["destroy"], imports=changes.get("import", 0)).text()


class StackFailed(Exception):
    """A Terraform command of one stack failed (or df-gen refused to go on)."""

    def __init__(self, message: str, command: str = "", code: int | None = None,
                 error: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.command = command
        self.code = code
        self.error = list(error)


# ------------------------------------------------------------------ workspace


class Workspace:
    """Paths of one environment in one mode (``sandbox`` or ``gcp``)."""

    def __init__(self, env_dir: Path, sandbox: bool) -> None:
        self.env_dir = Path(env_dir).resolve()
        self.mode = "sandbox" if sandbox else "gcp"
        self.stacks_dir = self.env_dir / "stacks"
        self.root = self.env_dir / ".df-gen" / self.mode
        self.plans = self.root / "plans"
        self.logs = self.root / "logs"
        self.state = self.root / "state"
        self.lock_backups = self.root / "lockfiles"

    def plan_file(self, stack: str) -> Path:
        """The saved plan of ``stack``."""
        return self.plans / f"{stack}.tfplan"

    def plan_meta(self, stack: str) -> Path:
        """What df-gen knows about the saved plan (fingerprint, summary)."""
        return self.plans / f"{stack}.json"

    def log(self, stack: str) -> Path:
        """Terraform's output for ``stack`` in the latest run."""
        return self.logs / f"{stack}.log"

    def tfdata(self, stack: str) -> Path:
        """``TF_DATA_DIR`` of ``stack`` in this mode."""
        return self.root / "tfdata" / stack

    def records(self) -> Path:
        """``fingerprints.json``."""
        return self.root / "fingerprints.json"


# ------------------------------------------------------------------ selection


def select_stacks(model: Model, names: Sequence[str], only: bool, reverse: bool = False) -> list[str]:
    """The stacks to run, in graph order (:func:`generator.scheduler.order`).

    No names: every stack. Otherwise the named stacks and, unless ``only``, what they
    need (or, with ``reverse`` for destroy, the stacks that need them).
    """
    known = [s.name for s in model.stacks]
    needs = {s.name: s.needs for s in model.stacks}
    if not names:
        return order(known, needs)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DfGenError(
            f"no stack named {', '.join(unknown)} in {display_path(model.env_dir)}; "
            f"stacks: {', '.join(known)}"
        )
    chosen = set(names)
    if not only:
        edges: dict[str, set[str]] = {s.name: set(s.needs) for s in model.stacks}
        if reverse:
            edges = {n: {s.name for s in model.stacks if n in s.needs} for n in known}
        todo = list(chosen)
        while todo:
            for other in edges[todo.pop()]:
                if other not in chosen:
                    chosen.add(other)
                    todo.append(other)
    return order([n for n in known if n in chosen], needs)


def reads_outputs_of(model: Model, stack: Stack) -> list[str]:
    """The upstream stacks whose outputs ``stack`` reads (through ``terraform_remote_state``).

    Only these outputs count in its fingerprint: a data source needs the environment to
    exist but, when it reads none of its outputs, a new environment output changes nothing.
    """
    if stack.remote_environment is None:
        return []
    return [name for name in stack.needs if model.stack(name).kind == "environment"]


def orphan_stack(directory: Path) -> Stack:
    """A stack rendered earlier whose descriptor is gone, read back from its files (for destroy)."""
    name = directory.name
    kind = name.split("-", 1)[0] if "-" in name else name
    main = (directory / "main.tf").read_text() if (directory / "main.tf").is_file() else ""
    found = re.search(r'^\s*source\s*=\s*"([^"]+)"', main, flags=re.M)
    providers = (directory / "providers.tf").read_text() if (directory / "providers.tf").is_file() else ""
    reads_environment = 'data "terraform_remote_state" "environment"' in providers
    backend = Backend("", "", "")
    # What the stack was rendered from (its header) says what it reads: a pipeline made
    # from datasources/store.yaml uses that data source's datasets and buckets, so it is
    # destroyed before the data source, as when its descriptor existed.
    header = re.search(r"^# Generated by df-gen from (.*)\.$", main, flags=re.M)
    sources = re.findall(r"datasources/([a-z][a-z0-9-]*)\.ya?ml", header.group(1)) if header else []
    needs = () if kind == "environment" else (
        "environment", *(f"datasource-{key}" for key in sorted(set(sources)) if kind != "datasource"))
    return Stack(
        name=name,
        kind=kind,
        key=name.split("-", 1)[1] if "-" in name else name,
        needs=needs,
        source=found.group(1) if found else "",
        arguments={},
        outputs=(),
        backend=backend,
        region="",
        remote_environment=backend if reads_environment else None,
    )


# ------------------------------------------------------------------ errors and retries


def error_lines(text: str, limit: int = ERROR_LINES) -> list[str]:
    """Terraform's ``Error:`` block(s) from a command's output (or its last lines)."""
    lines = [line.rstrip() for line in text.splitlines()]
    cleaned = [line.strip("│╷╵ ").rstrip() if line[:1] in "│╷╵" else line for line in lines]
    start = next((i for i, line in enumerate(cleaned) if line.lstrip().startswith("Error:")), None)
    if start is None:
        picked = [line for line in cleaned if line.strip()][-5:]
    else:
        picked = cleaned[start:]
        while picked and not picked[-1].strip():
            picked.pop()
    if len(picked) > limit:
        picked = picked[:limit] + [f"... ({len(picked) - limit} more lines in the log)"]
    return picked


def retry_pattern() -> re.Pattern[str]:
    """Transient-error patterns: ``DF_GEN_RETRY_PATTERNS`` (``|``-separated) or the defaults."""
    configured = os.environ.get(ENV_RETRY_PATTERNS)
    patterns = [p for p in configured.split("|") if p] if configured else list(DEFAULT_RETRY_PATTERNS)
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as exc:
        raise DfGenError(f"{ENV_RETRY_PATTERNS}: not a regular expression: {exc}") from None


def _backoff() -> float:
    try:
        return float(os.environ.get(ENV_RETRY_BACKOFF, "2"))
    except ValueError:
        raise DfGenError(f"{ENV_RETRY_BACKOFF}: not a number of seconds") from None


# ------------------------------------------------------------------ one run


class _Run:
    """One command over the selected stacks: Terraform calls, logs, records."""

    def __init__(self, options: RunOptions, model: Model, engine: TerraformEngine,
                 base_env: Mapping[str, str], workspace: Workspace, progress: Progress) -> None:
        self.options = options
        self.model = model
        self.engine = engine
        self.base_env = dict(base_env)
        self.ws = workspace
        self.progress = progress
        self.records = Records(workspace.records())
        self.cancel = threading.Event()
        self.results: dict[str, StackResult] = {}
        self.retry = retry_pattern()
        self.backoff = _backoff()
        self._procs: set[Process] = set()
        self._procs_lock = threading.Lock()
        self._logged: set[str] = set()

    @property
    def every_stack(self) -> bool:
        """Run each selected stack, whatever the local records say (--all, --changed-since)."""
        return self.options.all_stacks or self.options.changed_since is not None

    # -------------------------------------------------------------- terraform

    def env(self, stack: Stack) -> dict[str, str]:
        env = dict(self.base_env)
        env["TF_DATA_DIR"] = str(self.ws.tfdata(stack.name))
        return env

    def terraform(self, stack: Stack, step: str, args: Sequence[str], ok_codes: Sequence[int] = (0,),
                  replan: Callable[[], bool] | None = None) -> tuple[int, str]:
        """Run one Terraform command for ``stack``, retrying transient errors; return code, output.

        The one retry loop: up to :data:`MAX_ATTEMPTS` attempts, the wait doubling from
        ``DF_GEN_RETRY_BACKOFF``, Ctrl-C ending the wait. With ``replan`` (applying a saved
        plan, which a failed attempt may have made stale) each new attempt first plans
        again, at once when Terraform says the saved plan is stale (first failure only);
        ``replan()`` returning False means the new plan has nothing to apply: done.
        """
        attempt = 1
        while True:
            code, out, text = self._execute(stack, args)
            if code in ok_codes:
                return code, out
            command = "terraform " + " ".join(args)
            if self.cancel.is_set() or code == 130:
                raise StackFailed("interrupted", command, code, error_lines(text))
            stale = replan is not None and attempt == 1 and "Saved plan is stale" in text
            if attempt >= MAX_ATTEMPTS or not (stale or self.retry.search(text)):
                raise StackFailed(f"{step} failed", command, code, error_lines(text))
            delay = 0.0 if stale else self.backoff * 2 ** (attempt - 1)
            if replan is None:
                self.progress.note(f"{stack.name}: {step}: transient error, retrying in {delay:.0f}s "
                                   f"(attempt {attempt + 1} of {MAX_ATTEMPTS})")
            else:
                why = "the saved plan is stale" if stale else "transient error"
                self.progress.note(f"{stack.name}: {step}: {why}, planning again in {delay:.0f}s")
            if self.cancel.wait(delay):
                raise StackFailed("interrupted", command, code, error_lines(text))
            attempt += 1
            if replan is not None and not replan():
                return 0, ""

    def _execute(self, stack: Stack, args: Sequence[str]) -> tuple[int, str, str]:
        if self.cancel.is_set():
            raise StackFailed("interrupted")
        log_path = self.ws.log(stack.name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        mode = "a" if stack.name in self._logged else "w"  # one log per stack per run
        self._logged.add(stack.name)
        cwd = self.ws.stacks_dir / stack.name
        with open(log_path, mode, encoding="utf-8") as log:
            log.write(f"$ terraform {' '.join(args)}\n")
            log.flush()
            lock = threading.Lock()

            def write(kind: str, line: str) -> None:  # both pipes' reader threads write here
                with lock:
                    log.write(line + "\n")

            if args[0] in CACHE_WRITERS:
                # The engine runs init under its plugin-cache lock (parallel inits would race
                # in the shared cache); init is short, so it is not tracked for Ctrl-C.
                code, out, err = self.engine.run(list(args), cwd=cwd, env=self.env(stack), stream=write)
            else:
                proc = self.engine.popen(list(args), cwd=cwd, env=self.env(stack))
                with self._procs_lock:
                    self._procs.add(proc)
                try:
                    out, err = pump(proc, write)
                finally:
                    with self._procs_lock:
                        self._procs.discard(proc)
                returncode = proc.returncode
                assert returncode is not None  # pump returns once the process has ended
                code = returncode
            log.write(f"# exit code {code}\n")
        # Terraform prints diagnostics on stderr; without any, the end of stdout explains.
        return code, out, err or out

    def interrupt(self) -> None:
        """Ctrl-C: stop starting commands; make running Terraform stop gracefully."""
        self.cancel.set()
        self.progress.note("interrupted: waiting for running Terraform commands to stop")
        # Terraform runs in its own process group (engine.popen), so this is the one
        # interrupt it gets, however the signal reached df-gen.
        with self._procs_lock:
            for proc in self._procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)

    # -------------------------------------------------------------- steps

    def init(self, stack: Stack) -> None:
        """``terraform init`` unless this stack's data dir is initialised for these files."""
        marker = self.ws.tfdata(stack.name) / ".df-gen-init"
        key = self._init_key(stack)
        if marker.is_file() and marker.read_text() == key:
            return
        self.progress.step(stack.name, "init")
        args = ["init", "-input=false", "-no-color"]
        if self.options.sandbox:
            with keep_lock_file(self.ws.stacks_dir / stack.name, self.ws.lock_backups):
                self.terraform(stack, "init", args)
        else:
            self.terraform(stack, "init", args)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(key)

    def _init_key(self, stack: Stack) -> str:
        # init must run again when the configuration's files, module or backend change.
        parts = [self.engine.path, fingerprint(stack, self.ws.stacks_dir, {})]
        if self.options.sandbox:
            parts.append(override_text(stack, self.ws.state, self.ws.stacks_dir / stack.name))
            parts.append(self.base_env.get("TF_CLI_CONFIG_FILE", ""))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def fingerprint(self, stack: Stack) -> str:
        upstream = {name: self.records.outputs(name) for name in reads_outputs_of(self.model, stack)}
        return fingerprint(stack, self.ws.stacks_dir, upstream)

    def make_plan(self, stack: Stack, fp: str) -> PlanSummary:
        """Init, ``plan -out``, and summarise the saved plan (kept with its fingerprint)."""
        self.init(stack)
        self.progress.step(stack.name, "plan")
        planfile = self.ws.plan_file(stack.name)
        planfile.parent.mkdir(parents=True, exist_ok=True)
        self.ws.plan_meta(stack.name).unlink(missing_ok=True)
        code, _ = self.terraform(
            stack, "plan",
            ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={planfile}"],
            ok_codes=(0, 2),
        )
        summary = PlanSummary()
        if code == 2:
            summary = schema_changes.review_plan(self.model.env_dir, stack.name, self._show(stack, planfile))
        meta = {"fingerprint": fp, **summary.to_meta(), "choices": schema_changes.choices_key(stack)}
        self.ws.plan_meta(stack.name).write_text(json.dumps(meta, indent=2) + "\n")
        return summary

    def saved_plan(self, stack: Stack, fp: str) -> PlanSummary | None:
        """The saved plan's summary when it was made at fingerprint ``fp``, else None."""
        path = self.ws.plan_meta(stack.name)
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("fingerprint") != fp or not self.ws.plan_file(stack.name).is_file():
            return None
        if meta.get("choices") != schema_changes.choices_key(stack):
            return None  # a way forward chosen or withdrawn since: the schema changes must be judged again
        try:
            return PlanSummary.from_meta(meta)
        except (KeyError, TypeError, ValueError, AttributeError):
            # A damaged record: the plan file cannot be trusted either; plan again.
            self.progress.note(f"{stack.name}: {display_path(path)} is not a df-gen plan record; planning again")
            return None

    def drop_plan(self, stack: Stack) -> None:
        self.ws.plan_file(stack.name).unlink(missing_ok=True)
        self.ws.plan_meta(stack.name).unlink(missing_ok=True)

    def _show(self, stack: Stack, planfile: Path) -> Any:
        _, text = self.terraform(stack, "plan", ["show", "-json", "-no-color", str(planfile)])
        start = text.find("{")
        try:
            return json.loads(text[start:]) if start >= 0 else {}
        except ValueError as exc:
            raise StackFailed(f"show -json printed no JSON: {exc}", "terraform show -json") from None

    def read_outputs(self, stack: Stack) -> dict[str, Any]:
        _, text = self.terraform(stack, "output", ["output", "-json", "-no-color"])
        start = text.find("{")
        try:
            return dict(json.loads(text[start:])) if start >= 0 else {}
        except ValueError as exc:
            raise StackFailed(f"output -json printed no JSON: {exc}", "terraform output -json") from None

    # -------------------------------------------------------------- per command

    def guarded(self, work: Callable[[Stack], StackResult]) -> Callable[[str], StackResult]:
        """Wrap a stack's work: progress, failures as results, results kept for dependants."""

        def run(name: str) -> StackResult:
            stack = self.model.stack(name)
            try:
                result = work(stack)
            except StackFailed as exc:
                result = StackResult(name, stack.kind, FAILED, note=exc.message, command=exc.command,
                                     exit_code=exc.code, error=exc.error, log=self._log_if_any(name))
                self.progress.done(name, "", f"failed: {exc.message}")
            except DfGenError as exc:
                result = StackResult(name, stack.kind, FAILED, note=exc.message)
                self.progress.done(name, "", f"failed: {exc.message}")
            self.results[name] = result
            return result

        return run

    def _log_if_any(self, name: str) -> Path | None:
        path = self.ws.log(name)
        return path if path.is_file() else None

    def blocked(self, name: str, culprit: str) -> StackResult:
        stack = self.model.stack(name)
        result = StackResult(name, stack.kind, BLOCKED, note=f"not run: {culprit} did not succeed")
        self.results[name] = result
        self.progress.done(name, "", f"blocked by {culprit}")
        return result

    def plan_stack(self, stack: Stack) -> StackResult:
        waits_for = self._first_apply_pending(stack)
        if waits_for:
            note = f"waits for the first apply of {waits_for} (its outputs do not exist yet)"
            self.progress.done(stack.name, "plan", f"blocked: {note}")
            return StackResult(stack.name, stack.kind, BLOCKED, note=note, waiting=True)
        fp = self.fingerprint(stack)
        upstream_changes = [n for n in stack.needs if self.results.get(n, None) is not None
                            and self.results[n].status == Status.CHANGES]
        if not self.every_stack and not upstream_changes and self.records.fingerprint(stack.name) == fp:
            self.progress.done(stack.name, "plan", "skipped (unchanged since the last apply)")
            return StackResult(stack.name, stack.kind, Status.SKIPPED, note="unchanged since the last apply")
        summary = self.make_plan(stack, fp)
        status = Status.CHANGES if summary.has_changes else Status.NO_CHANGES
        note = f"upstream {', '.join(upstream_changes)} has changes" if upstream_changes else ""
        text = summary.text() if summary.has_changes else "no changes"
        if summary.destructive:
            text += f"; DATA LOSS ({len(summary.destructive)} stateful resources)"
        self.progress.done(stack.name, "plan", text)
        return StackResult(stack.name, stack.kind, status, summary.counts(), summary.destructive, note,
                           summary=summary)

    def _first_apply_pending(self, stack: Stack) -> str | None:
        """The upstream stack whose outputs this one reads but that was never applied."""
        for name in stack.needs:
            upstream = self.results.get(name)
            if upstream is None:
                continue
            if upstream.waiting:
                return name
            never_applied = (upstream.status == Status.CHANGES and self.records.fingerprint(name) is None
                             and self.options.changed_since is None)  # a CI runner has no records
            if never_applied and name in reads_outputs_of(self.model, stack):
                return name
        return None

    def apply_stack(self, stack: Stack) -> StackResult:
        fp = self.fingerprint(stack)
        if not self.every_stack and self.records.fingerprint(stack.name) == fp:
            self.progress.done(stack.name, "apply", "skipped (unchanged since the last apply)")
            return StackResult(stack.name, stack.kind, Status.SKIPPED, note="unchanged since the last apply")
        summary = self.saved_plan(stack, fp)
        note = "applied the saved plan"
        if summary is None:
            had_plan = self.ws.plan_meta(stack.name).is_file()
            note = "re-planned: inputs changed since the saved plan" if had_plan else "planned and applied"
            if had_plan:
                self.progress.note(f"{stack.name}: inputs changed since the saved plan; planning again")
            summary = self.make_plan(stack, fp)
        else:
            self.init(stack)
        refused = schema_changes.unresolved(summary.schema_changes)
        if refused:
            raise StackFailed(
                f"{len(refused)} schema change(s) lose data and no way forward is chosen; apply refuses them "
                "even with --allow-destroy (choose one in the descriptor)",
                error=[schema_changes.text_line(item) for item in refused])
        migrations = schema_changes.migration_targets(summary.schema_changes)
        if migrations:
            summary = self._migrate_first(stack, fp, migrations)
        if summary.destructive and not self.options.allow_destroy:
            raise StackFailed(
                f"the plan deletes or replaces stateful resources ({', '.join(summary.destructive)}); "
                "apply refuses it without --allow-destroy"
            )
        status = Status.NO_CHANGES
        if summary.has_changes:
            try:
                replanned = self._apply_plan(stack, fp)
            except StackFailed:
                self.drop_plan(stack)  # a partial apply changed the state: the plan is spent
                raise
            if replanned is not None:  # report what Terraform applied, not the stale plan
                summary = replanned
                note = "planned again and applied: the saved plan could not be applied as it was"
            status = Status.APPLIED if summary.has_changes else Status.NO_CHANGES
            if not summary.has_changes:
                note = "planned again: the saved plan could not be applied, and nothing was left to apply"
        else:
            note = "no changes"
        if migrations:  # the jobs were applied on their own before this plan
            status, note = Status.APPLIED, f"ran {len(migrations)} migration job(s) first, then {note}"
        self.drop_plan(stack)
        outputs = self.read_outputs(stack)
        self.records.record(stack.name, fp, outputs_digest(outputs))
        self.progress.done(stack.name, "apply", summary.text() if summary.has_changes else "no changes")
        return StackResult(stack.name, stack.kind, status, summary.counts(), summary.destructive, note,
                           summary=summary)

    def _migrate_first(self, stack: Stack, fp: str, targets: Sequence[str]) -> PlanSummary:
        """Apply the chosen in-place migration jobs alone, then plan afresh: the tables' schemas
        on BigQuery are then the new ones, so no table is replaced (generator.migrations)."""
        self.progress.step(stack.name, "migrate")
        self.terraform(stack, "migrate", ["apply", "-input=false", "-no-color", "-auto-approve",
                                          *(f"-target={target}" for target in targets)])
        self.drop_plan(stack)
        summary = self.make_plan(stack, fp)
        left = [item for item in summary.schema_changes if item.get("chosen") == schema_changes.MIGRATE]
        if left:
            raise StackFailed(
                f"{len(left)} schema change(s) chose migrate, but the table is still planned to lose data after "
                "its migration job ran: the job failed or has not finished (see the job's status.error_result "
                "in the state); nothing else was applied",
                error=[schema_changes.text_line(item) for item in left])
        return summary

    def _apply_plan(self, stack: Stack, fp: str) -> PlanSummary | None:
        """Apply the saved plan; return the new plan's summary when it had to plan again.

        After a transient error the saved plan may be stale: retry by planning again. A
        plan made stale by someone else's apply is planned again once, at once.
        """
        replanned: PlanSummary | None = None

        def replan() -> bool:
            nonlocal replanned
            replanned = self.make_plan(stack, fp)
            if schema_changes.unresolved(replanned.schema_changes):
                raise StackFailed("the new plan has schema changes that lose data and no way forward is chosen")
            if replanned.destructive and not self.options.allow_destroy:
                raise StackFailed("the new plan deletes or replaces stateful resources; "
                                  "apply refuses it without --allow-destroy")
            if not replanned.has_changes:
                return False
            self.progress.step(stack.name, "apply")
            return True

        self.progress.step(stack.name, "apply")
        args = ["apply", "-input=false", "-no-color", "-auto-approve", str(self.ws.plan_file(stack.name))]
        self.terraform(stack, "apply", args, replan=replan)
        return replanned

    def destroy_stack(self, stack: Stack) -> StackResult:
        self.init(stack)
        _, listed = self.terraform(stack, "destroy", ["state", "list", "-no-color"])
        addresses = [line for line in listed.splitlines() if line.strip()]
        self.drop_plan(stack)
        if not addresses:
            self.records.clear(stack.name)
            self.progress.done(stack.name, "destroy", "nothing to destroy")
            return StackResult(stack.name, stack.kind, Status.SKIPPED, note="nothing in state")
        self.progress.step(stack.name, "destroy")
        self.terraform(stack, "destroy", self.engine.destroy_args("-no-color"))
        self.records.clear(stack.name)
        self.progress.done(stack.name, "destroy", f"destroyed {len(addresses)} resources")
        return StackResult(stack.name, stack.kind, Status.DESTROYED, note=f"{len(addresses)} resources")

    def output_stack(self, stack: Stack) -> StackResult:
        self.init(stack)
        raw = self.read_outputs(stack)
        values = {name: item.get("value") for name, item in raw.items()}
        sensitive = frozenset(name for name, item in raw.items() if item.get("sensitive"))
        self.progress.done(stack.name, "output", f"{len(values)} outputs")
        return StackResult(stack.name, stack.kind, Status.OK, outputs=values, sensitive=sensitive)

    # -------------------------------------------------------------- graph

    def over_graph(self, names: Sequence[str], work: Callable[[Stack], StackResult],
                   reverse: bool = False) -> list[StackResult]:
        needs = {s.name: s.needs for s in self.model.stacks}
        results = run_graph(names, needs, self.guarded(work), self.blocked,
                            parallelism=self.options.parallelism, reverse=reverse,
                            cancel=self.cancel, on_interrupt=self.interrupt)
        return [results[n] for n in names if n in results]


# ------------------------------------------------------------------ session


def _clean_sandbox_leftovers(ws: Workspace) -> None:
    """Say what a killed run left in the sandbox, and clean what is proved unused.

    Runs under df-gen's environment lock, before any Terraform of this run starts.
    """
    from generator.sandbox.processes import stop_orphans

    removed, held = stale_state_locks(ws.state)
    for path in removed:
        print(f"{display_path(path)}: removed, Terraform's state lock info left behind by a killed run "
              "(no process holds the lock)", file=sys.stderr)
    for path in held:
        print(f"{display_path(path)}: kept, a running process holds Terraform's lock on this state "
              "(another Terraform outside df-gen?)", file=sys.stderr)
    for pid in stop_orphans(ws.root):
        print(f"{display_path(ws.root)}: stopped sandbox provider process {pid}, left running by a killed run",
              file=sys.stderr)


@contextlib.contextmanager
def session(options: RunOptions, command: str, reverse: bool = False) -> Iterator[tuple[_Run, list[str]]]:
    """Check, lock, prepare the sandbox; yield the run and the selected stack names."""
    from generator.render import load_model, render

    env_dir = Path(options.env_dir)
    if not (env_dir / "stacks").is_dir():
        raise DfGenError(f"{display_path(env_dir)}: no stacks/ yet; run df-gen render {env_dir}")
    if options.parallelism < 1:
        raise DfGenError("--parallelism must be at least 1")
    check = render(env_dir, check=True)
    if check.created or check.updated or check.deleted:
        raise DfGenError(f"stacks/ is out of date with the descriptors; run df-gen render {env_dir}")
    if check.conflicts:  # Terraform would run the hand edit, not what the descriptors say
        raise DfGenError(diagnostics=[
            dataclasses.replace(d, message="edited by hand since df-gen wrote it; plan and apply run only "
                                           "what df-gen rendered",
                                hint=f"move the change into the descriptors, or restore the file with "
                                     f"df-gen render {env_dir} --force")
            for d in check.conflicts])
    orphans = sorted(check.orphaned)
    if orphans and command != "destroy":
        raise DfGenError(
            f"stacks/ holds stacks whose descriptor was removed: {', '.join(orphans)}; destroy them "
            f"(df-gen destroy {env_dir} --stack NAME), then remove them with df-gen render --prune"
        )
    model = load_model(env_dir)
    if orphans:
        # Destroy still reaches stacks without a descriptor: they may hold resources.
        extra = tuple(orphan_stack(env_dir / "stacks" / name) for name in orphans)
        known = {stack.name for stack in model.stacks} | set(orphans)
        extra = tuple(dataclasses.replace(stack, needs=tuple(n for n in stack.needs if n in known))
                      for stack in extra)
        model = Model(model.env_dir, model.prefix, model.stacks + extra)
    names = select_stacks(model, options.stacks, options.only, reverse=reverse)
    if options.changed_since is not None:
        from generator.gitchanges import changed_stacks

        changed = changed_stacks(model, options.changed_since)
        names = [n for n in names if n in changed]
    ws = Workspace(env_dir, options.sandbox)
    with env_lock(env_dir):
        # What a crashed run may have left: overrides would send a GCP run to local state.
        for path in remove_stale(ws.stacks_dir):
            print(f"{display_path(path)}: removed, left behind by an interrupted or killed run",
                  file=sys.stderr)
        for mode_dir in (ws.env_dir / ".df-gen").glob("*/lockfiles"):
            restore_lock_files(ws.stacks_dir, mode_dir)
        if options.sandbox:
            _clean_sandbox_leftovers(ws)
        engine = resolve_engine(options.terraform_bin, for_sandbox=options.sandbox)
        engine.verify()
        base_env = dict(os.environ)
        if options.sandbox:
            base_env.update(sandbox_environment(ws.env_dir, ws.root))
            ws.state.mkdir(parents=True, exist_ok=True)
            check_sandbox_store(ws.root)
        base_env.pop("TF_WORKSPACE", None)  # one state per stack: the default workspace
        progress: Progress
        if options.quiet:
            progress = Progress(open(os.devnull, "w"))  # closed below
        else:
            progress = make_progress(names, plain=options.plain)
        stacks = [model.stack(n) for n in names] if options.sandbox else []
        run = _Run(options, model, engine, base_env, ws, progress)
        try:
            with sandbox_overrides(stacks, ws.stacks_dir, ws.state):
                yield run, names
        finally:
            run.progress.close()  # the command may have replaced the first view
            if options.quiet:
                progress.stream.close()


# ------------------------------------------------------------------ commands


def plan(options: RunOptions) -> RunReport:
    """Plan the selected stacks (changed ones only, every one with ``all_stacks``)."""
    with session(options, "plan") as (run, names):
        results = run.over_graph(names, run.plan_stack)
        return RunReport("plan", run.ws.mode, results)


def apply(options: RunOptions, confirm: Callable[[RunReport], bool] | None = None) -> RunReport:
    """Apply the selected stacks in order, from their saved plans when still current.

    Without ``auto_approve``: plan first, then ``confirm(plan report)`` once for the whole
    run (refused when there is no terminal to ask on).
    """
    if not options.auto_approve and confirm is None:
        raise DfGenError("apply needs a confirmation: run it in a terminal, or pass --auto-approve")
    with session(options, "apply") as (run, names):
        if not options.auto_approve:
            assert confirm is not None
            planned = RunReport("plan", run.ws.mode, run.over_graph(names, run.plan_stack))
            run.progress.close()
            if planned.has_changes and not confirm(planned):
                raise DfGenError("apply cancelled; nothing was changed")
            if not options.quiet:
                run.progress = make_progress(names, plain=options.plain)
            run.results.clear()
        results = run.over_graph(names, run.apply_stack)
        return RunReport("apply", run.ws.mode, results)


def destroy(options: RunOptions, confirm: Callable[[list[str], str], bool] | None = None) -> RunReport:
    """Destroy the selected stacks (and the stacks that need them), dependants first."""
    if not options.auto_approve and confirm is None:
        raise DfGenError("destroy needs a confirmation: run it in a terminal, or pass --auto-approve")
    with session(options, "destroy", reverse=True) as (run, names):
        if not options.auto_approve:
            assert confirm is not None
            run.progress.close()
            if not confirm(names, run.ws.mode):
                raise DfGenError("destroy cancelled; nothing was changed")
            if not options.quiet:
                run.progress = make_progress(names, plain=options.plain)
        results = run.over_graph(list(reversed(names)), run.destroy_stack, reverse=True)
        return RunReport("destroy", run.ws.mode, results)


def output(options: RunOptions) -> RunReport:
    """Read the outputs of the selected stacks."""
    with session(options, "output") as (run, names):
        results = run.over_graph(names, run.output_stack)
        return RunReport("output", run.ws.mode, results)


def format_outputs(report: RunReport) -> list[str]:
    """``stack.output = value`` lines (sensitive values hidden)."""
    lines = []
    for result in report.results:
        for name, value in sorted((result.outputs or {}).items()):
            shown = "(sensitive)" if name in result.sensitive else json.dumps(value, sort_keys=True)
            lines.append(f"{result.name}.{name} = {shown}")
    return lines


def outputs_document(report: RunReport) -> dict[str, dict[str, Any]]:
    """``output --json``: ``{stack: {output: value}}``."""
    return {r.name: dict(sorted((r.outputs or {}).items())) for r in report.results if r.ok}
