"""A file of cache entries, each decoded only when asked for.

``ENV_DIR/.df-gen/cache/<name>.marshal`` holds one header line, then the entries::

    {"format":2,"stamp":"<what every entry depends on>","marshal":4,"crc32":<of the rest>}
    <marshal of {key: marshal of the entry}>

Python's ``marshal`` (the format of its own ``.pyc`` files), not JSON: every command after a
change reads the whole file, and for a thousand pipelines (4,300 entries, 5 MB) decoding
JSON lines took a seventh of a one-change render, marshal a fifth of that. Each entry is
marshalled on its own, so reading costs one copy of the bytes and an entry is decoded when
:meth:`Store.get` asks for it, into objects of its own. The format is Python's: the stamp
holds ``marshal.version`` and callers put the Python version in theirs, so another Python
misses every entry rather than misreading one.

Saving rewrites the file atomically (:func:`generator.fsutil.atomic_write`) with the
entries this run changed and the ones it kept; when the file holds more than twice the
entries the run used (old versions, entries of files since deleted), only the used ones
are kept. Two df-gens saving at once: the last one's file wins, the other's entries are
computed again by the next run. A file of another format or stamp, or whose bytes do not
match its checksum (a partial or damaged write), is a miss for every entry, and is
rewritten on the next save. Deleting it changes nothing but time.
"""

from __future__ import annotations

import json
import marshal
import zlib
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write

FORMAT = 2
"""Bumped when the file's layout changes; another format is a miss for every entry."""

SLACK = 64
"""Entries a file may hold beyond twice the used ones before it is compacted (small
environments keep the entries of a file they will see again)."""


def _header(stamp: str, payload: bytes) -> bytes:
    return json.dumps({"format": FORMAT, "stamp": stamp, "marshal": marshal.version,
                       "crc32": zlib.crc32(payload)}, separators=(",", ":")).encode() + b"\n"


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
    if header + b"\n" != _header(stamp, payload):
        return None
    try:
        return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None


def write_blob(path: Path | str, stamp: str, value: Any) -> None:
    """Write ``value`` (plain data: dicts, lists, strings, numbers) to ``path`` atomically,
    under ``stamp``. Raises OSError."""
    payload = marshal.dumps(value)
    atomic_write(path, _header(stamp, payload) + payload)


class Store:
    """The entries of one cache file, decoded lazily, and the changes a run makes to them."""

    def __init__(self, path: Path, stamp: str) -> None:
        self.path = Path(path)
        self.stamp = stamp
        found = read_blob(self.path, stamp)
        self._raw: dict[str, bytes] = found if isinstance(found, dict) else {}
        """Each key's entry as the file holds it, marshalled."""
        self._changed = False
        self.used: set[str] = set()
        """Each key this run read or wrote (what a compaction keeps)."""

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
            self._changed = True

    def save(self) -> None:
        """Rewrite the file when an entry changed (only the used entries, when it holds more
        than twice as many). Best effort: a cache that cannot be written costs time only."""
        if not self._changed:
            return
        if len(self._raw) > 2 * len(self.used) + SLACK:
            self._raw = {key: raw for key, raw in self._raw.items() if key in self.used}
        try:
            write_blob(self.path, self.stamp, self._raw)
        except OSError:
            return
        self._changed = False
