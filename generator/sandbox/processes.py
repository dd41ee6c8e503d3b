"""Which sandbox provider processes are running, so that a killed run's can be stopped.

Each provider process writes ``<sandbox-dir>/providers/<pid>.json`` while it serves (its
pid, the pid of the Terraform that started it, and its start time in clock ticks since
boot, field 22 of ``/proc/<pid>/stat``) and removes it when Terraform shuts it down.
When df-gen is killed (SIGKILL), the Terraform it ran dies without shutting its provider
down (go-plugin stops plugins only on a clean exit), and the provider keeps running with
init as its parent. :func:`stop_orphans` finds those: the pid file's process still runs
(same pid and same start time, so not a reused pid) while the Terraform that started it
is gone. Without ``/proc`` (not Linux) nothing can be proved, and nothing is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

PROVIDERS_DIR = "providers"


def _stat(pid: int) -> tuple[int, int] | None:
    """``(parent pid, start time)`` of a running process from ``/proc/<pid>/stat``, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] == "Z":  # a zombie: already dead
        return None
    return int(fields[1]), int(fields[19])


@contextlib.contextmanager
def registered(sandbox_dir: Path) -> Iterator[None]:
    """Keep this provider's pid file for the block's duration."""
    me = _stat(os.getpid())
    if me is None:  # no /proc: nothing later could check the record
        yield
        return
    path = Path(sandbox_dir) / PROVIDERS_DIR / f"{os.getpid()}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pid": os.getpid(), "parent": os.getppid(), "started": me[1]}) + "\n")
    except OSError:
        yield  # a read-only sandbox dir must not stop the provider
        return
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def stop_orphans(sandbox_dir: Path, wait: float = 5.0) -> list[int]:
    """Stop provider processes whose Terraform is gone; return their pids.

    Only processes proved to be a provider of this sandbox dir are signalled; pid files of
    processes that no longer run are removed. Call it while no Terraform of this sandbox
    dir runs (under df-gen's environment lock).
    """
    stopped = []
    for path in sorted((Path(sandbox_dir) / PROVIDERS_DIR).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            pid, parent, started = int(record["pid"]), int(record["parent"]), int(record["started"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        now = _stat(pid)
        if now is None or now[1] != started:
            path.unlink(missing_ok=True)  # exited (or the pid was reused): nothing to stop
            continue
        parent_alive = now[0] == parent and _stat(parent) is not None
        if parent_alive:
            continue  # its Terraform still runs (it may be another tool's): not ours to stop
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # store writes are atomic: a stop loses nothing written
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and (_stat(pid) or (0, -1))[1] == started:
            time.sleep(0.05)
        path.unlink(missing_ok=True)
        stopped.append(pid)
    return stopped
