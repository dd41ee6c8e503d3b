"""Per file: what each descriptor parsed to and its schema errors (``.df-gen/cache/documents.json``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from generator.cache.inputs import tool_digest
from generator.cache.record import FORMAT
from generator.fsutil import atomic_write

DOCUMENTS = Path(".df-gen") / "cache" / "documents.json"


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
