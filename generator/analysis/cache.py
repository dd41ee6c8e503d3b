"""SQL analyses kept across runs, so ``validate`` and ``render`` do not parse unchanged SQL again.

``ENV_DIR/.df-gen/cache/sql.json`` maps the SHA-256 of each statement's text to its
analysis and to the schema hash of every table the statement names (``None`` for a name
no schema describes). An entry is used only while every one of those tables still has that
schema: qualifying a statement depends on nothing else (``sql.subschema``). The text is the
statement's canonical form when it has one (``canonical.py``: df-gen's table names replaced
by placeholders, the schema behind each placeholder part of the key), so the pipelines that
render one template share one analysis, in the file and within a run. The file also
records a hash of the analysing code (``sql.py``) and sqlglot's version; when either
changes, every entry is dropped.

A missing, unreadable or corrupt file is an empty cache: it is rebuilt, and the results are
the same, only slower. A run that analysed something writes the file back (atomically). A
cache that cannot be written (read-only checkout) is not an error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from generator.analysis import canonical as canonical_module
from generator.analysis import sql
from generator.analysis.canonical import Canonical, canonical
from generator.fsutil import atomic_write
from generator.sqlcheck import view_problem

CACHE_FILE = Path(".df-gen") / "cache" / "sql.json"

# Entries loaded per cache file, kept for the process: validate and the access check that
# follows share them. Keyed by the file's (mtime, size), so a file changed under us is read again.
_LOADED: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


@cache
def code_version() -> str:
    """What the cached results depend on besides the SQL and the schemas: the analysing and
    canonicalising code and sqlglot's version."""
    digest = hashlib.sha256(Path(sql.__file__).read_bytes())
    digest.update(Path(canonical_module.__file__).read_bytes())
    digest.update(_sqlglot_version().encode())
    return digest.hexdigest()[:16]


def _sqlglot_version() -> str:
    """sqlglot's version, read from its ``_version.py`` without importing sqlglot (imported
    only when some SQL is analysed) nor importlib.metadata (0.02 s to import, and a scan of
    every installed package to answer); the package metadata when that file is missing."""
    spec = importlib.util.find_spec("sqlglot")
    if spec is not None and spec.origin:
        try:
            return (Path(spec.origin).parent / "_version.py").read_text()
        except OSError:
            pass
    from importlib import metadata

    try:
        return metadata.version("sqlglot")
    except metadata.PackageNotFoundError:  # pragma: no cover - sqlglot is a dependency
        return ""


class Analyser:
    """Analyses statements against one environment's schema, through the cache."""

    def __init__(self, env_dir: Path | None, schema: sql.Schema) -> None:
        self.schema = schema
        self.path = Path(env_dir) / CACHE_FILE if env_dir is not None else None
        self.entries = self._load()
        self.used: dict[str, Any] = {}
        self.dirty = False
        self.hits = self.misses = 0
        self._table_hashes: dict[str, str | None] = {}
        self._memo: dict[str, sql.Analysis] = {}  # by text, in real names
        self._by_key: dict[str, sql.Analysis] = {}  # by cache key, as analysed
        self._forms: dict[str, Canonical | None] = {}
        self.checked_views: set[str] = set()
        """SHA-256 (hex) of view texts df-gen rendered and checked in an earlier run
        (generator.generate passes those of the stacks it builds again)."""

    def cold(self) -> bool:
        """Whether no analysis is cached: then every statement of the run is parsed."""
        return not self.entries

    def analyse(self, text: str) -> sql.Analysis:
        """The analysis of one statement; :class:`sql.SqlError` when it cannot be analysed.

        The statement is analysed in its canonical form (``canonical.py``: df-gen's table
        names replaced by placeholders), so the pipelines that render one template share
        one analysis; an error is reported from the original text, at its place there."""
        if text in self._memo:
            return self._memo[text]
        form = self._canonical(text)
        if form is None:
            analysis = self._analysis(text, None)
        else:
            try:
                analysis = _renamed(self._analysis(form.text, form), dict(form.tables))
            except sql.SqlError:
                analysis = self._analysis(text, None)  # raises with the original's line and column
        self._memo[text] = analysis
        return analysis

    def _canonical(self, text: str) -> Canonical | None:
        if text not in self._forms:
            self._forms[text] = canonical(text, self._known)
        return self._forms[text]

    def _key(self, text: str, form: Canonical | None) -> str:
        """The cache key of a (canonical) text: with the schema behind each placeholder."""
        if form is not None:
            text += "\0" + json.dumps([(p, self._table_hash(real)) for p, real in form.tables])
        return hashlib.sha256(text.encode()).hexdigest()

    def _analysis(self, text: str, form: Canonical | None) -> sql.Analysis:
        """The analysis of ``text`` (in ``form``'s placeholder names, when it is canonical)."""
        key = self._key(text, form)
        if key in self._by_key:
            return self._by_key[key]
        entry = self.entries.get(key)
        analysis = self._decode(entry, form) if entry is not None else None
        if analysis is not None:
            self.hits += 1
        else:
            self.misses += 1
            tree = sql.parse(text)
            names = sql.referenced(tree)
            real = form.real if form is not None else str
            analysis = sql.analyse_tree(tree, self._subschema(names, real))
            entry = {"tables": {name: self._table_hash(real(name)) for name in sorted(names)},
                     "analysis": _encode(analysis)}
            self.dirty = True
        self.used[key] = entry
        self._by_key[key] = analysis
        return analysis

    def known_query(self, text: str) -> bool:
        """Whether ``text`` was analysed before as one query (so it parses as one), without
        parsing it: the model's view check asks."""
        if self.checked_views and hashlib.sha256(text.encode()).hexdigest() in self.checked_views:
            return True
        form = self._canonical(text)
        keys = [self._key(text, None)] if form is None else [self._key(form.text, form), self._key(text, None)]
        for key in keys:
            entry = self.entries.get(key) or self.used.get(key)
            if isinstance(entry, dict) and isinstance(entry.get("analysis"), dict) and \
                    entry["analysis"].get("kind") == "query":
                return True
        return False

    def view_problem(self, text: str) -> tuple[int, int, str] | None:
        """``sqlcheck.view_problem`` of ``text``, parsed in its canonical form when it has one
        (whether a text is one query does not depend on the names in it); a problem is
        located in the original text."""
        form = self._canonical(text)
        if form is not None and view_problem(form.text) is None:
            return None
        return view_problem(text)

    def adopt(self, entries: Mapping[str, Any], analysed: bool) -> None:
        """Keep, as used by this run, the cache entries another process (a worker) used or
        made (``analysed``: some were new, so the file is written back)."""
        for key, entry in entries.items():
            self.used.setdefault(key, entry)
        self.dirty = self.dirty or analysed

    def save(self) -> None:
        """Write the cache back when this run analysed something new.

        Entries this run did not use are kept (the model analyses the tasks' SQL, ``df-gen
        access`` the views' too) until they outnumber the used ones: then they are dropped,
        so the SQL of removed pipelines does not pile up."""
        if self.path is None or not self.dirty:
            return
        unused = {k: v for k, v in self.entries.items() if k not in self.used}
        kept = {**unused, **self.used} if len(unused) <= len(self.used) else dict(self.used)
        document = {"version": code_version(), "entries": kept}
        try:
            # A concurrent run reads the old or the new file (0o600, as the temporary file it was).
            atomic_write(self.path, json.dumps(document, separators=(",", ":")), mode=0o600)
            stat = self.path.stat()
            _LOADED[self.path] = ((stat.st_mtime_ns, stat.st_size), kept)
        except OSError:
            return  # only time is lost
        self.entries, self.dirty = kept, False

    def _load(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            stat = self.path.stat()
        except OSError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        loaded = _LOADED.get(self.path)
        if loaded is not None and loaded[0] == stamp:
            return loaded[1]
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            entries = document["entries"] if document["version"] == code_version() else {}
            if not isinstance(entries, dict):
                raise TypeError("entries")
        except (OSError, ValueError, KeyError, TypeError):
            entries = {}  # corrupt or foreign: rebuilt by this run
        _LOADED[self.path] = (stamp, entries)
        return entries

    def _columns(self, name: str) -> Mapping[str, str] | None:
        parts = name.split(".")
        if len(parts) != 3:
            return None
        project, dataset, table = parts
        return self.schema.get(project, {}).get(dataset, {}).get(table)

    def _known(self, name: str) -> bool:
        return self._columns(name) is not None

    def _subschema(self, names: frozenset[str], real: Callable[[str], str]) -> dict[str, Any]:
        """The schemas of the tables ``names`` (placeholders stand for ``real(name)``)."""
        out: dict[str, Any] = {}
        for name in names:
            columns = self._columns(real(name))
            if columns is not None:
                project, dataset, table = name.split(".")
                out.setdefault(project, {}).setdefault(dataset, {})[table] = dict(columns)
        return out

    def _table_hash(self, name: str) -> str | None:
        if name not in self._table_hashes:
            columns = self._columns(name)
            self._table_hashes[name] = None if columns is None else hashlib.sha256(
                json.dumps(list(columns.items())).encode()).hexdigest()[:16]
        return self._table_hashes[name]

    def _decode(self, entry: Any, form: Canonical | None) -> sql.Analysis | None:
        """The entry's analysis, or None when it is stale or damaged."""
        try:
            tables = entry["tables"]
            real = form.real if form is not None else str
            if any(self._table_hash(real(name)) != digest for name, digest in tables.items()):
                return None
            return _decode(entry["analysis"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def _encode(analysis: sql.Analysis) -> dict[str, Any]:
    return {
        "kind": analysis.kind,
        "reads": sorted(analysis.reads),
        "tables": sorted(analysis.tables),
        "target": analysis.target,
        "writes": sorted(analysis.writes),
        "lineage": {column: sorted(sources) for column, sources in analysis.lineage.items()},
        "unknown": sorted(analysis.unknown),
    }


def _renamed(analysis: sql.Analysis, names: Mapping[str, str]) -> sql.Analysis:
    """``analysis`` with its placeholder table names replaced by the real ones."""
    def table(name: str | None) -> str | None:
        return names.get(name, name) if name is not None else None

    def columns(pairs: frozenset[sql.Column]) -> frozenset[sql.Column]:
        return frozenset((names.get(t, t), c) for t, c in pairs)

    return sql.Analysis(
        kind=analysis.kind,
        reads=columns(analysis.reads),
        tables=frozenset(names.get(t, t) for t in analysis.tables),
        target=table(analysis.target),
        writes=analysis.writes,
        lineage={column: columns(sources) for column, sources in analysis.lineage.items()},
        unknown=frozenset(names.get(t, t) for t in analysis.unknown),
    )


def _decode(data: Mapping[str, Any]) -> sql.Analysis:
    def columns(pairs: Any) -> frozenset[sql.Column]:
        return frozenset((str(t), str(c)) for t, c in pairs)

    return sql.Analysis(
        kind=str(data["kind"]),
        reads=columns(data["reads"]),
        tables=frozenset(map(str, data["tables"])),
        target=data["target"],
        writes=frozenset(map(str, data["writes"])),
        lineage={str(k): columns(v) for k, v in data["lineage"].items()},
        unknown=frozenset(map(str, data["unknown"])),
    )
