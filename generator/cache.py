"""Skip work whose inputs did not change: the record of the last good validate and render.

``ENV_DIR/.df-gen/cache/inputs.json`` (git-ignored with the rest of ``.df-gen/``) records,
after a validate or render that succeeded, every file the result depended on, each with its
``stat`` (modification time, size, inode) and content hash:

- the descriptors (``environment.yaml``, ``datasources/*``, ``pipelines/*``);
- every file under the pipeline code directory (``pipelines_dir``: DAG templates, SQL,
  schemas, task lists);
- df-gen itself: its code, JSON Schemas, templates and modules (its version string never
  changes, so its files are hashed), and the Python version;
- after a render, every generated file under ``stacks/`` and the manifest, with the hash
  df-gen wrote, and the file list of each stack directory (a file dropped in is reported).

The next ``validate``, ``render`` or ``render --check`` first compares that record with the
disk, importing nothing heavy (no YAML, JSON Schema, Jinja or SQL parser): when every file
is as recorded, the answer is the recorded one. A file whose ``stat`` differs is hashed, so
a touched but unchanged file still hits; any added, removed or changed file misses and the
full command runs (and records again if it succeeds). Like git's index, a file modified
within :data:`RACY_NS` of the record being written is trusted by its hash only, because
file times are coarser than the clock; a file modified while the command ran is not
trusted at all, since the result may predate the change.

The record is written atomically; one that cannot be read, or of another format version,
is a miss and is rewritten. Deleting ``.df-gen/cache`` changes nothing but time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write

FORMAT = 1
"""Bumped when the record's shape changes; another format is a miss."""

RECORD = Path(".df-gen") / "cache" / "inputs.json"
RACY_NS = 1_000_000_000
"""A file modified this close to the record's writing is checked by hash, not ``stat``."""

OVERRIDE_NAME = "df_gen_sandbox_override.tf"
"""The sandbox override (``generator.overrides``), never part of a rendered stack."""

Entry = list[Any]
"""``[mtime_ns, size, inode, digest or None]``; a None digest never matches."""

_PACKAGE_DIR = Path(__file__).resolve().parent


def now() -> int:
    """The clock, taken before a command reads its inputs (see :func:`record_validate`)."""
    return time.time_ns()


def digest(data: bytes) -> str:
    """The hash df-gen records for a file's bytes (the render manifest uses the same)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- what a result depends on ----------------------------------------------------------------


def _files_under(root: str, skip: str = "") -> list[str]:
    """Every file below ``root`` (links followed as files, not as directories), except
    those named ``skip``; caches (``__pycache__``) and hidden entries (``.terraform``,
    ``.df-gen``) left out. Strings, not Paths: this runs over every stack file of a no-op
    render, where Path objects cost more than the ``stat`` calls."""
    found: list[str] = []
    pending = [root]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            name = entry.name
            if name[0] == "." or name == "__pycache__" or name == skip:
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


def stack_files(stacks_dir: Path, stacks: Iterable[str]) -> list[str]:
    """Every file of the given stack directories Terraform would read (as render lists them)."""
    found: list[str] = []
    for stack in stacks:
        found.extend(_files_under(os.path.join(stacks_dir, stack), OVERRIDE_NAME))
    return found


# --- the record ------------------------------------------------------------------------------


def _entry(path: str, known: str | None = None, since: int | None = None) -> Entry | None:
    """The stat and hash of ``path`` (``known``: its hash, already computed); None if absent.
    A file modified at or after ``since`` gets no hash: what was read may predate it."""
    try:
        st = os.stat(path)
        if known is None:
            with open(path, "rb") as stream:
                known = digest(stream.read())
    except OSError:
        return None
    # File times come from a clock coarser than time_ns(): allow for it.
    if since is not None and st.st_mtime_ns >= since - 50_000_000:
        known = None
    return [st.st_mtime_ns, st.st_size, st.st_ino, known]


def _entries(paths: Iterable[str], since: int | None = None,
             known: Mapping[str, str] | None = None) -> dict[str, Entry] | None:
    entries: dict[str, Entry] = {}
    for path in paths:
        entry = _entry(path, (known or {}).get(path), since)
        if entry is None:
            return None  # vanished while recording: record nothing
        entries[path] = entry
    return entries


def _matches(recorded: Mapping[str, Entry], paths: list[str], written: int) -> bool | None:
    """True when every path is as recorded (None: yes, but some only by hash: refresh)."""
    if len(paths) != len(recorded):
        return False
    refresh = False
    limit = written - RACY_NS
    for path in paths:
        entry = recorded.get(path)
        if entry is None or entry[3] is None:
            return False
        try:
            st = os.stat(path)
        except OSError:
            return False
        if st.st_mtime_ns == entry[0] and st.st_size == entry[1] and st.st_ino == entry[2] and entry[0] < limit:
            continue
        if st.st_size != entry[1]:
            return False
        try:
            with open(path, "rb") as stream:
                if digest(stream.read()) != entry[3]:
                    return False
        except OSError:
            return False
        entry[:3] = [st.st_mtime_ns, st.st_size, st.st_ino]
        refresh = True
    return None if refresh else True


def _path(env_dir: Path) -> Path:
    return Path(env_dir) / RECORD


def _read(env_dir: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(_path(env_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("python") != sys.version:
        return None
    return record


def _write(env_dir: Path, record: dict[str, Any]) -> None:
    record["written"] = now()
    try:
        atomic_write(_path(env_dir), json.dumps(record, separators=(",", ":")).encode())
    except OSError:
        pass  # a cache that cannot be written costs time, never a result


def _inputs_match(env_dir: Path, record: dict[str, Any]) -> bool | None:
    if record.get("env") != os.path.realpath(env_dir):
        return False
    paths = input_files(env_dir, Path(record["pipelines_dir"]))
    return _matches(record["inputs"], paths, record["written"])


# --- the questions the commands ask ----------------------------------------------------------


def validated(env_dir: Path, access: bool = True) -> dict[str, int] | None:
    """The summary of the last good validate when no input changed since, else None.
    ``access``: the answer must include the access check (a render does not run it)."""
    record = _read(env_dir)
    try:
        if record is None or "summary" not in record or (access and record.get("access") is not True):
            return None
        match = _inputs_match(env_dir, record)
        if match is False:
            return None
        if match is None:
            _write(env_dir, record)
        return {str(k): int(v) for k, v in record["summary"].items()}
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None  # a damaged record is a miss; the full run rewrites it


def rendered(env_dir: Path) -> int | None:
    """The number of generated files when the last render left ``stacks/`` up to date and
    neither the inputs nor the stacks changed since (nothing to write, report or delete)."""
    record = _read(env_dir)
    try:
        if record is None or "render" not in record:
            return None
        inputs = _inputs_match(env_dir, record)
        if inputs is False:
            return None
        render = record["render"]
        stacks_dir = Path(os.path.abspath(env_dir)) / "stacks"
        paths = [str(stacks_dir / ".df-gen-manifest.json"), *stack_files(stacks_dir, render["stacks"])]
        stacks = _matches(render["files"], paths, record["written"])
        if stacks is False:
            return None
        if inputs is None or stacks is None:
            _write(env_dir, record)
        return int(render["count"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


def record_validate(env_dir: Path, since: int, pipelines_dir: Path, summary: Mapping[str, int],
                    access: bool) -> None:
    """Record a validate that succeeded (``access``: with the access check); ``since``:
    :func:`now` before it read anything."""
    inputs = _entries(input_files(env_dir, pipelines_dir), since)
    if inputs is None:
        return
    previous = _read(env_dir) or {}
    same = previous.get("inputs") == inputs
    record: dict[str, Any] = {
        "format": FORMAT, "python": sys.version, "env": os.path.realpath(env_dir),
        "pipelines_dir": os.path.abspath(pipelines_dir), "inputs": inputs, "summary": dict(summary),
        "access": access or (same and previous.get("access") is True),
    }
    if same and "render" in previous:
        record["render"] = previous["render"]  # the stacks still answer these inputs
    _write(env_dir, record)


def record_render(env_dir: Path, since: int, pipelines_dir: Path, summary: Mapping[str, int],
                  files: Mapping[str, str]) -> None:
    """Record a render that left ``stacks/`` up to date: ``files`` maps each generated file
    (relative to ``stacks/``) to the hash of what it holds."""
    inputs = _entries(input_files(env_dir, pipelines_dir), since)
    stacks_dir = Path(os.path.abspath(env_dir)) / "stacks"
    stacks = sorted({relative.split("/", 1)[0] for relative in files})
    known = {str(stacks_dir / relative): value for relative, value in files.items()}
    paths = [str(stacks_dir / ".df-gen-manifest.json"), *stack_files(stacks_dir, stacks)]
    if inputs is None or set(paths[1:]) != set(known):
        return  # a file render did not write sits in a stack: render must keep reporting it
    generated = _entries(paths, known=known)
    if generated is None:
        return
    previous = _read(env_dir) or {}
    _write(env_dir, {
        "format": FORMAT, "python": sys.version, "env": os.path.realpath(env_dir),
        "pipelines_dir": os.path.abspath(pipelines_dir), "inputs": inputs, "summary": dict(summary),
        # render runs no access check: a validate's earlier one still holds for the same inputs
        "access": previous.get("inputs") == inputs and previous.get("access") is True,
        "render": {"stacks": stacks, "files": generated, "count": len(files)},
    })


# --- per file: what each descriptor parsed to and its schema errors ---------------------------

DOCUMENTS = Path(".df-gen") / "cache" / "documents.json"


@functools.cache
def tool_digest() -> str:
    """A hash of df-gen's own files (code, JSON Schemas, templates, modules) and the Python
    version: what a descriptor's parse and schema errors depend on besides its bytes."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(_tool_files()):
        try:
            with open(path, "rb") as stream:
                digest.update(f"\0{os.path.relpath(path, _PACKAGE_DIR)}\0".encode())
                digest.update(stream.read())
        except OSError:
            continue
    return digest.hexdigest()


class Documents:
    """Each descriptor file's parse (data and positions) and JSON Schema errors, kept in
    ``ENV_DIR/.df-gen/cache/documents.json`` by the hash of its kind and bytes, so that a
    run parses and schema-checks only the files that changed. The rules across files run
    on every document, cached or not (``validate``).

    The file records :func:`tool_digest`: another df-gen (or Python) drops every entry. A
    missing, unreadable or damaged file or entry is a miss: that file is parsed again and the
    cache rewritten. Writing is best effort and atomic."""

    def __init__(self, env_dir: Path) -> None:
        self.path = Path(env_dir) / DOCUMENTS
        self.entries: dict[str, Any] = {}
        self.used: dict[str, Any] = {}
        self.dirty = False
        self.hits = self.misses = 0
        self.digests: dict[Path, str] = {}
        """Each descriptor read this run -> the key of its bytes (rules key on it)."""
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if document["format"] == FORMAT and document["tool"] == tool_digest() and \
                    isinstance(document["entries"], dict):
                self.entries = document["entries"]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # nothing cached: every file is parsed

    @staticmethod
    def key(kind: str, raw: bytes) -> str:
        return hashlib.sha256(kind.encode() + b"\0" + raw).hexdigest()

    def results(self, parts: Iterable[str]) -> list[tuple[str, int, int, str, str]] | None:
        """The diagnostics recorded for the inputs ``parts`` (a rule's every input, as
        strings), or None."""
        key = "rules:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()
        entry = self.entries.get(key)
        if not isinstance(entry, dict):
            return None
        try:
            found = [(str(p), int(line), int(col), str(m), str(h)) for p, line, col, m, h in entry["diagnostics"]]
        except (KeyError, TypeError, ValueError):
            return None
        self.used[key] = entry
        return found

    def record(self, parts: Iterable[str], diagnostics: Iterable[tuple[str, int, int, str, str]]) -> None:
        """Record the diagnostics a rule gave for the inputs ``parts``."""
        key = "rules:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()
        self.used[key] = {"diagnostics": [list(d) for d in diagnostics]}
        self.dirty = True

    def get(self, kind: str, raw: bytes) -> tuple[Any, list[tuple[tuple[Any, ...], tuple[int, int]]],
                                                  list[tuple[tuple[Any, ...], tuple[int, int]]],
                                                  list[tuple[int, int, str, str]]] | None:
        """``(data, positions, key positions, schema errors)`` of a file's bytes, or None."""
        key = self.key(kind, raw)
        entry = self.entries.get(key)
        try:
            if entry is None:
                raise KeyError(key)
            found = (entry["data"],
                     [(tuple(p[:-2]), (int(p[-2]), int(p[-1]))) for p in entry["positions"]],
                     [(tuple(p[:-2]), (int(p[-2]), int(p[-1]))) for p in entry["keys"]],
                     [(int(line), int(col), str(message), str(hint)) for line, col, message, hint in entry["errors"]])
        except (KeyError, TypeError, ValueError, IndexError):
            self.misses += 1
            return None
        self.hits += 1
        self.used[key] = entry
        return found

    def put(self, kind: str, raw: bytes, data: Any, positions: Mapping[tuple[Any, ...], tuple[int, int]],
            key_positions: Mapping[tuple[Any, ...], tuple[int, int]],
            errors: Iterable[tuple[int, int, str, str]]) -> None:
        """Record what one file's bytes parsed to and their schema errors."""
        self.used[self.key(kind, raw)] = {
            "data": data,
            "positions": [[*path, *where] for path, where in positions.items()],
            "keys": [[*path, *where] for path, where in key_positions.items()],
            "errors": [list(error) for error in errors],
        }
        self.dirty = True

    def save(self) -> None:
        """Write the entries this run used (and older ones, until they outnumber them)."""
        if not self.dirty:
            return
        unused = {k: v for k, v in self.entries.items() if k not in self.used}
        kept = {**unused, **self.used} if len(unused) <= len(self.used) else dict(self.used)
        try:
            atomic_write(self.path, json.dumps({"format": FORMAT, "tool": tool_digest(), "entries": kept},
                                               separators=(",", ":")).encode())
        except OSError:
            return  # only time is lost
        self.entries, self.dirty = kept, False


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
