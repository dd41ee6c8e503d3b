"""Schema changes in a Terraform plan: the tables a plan replaces or changes in place, against
the prior state."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from generator import bqtable, versions
from generator.errors import DfGenError
from generator.guard import PlanSummary, summarize
from generator.schema_changes.classify import classify, consequence
from generator.schema_changes.sources import (
    ACCEPT_LOSS,
    ADDRESS,
    NEW_VERSION,
    TABLE_TYPE,
    ChangeItem,
    TableSource,
    schema_document,
    table_sources,
    unresolved,
)


def choices_key(stack: Any) -> str:
    """A digest of the descriptors a stack is rendered from. A way forward chosen there may not
    change the rendered files (``accept_loss``), yet a saved plan's ``schema_changes`` depend on
    it: the saved plan is current only while this key is unchanged."""
    digest = hashlib.sha256()
    for path in sorted(p for p in stack.inputs if Path(p).suffix in (".yaml", ".yml")):
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(b"-")
    return digest.hexdigest()


def review_plan(env_dir: Path, stack: str, plan: Mapping[str, Any], descriptors: Any = None) -> PlanSummary:
    """The plan's summary with its ``schema_changes``; acknowledged losses (``accept_loss``,
    ``migrate``) are not destructive. A table version lower than the applied state's is an
    error. ``descriptors``: the validated ones when the caller has them (the runner does),
    else ``env_dir`` is validated."""
    _versions_against_state(env_dir, stack, plan, descriptors)
    tables = [item for item in plan.get("resource_changes") or ()
              if item.get("type") == TABLE_TYPE and item.get("mode", "managed") == "managed"
              and (item.get("change") or {}).get("before") is not None
              and _changes_in_place_or_replaces((item.get("change") or {}).get("actions") or ())]
    created = [item for item in plan.get("resource_changes") or ()
               if item.get("type") == TABLE_TYPE and item.get("mode", "managed") == "managed"
               and _VERSION_KEY.search(str(item.get("address", "")))
               and ((item.get("change") or {}).get("actions") or ()) == ["create"]]
    if not tables and not created:
        return summarize(plan)
    sources = {key.split("/", 1)[1]: s for key, s in table_sources(env_dir, descriptors).items() if s.stack == stack}
    # A new version is created beside the old table: its changes are reported as let through.
    items: list[ChangeItem] = [i for change in created for i in _new_version_items(plan, sources, change)]
    accepted: set[str] = set()
    for change in tables:
        source = sources.get(str(change.get("address")))
        if source is None:
            continue
        found = _plan_items(source, change)
        items += found
        if found and not unresolved(i.as_json() for i in found):
            accepted.add(source.address)
    summary = summarize(plan, accepted)
    return dataclasses.replace(summary, schema_changes=tuple(i.as_json() for i in items))


_VERSION_KEY = re.compile(r'tables\["(?P<layer>[a-z]+)-(?P<name>[a-z][a-z0-9_]*)-v(?P<version>[0-9]+)"\]$')


def _new_version_items(plan: Mapping[str, Any], sources: Mapping[str, TableSource],
                       change: Mapping[str, Any]) -> list[ChangeItem]:
    """The lossy and incompatible changes a created table version makes, compared with the
    newest older version in the applied state, each with ``new_version`` chosen."""
    source = sources.get(str(change.get("address")))
    if source is None or not source.current:
        return []
    older = {v: str(s) for v, s in _applied_schemas(plan, source).items() if v < source.version}
    if not older:
        return []
    version = max(older)
    old = bqtable.parse_schema(older[version])
    after = (change.get("change") or {}).get("after") or {}
    doc = schema_document(source)
    new = bqtable.parse_schema(after["schema"]) if isinstance(after.get("schema"), str) else \
        (doc.data if doc is not None else None)
    if not isinstance(old, list) or not isinstance(new, list):
        return []
    return classify(source, old, new, doc, version)


def _applied_schemas(plan: Mapping[str, Any], source: TableSource) -> dict[int, Any]:
    """Version -> schema (JSON text) of every version of ``source``'s table in the plan's
    prior state (the applied state, refreshed)."""
    found: dict[int, Any] = {}
    prefix = ADDRESS.format(key=versions.table_key(source.layer, source.name, 1))[:-2]

    def walk(module: Mapping[str, Any]) -> None:
        for resource in module.get("resources") or ():
            address = str(resource.get("address", ""))
            if resource.get("type") != TABLE_TYPE or not address.startswith(prefix):
                continue
            rest = address[len(prefix):]
            match = re.fullmatch(r'(?:-v([0-9]+))?"\]', rest)
            if match:
                found[int(match[1] or 1)] = (resource.get("values") or {}).get("schema")
        for child in module.get("child_modules") or ():
            walk(child)

    walk(((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {})
    return found


def _versions_against_state(env_dir: Path, stack: str, plan: Mapping[str, Any], descriptors: Any = None) -> None:
    """Refuse a plan that destroys a newer version of a table than the descriptor's: its
    version went backwards against the applied state (the newest version holds what the
    pipeline wrote since)."""
    newer: dict[tuple[str, str], int] = {}
    for item in plan.get("resource_changes") or ():
        match = _VERSION_KEY.search(str(item.get("address", "")))
        if item.get("type") == TABLE_TYPE and match and "delete" in ((item.get("change") or {}).get("actions") or ()):
            key = (match["layer"], match["name"])
            newer[key] = max(newer.get(key, 0), int(match["version"]))
    if not newer:
        return
    problems = []
    for source in table_sources(env_dir, descriptors).values():
        applied = newer.get((source.layer, source.name))
        if source.stack == stack and source.current and applied is not None and applied > source.version:
            problems.append(source.descriptor.error(
                (*source.path, "version"),
                f"tables.{source.layer}.{source.name}.version goes backwards: {source.version} here, "
                f"{applied} in the applied state (table {versions.table_id(source.name, applied)} would be "
                "destroyed)", hint=f"set version: {applied}, or a higher one"))
    if problems:
        raise DfGenError(diagnostics=sorted(problems))


def _changes_in_place_or_replaces(actions: Iterable[str]) -> bool:
    # A table only deleted (gone from the descriptors) is the guard's business, not a schema change.
    found = set(actions)
    return "update" in found or {"delete", "create"} <= found


def _plan_items(source: TableSource, change: Mapping[str, Any]) -> list[ChangeItem]:
    body = change.get("change") or {}
    before, after = body.get("before") or {}, body.get("after") or {}
    doc = schema_document(source)
    old = bqtable.parse_schema(before.get("schema"))
    new = bqtable.parse_schema(after.get("schema")) if isinstance(after.get("schema"), str) else None
    if new is None and doc is not None:
        new = doc.data  # unknown until apply (policy tags from remote state): the file's columns
    items = classify(source, old, new, doc) if isinstance(old, list) and isinstance(new, list) else []
    replaced = "delete" in (body.get("actions") or ())
    for path in body.get("replace_paths") or ():
        if path and path[0] != "schema":
            line, col = source.descriptor.where((*source.path, "partitioning"))
            what = ".".join(str(p) for p in path)
            items.append(ChangeItem(
                source.descriptor.display, line, col, source.stack, source.address, source.table_id, "",
                bqtable.INCOMPATIBLE, f"{what} changed (the provider replaces the table for it)",
                consequence(source, bqtable.SchemaChange(bqtable.INCOMPATIBLE, (), "")),
                (NEW_VERSION, ACCEPT_LOSS), ACCEPT_LOSS if source.accept_loss else None))
    if replaced and before.get("deletion_protection") is not False:
        # The provider deletes with the state's flag: lift it in an apply of its own first.
        items = [dataclasses.replace(
            i, chosen=None if i.chosen == ACCEPT_LOSS else i.chosen,
            note="deletion_protection is still true in the state: set deletion_protection: false on the "
                 "table and apply that alone first" if i.chosen == ACCEPT_LOSS else i.note) for i in items]
    return items
