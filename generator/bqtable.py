"""BigQuery table definitions: what Google refuses, and when the google provider replaces a table.

Two halves, shared by ``validate`` (before Terraform), the sandbox provider (at apply and plan
time) and, later, schema-change reports:

- **Definition rules** (:data:`TABLE_RULES`): one list, each rule citing the Google page it
  models, applied to a :class:`TableDefinition` (the schema JSON as parsed, partitioning and
  clustering). :func:`check_table` returns :class:`Problem` objects whose ``where`` is a path
  into the definition: ``("schema", 0, "fields", 1, "type")``, ``("time_partitioning",
  "field")``, ``("range_partitioning", "field")`` or ``("clustering", 2)``; each caller maps it
  to a file position or a Terraform attribute path.
- **The schema-change classifier** (:func:`classify_schema_change`), a model of the google
  provider's ``resourceBigQueryTableSchemaIsChangeable`` (the ``schema`` CustomizeDiff of
  ``google_bigquery_table``) that lists every change with its kind instead of stopping at the
  first one, and :func:`forces_replacement`, the provider's yes/no answer. Source read:
  ``google/services/bigquery/resource_bigquery_table.go`` of hashicorp/terraform-provider-google
  at commit e03b7622a26cf4e878f90bdccaca6aa3d03a7999 (2026-08-21).

Where the provider's own answer depends on Go's random map iteration order (it returns from
inside a loop over a field's keys: a missing ``type`` answers "changeable" at once, and a
RECORD's ``fields`` answer the whole field), the classifier looks at every key and keeps the
replacing answer, so a change the provider replaces only sometimes is reported as replaced.
"""

from __future__ import annotations

import json
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


# --------------------------------------------------------------------------- schema changes

COMPATIBLE = "compatible"
LOSSY_IN_PLACE = "lossy_in_place"
INCOMPATIBLE = "incompatible"


@dataclass(frozen=True)
class SchemaChange:
    """One column change: ``compatible`` (in place), ``lossy_in_place`` (a top-level column
    dropped in place: its data is deleted) or ``incompatible`` (the provider replaces the table)."""

    kind: str
    column: tuple[str, ...]
    reason: str

    @property
    def replaces(self) -> bool:
        """True when this change makes the provider replace the table."""
        return self.kind == INCOMPATIBLE

    @property
    def column_name(self) -> str:
        """The dotted column path (``address.city``)."""
        return ".".join(self.column)


class SchemaShapeError(ValueError):
    """A schema entry without a name: the provider's CustomizeDiff fails with this message."""


def type_equal(old: str, new: str) -> bool:
    """The provider's ``bigQueryTableTypeEq``: case-insensitive, INTEGER=INT64, FLOAT=FLOAT64,
    BOOLEAN=BOOL. RECORD and STRUCT are *not* equal there, nor NUMERIC and DECIMAL."""
    a, b = old.upper(), new.upper()
    return a == b or any(a in pair and b in pair for pair in _ALIASES)


_ALIASES = (("INTEGER", "INT64"), ("FLOAT", "FLOAT64"), ("BOOLEAN", "BOOL"))


def _mode(value: Any) -> str:
    """``bigQueryTableNormalizeMode``: absent means NULLABLE; upper-cased."""
    return "NULLABLE" if value is None else str(value).upper()


def _mode_forces_new(old: str, new: str) -> bool:
    """``bigQueryTableModeIsForceNew``: every mode change but REQUIRED -> NULLABLE."""
    return old != new and not (old == "REQUIRED" and new == "NULLABLE")


def classify_schema_change(old: Any, new: Any, *, external: bool = False) -> tuple[SchemaChange, ...]:
    """Every difference between two parsed schemas (lists of field objects), with its kind.

    ``external`` is true for tables with ``external_data_configuration``, where the provider
    never drops a column in place. Raises :class:`SchemaShapeError` for a field without a
    name, as the provider's plan does.
    """
    out: list[SchemaChange] = []
    if not isinstance(old, list) or not isinstance(new, list):
        if old != new:
            out.append(SchemaChange(INCOMPATIBLE, (), "the schema is not a list of fields on both sides"))
        return tuple(out)
    _compare_lists(old, new, (), True, external, out)
    return tuple(out)


def _by_name(items: list[Any]) -> dict[str, Any]:
    """``bigQueryArrayToMapIndexedByName`` (a later duplicate wins), after its name check."""
    mapped: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or "name" not in item:
            raise SchemaShapeError(f"No name in schema {item!r}")
        mapped[str(item["name"])] = item
    return mapped


def _compare_lists(old: list[Any], new: list[Any], parent: tuple[str, ...], top: bool, external: bool,
                   out: list[SchemaChange]) -> None:
    old_map, new_map = _by_name(old), _by_name(new)
    added = [name for name in new_map if name not in old_map]
    for name in added:
        # The provider tests the mode text exactly: "REQUIRED", not "required".
        if new_map[name].get("mode") == "REQUIRED":
            out.append(SchemaChange(INCOMPATIBLE, (*parent, name),
                                    "new REQUIRED column: existing rows have no value for it"))
        else:
            out.append(SchemaChange(COMPATIBLE, (*parent, name), f"new {_mode(new_map[name].get('mode'))} column"))
    dropped: list[str] = []
    same_name = 0
    for name, old_field in old_map.items():
        if name not in new_map:
            if not top:
                out.append(SchemaChange(INCOMPATIBLE, (*parent, name), "nested field removed or renamed"))
            elif external:
                out.append(SchemaChange(INCOMPATIBLE, (name,), "column dropped from an external table"))
            else:
                dropped.append(name)
            continue
        sub: list[SchemaChange] = []
        _compare_field(old_field, new_map[name], (*parent, name), external, sub)
        out.extend(sub)
        if top and not any(c.replaces for c in sub):
            same_name += 1
    if not dropped:
        return
    # The provider drops top-level columns in place unless columns are also added (it
    # cannot tell a rename from a drop and an add): newColumns = len(new) - sameNameColumns.
    new_columns = len(new) - same_name
    replaced_anyway = any(c.replaces for c in out)
    for name in dropped:
        if new_columns and not replaced_anyway:
            also = ", ".join(added) or "duplicate names"
            out.append(SchemaChange(INCOMPATIBLE, (name,),
                                    f"column dropped while column(s) {also} are added (a rename?): "
                                    "the provider does not drop columns in place together with additions"))
        else:
            out.append(SchemaChange(LOSSY_IN_PLACE, (name,), "column dropped in place: its data is deleted"))


def _compare_field(old: dict[str, Any], new: Any, column: tuple[str, ...], external: bool,
                   out: list[SchemaChange]) -> None:
    if not isinstance(new, dict):
        out.append(SchemaChange(INCOMPATIBLE, column, "field is no longer an object"))
        return
    keys = set(old) | set(new)
    if "foreignTypeDefinition" in keys:  # the server may rewrite type and fields then
        keys -= {"type", "fields"}
    for key in sorted(keys):
        before, after = old.get(key), new.get(key)
        if key == "name":
            continue  # matched by name
        if key == "type":
            if before is None or after is None:
                continue  # invalid; the provider does not replace for it
            if not type_equal(str(before), str(after)):
                out.append(SchemaChange(INCOMPATIBLE, column, f"type changed from {before} to {after}"))
        elif key == "mode":
            a, b = _mode(before), _mode(after)
            if _mode_forces_new(a, b):
                out.append(SchemaChange(INCOMPATIBLE, column, f"mode changed from {a} to {b}"))
            elif a != b:
                out.append(SchemaChange(COMPATIBLE, column, f"mode relaxed from {a} to {b}"))
        elif key == "fields":
            if isinstance(before, list):
                if isinstance(after, list):
                    _compare_lists(before, after, column, False, external, out)
                else:
                    out.append(SchemaChange(INCOMPATIBLE, column, "nested fields removed"))
            elif before != after:
                out.append(SchemaChange(INCOMPATIBLE, column, "nested fields added to a column that had none"))
        elif key == "description":
            if (before or "") != (after or ""):
                out.append(SchemaChange(COMPATIBLE, column, "description changed"))
        elif key == "policyTags":
            if _policy_tags(before) != _policy_tags(after):
                out.append(SchemaChange(COMPATIBLE, column, "policy tags changed"))
        elif not _json_equal(key, before, after):
            out.append(SchemaChange(COMPATIBLE, column, f"{key} changed"))


def _policy_tags(value: Any) -> Any:
    """``bigQueryTableNormalizePolicyTags``: {} and {"names": []} mean none."""
    if isinstance(value, dict) and (not value or value.get("names") == []):
        return None
    return value


def parse_schema(text: Any) -> Any:
    """The provider's reading of a ``schema`` string: ``"null"`` is ``[]``; bad JSON is None."""
    if not isinstance(text, str):
        return None
    if text == "null":
        text = "[]"
    try:
        return json.loads(text)
    except ValueError:
        return None


def schemas_equivalent(old_text: Any, new_text: Any) -> bool:
    """The provider's ``bigQueryTableSchemaDiffSuppress``: no diff at all when true.

    Fields are compared by name in any order, types through :func:`type_equal`, an absent
    mode equals NULLABLE, an absent description equals "", empty policy tags equal none, and
    an unset collation accepts whatever the server has.
    """
    return _json_equal("schema", parse_schema(old_text), parse_schema(new_text))


def _scalar_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _json_equal(key: str, a: Any, b: Any) -> bool:
    """``jsonCompareWithMapKeyOverride`` with ``bigQueryTableMapKeyOverride``."""
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        if key in ("schema", "fields"):
            if not all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in [*a, *b]):
                return False
            a, b = sorted(a, key=lambda x: x["name"]), sorted(b, key=lambda x: x["name"])
        return all(_json_equal(str(i), x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)))
    if isinstance(a, dict):
        if not isinstance(b, dict):
            return False
        keys = set(a) | set(b)
        if "foreignTypeDefinition" in keys:
            keys -= {"type", "fields"}
        for sub in keys:
            if _override_equal(sub, a, b):
                continue
            if sub not in a or sub not in b or not _json_equal(sub, a[sub], b[sub]):
                return False
        return True
    if isinstance(a, (str, int, float, bool)) or a is None:
        return _scalar_equal(a, b)
    return False


def _override_equal(key: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    before, after = a.get(key), b.get(key)
    if key == "mode":
        return _mode(before) == _mode(after)
    if key == "description":
        return before in (None, "") and after in (None, "")
    if key == "type":
        return before is not None and after is not None and type_equal(str(before), str(after))
    if key == "collation":
        return after is None or (before in (None, "") and after in (None, ""))
    if key == "policyTags":
        return _policy_tags(before) is None and _policy_tags(after) is None
    if key == "dataGovernanceTagsInfo":
        return _governance(before) is None and _governance(after) is None
    return False


def _governance(value: Any) -> Any:
    if isinstance(value, dict) and (not value or value.get("dataGovernanceTags") == {}):
        return None
    return value


def forces_replacement(old_text: Any, new_text: Any, *, external: bool = False) -> bool:
    """Whether the provider's ``schema`` CustomizeDiff marks the table for replacement.

    ``old_text`` and ``new_text`` are the ``schema`` strings of state and plan. No diff (the
    suppress function) or equal JSON means no; otherwise any incompatible change means yes.
    """
    if schemas_equivalent(old_text, new_text):
        return False
    old, new = parse_schema(old_text), parse_schema(new_text)
    if old == new:
        return False
    if old is None or new is None:
        return True  # the provider compares unreadable JSON as nil: not changeable
    return any(change.replaces for change in classify_schema_change(old, new, external=external))
