"""The fake engine of the runner's fast tests: it stands in for Terraform (each call is a tiny
shell process whose output and exit code the test chooses) and records the calls.

A plain module, not a test file; the ``fake`` fixture that installs it is in ``conftest.py``.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class FakeEngine:
    """Stands in for Terraform: answers each command as the test says, records the calls.

    ``script[(stack, command)]`` is a list of ``(exit_code, output)``; each call takes the
    next one, the last one repeats. Unscripted commands succeed with plausible output. Each
    call lasts ``delay`` seconds at least (for tests of how many run at once).
    """

    name = "fake"
    path = "fake-terraform"

    def verify(self) -> None:
        """The stand-in is what the test says it is."""

    def __init__(self, script: dict[tuple[str, str], list[tuple[int, str]]] | None = None,
                 on_call: Callable[[str, list[str], Path], None] | None = None, delay: float = 0.0) -> None:
        self.script = script or {}
        self.on_call = on_call
        self.delay = delay
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0

    def destroy_args(self, *extra: str) -> list[str]:
        return ["destroy", "-auto-approve", "-input=false", *extra]

    def popen(self, args: list[str], cwd: Any = None, env: Any = None, inherit_stdio: bool = False) -> Any:
        stack = Path(cwd).name
        command = args[0]
        with self.lock:
            self.calls.append((stack, command))
        if self.on_call:
            self.on_call(stack, list(args), Path(cwd))
        code, out = self._answer(stack, command)
        if command == "show" and code == 0:  # Terraform's plan JSON always carries its format version
            out = json.dumps({"format_version": "1.2", **json.loads(out)})
            Path(args[-1]).write_text(out)  # the plan file holds the plan shown
        if command == "apply" and "-json" in args and code == 0 and "change_summary" not in out:
            # What Terraform prints after applying the plan file it was given.
            out += apply_summary(json.loads(Path(args[-1]).read_text()))
        if command == "plan" and code in (0, 2):
            planfile = next(a.split("=", 1)[1] for a in args if a.startswith("-out="))
            Path(planfile).write_text("fake plan")
        return _Proc(self, code, out)

    def run(self, args: list[str], cwd: Any = None, env: Any = None, stream: Any = None) -> tuple[int, str, str]:
        proc = self.popen(args, cwd, env)
        out, err = proc._real.communicate()
        proc.wait()
        for line in out.decode().splitlines():
            stream("stdout", line)
        return proc.returncode, out.decode(), err.decode()

    def _answer(self, stack: str, command: str) -> tuple[int, str]:
        queue = self.script.get((stack, command))
        if queue:
            return queue.pop(0) if len(queue) > 1 else queue[0]
        defaults = {
            "plan": (2, "Plan: 1 to add, 0 to change, 0 to destroy.\n"),
            "show": (0, json.dumps({"resource_changes": [
                {"address": f"google_storage_bucket.{stack}", "mode": "managed",
                 "type": "google_storage_bucket", "change": {"actions": ["create"]}}]})),
            "output": (0, json.dumps({"name": {"value": stack, "type": "string", "sensitive": False}})),
            "state": (0, f"google_storage_bucket.{stack}\n"),
        }
        return defaults.get(command, (0, ""))

    def commands(self, stack: str) -> list[str]:
        return [c for s, c in self.calls if s == stack]


def apply_summary(plan: dict[str, Any], **counts: int) -> str:
    """The ``change_summary`` line ``apply -json`` prints after applying ``plan`` (or ``counts``)."""
    totals = {"add": 0, "change": 0, "import": 0, "remove": 0}
    for item in plan.get("resource_changes", []):
        if item.get("mode", "managed") != "managed":
            continue
        actions = set(item["change"]["actions"])
        totals["add"] += "create" in actions
        totals["change"] += "update" in actions
        totals["remove"] += "delete" in actions
        totals["import"] += bool(item["change"].get("importing"))
    totals.update(counts)
    message = {"@level": "info", "@message": "Apply complete! Resources: {add} added, {change} changed, "
               "{remove} destroyed.".format(**totals), "type": "change_summary",
               "changes": {**totals, "operation": "apply"}}
    return json.dumps(message) + "\n"


class _Proc:
    """A finished process with the scripted output (read through real pipes)."""

    def __init__(self, engine: FakeEngine, code: int, out: str) -> None:
        with engine.lock:
            engine.running += 1
            engine.max_running = max(engine.max_running, engine.running)
        self._engine = engine
        # A shell prints the output: it starts in a few milliseconds, a Python interpreter in
        # tens (the fast lane makes thousands of these calls). printf %s prints it as it is.
        script = 'printf %s "$1"; exit "$2"' if not engine.delay else 'sleep "$3"; printf %s "$1"; exit "$2"'
        self._real = subprocess.Popen(
            ["/bin/sh", "-c", script, "fake-terraform", out, str(code), str(engine.delay)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.stdout = self._real.stdout
        self.stderr = self._real.stderr

    @property
    def returncode(self) -> int | None:
        return self._real.returncode

    def wait(self) -> int:
        code = self._real.wait()
        with self._engine.lock:
            if self._engine.running:
                self._engine.running -= 1
        return code

    def send_signal(self, sig: int) -> None:
        self._real.send_signal(sig)
