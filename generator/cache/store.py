"""Cache files in Python's ``marshal`` format: stores of entries, and single values (blobs).

``marshal`` (the format of Python's own ``.pyc`` files), not JSON: every command after a
change reads the caches whole, and for a thousand pipelines (4,300 entries, 5 MB) decoding
JSON lines and checking a hash per line took a seventh of a one-change render, marshal a
fifth of that. The format is Python's: each file's header holds ``marshal.version`` and
callers put the Python version in their stamp, so another Python misses every entry rather
than misreading one.

- A :class:`Store` (``documents.marshal``, ``stacks.marshal``) holds entries by key, each
  marshalled on its own: reading copies the file once and decodes an entry when
  :meth:`Store.get` asks for it, into objects of its own. A run appends the entries it
  changed (see the class).
- A blob (``inputs.marshal``, :func:`write_blob`) is one value under a header with its
  crc32, rewritten whole, atomically.

A file of another format or stamp, or damaged (a checksum that fails, a write cut short),
is a miss; a store keeps the entries before the damage. Deleting a file changes nothing but
time.
"""

from __future__ import annotations

import json
import marshal
import os
import struct
import zlib
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write

FORMAT = 3
"""Bumped when a file's layout changes; another format is a miss for every entry."""

SLACK = 64
"""Entries a file may hold beyond twice the used ones before it is compacted (small
environments keep the entries of a file they will see again)."""


def _header(stamp: str, **more: int) -> bytes:
    """A file's header line: the format, the stamp, marshal's version (and for a blob, its
    payload's crc32)."""
    return json.dumps({"format": FORMAT, "stamp": stamp, "marshal": marshal.version, **more},
                      separators=(",", ":")).encode() + b"\n"


def read_blob(path: Path | str, stamp: str) -> Any:
    """What :func:`write_blob` wrote to ``path`` under ``stamp``, or None (missing, of
    another format or stamp, damaged)."""
    try:
        with open(path, "rb") as stream:
            return decode_blob(stream.read(), stamp)
    except OSError:
        return None


def decode_blob(data: bytes, stamp: str) -> Any:
    """What :func:`write_blob` wrote under ``stamp``, from the file's bytes, or None."""
    header, _, payload = data.partition(b"\n")
    if header + b"\n" != _header(stamp, crc32=zlib.crc32(payload)):
        return None
    try:
        return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None


def write_blob(path: Path | str, stamp: str, value: Any) -> None:
    """Write ``value`` (plain data: dicts, lists, strings, numbers) to ``path`` atomically,
    under ``stamp``. Raises OSError."""
    payload = marshal.dumps(value)
    atomic_write(path, _header(stamp, crc32=zlib.crc32(payload)) + payload)


class Store:
    """The entries of one cache file, decoded lazily, and the changes a run makes to them.

    The file is a header line (format, stamp, marshal's version), then chunks, each its
    length, its crc32 and a marshalled ``{key: marshalled entry}``; a later chunk's entry of
    a key replaces an earlier one. Saving appends one chunk of the entries this run changed
    (a one-change render over 1,000 pipelines appends three entries instead of rewriting
    3.5 MB), or rewrites the file atomically with the used entries only when it holds more
    than twice as many (compaction), is of another format or stamp, or ends in a damaged
    chunk. Reading stops at the first chunk that is cut short or fails its checksum."""

    def __init__(self, path: Path, stamp: str) -> None:
        self.path = Path(path)
        self.stamp = stamp
        self.header = _header(stamp)
        self._raw: dict[str, bytes] = {}
        """Each key's entry, marshalled: as the file holds it, or as this run put it."""
        self._pending: dict[str, bytes] = {}
        self._count = 0
        """Entries in the file's chunks (older versions of a key included)."""
        self._appendable = False
        """Whether the file has this header and no damaged chunk (else it is rewritten)."""
        self.used: set[str] = set()
        """Each key this run read or wrote (what a compaction keeps)."""
        try:
            with open(self.path, "rb") as stream:
                data = stream.read()
        except OSError:
            return
        if not data.startswith(self.header):
            return
        position, end = len(self.header), len(data)
        while position < end:
            if position + _CHUNK.size > end:
                return
            length, checksum = _CHUNK.unpack_from(data, position)
            payload = data[position + _CHUNK.size:position + _CHUNK.size + length]
            if len(payload) != length or zlib.crc32(payload) != checksum:
                return  # cut short or damaged: what follows is not trusted either
            try:
                chunk = marshal.loads(payload)
            except (ValueError, EOFError, TypeError):
                return
            if not isinstance(chunk, dict):
                return
            self._raw.update(chunk)
            self._count += len(chunk)
            position += _CHUNK.size + length
        self._appendable = True

    def get(self, key: str) -> Any:
        """The entry of ``key`` (objects of its own), or None (missing or damaged)."""
        raw = self._raw.get(key)
        if not isinstance(raw, bytes):
            return None
        try:
            value = marshal.loads(raw)
        except (ValueError, EOFError, TypeError):
            return None
        self.used.add(key)
        return value

    def keys(self) -> list[str]:
        """Every key the file or this run holds an entry for."""
        return list(self._raw)

    def put(self, key: str, value: Any) -> None:
        """Set the entry of ``key`` (``value``: plain data); written by :meth:`save`."""
        raw = marshal.dumps(value)
        self.used.add(key)
        if self._raw.get(key) != raw:
            self._raw[key] = raw
            self._pending[key] = raw

    def save(self) -> None:
        """Append the changed entries (or rewrite, see the class); nothing when nothing
        changed. Best effort: a cache that cannot be written costs time only."""
        if not self._pending:
            return
        try:
            if self._appendable and self._count + len(self._pending) <= 2 * len(self.used) + SLACK:
                self._append()
            else:
                self._rewrite()
        except OSError:
            return
        self._pending.clear()

    def _append(self) -> None:
        try:
            handle = os.open(self.path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:  # deleted since it was read
            self._rewrite()
            return
        try:
            ours = os.pread(handle, len(self.header), 0) == self.header
            if ours:
                os.write(handle, _chunk(self._pending))  # one write: two appending df-gens never interleave
        finally:
            os.close(handle)
        if not ours:  # rewritten since it was read by another df-gen (or Python): not ours to add to
            self._rewrite()
            return
        self._count += len(self._pending)

    def _rewrite(self) -> None:
        kept = {key: raw for key, raw in self._raw.items() if key in self.used}
        atomic_write(self.path, self.header + _chunk(kept))
        self._raw, self._count, self._appendable = kept, len(kept), True


_CHUNK = struct.Struct("<II")
"""A chunk's length and crc32, before its payload."""


def _chunk(entries: dict[str, bytes]) -> bytes:
    payload = marshal.dumps(entries)
    return _CHUNK.pack(len(payload), zlib.crc32(payload)) + payload
