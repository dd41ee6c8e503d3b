"""How a Terraform process is started and read: python-terraform, fixed, and the one pump.

Commands are built and started through the requested wrapper library ``python-terraform``,
with its known faults worked around in :func:`py_terraform`:

- its ``destroy`` adds ``-force``, which Terraform >= 0.15 rejects: destroy is issued as a
  plain ``destroy -auto-approve`` command instead;
- it buffers all output until the command ends unless run with ``synchronous=False``, and
  then leaks ``-synchronous=false`` into the command line and offers no way to pass an
  environment: its ``cmd`` is overridden to start the process with the given ``cwd`` and
  ``env`` and to stream both pipes line by line while the command runs;
- it parses ``terraform.tfstate`` after every call (useless with remote state, slow with
  large ones): switched off.

:func:`pump` is the one reader of a started process's pipes (the runner's and the engine's).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from typing import IO, Any, Protocol

# A stream callback gets ("stdout" | "stderr", one line without its newline).
StreamFn = Callable[[str, str], None]


class Process(Protocol):
    """What df-gen uses of a started Terraform process (a ``subprocess.Popen`` has it)."""

    @property
    def stdout(self) -> IO[bytes] | None: ...

    @property
    def stderr(self) -> IO[bytes] | None: ...

    @property
    def returncode(self) -> int | None: ...

    def wait(self) -> int: ...

    def send_signal(self, sig: int) -> None: ...


def py_terraform() -> type:
    """python-terraform's ``Terraform`` class with its faults worked around."""
    from python_terraform import IsFlagged, Terraform

    class _PyTerraform(Terraform):  # type: ignore[misc]
        """python-terraform, fixed for Terraform >= 0.15 and live streaming."""

        def read_state_file(self, file_path: str | None = None) -> None:
            self.tfstate = None  # never parse terraform.tfstate behind the caller's back

        def destroy(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("auto_approve", IsFlagged)
            kwargs.setdefault("input", False)
            return self.cmd("destroy", *args, **kwargs)

        def cmd(self, cmd: str, *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
            env = kwargs.pop("env", None)
            inherit = kwargs.pop("inherit_stdio", False)
            kwargs.pop("synchronous", None)  # leaks as -synchronous=false in the original
            kwargs.pop("capture_output", None)
            argv = self.generate_cmd_string(cmd, *args, **kwargs)
            pipe = None if inherit else subprocess.PIPE
            # A piped Terraform runs in its own process group: a Ctrl-C on the terminal, or a
            # signal sent to df-gen's whole group, then reaches df-gen only, and df-gen sends
            # Terraform exactly one interrupt (two make Terraform exit at once, losing state).
            return subprocess.Popen(
                argv,
                cwd=self.working_dir or None,
                env=env,
                stdin=None if inherit else subprocess.DEVNULL,
                stdout=pipe,
                stderr=pipe,
                process_group=None if inherit else 0,
            )

    return _PyTerraform


def pump(proc: Process, stream: StreamFn | None) -> tuple[str, str]:
    """Read both pipes of ``proc`` line by line until it exits; return stdout and stderr.

    Each line goes to ``stream(kind, line)`` (kind ``stdout`` or ``stderr``, the line without
    its newline) as it arrives, from one reader thread per pipe: a ``stream`` that writes
    to a shared file must hold its own lock.
    """
    chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def reader(kind: str, pipe: IO[bytes]) -> None:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            chunks[kind].append(line)
            if stream is not None:
                stream(kind, line.rstrip("\n"))
        pipe.close()

    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=reader, args=("stdout", proc.stdout), daemon=True),
        threading.Thread(target=reader, args=("stderr", proc.stderr), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        proc.wait()
    except KeyboardInterrupt:
        # Terraform received the same Ctrl-C; wait for it to release its lock.
        proc.wait()
        raise
    finally:
        for t in threads:
            t.join()
    return "".join(chunks["stdout"]), "".join(chunks["stderr"])
