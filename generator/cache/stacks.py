"""Per stack: what it rendered to, by the hash of its inputs (``.df-gen/cache/stacks.json``).

A *unit* is what one descriptor renders: the environment stack, a data source's stack (two
when its key was renamed: the old one releases, generator.renames), a pipeline's stack.
Each entry records the unit's key (a hash of every input that can change its files, see
:mod:`generator.generate`) and the hash of each file it rendered, in order, with a checksum; a pipeline's
entry also records the policy tags its tasks' SQL reads (the environment stack grants
them), keyed by what those reads depend on besides the pipeline.

The texts are not kept: the files are in ``stacks/`` already. A unit whose key matches
and whose files are on disk as recorded is neither modelled nor rendered again; any other
is rebuilt. The file records :func:`tool_digest` and the Python version: another df-gen
drops every entry. A missing, unreadable or damaged file or entry is a miss; deleting it
changes nothing but time. Written atomically, best effort, only when an entry changed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.cache.inputs import tool_digest
from generator.fsutil import atomic_write

STACKS = Path(".df-gen") / "cache" / "stacks.json"
FORMAT = 1
"""Bumped when an entry's shape changes; another format is a miss."""

Reads = dict[str, set[str]] | None
"""Per task identity, the policy tags its SQL reads (None: the tasks cannot be read)."""


def encoded(reads: Reads) -> dict[str, list[str]] | None:
    """``reads`` as JSON holds it, in a stable order (recorded here, hashed into keys)."""
    return None if reads is None else {identity: sorted(tags) for identity, tags in sorted(reads.items())}


def _sum(entry: Mapping[str, Any]) -> str:
    """A checksum of an entry's contents: a damaged entry (a file left out, say) is a miss."""
    parts = [entry["key"], entry["files"], entry.get("reads")]
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


class Stacks:
    """The per-unit entries of one environment's render."""

    def __init__(self, env_dir: Path) -> None:
        self.path = Path(env_dir) / STACKS
        self.entries: dict[str, Any] = {}
        self.analysis = ""
        """The SQL analyser's version (analysis.cache.code_version) of the view checks the
        recorded units passed; set by the caller before :meth:`save`."""
        self.used: dict[str, Any] = {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if document["format"] == FORMAT and document["tool"] == tool_digest() and \
                    document["python"] == sys.version and isinstance(document["units"], dict):
                self.entries = document["units"]
                self.analysis = str(document.get("analysis", ""))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # nothing cached: every unit is rendered
        self._read_analysis = self.analysis
        self.dirty = False
        self._checked: dict[str, bool] = {}

    def files(self, unit: str, key: str | None) -> dict[str, str] | None:
        """The files (relative to ``stacks/`` -> hash) ``unit`` rendered to for ``key`` (None:
        for whatever key it was last rendered with), or None."""
        entry = self.entries.get(unit)
        try:
            if not isinstance(entry, dict) or key is not None and entry["key"] != key or not self._intact(unit):
                return None
            found = {str(relative): str(value) for relative, value in dict(entry["files"]).items()}
            if not found or not all(value.startswith("sha256:") for value in found.values()):
                return None
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        return found

    def reads(self, unit: str, key: str) -> tuple[bool, Reads]:
        """``(True, reads)`` recorded for pipeline ``unit`` under ``key``, else ``(False, None)``."""
        entry = self.entries.get(unit)
        try:
            if not isinstance(entry, dict) or not self._intact(unit):
                return False, None
            recorded = entry["reads"]
            if recorded["key"] != key:
                return False, None
            value = recorded["value"]
            if value is None:
                return True, None
            return True, {str(identity): {str(tag) for tag in tags} for identity, tags in dict(value).items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return False, None

    def _intact(self, unit: str) -> bool:
        """Whether ``unit``'s entry matches its checksum (checked once per run)."""
        if unit not in self._checked:
            entry = self.entries[unit]
            self._checked[unit] = entry["sum"] == _sum(entry)
        return self._checked[unit]

    def put(self, unit: str, key: str, files: Mapping[str, str], reads: tuple[str, Reads] | None = None) -> None:
        """Record what ``unit`` rendered to for ``key`` (and, for a pipeline, its reads)."""
        entry: dict[str, Any] = {"key": key, "files": dict(files)}
        if reads is not None:
            entry["reads"] = {"key": reads[0], "value": encoded(reads[1])}
        entry["sum"] = _sum(entry)
        self.used[unit] = entry
        if self.entries.get(unit) != entry:  # compared in full: a damaged entry is rewritten
            self.dirty = True

    def save(self) -> None:
        """Write the entries this run used (units no descriptor renders any more are dropped)."""
        if not self.dirty and set(self.used) == set(self.entries) and self.analysis == self._read_analysis:
            return
        document = {"format": FORMAT, "tool": tool_digest(), "python": sys.version, "analysis": self.analysis,
                    "units": self.used}
        try:
            atomic_write(self.path, json.dumps(document, separators=(",", ":")).encode())
        except OSError:
            return  # only time is lost
        self.entries, self.dirty = dict(self.used), False
