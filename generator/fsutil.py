"""The one path guard: df-gen reads, writes and deletes only where each kind of path belongs.

Boundaries: descriptors inside the environment directory; pipeline code inside
``pipelines_dir``; a pipeline's ``schema:`` and ``sql:`` files inside its code directory;
manifest entries inside ``stacks/``. A path is inside its boundary when it is, with every
symbolic link resolved; a link that leaves the boundary is refused, never followed, and a
file that is not a regular file (a FIFO, a device, a socket) is refused without opening it
(opening a FIFO blocks until someone writes to it).

Also the one atomic write (:func:`atomic_write`) and the one ``flock`` (:func:`locked`)
that every df-gen file writer and lock uses.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import NoReturn


def within(root: Path, path: Path) -> bool:
    """True when ``path``, every link resolved, is ``root`` or below it.

    Walks only the part of ``path`` below ``root`` (one ``lstat`` per component) against
    the root's real path, computed once per root: validate asks this for every descriptor,
    schema and SQL file, and resolving each full path again was a large part of its time.
    The part below ``root`` is cut from the normalised absolute paths with string
    operations (``os.path.relpath`` normalises both paths again on every call).
    """
    try:
        absolute_root = os.path.abspath(root)
        absolute = os.path.abspath(path)
        real_root = _real(absolute_root)  # the cache key must not depend on the cwd
        prefix = absolute_root.rstrip(os.sep) + os.sep
        if not absolute.startswith(prefix):  # the root itself, or outside it unless a link leads back
            return _inside(real_root, os.path.realpath(path))
        current = real_root
        parts = absolute[len(prefix):].split(os.sep)
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
    return mode_problem(mode)


def mode_problem(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not a regular file to read (None when it is)."""
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


def atomic_write(path: Path | str, data: bytes | str, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    Readers (a concurrent df-gen, a sandbox provider, Terraform) see the old file or the new
    one, never a part. The temporary name starts with a dot, so render's scan of ``stacks/``
    never lists it, and holds the pid and thread, so parallel writers never share one; it is
    removed when the write fails. ``mode`` is the new file's mode (minus the umask). A missing
    directory is made when the first write into it finds it missing (a cold render writes
    11,000 files into 5,000 new directories: no ``stat`` before each write).

    There is no fsync, of the file or of its directory: the rename protects against a crashed
    or interrupted df-gen, which is what a generator must survive; an fsync per file made a
    cold render of 11,000 files spend most of its time waiting for the disk, and what a power
    loss could leave half-written (a rendered stack, a cache, the sandbox's store) is written
    again by re-running the command (``render --check`` and the caches' digests see it).
    """
    directory, name = os.path.split(os.fspath(path))
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
    payload = data.encode() if isinstance(data, str) else data
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        try:
            handle = os.open(temporary, flags, mode)
        except FileNotFoundError:  # its directory is missing
            os.makedirs(directory or ".", exist_ok=True)
            handle = os.open(temporary, flags, mode)
        try:  # os.write, not a file object: no buffer, no isatty or seek per file
            view = memoryview(payload)
            while view:
                view = view[os.write(handle, view):]
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def display_path(path: Path) -> str:
    """The path as the user should read it: relative to the working directory if inside it.

    A path below the working directory is cut from the normalised absolute path (every
    message and cache entry asks; ``os.path.relpath`` normalises both paths each time)."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    prefix = cwd.rstrip(os.sep) + os.sep
    if absolute.startswith(prefix):
        return absolute[len(prefix):]
    return "." if absolute == cwd else str(path)  # outside: relative to the cwd it would start with ..


@contextlib.contextmanager
def locked(path: Path, on_busy: Callable[[int], NoReturn] | None = None) -> Iterator[int]:
    """Hold an exclusive ``flock`` on ``path`` (created when missing) for the block; yield its fd.

    The kernel releases an ``flock`` when its process dies, so a crash never leaves a stale
    lock. Without ``on_busy`` this waits for the holder; with it, a held lock calls
    ``on_busy(fd)`` at once (it must raise; it may read what the holder wrote to the file).
    The file is opened without truncating, so what the holder wrote stays readable.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if on_busy is None else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            assert on_busy is not None
            on_busy(fd)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
