"""The one path guard: df-gen reads, writes and deletes only where each kind of path belongs.

Boundaries: descriptors inside the environment directory; pipeline code inside
``pipelines_dir``; a pipeline's ``schema:`` and ``sql:`` files inside its code directory;
manifest entries inside ``stacks/``. A path is inside its boundary when it is, with every
symbolic link resolved; a link that leaves the boundary is refused, never followed, and a
file that is not a regular file (a FIFO, a device, a socket) is refused without opening it
(opening a FIFO blocks until someone writes to it).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath


def within(root: Path, path: Path) -> bool:
    """True when ``path``, every link resolved, is ``root`` or below it."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return False
    return True


def outside_problem(root: Path, path: Path, what: str) -> str | None:
    """Why ``path`` may not be used as ``what`` under ``root`` (None when it may)."""
    if within(root, path):
        return None
    if path.is_symlink():
        return f"is a link leaving {what}; refused"
    return f"is outside {what}; refused"


def special_file_problem(path: Path) -> str | None:
    """Why ``path`` is not a regular file that can be read without blocking (None when it is)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None  # the caller reports a missing file in its own words
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, expected a file"
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device or special file"
    return f"is {kind}, not a regular file; refused"


def relative_entry_problem(entry: str) -> str | None:
    """Why a relative path recorded in a file (a manifest entry) could leave its directory."""
    path = PurePosixPath(entry)
    if not entry or path.is_absolute() or "\\" in entry:
        return "is not a relative path"
    if any(part in ("..", "") for part in entry.split("/")):
        return "leaves its directory ('..' or an empty part)"
    return None
