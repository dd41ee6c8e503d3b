"""An append-only log of cache entries: a run that changes one entry writes one line.

``ENV_DIR/.df-gen/cache/<name>.log`` holds a header line, then one line per entry::

    {"format":1,"stamp":"<what every entry depends on: df-gen's files, Python>"}
    <key> <checksum> <the entry as JSON>

A later line of a key replaces an earlier one. Reading splits the lines and parses no entry
until it is asked for (:meth:`Log.get`): a run pays for the entries it uses. Saving appends
the lines of the entries that changed, in one ``write`` to the file opened for appending
(two df-gens appending at once never interleave within a line). When the log holds more
than twice the entries the run used (old versions, entries of files since deleted), it is
compacted instead: rewritten with the used entries only, atomically
(:func:`generator.fsutil.atomic_write`). A log of another format or stamp (another df-gen,
another Python) is rewritten whole on the next save.

A line that does not parse, or whose checksum does not match its entry (a partial or
damaged write), is a miss: the caller computes the entry again and it is appended, the
last line of a key winning. Deleting the log changes nothing but time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write

FORMAT = 1
"""Bumped when the line format changes; another format is a miss for every entry."""

SLACK = 64
"""Lines a log may hold beyond twice the used entries before it is compacted (small
environments are not rewritten for every change)."""


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Log:
    """The entries of one log file, read lazily, and the changes a run makes to them."""

    def __init__(self, path: Path, stamp: str) -> None:
        self.path = Path(path)
        self.header = json.dumps({"format": FORMAT, "stamp": stamp}, separators=(",", ":"))
        self._lines: dict[str, str] = {}
        """Each key's last line in the file, after the key: ``checksum entry``, unparsed."""
        self._count = 0
        """Entry lines in the file (older versions of a key included)."""
        self._valid = False
        """Whether the file exists with this format and stamp (else it is rewritten)."""
        self._clean_end = True
        self.used: dict[str, str] = {}
        """Each key this run read or wrote -> its line (what a compaction keeps)."""
        self._pending: dict[str, str] = {}
        try:
            text = self.path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return  # nothing cached: every entry is a miss
        header, _, rest = text.partition("\n")
        if header != self.header:
            return
        self._valid = True
        self._clean_end = text.endswith("\n")
        for line in rest.split("\n"):
            key, space, body = line.partition(" ")
            if space:
                self._lines[key] = body
                self._count += 1

    def get(self, key: str) -> Any:
        """The entry of ``key``, or None (missing, partial or damaged)."""
        body = self._pending.get(key) or self._lines.get(key)
        if body is None:
            return None
        checksum, space, text = body.partition(" ")
        if not space or _checksum(text) != checksum:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        self.used[key] = body
        return value

    def keys(self) -> list[str]:
        """Every key the log or this run holds an entry for (damaged ones included)."""
        return list({**self._lines, **self._pending})

    def put(self, key: str, value: Any) -> None:
        """Set the entry of ``key`` (``value``: JSON-able); written by :meth:`save`."""
        text = json.dumps(value, separators=(",", ":"))
        body = f"{_checksum(text)} {text}"
        self.used[key] = body
        if self._lines.get(key) != body:
            self._pending[key] = body

    def save(self) -> None:
        """Append the changed entries, or (when the log holds more than twice the used
        ones) compact it; nothing when nothing changed. Best effort: only time is lost."""
        if not self._pending:
            return
        try:
            if self._valid and self._count + len(self._pending) <= 2 * len(self.used) + SLACK:
                self._append()
            else:
                self._rewrite()
        except OSError:
            return
        self._lines.update(self._pending)
        self._pending.clear()

    def _append(self) -> None:
        lines = "".join(f"{key} {body}\n" for key, body in self._pending.items())
        data = ("" if self._clean_end else "\n") + lines
        try:
            handle = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except FileNotFoundError:  # deleted since it was read
            self._rewrite()
            return
        try:
            os.write(handle, data.encode())
        finally:
            os.close(handle)
        self._count += len(self._pending)
        self._clean_end = True

    def _rewrite(self) -> None:
        lines = "".join(f"{key} {body}\n" for key, body in self.used.items())
        atomic_write(self.path, f"{self.header}\n{lines}".encode())
        self._lines = dict(self.used)
        self._count, self._valid, self._clean_end = len(self.used), True, True
