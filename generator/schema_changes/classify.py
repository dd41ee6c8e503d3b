"""One table's schema change classified: what happens on Google Cloud, the ways forward, the
chosen one, and where in the schema file the change is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from generator import bqtable, versions
from generator.errors import DfGenError
from generator.loader import Document
from generator.schema_changes.sources import ACCEPT_LOSS, MIGRATE, NEW_VERSION, WIDENING, ChangeItem, TableSource


def classify(source: TableSource, old: Any, new: Any, schema_doc: Document | None,
             old_version: int | None = None) -> list[ChangeItem]:
    """The lossy and incompatible changes from ``old`` to ``new`` (parsed schemas) of one table."""
    try:
        changes = bqtable.classify_schema_change(old, new)
    except bqtable.SchemaShapeError as exc:
        raise DfGenError(diagnostics=[source.descriptor.error((*source.path, "schema"), str(exc))]) from None
    old_types = _types(old)
    items = []
    for change in changes:
        if change.kind == bqtable.COMPATIBLE:
            continue
        file, line, col = _place(source, schema_doc, new, change)
        ways = [NEW_VERSION]
        if _migratable(change, old_types, _types(new)):
            ways.append(MIGRATE)
        ways.append(ACCEPT_LOSS)
        chosen = _chosen(source, change, ways, old_version)
        what = consequence(source, change)
        if chosen == NEW_VERSION and old_version is not None:
            previous = versions.table_id(source.name, old_version)
            what = (f"table {source.table_id} is created beside {previous}, which keeps its rows; the "
                    f"rendered backfill copies them while {previous} is listed in keep_versions")
        items.append(ChangeItem(
            file, line, col, source.stack, source.address, source.table_id, change.column_name, change.kind,
            change.reason, what, tuple(ways), chosen))
    return items


def consequence(source: TableSource, change: bqtable.SchemaChange) -> str:
    if change.kind == bqtable.INCOMPATIBLE:
        return (f"the google provider replaces table {source.table_id}: it is deleted with all its rows "
                "and created again, empty")
    return f"column {change.column_name} is dropped in place: BigQuery deletes its data; the table stays"


def _types(schema: Any) -> dict[tuple[str, ...], str]:
    """Dotted column path -> the API's type name, for every field."""
    out: dict[tuple[str, ...], str] = {}

    def walk(items: Any, parent: tuple[str, ...]) -> None:
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                column = (*parent, item["name"])
                out[column] = bqtable.TYPES.get(str(item.get("type", "")).upper(), "")
                walk(item.get("fields"), column)

    walk(schema, ())
    return out


def _migratable(change: bqtable.SchemaChange, old: Mapping[tuple[str, ...], str],
                new: Mapping[tuple[str, ...], str]) -> bool:
    """True when BigQuery DDL makes this change in place: a widening type conversion, or a
    dropped top-level column (ALTER TABLE DROP COLUMN)."""
    if change.reason.startswith("type changed"):
        return (old.get(change.column), new.get(change.column)) in WIDENING
    return len(change.column) == 1 and change.column not in new


def _chosen(source: TableSource, change: bqtable.SchemaChange, ways: list[str],
            old_version: int | None) -> str | None:
    if old_version is not None and source.version > old_version:
        return NEW_VERSION
    if MIGRATE in ways:
        wanted = source.drop_columns if change.column not in _columns_of(source) else source.set_data_type
        if change.column_name in wanted:
            return MIGRATE
    if source.accept_loss:
        return ACCEPT_LOSS
    return None


def _columns_of(source: TableSource) -> set[tuple[str, ...]]:
    try:
        return set(_types(json.loads(source.schema_file.read_text(encoding="utf-8"))))
    except (OSError, ValueError):
        return set()


def _place(source: TableSource, doc: Document | None, new: Any,
           change: bqtable.SchemaChange) -> tuple[str, int, int]:
    """File, line and column of the changed field in the schema file (its parent for a
    removed field)."""
    if doc is None:
        line, col = source.descriptor.where((*source.path, "schema"))
        return source.descriptor.display, line, col
    path: list[Any] = []
    items: Any = new
    for depth, name in enumerate(change.column):
        index = next((i for i, f in enumerate(items if isinstance(items, list) else ())
                      if isinstance(f, dict) and str(f.get("name", "")).lower() == name.lower()), None)
        if index is None:
            break
        path.append(index)
        if depth < len(change.column) - 1:
            path.append("fields")
            items = items[index].get("fields")
        elif change.reason.startswith("type changed"):
            path.append("type")
        elif change.reason.startswith("mode changed"):
            path.append("mode")
    while path and path[-1] == "fields":
        path.pop()
    line, col = doc.where(tuple(path))
    return doc.display, line, col
