"""One df-gen run per environment at a time: an exclusive lock on ``ENV_DIR/.df-gen/lock``.

The lock is an ``fcntl.flock`` on the file, so the kernel releases it when the process
dies (a crashed run never leaves a stale lock behind); the file holds the pid of the
holder only so that a refused run can say who holds it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from generator.errors import DfGenError
from generator.fsutil import locked
from generator.loader import display_path

LOCK_NAME = "lock"


def lock_path(env_dir: Path) -> Path:
    """Where the lock of ``env_dir`` lives."""
    return Path(env_dir) / ".df-gen" / LOCK_NAME


@contextlib.contextmanager
def env_lock(env_dir: Path) -> Iterator[Path]:
    """Hold the environment's lock for the duration of the block.

    Raises :class:`DfGenError` at once (no waiting) when another process holds it.
    """
    path = lock_path(env_dir)
    path.parent.mkdir(parents=True, exist_ok=True)

    def busy(fd: int) -> NoReturn:
        holder = _read_pid(fd)
        who = f"pid {holder}" if holder else "pid unknown"
        raise DfGenError(
            f"another df-gen run ({who}) holds {display_path(path)}; "
            "wait for it to finish (the lock goes when that process ends)"
        ) from None

    with locked(path, on_busy=busy) as fd:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
