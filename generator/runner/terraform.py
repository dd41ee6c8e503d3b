"""One Terraform call for one stack: its log, the one subprocess pump, Ctrl-C, and the one retry loop.

:class:`Terraform` is the only place the runner starts the engine. Each call appends to
the stack's log (``logs/<stack>.log``, one per stack per run), reads both pipes through
:func:`generator.engine.pump`, and retries transient errors (``DF_GEN_RETRY_PATTERNS``)
up to :data:`MAX_ATTEMPTS` times. A failed call raises :class:`StackFailed` with
Terraform's ``Error:`` lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from generator.engine import CACHE_WRITERS, Process, TerraformEngine, pump
from generator.errors import DfGenError
from generator.fingerprint import fingerprint
from generator.model import Stack
from generator.overrides import keep_lock_file, override_text
from generator.progress import Progress
from generator.runner.evidence import json_ui_text
from generator.runner.results import StackFailed
from generator.runner.workspace import Workspace

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


class Terraform:
    """Runs the engine for the stacks of one command: logs, retries, interrupts."""

    def __init__(self, engine: TerraformEngine, base_env: Mapping[str, str], workspace: Workspace,
                 progress: Progress, sandbox: bool) -> None:
        self.engine = engine
        self.base_env = dict(base_env)
        self.ws = workspace
        self.progress = progress  # replaced when apply or destroy asked for a confirmation
        self.sandbox = sandbox
        self.cancel = threading.Event()
        self.retry = retry_pattern()
        self.backoff = _backoff()
        self._procs: set[Process] = set()
        self._procs_lock = threading.Lock()
        self._logged: set[str] = set()

    def env(self, stack: Stack) -> dict[str, str]:
        """The environment of ``stack``'s commands: the run's, with its own ``TF_DATA_DIR``."""
        env = dict(self.base_env)
        env["TF_DATA_DIR"] = str(self.ws.tfdata(stack.name))
        return env

    def call(self, stack: Stack, step: str, args: Sequence[str], ok_codes: Sequence[int] = (0,),
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
            # apply -json: stdout is Terraform's machine-readable UI; the log gets its text.
            json_ui = args[0] == "apply" and "-json" in args

            def write(kind: str, line: str) -> None:  # both pipes' reader threads write here
                with lock:
                    log.write((json_ui_text(line) if json_ui and kind == "stdout" else line) + "\n")

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
        if json_ui:  # diagnostics are messages on stdout
            return code, out, "".join(json_ui_text(line) + "\n" for line in out.splitlines()) + err
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

    def init(self, stack: Stack) -> None:
        """``terraform init`` unless this stack's data dir is initialised for these files."""
        marker = self.ws.tfdata(stack.name) / ".df-gen-init"
        key = self._init_key(stack)
        if marker.is_file() and marker.read_text() == key:
            return
        self.progress.step(stack.name, "init")
        args = ["init", "-input=false", "-no-color"]
        if self.sandbox:
            with keep_lock_file(self.ws.stacks_dir / stack.name, self.ws.lock_backups):
                self.call(stack, "init", args)
        else:
            self.call(stack, "init", args)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(key)

    def _init_key(self, stack: Stack) -> str:
        # init must run again when the configuration's files, module or backend change.
        parts = [self.engine.path, fingerprint(stack, self.ws.stacks_dir, {})]
        if self.sandbox:
            parts.append(override_text(stack, self.ws.state, self.ws.stacks_dir / stack.name))
            parts.append(self.base_env.get("TF_CLI_CONFIG_FILE", ""))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def show(self, stack: Stack, planfile: Path) -> Any:
        """``show -json`` of a saved plan, parsed."""
        _, text = self.call(stack, "plan", ["show", "-json", "-no-color", str(planfile)])
        start = text.find("{")
        try:
            document = json.loads(text[start:]) if start >= 0 else None
        except ValueError as exc:
            raise StackFailed(f"show -json printed no JSON: {exc}", "terraform show -json") from None
        if not isinstance(document, dict) or "format_version" not in document:
            # An empty document would read as a plan without changes.
            raise StackFailed("show -json printed no plan (no format_version): no evidence of what the plan "
                              "changes; nothing recorded", "terraform show -json")
        return document

    def read_outputs(self, stack: Stack) -> dict[str, Any]:
        """``output -json`` of the stack: ``{name: {"value": ..., "sensitive": ...}}``."""
        _, text = self.call(stack, "output", ["output", "-json", "-no-color"])
        start = text.find("{")
        try:
            return dict(json.loads(text[start:])) if start >= 0 else {}
        except ValueError as exc:
            raise StackFailed(f"output -json printed no JSON: {exc}", "terraform output -json") from None
