"""What a result depends on: the files a validate or render reads, and their digests."""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

OVERRIDE_NAME = "df_gen_sandbox_override.tf"
"""The sandbox override (``generator.overrides``), never part of a rendered stack."""

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The ``generator`` package: df-gen's own files are under it."""


def digest(data: bytes) -> str:
    """The hash df-gen records for a file's bytes (the render manifest uses the same)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _files_under(root: str) -> list[str]:
    """Every file below ``root`` (links followed as files, not as directories); caches
    (``__pycache__``) and hidden entries (``.terraform``, ``.df-gen``) left out. Strings, not
    Paths: the no-op check walks every input of every command, where Path objects cost more
    than the ``stat`` calls. (A stack's files are walked by :func:`stack_listing`.)"""
    found: list[str] = []
    pending = [root]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            name = entry.name
            if name[0] == "." or name == "__pycache__":
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            else:
                found.append(entry.path)
    return found


def _descriptor_files(env_dir: str) -> Iterator[str]:
    yield os.path.join(env_dir, "environment.yaml")
    for folder in ("datasources", "pipelines"):
        directory = os.path.join(env_dir, folder)
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        yield from (os.path.join(directory, name) for name in names if name.endswith((".yaml", ".yml")))


def _tool_files() -> Iterator[str]:
    """df-gen's own files: code, schemas, templates and modules (in a checkout or a wheel)."""
    yield from _files_under(str(_PACKAGE_DIR))
    if not (_PACKAGE_DIR / "_data").is_dir():
        for name in ("templates", "modules"):
            yield from _files_under(str(_PACKAGE_DIR.parent / name))


def input_files(env_dir: Path, pipelines_dir: Path) -> list[str]:
    """Every file a validate or render of ``env_dir`` depends on."""
    return [*_descriptor_files(os.path.abspath(env_dir)), *_files_under(os.path.abspath(pipelines_dir)), *_tool_files()]


DirStat = list[int]
"""A directory's ``[st_mtime_ns, st_ino]``: an entry added, removed or renamed in it
changes its modification time."""


def stack_listing(stacks_dir: Path | str, stack: str) -> tuple[list[str], dict[str, DirStat]]:
    """The files of a stack's directory Terraform would read, relative to ``stacks/``, in the
    order the walk met them, and each directory walked (relative to ``stacks/``) with its
    :data:`DirStat`, taken before it was listed (a file added since changes it).

    Left out: dot files and directories (Terraform's ``.terraform/`` and lock file, df-gen's
    temporary files) and df-gen's own sandbox override, which exists only during a sandbox
    command. Links to files count; links to directories are not followed, and dangling links
    and special files are no files Terraform reads. The one walk render and the record both
    use, so that they agree on what a stack holds. ``os.scandir`` and strings, not Paths:
    render asks for 1,000 stacks."""
    found: list[str] = []
    dirs: dict[str, DirStat] = {}
    pending = [(os.path.join(stacks_dir, stack), stack)]
    while pending:
        path, relative = pending.pop()
        try:
            info = os.stat(path)
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            continue
        dirs[relative] = [info.st_mtime_ns, info.st_ino]
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, f"{relative}/{name}"))
            elif name != OVERRIDE_NAME and entry.is_file():
                found.append(f"{relative}/{name}")
    return found, dirs


def tool_digest() -> str:
    """A hash of df-gen's own files (code, JSON Schemas, templates, modules) and the Python
    version: what a descriptor's parse and schema errors depend on besides its bytes.
    Computed once per process and package directory (a test that points df-gen at another
    copy of itself must not leave that copy's digest to the tests after it)."""
    return _tool_digest(_PACKAGE_DIR)


@functools.cache
def _tool_digest(package_dir: Path) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(_tool_files()):
        try:
            with open(path, "rb") as stream:
                digest.update(f"\0{os.path.relpath(path, package_dir)}\0".encode())
                digest.update(stream.read())
        except OSError:
            continue
    return digest.hexdigest()


def tree_digest(directory: Path) -> str:
    """A digest of a directory tree as a command reads it: every entry's relative path and
    kind, each link's target, each file's contents (up to :data:`TREE_HASH_LIMIT` bytes;
    a larger file, a data sample say, by size and modification time). Hidden entries and
    ``__pycache__`` are left out, as :func:`input_files` leaves them; links to directories
    are recorded, not followed."""
    digest = hashlib.sha256(os.path.realpath(directory).encode())
    pending = [(str(directory), "")]
    while pending:
        path, prefix = pending.pop()
        try:
            entries = sorted(os.scandir(path), key=lambda entry: entry.name)
        except OSError as exc:
            digest.update(f"\0!{prefix}:{type(exc).__name__}".encode())
            continue
        for entry in entries:
            if entry.name[0] == "." or entry.name == "__pycache__":
                continue
            relative = f"{prefix}{entry.name}"
            try:
                if entry.is_symlink():
                    digest.update(f"\0L{relative}>{os.readlink(entry.path)}".encode())
                if entry.is_dir(follow_symlinks=False):
                    digest.update(f"\0D{relative}".encode())
                    pending.append((entry.path, f"{relative}/"))
                    continue
                st = os.stat(entry.path)  # the target's for a link (OSError when it dangles)
                digest.update(f"\0F{relative}:{st.st_mode}:{st.st_size}".encode())
                if st.st_size > TREE_HASH_LIMIT or not stat.S_ISREG(st.st_mode):
                    digest.update(f":{st.st_mtime_ns}".encode())
                else:
                    with open(entry.path, "rb") as stream:
                        digest.update(hashlib.sha256(stream.read()).digest())
            except OSError as exc:
                digest.update(f"\0!{relative}:{type(exc).__name__}".encode())
    return digest.hexdigest()


TREE_HASH_LIMIT = 1 << 20
"""Files of a code directory larger than this are recorded by size and time, not read."""
