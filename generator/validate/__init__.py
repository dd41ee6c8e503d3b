"""Validate an environment directory: every schema error, then the rules a schema cannot say.

``validate(env_dir)`` returns the loaded descriptors or raises :class:`DfGenError` listing
every problem found, each with its file, line and column.

The stages, one module each: ``schema`` (JSON Schema validation, in the words of
``messages``), then ``rules`` (names, places, labels and the rules across files) and
``pipeline`` (code directory, table schemas, view SQL, quality checks, DAG settings).
``descriptors`` holds the result.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator import cache as run_cache
from generator import workers
from generator.errors import DfGenError, Diagnostic
from generator.fsutil import outside_problem, within
from generator.loader import Document, display_path, parse, read
from generator.validate.descriptors import KEY_PATTERN, KINDS, MAX_KEY, Descriptors
from generator.validate.fastcheck import checker
from generator.validate.messages import kind_name
from generator.validate.pipeline import view_sql_rule
from generator.validate.rules import semantic
from generator.validate.schema import schema_errors, validator

__all__ = ["KEY_PATTERN", "KINDS", "MAX_KEY", "Descriptors", "schema_errors", "validate", "validator", "view_sql_rule"]


def validate(env_dir: Path) -> Descriptors:
    """Load and check every descriptor under ``env_dir``; raise with every problem found."""
    diagnostics: list[Diagnostic] = []
    env_dir = Path(env_dir)
    if not env_dir.is_dir():
        where = display_path(env_dir)
        raise DfGenError(diagnostics=[Diagnostic(where, 0, 0, "not an environment directory")])
    files = _discover(env_dir, diagnostics)
    docs: dict[str, dict[str, Document]] = {kind: {} for kind in KINDS}
    clean: dict[str, set[str]] = {kind: set() for kind in KINDS}
    cached = run_cache.Documents(env_dir)  # unchanged files are not parsed nor schema-checked again
    owned = []
    for kind, key, path, inside in files:
        problem = None if inside else outside_problem(env_dir, path, "the environment directory")
        if problem:  # never read (nor echo) a file the environment does not own
            diagnostics.append(Diagnostic(display_path(path), 0, 0, problem))
        else:
            owned.append((kind, key, path))
    checked_all = _checked_all(cached, [(kind, path) for kind, _, path in owned])
    for (kind, key, _), checked in zip(owned, checked_all, strict=True):
        if isinstance(checked, DfGenError):
            diagnostics.extend(checked.diagnostics)
            continue
        doc, errors = checked
        if errors is None:
            # Its keys and values are not echoed: the file may hold anything.
            diagnostics.append(doc.error((), f"not a df-gen descriptor (expected 'apiVersion: dfgen/v1' and "
                                             f"'kind: {kind_name(kind)}' at the top)"))
            continue
        docs[kind][key] = doc
        diagnostics.extend(errors)
        if not errors:
            clean[kind].add(key)
    environment = docs["environment"].get("environment")
    if environment is None or diagnostics and "environment" not in clean["environment"]:
        cached.save()
        raise DfGenError(diagnostics=sorted(set(diagnostics)))
    descriptors = Descriptors(env_dir, environment, docs["datasource"], docs["pipeline"], dict(cached.digests))
    diagnostics.extend(semantic(descriptors, clean, cached))
    cached.save()
    if diagnostics:
        raise DfGenError(diagnostics=sorted(set(diagnostics)))
    return descriptors


_Checked = tuple[Document, list[Diagnostic] | None]


def _checked_all(cached: run_cache.Documents, wanted: list[tuple[str, Path]]) -> list[_Checked | DfGenError]:
    """Each descriptor and its JSON Schema errors (None: not a df-gen descriptor), or why it
    cannot be read: from the per-file cache when the file's bytes are as recorded, else
    parsed and checked, in worker processes when there are many (:mod:`generator.workers`);
    the cache is written here, in the parent."""
    out: list[_Checked | DfGenError | None] = []
    misses: list[tuple[int, str, Path, bytes]] = []
    for kind, path in wanted:
        try:
            raw = read(path)
        except DfGenError as exc:
            out.append(exc)
            continue
        cached.digests[path] = cached.key(kind, raw)
        out.append(_from_cache(cached, kind, path, raw))
        if out[-1] is None:
            misses.append((len(out) - 1, kind, path, raw))
    for kind in sorted({kind for _, kind, _, _ in misses}):
        checker(kind)  # compiled once, before any fork (jsonschema only for a file it refuses)
    parsed = workers.ordered_map(_parsed, [(kind, path, raw) for _, kind, path, raw in misses])
    for (index, kind, _, raw), (checked, cacheable) in zip(misses, parsed, strict=True):
        out[index] = checked
        if cacheable and not isinstance(checked, DfGenError):
            doc, found = checked
            cached.put(kind, raw, doc.data, doc.positions, doc.key_positions,
                       [(error.line, error.col, error.message, error.hint) for error in found or ()])
    return [checked for checked in out if checked is not None]


def _from_cache(cached: run_cache.Documents, kind: str, path: Path, raw: bytes) -> _Checked | None:
    def parsed() -> tuple[Mapping[Any, tuple[int, int]], Mapping[Any, tuple[int, int]]]:
        again = parse(path, raw)
        return again.positions, again.key_positions

    hit = cached.get(kind, raw, parsed)
    if hit is None:
        return None
    data, positions, key_positions, errors = hit
    doc = Document(path, display_path(path), data, positions, key_positions)
    if not _looks_like_descriptor(doc.data):
        return None
    return doc, [Diagnostic(doc.display, *error) for error in errors]


def _parsed(item: tuple[str, Path, bytes]) -> tuple[_Checked | DfGenError, bool]:
    """One file parsed and schema-checked, and whether the result may be cached (its errors
    are all in the file itself)."""
    kind, path, raw = item
    try:
        doc = parse(path, raw)
    except DfGenError as exc:
        return exc, False
    if not _looks_like_descriptor(doc.data):
        return (doc, None), False
    found = list(schema_errors(kind, doc))
    return (doc, found), all(error.path == doc.display for error in found)


def _may_be_link(entry: os.DirEntry[str]) -> bool:
    """Whether a directory entry is a link, or cannot be told (then the whole check decides)."""
    try:
        return entry.is_symlink()
    except OSError:  # no entry type from the filesystem, and its lstat failed
        return True


def _looks_like_descriptor(data: Any) -> bool:
    return isinstance(data, dict) and data.get("apiVersion") == "dfgen/v1"


def _discover(env_dir: Path, diagnostics: list[Diagnostic]) -> list[tuple[str, str, Path, bool]]:
    """Every descriptor file: kind, key, path, and whether it is known to be inside
    ``env_dir`` (a file that is no link, in a folder that is inside), so that only the
    others are walked link by link (``fsutil.within``: two ``lstat`` calls a file)."""
    found: list[tuple[str, str, Path, bool]] = []
    env_file = env_dir / "environment.yaml"
    if not env_file.exists() and not env_file.is_symlink():
        hint = f"run 'df-gen new {display_path(env_dir)}' to scaffold one"
        diagnostics.append(Diagnostic(display_path(env_file), 0, 0, "missing environment descriptor", hint))
    else:
        found.append(("environment", "environment", env_file, False))
    for kind, folder in (("datasource", "datasources"), ("pipeline", "pipelines")):
        directory = env_dir / folder
        if not directory.is_dir():
            continue
        folder_inside = within(env_dir, directory)
        # Names, not Paths: sorting 1,100 Paths costs more. The directory entry says whether
        # a name is a link (no lstat where the filesystem gives entry types).
        links = {entry.name: _may_be_link(entry) for entry in os.scandir(directory)}
        seen: dict[str, Path] = {}
        for name in sorted(links):
            # Path.suffix's rule on names: ".yaml" alone has no suffix, ".x.yaml" has.
            if not name.endswith((".yaml", ".yml")) or name.startswith(".") and name.count(".") == 1:
                continue
            path = directory / name
            key = path.stem
            if not re.match(KEY_PATTERN, key) or len(key) > MAX_KEY:
                diagnostics.append(
                    Diagnostic(
                        display_path(path), 1, 1,
                        f"file name '{key}' is not a valid {kind} key",
                        f"keys are lowercase letters, digits and dashes, start with a letter, "
                        f"at most {MAX_KEY} characters",
                    )
                )
                continue
            if key in seen:
                diagnostics.append(
                    Diagnostic(display_path(path), 1, 1, f"{kind} '{key}' is also defined in {display_path(seen[key])}")
                )
                continue
            seen[key] = path
            found.append((kind, key, path, folder_inside and not links[name]))
    return found
