"""Schema changes that lose data, found before Terraform applies them, and the ways forward.

The google provider replaces a BigQuery table (deleting its rows) for an incompatible schema
change and drops columns in place for a lossy one (:mod:`generator.bqtable` models its rules).
This module compares each pipeline table's schema in the stack's Terraform state (the prior
state of the plan's JSON, so CI and every teammate see the same) with the new one, and, for
``validate --against REF``, the schema files at a git ref with the working tree's. Each lossy
or incompatible change becomes one :class:`ChangeItem` (the ``schema_changes`` entries of
``plan --json`` and ``validate --against --json``): where the schema field is, the table, what
happens on Google Cloud, the ways forward and the one the descriptor chose.

Ways forward (keys of a pipeline table in the descriptor):

- ``new_version`` (``version: N``): a new table ``<name>_vN`` beside the old one;
- ``migrate`` (``migrate: {set_data_type: [...], drop_not_null: [...], drop_columns: [...]}``): BigQuery DDL run
  by Terraform before the table is planned again (:mod:`generator.migrations`);
- ``accept_loss`` (``accept_loss: true``): the replacement goes through; the data is reloaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import bqtable, naming, versions
from generator.defaults import default
from generator.errors import DfGenError, Diagnostic
from generator.guard import PlanSummary, summarize
from generator.loader import Document, display_path, load

NEW_VERSION, MIGRATE, ACCEPT_LOSS = "new_version", "migrate", "accept_loss"
TABLE_TYPE = "google_bigquery_table"
ADDRESS = 'module.pipeline.google_bigquery_table.tables["{key}"]'

# Conversions ALTER COLUMN SET DATA TYPE accepts: a type to one it coerces to
# (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_column_set_data_type,
# coercions in https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_rules).
WIDENING = frozenset({
    ("INTEGER", "NUMERIC"), ("INTEGER", "BIGNUMERIC"), ("INTEGER", "FLOAT"),
    ("NUMERIC", "BIGNUMERIC"), ("NUMERIC", "FLOAT"), ("BIGNUMERIC", "FLOAT"),
})


@dataclass(frozen=True)
class TableSource:
    """One pipeline table as the descriptors define it."""

    stack: str
    key: str  # the module's table key, ``curated-orders``
    layer: str
    name: str
    table_id: str
    descriptor: Document
    path: tuple[Any, ...]  # the table's path in the descriptor
    schema_file: Path
    code_dir: Path
    version: int = 1
    accept_loss: bool = False
    set_data_type: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    current: bool = True
    """False for an older version the table keeps (``keep_versions``)."""

    @property
    def address(self) -> str:
        """The table's resource address in its stack."""
        return ADDRESS.format(key=self.key)


@dataclass(frozen=True)
class ChangeItem:
    """One lossy or incompatible change, as reported (``schema_changes`` entries)."""

    file: str
    line: int
    col: int
    stack: str
    address: str
    table_id: str
    column: str
    kind: str
    reason: str
    on_google_cloud: str
    ways_forward: tuple[str, ...]
    chosen: str | None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape."""
        return {
            "file": self.file, "line": self.line, "col": self.col,
            "table": {"stack": self.stack, "address": self.address, "table_id": self.table_id},
            "column": self.column, "kind": self.kind, "reason": self.reason,
            "on_google_cloud": self.on_google_cloud, "ways_forward": list(self.ways_forward),
            "chosen": self.chosen, "note": self.note,
        }


def text_line(item: Mapping[str, Any]) -> str:
    """One human line for a ``schema_changes`` entry."""
    chosen = f"chosen: {item['chosen']}" if item["chosen"] else \
        f"ways forward: {', '.join(item['ways_forward'])} (choose one in the descriptor)"
    column = f" column {item['column']}" if item["column"] else ""
    note = f"; {item['note']}" if item.get("note") else ""
    return (f"{item['file']}:{item['line']}:{item['col']}: {item['kind']}: table "
            f"{item['table']['table_id']}{column}: {item['reason']}; {item['on_google_cloud']}; {chosen}{note}")


def migration_targets(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """The migration jobs (``google_bigquery_job.migrations``) of the tables whose changes chose
    ``migrate``. ``apply`` runs them alone first (``-target``) and plans again: Terraform plans
    every resource before it applies any, so in one apply the table would still be replaced
    for the schema it had before its migration ran."""
    return sorted({str(item["table"]["address"]).replace("google_bigquery_table.tables[",
                                                          "google_bigquery_job.migrations[")
                   for item in items if item.get("chosen") == MIGRATE})


def unresolved(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries with no way forward chosen: ``apply`` refuses them, ``validate --against``
    exits 1 for them."""
    return [item for item in items if not item.get("chosen")]


# ------------------------------------------------------------------ descriptors


def table_sources(env_dir: Path, descriptors: Any = None) -> dict[str, TableSource]:
    """Every managed pipeline table of ``env_dir`` (each kept version too) keyed by ``stack/address``."""
    from generator.validate import validate

    descriptors = descriptors or validate(env_dir)
    found: dict[str, TableSource] = {}
    for key, doc in descriptors.pipelines.items():
        stack = naming.stack_name("pipeline", key)
        code_dir = descriptors.pipelines_dir / doc.data["code"]
        for version in versions.of_pipeline(doc.data.get("tables") or {}):
            source = _source(stack, doc, version, code_dir)
            found[f"{stack}/{source.address}"] = source
    return found


def version_table_id(name: str, version: int) -> str:
    """Version 1 is the table's name; later versions are ``<name>_v<N>``."""
    return versions.table_id(name, version)


def _source(stack: str, doc: Document, version: versions.TableVersion, code_dir: Path) -> TableSource:
    spec = version.spec
    migrate = (spec.get("migrate") or {}) if version.current else {}
    return TableSource(
        stack=stack, key=version.key, layer=version.layer, name=version.name,
        table_id=version.table_id, descriptor=doc, path=version.path,
        schema_file=code_dir / version.schema, code_dir=code_dir, version=version.version,
        accept_loss=bool(spec.get("accept_loss", default("pipeline", f"tables.{version.layer}.<name>.accept_loss")))
        and version.current,
        set_data_type=tuple(migrate.get("set_data_type", ())),
        drop_columns=tuple(migrate.get("drop_columns", ())),
        current=version.current,
    )


# ------------------------------------------------------------------ classification


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
        consequence = _consequence(source, change)
        if chosen == NEW_VERSION and old_version is not None:
            previous = versions.table_id(source.name, old_version)
            consequence = (f"table {source.table_id} is created beside {previous}, which keeps its rows; the "
                           f"rendered backfill copies them while {previous} is listed in keep_versions")
        items.append(ChangeItem(
            file, line, col, source.stack, source.address, source.table_id, change.column_name, change.kind,
            change.reason, consequence, tuple(ways), chosen))
    return items


def _consequence(source: TableSource, change: bqtable.SchemaChange) -> str:
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


# ------------------------------------------------------------------ plans


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
    doc = _schema_document(source)
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
    doc = _schema_document(source)
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
                _consequence(source, bqtable.SchemaChange(bqtable.INCOMPATIBLE, (), "")),
                (NEW_VERSION, ACCEPT_LOSS), ACCEPT_LOSS if source.accept_loss else None))
    if replaced and before.get("deletion_protection") is not False:
        # The provider deletes with the state's flag: lift it in an apply of its own first.
        items = [dataclasses.replace(
            i, chosen=None if i.chosen == ACCEPT_LOSS else i.chosen,
            note="deletion_protection is still true in the state: set deletion_protection: false on the "
                 "table and apply that alone first" if i.chosen == ACCEPT_LOSS else i.note) for i in items]
    return items


def _schema_document(source: TableSource) -> Document | None:
    try:
        return load(source.schema_file)
    except DfGenError:
        return None


# ------------------------------------------------------------------ git ref


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
        old_spec = ((old_doc.get("tables") or {}).get(source.layer) or {}).get(source.name)
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
        doc = _schema_document(source)
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
