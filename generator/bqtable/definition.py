"""BigQuery table definitions and the rules Google applies to them (:data:`TABLE_RULES`).

Each rule cites the Google page it models and is applied to a :class:`TableDefinition` (the
schema JSON as parsed, partitioning and clustering); :func:`check_table` returns
:class:`Problem` objects whose ``where`` is a path into the definition.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]


# --------------------------------------------------------------------------- vocabulary

# https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#TableFieldSchema.FIELDS.type
# lists STRING, BYTES, INTEGER (or INT64), FLOAT (or FLOAT64), BOOLEAN (or BOOL), TIMESTAMP,
# DATE, TIME, DATETIME, GEOGRAPHY, NUMERIC, BIGNUMERIC, JSON, RECORD (or STRUCT), RANGE;
# INTERVAL is a GoogleSQL type and a TableFieldSchema.Type of the Storage Write API
# (https://cloud.google.com/bigquery/docs/reference/storage/rpc/google.cloud.bigquery.storage.v1#tablefieldschema).
# Values are the names the API returns (the legacy ones).
TYPES: dict[str, str] = {
    "STRING": "STRING", "BYTES": "BYTES",
    "INTEGER": "INTEGER", "INT64": "INTEGER",
    "FLOAT": "FLOAT", "FLOAT64": "FLOAT",
    "NUMERIC": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC",
    "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "TIME": "TIME", "DATETIME": "DATETIME",
    "GEOGRAPHY": "GEOGRAPHY", "JSON": "JSON",
    "RECORD": "RECORD", "STRUCT": "RECORD",
    "RANGE": "RANGE", "INTERVAL": "INTERVAL",
}
MODES = ("NULLABLE", "REQUIRED", "REPEATED")

# https://cloud.google.com/bigquery/docs/partitioned-tables#date_timestamp_partitioned_tables
TIME_PARTITION_TYPES = frozenset({"DATE", "TIMESTAMP", "DATETIME"})
# https://cloud.google.com/bigquery/docs/clustered-tables#cluster_column_types
CLUSTER_TYPES = frozenset({"BIGNUMERIC", "BOOLEAN", "DATE", "DATETIME", "GEOGRAPHY", "INTEGER",
                           "NUMERIC", "RANGE", "STRING", "TIMESTAMP"})
MAX_CLUSTERING = 4
MAX_COLUMN_NAME = 300
MAX_COLUMNS = 10_000
MAX_NESTING = 15
RESERVED_PREFIXES = ("_TABLE_", "_FILE_", "_PARTITION", "_ROW_TIMESTAMP", "__ROOT__", "_COLIDENTIFIER")
# Flexible column names: letters, marks, numbers, connector punctuation, dashes, spaces and
# & % = + : ' < > # | (https://cloud.google.com/bigquery/docs/schemas#flexible-column-names).
_NAME_SYMBOLS = frozenset("&%=+:'<>#|")


def _name_char_ok(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LMN" or category in ("Pc", "Pd", "Zs") or char in _NAME_SYMBOLS

# --------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class TableDefinition:
    """What Google checks when a table is created or updated.

    ``schema`` is the schema JSON as parsed (a list of field objects; anything else is
    reported); ``time_partitioning`` holds ``type``/``field``/``expiration_ms`` as written.
    """

    schema: Any
    time_partitioning: dict[str, Any] | None = None
    range_partitioning: dict[str, Any] | None = None
    clustering: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """One refused definition: where in the definition, the message, and the rule's id."""

    where: Path
    message: str
    rule: str


@dataclass(frozen=True)
class Rule:
    """One definition rule and the Google page that states it."""

    id: str
    doc: str
    check: Callable[[TableDefinition], Iterator[Problem]] = field(repr=False)


def _columns(schema: Any) -> list[tuple[Path, dict[str, Any]]]:
    """Every field object of a schema with its path, depth first (malformed entries skipped)."""
    found: list[tuple[Path, dict[str, Any]]] = []

    def walk(items: Any, path: Path) -> None:
        if not isinstance(items, list):
            return
        for index, item in enumerate(items):
            if isinstance(item, dict):
                found.append(((*path, index), item))
                walk(item.get("fields"), (*path, index, "fields"))

    walk(schema, ("schema",))
    return found


def column_label(schema: Any, where: Path) -> str:
    """The dotted column name at ``where`` (``address.city``), for messages."""
    names: list[str] = []
    node: Any = schema
    for step in where[1:]:
        if isinstance(node, (list, dict)):
            try:
                node = node[step]  # type: ignore[index]
            except (IndexError, KeyError, TypeError):
                break
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                names.append(node["name"])
    return ".".join(names) or "?"


def _type_of(item: dict[str, Any]) -> str | None:
    value = item.get("type")
    return TYPES.get(value.upper()) if isinstance(value, str) else None


def _mode_of(item: dict[str, Any]) -> str:
    value = item.get("mode")
    return value.upper() if isinstance(value, str) else "NULLABLE"


def _top_level(schema: Any, name: str) -> tuple[int, dict[str, Any]] | None:
    """The top-level column called ``name`` (BigQuery compares names case-insensitively)."""
    if not isinstance(schema, list):
        return None
    for index, item in enumerate(schema):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].lower() == name.lower():
            return index, item
    return None


def _check_shape(d: TableDefinition) -> Iterator[Problem]:
    if not isinstance(d.schema, list):
        yield Problem(("schema",), "the schema must be a JSON list of field objects", "schema-shape")
        return
    for path, item in _walk_all(d.schema, ("schema",)):
        if not isinstance(item, dict):
            yield Problem(path, f"schema entry {path[-1]} is not a field object", "schema-shape")
        elif not isinstance(item.get("name"), str):
            yield Problem(path, "every field needs a \"name\" (a string)", "schema-shape")
        elif "type" not in item:
            yield Problem(path, f"field {column_label(d.schema, path)} needs a \"type\"", "schema-shape")
        elif isinstance(item.get("fields"), (dict, str, int, float, bool)):
            yield Problem((*path, "fields"), f"\"fields\" of {column_label(d.schema, path)} must be a list",
                          "schema-shape")


def _walk_all(items: list[Any], path: Path) -> Iterator[tuple[Path, Any]]:
    for index, item in enumerate(items):
        yield (*path, index), item
        if isinstance(item, dict) and isinstance(item.get("fields"), list):
            yield from _walk_all(item["fields"], (*path, index, "fields"))


def _check_names(d: TableDefinition) -> Iterator[Problem]:
    for path, item in _columns(d.schema):
        name = item.get("name")
        if not isinstance(name, str):
            continue
        where = (*path, "name")
        bad = sorted({c for c in name if not _name_char_ok(c)})
        if not name:
            yield Problem(where, "a column name must not be empty", "column-name")
        elif len(name) > MAX_COLUMN_NAME:
            yield Problem(where, f"column name {name[:40]}... is {len(name)} characters; "
                                 f"the maximum is {MAX_COLUMN_NAME}", "column-name")
        elif bad:
            yield Problem(where, f"invalid column name {name!r}: character(s) {' '.join(bad)} are not allowed "
                                 "(letters, digits, underscores, dashes, spaces and & % = + : ' < > # |)",
                          "column-name")
        elif name.upper().startswith(RESERVED_PREFIXES):
            prefix = next(p for p in RESERVED_PREFIXES if name.upper().startswith(p))
            yield Problem(where, f"invalid column name {name!r}: the prefix {prefix} is reserved", "column-name")


def _check_types_and_modes(d: TableDefinition) -> Iterator[Problem]:
    for path, item in _columns(d.schema):
        label = column_label(d.schema, path)
        value = item.get("type")
        if "type" in item and _type_of(item) is None:
            known = ", ".join(sorted(TYPES))
            yield Problem((*path, "type"), f"column {label}: unknown type {value!r} (known: {known})", "column-type")
        mode = item.get("mode")
        if mode is not None and (not isinstance(mode, str) or mode.upper() not in MODES):
            yield Problem((*path, "mode"), f"column {label}: unknown mode {mode!r} (NULLABLE, REQUIRED or REPEATED)",
                          "column-type")
        fields = item.get("fields")
        if _type_of(item) == "RECORD" and not (isinstance(fields, list) and fields):
            yield Problem(path, f"Field {label} is type RECORD but has no schema", "column-type")


def _check_duplicates(d: TableDefinition) -> Iterator[Problem]:
    def level(items: Any, path: Path, parent: str) -> Iterator[Problem]:
        if not isinstance(items, list):
            return
        seen: dict[str, str] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            name = item["name"]
            if name.lower() in seen:
                inside = f" in {parent}" if parent else ""
                yield Problem((*path, index, "name"),
                              f"duplicate column name {name!r}{inside}: {seen[name.lower()]!r} exists "
                              "(BigQuery compares column names case-insensitively)", "duplicate-column")
            else:
                seen[name.lower()] = name
            yield from level(item.get("fields"), (*path, index, "fields"), f"{parent}.{name}" if parent else name)

    yield from level(d.schema, ("schema",), "")


def _check_limits(d: TableDefinition) -> Iterator[Problem]:
    columns = _columns(d.schema)
    if len(columns) > MAX_COLUMNS:
        yield Problem(("schema",), f"the schema has {len(columns)} columns; a table may have at most {MAX_COLUMNS}",
                      "schema-limits")
    for path, _item in columns:
        depth = sum(1 for step in path if step == "fields") + 1
        if depth > MAX_NESTING:
            yield Problem(path, f"column {column_label(d.schema, path)} is nested {depth} levels deep; "
                                f"BigQuery allows {MAX_NESTING}", "schema-limits")
            return


def _check_time_partitioning(d: TableDefinition) -> Iterator[Problem]:
    spec = d.time_partitioning
    if not spec or not isinstance(spec.get("field"), str):
        return  # ingestion-time partitioning needs no column
    name, granularity = spec["field"], str(spec.get("type") or "DAY").upper()
    where: Path = ("time_partitioning", "field")
    found = _top_level(d.schema, name)
    if found is None:
        if isinstance(d.schema, list) and "." not in name:
            yield Problem(where, f"no column {name!r} in the schema to partition on", "partition-field")
        elif isinstance(d.schema, list):
            yield Problem(where, f"the partitioning column {name!r} must be a top-level column", "partition-field")
        return
    _index, item = found
    kind = _type_of(item)
    if kind not in TIME_PARTITION_TYPES:
        shown = kind or item.get("type")
        yield Problem(where, "The field specified for time partitioning can only be of type TIMESTAMP, DATE or "
                             f"DATETIME. The type found is: {shown}.", "partition-field")
    elif _mode_of(item) == "REPEATED":
        yield Problem(where, f"the partitioning column {name!r} is REPEATED; its mode must be NULLABLE or REQUIRED",
                      "partition-field")
    elif kind == "DATE" and granularity == "HOUR":
        yield Problem(where, f"HOUR partitioning needs a TIMESTAMP or DATETIME column; {name!r} is a DATE "
                             "(a DATE column is partitioned by DAY, MONTH or YEAR)", "partition-field")


def _check_range_partitioning(d: TableDefinition) -> Iterator[Problem]:
    spec = d.range_partitioning
    if not spec or not isinstance(spec.get("field"), str):
        return
    name = spec["field"]
    where: Path = ("range_partitioning", "field")
    found = _top_level(d.schema, name)
    if found is None:
        if isinstance(d.schema, list):
            yield Problem(where, f"no top-level column {name!r} in the schema to partition on",
                          "range-partition-field")
        return
    item = found[1]
    if _type_of(item) != "INTEGER":
        yield Problem(where, "The field specified for range partitioning can only be of type INTEGER. "
                             f"The type found is: {_type_of(item) or item.get('type')}.", "range-partition-field")
    elif _mode_of(item) == "REPEATED":
        yield Problem(where, f"the partitioning column {name!r} is REPEATED; its mode must be NULLABLE or REQUIRED",
                      "range-partition-field")


def _check_clustering(d: TableDefinition) -> Iterator[Problem]:
    if len(d.clustering) > MAX_CLUSTERING:
        yield Problem(("clustering", MAX_CLUSTERING),
                      f"{len(d.clustering)} clustering columns; at most {MAX_CLUSTERING} are allowed", "clustering")
    for index, name in enumerate(d.clustering):
        where: Path = ("clustering", index)
        found = _top_level(d.schema, name)
        if found is None:
            if isinstance(d.schema, list):
                yield Problem(where, f"no top-level column {name!r} in the schema to cluster on", "clustering")
            continue
        item = found[1]
        kind = _type_of(item)
        if _mode_of(item) == "REPEATED":
            yield Problem(where, f"clustering column {name!r} is REPEATED; clustering columns must be "
                                 "top-level, non-repeated columns", "clustering")
        elif kind not in CLUSTER_TYPES and kind is not None:
            shown = "RECORD (STRUCT)" if kind == "RECORD" else kind
            yield Problem(where, f"clustering column {name!r} is of type {shown}, which is not supported for "
                                 "clustering (BIGNUMERIC, BOOL, DATE, DATETIME, GEOGRAPHY, INT64, NUMERIC, RANGE, "
                                 "STRING or TIMESTAMP)", "clustering")


SCHEMAS_DOC = "https://cloud.google.com/bigquery/docs/schemas"
TABLE_RULES: tuple[Rule, ...] = (
    Rule("schema-shape", "https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#TableFieldSchema",
         _check_shape),
    Rule("column-name", f"{SCHEMAS_DOC}#column_names", _check_names),
    Rule("column-type", "https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#TableFieldSchema",
         _check_types_and_modes),
    Rule("duplicate-column", f"{SCHEMAS_DOC}#column_names", _check_duplicates),
    Rule("schema-limits", "https://cloud.google.com/bigquery/quotas#table_limits", _check_limits),
    Rule("partition-field",
         "https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#TimePartitioning.FIELDS.field",
         _check_time_partitioning),
    Rule("range-partition-field",
         "https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#RangePartitioning.FIELDS.field",
         _check_range_partitioning),
    Rule("clustering", "https://cloud.google.com/bigquery/docs/clustered-tables#limitations", _check_clustering),
)
"""Every definition rule; ``column-type`` also covers modes and RECORDs without fields, and
``partition-field`` the DATE/HOUR granularity rule of
https://cloud.google.com/bigquery/docs/partitioned-tables#choose_daily_hourly_monthly_or_yearly_partitioning."""


def check_table(definition: TableDefinition) -> list[Problem]:
    """Every problem Google would refuse the definition for, in rule order."""
    found: list[Problem] = []
    for rule in TABLE_RULES:
        found.extend(rule.check(definition))
    return found


def partitioning_change_problem(old: TableDefinition, new: TableDefinition) -> str | None:
    """Why BigQuery refuses to update a table from ``old``'s partitioning to ``new``'s, or None.

    BigQuery keeps a table's partitioning for life: a table cannot become partitioned, stop
    being partitioned or change its partitioning type or range
    (https://cloud.google.com/bigquery/docs/partitioned-tables#limitations); the provider
    sends the change as an in-place update (only ``field`` is ForceNew). Expiration and
    clustering may change (https://cloud.google.com/bigquery/docs/managing-partitioned-tables,
    https://cloud.google.com/bigquery/docs/creating-clustered-tables#modifying-cluster-spec).
    """
    before, after = _partition_spec(old), _partition_spec(new)
    if before == after:
        return None
    if before is None:
        return "Cannot convert non-partitioned table to partitioned table."
    return (f"Incompatible table partitioning specification. Expects partitioning specification {before}, "
            f"but input partitioning specification is {after or 'none'}")


def _partition_spec(d: TableDefinition) -> str | None:
    if d.time_partitioning:
        kind = str(d.time_partitioning.get("type") or "DAY").lower()
        column = d.time_partitioning.get("field")
        return f"interval(type:{kind},field:{column})" if column else f"interval(type:{kind})"
    if d.range_partitioning:
        rng = d.range_partitioning.get("range") or {}
        if isinstance(rng, list):
            rng = rng[0] if rng and isinstance(rng[0], dict) else {}
        bounds = ",".join(f"{k}:{rng.get(k)}" for k in ("start", "end", "interval"))
        return f"range(field:{d.range_partitioning.get('field')},{bounds})"
    return None
