"""Per file: what each descriptor parsed to and its schema errors (``.df-gen/cache/documents.marshal``)."""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from generator.cache.inputs import tool_digest
from generator.cache.store import Store

DOCUMENTS = Path(".df-gen") / "cache" / "documents.marshal"

Positions = Mapping[tuple[Any, ...], tuple[int, int]]


class Documents:
    """Each descriptor file's parse (data and positions) and JSON Schema errors, kept in
    ``ENV_DIR/.df-gen/cache/documents.marshal`` (:class:`generator.cache.store.Store`) by
    the hash of its kind and bytes, so that a run parses and schema-checks only the files
    that changed. A file's positions are kept as bytes of their own, decoded only when one
    of its errors needs a line and column. The rules across files run on
    every document, cached or not (``validate``).

    The store records :func:`tool_digest`: another df-gen (or Python) drops every entry. A
    missing, unreadable or damaged store or entry is a miss: that file is parsed again."""

    def __init__(self, env_dir: Path) -> None:
        self.entries = Store(Path(env_dir) / DOCUMENTS, tool_digest())
        self.hits = self.misses = 0
        self.digests: dict[Path, str] = {}
        """Each descriptor read this run -> the key of its bytes (rules key on it)."""

    @staticmethod
    def key(kind: str, raw: bytes) -> str:
        return hashlib.sha256(kind.encode() + b"\0" + raw).hexdigest()

    @staticmethod
    def _rules_key(parts: Iterable[str]) -> str:
        return "rules:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def lookup(self, parts: Iterable[str]) -> Any:
        """The entry recorded for the inputs ``parts`` (a rule's every input, as strings), or None."""
        return self.entries.get(self._rules_key(parts))

    def store(self, parts: Iterable[str], value: Any) -> None:
        """Record ``value`` (JSON-able) for the inputs ``parts``."""
        self.entries.put(self._rules_key(parts), value)

    def results(self, parts: Iterable[str]) -> list[tuple[str, int, int, str, str]] | None:
        """The diagnostics recorded for the inputs ``parts`` (a rule's every input, as
        strings), or None."""
        return recorded_diagnostics(self.lookup(parts))

    def record(self, parts: Iterable[str], diagnostics: Iterable[tuple[str, int, int, str, str]]) -> None:
        """Record the diagnostics a rule gave for the inputs ``parts``."""
        self.store(parts, {"diagnostics": [list(d) for d in diagnostics]})

    def get(self, kind: str, raw: bytes, parsed: Callable[[], tuple[Positions, Positions]]
            ) -> tuple[Any, Positions, Positions, list[tuple[int, int, str, str]]] | None:
        """``(data, positions, key positions, schema errors)`` of a file's bytes, or None.
        The positions are decoded when first asked for (only an error needs them);
        ``parsed``: the positions of the bytes parsed again, should the recorded ones not
        decode."""
        entry = self.entries.get(self.key(kind, raw))
        try:
            where = _Where(bytes(entry["where"]), parsed)
            found = (entry["data"], _Positions(where, 0), _Positions(where, 1),
                     [(int(line), int(col), str(message), str(hint)) for line, col, message, hint in entry["errors"]])
        except (KeyError, TypeError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, kind: str, raw: bytes, data: Any, positions: Positions, key_positions: Positions,
            errors: Iterable[tuple[int, int, str, str]]) -> None:
        """Record what one file's bytes parsed to and their schema errors."""
        where = marshal.dumps((dict(positions), dict(key_positions)))
        self.entries.put(self.key(kind, raw),
                         {"data": data, "errors": [list(error) for error in errors], "where": where})

    def save(self) -> None:
        """Write the entries this run changed (:meth:`generator.cache.store.Store.save`)."""
        self.entries.save()


def recorded_diagnostics(entry: Any) -> list[tuple[str, int, int, str, str]] | None:
    """The ``diagnostics`` of a recorded entry (:meth:`Documents.record`'s shape), or None
    when the entry is missing or damaged."""
    try:
        return [(str(p), int(line), int(col), str(m), str(h)) for p, line, col, m, h in entry["diagnostics"]]
    except (KeyError, TypeError, ValueError):
        return None


class _Where:
    """A document's recorded positions, decoded once, when first asked for."""

    def __init__(self, raw: bytes, parsed: Callable[[], tuple[Positions, Positions]]) -> None:
        self.raw = raw
        self.parsed = parsed
        self.tables: tuple[Positions, Positions] | None = None

    def table(self, index: int) -> Positions:
        if self.tables is None:
            try:
                values, keys = marshal.loads(self.raw)
                if not isinstance(values, dict) or not isinstance(keys, dict):
                    raise TypeError("not position tables")
                self.tables = (values, keys)
            except (ValueError, TypeError, EOFError):
                self.tables = self.parsed()  # damaged, yet its checksum held: parse the bytes again
        return self.tables[index]


class _Positions(Mapping[tuple[Any, ...], tuple[int, int]]):
    """One of a document's two position tables (values, keys), decoded on first use."""

    def __init__(self, where: _Where, index: int) -> None:
        self.where = where
        self.index = index

    def __getitem__(self, path: tuple[Any, ...]) -> tuple[int, int]:
        return self.where.table(self.index)[path]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.where.table(self.index))

    def __len__(self) -> int:
        return len(self.where.table(self.index))
