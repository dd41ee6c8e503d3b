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
from functools import lru_cache
from pathlib import Path, PurePosixPath


def within(root: Path, path: Path) -> bool:
    """True when ``path``, every link resolved, is ``root`` or below it.

    Walks only the part of ``path`` below ``root`` (one ``lstat`` per component) against
    the root's real path, computed once per root: validate asks this for every descriptor,
    schema and SQL file, and resolving each full path again was a large part of its time.
    """
    try:
        real_root = _real(os.path.abspath(root))  # the cache key must not depend on the cwd
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
        if relative == "." or relative.startswith(".."):
            return _inside(real_root, os.path.realpath(path))
        current = real_root
        parts = relative.split(os.sep)
        for index, part in enumerate(parts):
            candidate = os.path.join(current, part)
            if os.path.islink(candidate):  # from here on only the resolved path can tell
                return _inside(real_root, os.path.realpath(os.path.join(candidate, *parts[index + 1:])))
            current = candidate
        return True
    except (ValueError, OSError):
        return False


@lru_cache(maxsize=1024)
def _real(root: str) -> str:
    return os.path.realpath(root)


def _inside(real_root: str, real: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


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


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Readers see the old file or the new one, never a part. There is no fsync per file:
    the rename protects against a crashed or interrupted df-gen, and a machine crash is
    covered by re-running render (the manifest is written last).
    """
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def display_path(path: Path) -> str:
    """The path as the user should read it: relative to the working directory if inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # a different drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative
