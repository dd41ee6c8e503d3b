"""Per stack: what it rendered to, by the hash of its inputs (``.df-gen/cache/stacks.marshal``).

A *unit* is what one descriptor renders: the environment stack, a data source's stack (two
when its key was renamed: the old one releases, generator.renames), a pipeline's stack.
Each entry records the unit's key (a hash of every input that can change its files, see
:mod:`generator.generate`) and the hash of each file it rendered, in order; a pipeline's
entry also records the policy tags its tasks' SQL reads (the environment stack grants
them), keyed by what those reads depend on besides the pipeline.

The texts are not kept: the files are in ``stacks/`` already. A unit whose key matches
and whose files are on disk as recorded is neither modelled nor rendered again; any other
is rebuilt. The entries are kept in a store (:class:`generator.cache.store.Store`), each
decoded only when asked for. The store records :func:`tool_digest` (the Python version with
it): another df-gen drops every entry. A missing, unreadable or damaged store or entry is a
miss; deleting it changes nothing but time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.cache.inputs import tool_digest
from generator.cache.store import Store

STACKS = Path(".df-gen") / "cache" / "stacks.marshal"
FORMAT = 2
"""Bumped when an entry's shape changes; another format is a miss."""

Reads = dict[str, set[str]] | None
"""Per task identity, the policy tags its SQL reads (None: the tasks cannot be read)."""

_ANALYSIS = "analysis"
"""The store's key of the SQL analyser's version (never a unit's: those hold a colon or are
``environment``)."""


def encoded(reads: Reads) -> dict[str, list[str]] | None:
    """``reads`` as JSON holds it, in a stable order (recorded here, hashed into keys)."""
    return None if reads is None else {identity: sorted(tags) for identity, tags in sorted(reads.items())}


class Stacks:
    """The per-unit entries of one environment's render."""

    def __init__(self, env_dir: Path) -> None:
        self.store = _store(env_dir)
        self._read: dict[str, Any] = {}
        """Each unit's entry as read this run: :meth:`put` of the same entry writes nothing."""
        recorded = self.store.get(_ANALYSIS)
        self.analysis = recorded if isinstance(recorded, str) else ""
        """The SQL analyser's version (analysis.cache.code_version) of the view checks the
        recorded units passed; set by the caller before :meth:`save`."""

    def files(self, unit: str, key: str | None) -> dict[str, str] | None:
        """The files (relative to ``stacks/`` -> hash) ``unit`` rendered to for ``key`` (None:
        for whatever key it was last rendered with), or None."""
        entry = self._entry(unit)
        try:
            if not isinstance(entry, dict) or key is not None and entry["key"] != key:
                return None
            found = {str(relative): str(value) for relative, value in dict(entry["files"]).items()}
            if not found or not all(value.startswith("sha256:") for value in found.values()):
                return None
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        return found

    def reads(self, unit: str, key: str) -> tuple[bool, Reads]:
        """``(True, reads)`` recorded for pipeline ``unit`` under ``key``, else ``(False, None)``."""
        entry = self._entry(unit)
        try:
            if not isinstance(entry, dict):
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

    def put(self, unit: str, key: str, files: Mapping[str, str], reads: tuple[str, Reads] | None = None) -> None:
        """Record what ``unit`` rendered to for ``key`` (and, for a pipeline, its reads)."""
        entry: dict[str, Any] = {"key": key, "files": dict(files)}
        if reads is not None:
            entry["reads"] = {"key": reads[0], "value": encoded(reads[1])}
        if self._read.get(unit) != entry:  # an unchanged entry is neither encoded nor written
            self.store.put(unit, entry)

    def _entry(self, unit: str) -> Any:
        if unit not in self._read:
            self._read[unit] = self.store.get(unit)
        return self._read[unit]

    def forget(self, unit: str) -> None:
        """Record that ``unit`` has no entry (a stack its key does not cover: built every time)."""
        if self._entry(unit) is not None:
            self.store.put(unit, None)

    def save(self) -> None:
        """Append the entries this run changed (and the analyser's version)."""
        self.store.put(_ANALYSIS, self.analysis)
        self.store.save()


def recorded(env_dir: Path) -> dict[str, Any]:
    """Every unit's entry as the store holds it (for tests and for reading by hand)."""
    store = _store(env_dir)
    return {unit: entry for unit in store.keys() if unit != _ANALYSIS and (entry := store.get(unit)) is not None}


def _store(env_dir: Path) -> Store:
    """The environment's stack store; its stamp: the entries' format and df-gen's files (with Python)."""
    return Store(Path(env_dir) / STACKS, f"{FORMAT} {tool_digest()}")
