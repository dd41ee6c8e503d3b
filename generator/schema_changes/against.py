"""``validate --against REF``: the schema files at a git ref against the working tree's."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator import naming, versions
from generator.errors import DfGenError, Diagnostic
from generator.loader import display_path
from generator.schema_changes.classify import classify
from generator.schema_changes.sources import ChangeItem, TableSource, schema_document, table_sources


def against_ref(env_dir: Path, ref: str, descriptors: Any = None) -> list[ChangeItem]:
    """Lossy and incompatible changes of every table between ``ref`` and the working tree.

    A table is compared when its descriptor and schema file exist at ``ref``: each version
    with the same version there, a new version with the table's version there (so the
    change is let through as ``new_version``). A schema file that is not JSON there is an
    error, and so is a ``version`` lower than at ``ref`` (a version number is never reused)
    or more than one higher (a version skipped).
    """
    root = _git_root(env_dir)
    problems: list[Diagnostic] = []
    items: list[ChangeItem] = []
    for source in table_sources(env_dir, descriptors).values():
        old_doc = _json_at(root, ref, source.descriptor.path)
        if not isinstance(old_doc, dict):
            continue
        old_tables = (old_doc.get("tables") or {}).get(source.layer) or {}
        # A renamed key (renamed_from) was its old key at the ref: compare with that entry.
        old_spec = old_tables.get(source.name) or old_tables.get(naming.google_key(source.name, _spec(source)))
        if not isinstance(old_spec, dict) or not isinstance(old_spec.get("schema"), str):
            continue
        old_version = versions.current_version(old_spec)
        problem = _version_problem(source, old_version, ref) if source.current else None
        if problem:
            problems.append(problem)
            continue
        schema = _schema_at(old_spec, source, old_version)
        if schema is None:
            continue  # a version that did not exist at ref, older than the table's version there
        old_file = source.code_dir.parent / str(old_doc.get("code") or source.code_dir.name) / schema
        text = _show(root, ref, old_file)
        if text is None:
            continue
        try:
            old = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(Diagnostic(f"{ref}:{display_path(old_file)}", exc.lineno, exc.colno,
                                       f"not valid JSON at {ref}: {exc.msg}"))
            continue
        doc = schema_document(source)
        if doc is None:
            continue  # validate reported it
        # A new version is compared with the ref's current one, and chooses new_version.
        items += classify(source, old, doc.data, doc, min(old_version, source.version))
    if problems:
        raise DfGenError(diagnostics=sorted(problems))
    return items


def _version_problem(source: TableSource, old_version: int, ref: str) -> Diagnostic | None:
    """A current version lower than at ``ref``, or more than one higher."""
    where = f"tables.{source.layer}.{source.name}.version"
    if source.version < old_version:
        return source.descriptor.error(
            (*source.path, "version"), f"{where} goes backwards: {source.version} here, {old_version} at {ref} "
            "(a version number is never reused)", hint="raise the version instead: the next one is "
            f"{old_version + 1}")
    if source.version > old_version + 1:
        return source.descriptor.error(
            (*source.path, "version"), f"{where} skips a version: {source.version} here, {old_version} at {ref}",
            hint=f"the next version is {old_version + 1}")
    return None


def _schema_at(old_spec: Mapping[str, Any], source: TableSource, old_version: int) -> str | None:
    """The schema file the table's version ``source.version`` had at the ref, or, for a version
    newer than the ref's, the ref's current one (the data the new version starts from)."""
    if source.version > old_version:
        return str(old_spec["schema"])
    try:
        found = {v.version: v.schema for v in versions.of_table(source.layer, source.name, old_spec)}
    except (KeyError, TypeError, ValueError):
        return None  # a malformed keep_versions at the ref: nothing to compare with
    return found.get(source.version)


def _git_root(env_dir: Path) -> Path:
    done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=env_dir, capture_output=True, text=True)
    if done.returncode:
        raise DfGenError(f"{display_path(env_dir)}: --against needs a git repository ({done.stderr.strip()})")
    return Path(done.stdout.strip())


def check_ref(env_dir: Path, ref: str) -> None:
    """Refuse a ref git does not know, in one line."""
    root = _git_root(env_dir)
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=root,
                          capture_output=True, text=True)
    if done.returncode:
        raise DfGenError(f"--against {ref}: no such git revision")


def _show(root: Path, ref: str, path: Path) -> str | None:
    try:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    done = subprocess.run(["git", "show", f"{ref}:{relative}"], cwd=root, capture_output=True)
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None


def _json_at(root: Path, ref: str, path: Path) -> Any:
    import yaml

    text = _show(root, ref, path)
    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _spec(source: TableSource) -> Any:
    """The table's entry in its descriptor."""
    node: Any = source.descriptor.data
    for step in source.path[:3]:  # ("tables", layer, name): the table's own entry
        node = node.get(step, {}) if isinstance(node, dict) else {}
    return node
