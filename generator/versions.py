"""Table versions: the way forward that creates a new table beside the old one.

A pipeline table may carry ``version: N`` (default 1). Version 1 is the table's own name,
so nothing changes for a table that never had a version; version N > 1 is the table
``<name>_v<N>``, created beside the older ones. Older versions stay managed (their tables
and data kept) while the table's ``keep_versions`` lists them, each with the schema file it
was created with; removing an entry retires that table (the data-loss guard then reports
its deletion). The newest kept version is copied into the current one by a rendered
backfill statement (:func:`backfill_sql`) that the DAG runs before anything writes the new
table; it inserts only while the new table is empty, so running it again changes nothing.

Every name of a version is computed here: the BigQuery table ID, the pipeline module's
table key (``curated-orders`` for version 1, ``curated-orders-v2`` after), the rendered
schema file, the backfill file and its task.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generator import naming
from generator.defaults import default
from generator.memo import IdentityMemo

# Keys of a table spec that belong to the current version only (ways forward, versioning).
_CURRENT_ONLY = ("version", "keep_versions", "migrate", "accept_loss")

# GoogleSQL type names of the schema file's types (legacy API names included).
SQL_TYPES = {
    "STRING": "STRING", "BYTES": "BYTES", "INTEGER": "INT64", "INT64": "INT64", "FLOAT": "FLOAT64",
    "FLOAT64": "FLOAT64", "NUMERIC": "NUMERIC", "DECIMAL": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC",
    "BIGDECIMAL": "BIGNUMERIC", "BOOLEAN": "BOOL", "BOOL": "BOOL", "TIMESTAMP": "TIMESTAMP", "DATE": "DATE",
    "TIME": "TIME", "DATETIME": "DATETIME", "GEOGRAPHY": "GEOGRAPHY", "JSON": "JSON", "INTERVAL": "INTERVAL",
    "RECORD": "STRUCT", "STRUCT": "STRUCT", "RANGE": "RANGE",
}

# What CAST converts each type to, from the "Casting" table of
# https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_rules (a type
# always casts to itself). Anything else is refused by BigQuery, so the backfill could not
# copy the column: validation says so instead.
_NUMBERS = frozenset({"INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64", "STRING"})
CASTS: Mapping[str, frozenset[str]] = {
    "INT64": _NUMBERS | {"BOOL"},
    "NUMERIC": _NUMBERS,
    "BIGNUMERIC": _NUMBERS,
    "FLOAT64": _NUMBERS,
    "BOOL": frozenset({"BOOL", "INT64", "STRING"}),
    "STRING": frozenset({"BOOL", "INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64", "STRING", "BYTES", "DATE",
                         "DATETIME", "TIME", "TIMESTAMP", "INTERVAL", "RANGE"}),
    "BYTES": frozenset({"STRING", "BYTES"}),
    "DATE": frozenset({"STRING", "DATE", "DATETIME", "TIMESTAMP"}),
    "DATETIME": frozenset({"STRING", "DATE", "DATETIME", "TIME", "TIMESTAMP"}),
    "TIME": frozenset({"STRING", "TIME"}),
    "TIMESTAMP": frozenset({"STRING", "DATE", "DATETIME", "TIME", "TIMESTAMP"}),
    "INTERVAL": frozenset({"STRING", "INTERVAL"}),
}


@dataclass(frozen=True)
class TableVersion:
    """One version of one pipeline table: a BigQuery table of its own."""

    layer: str
    name: str
    """The table's key in the descriptor (``orders``)."""
    version: int
    schema: str
    """Its schema file, relative to the pipeline's code directory."""
    spec: Mapping[str, Any]
    """Its settings: the table's own, with a kept version's overrides."""
    path: tuple[Any, ...]
    """Where it is declared in the descriptor."""
    current: bool

    @property
    def base(self) -> str:
        """The table's name on BigQuery and in the pipeline code: the key, or the key it was
        renamed from (``renamed_from``, generator.renames), since a table ID cannot change."""
        return naming.google_key(self.name, self.spec)

    @property
    def table_id(self) -> str:
        """The BigQuery table ID."""
        return table_id(self.base, self.version)

    @property
    def key(self) -> str:
        """The pipeline module's table key (its Terraform address)."""
        return table_key(self.layer, self.name, self.version)

    @property
    def schema_file(self) -> str:
        """The rendered schema file in the stack."""
        return f"schemas/{self.layer}.{self.table_id}.json"


def table_id(name: str, version: int) -> str:
    """Version 1 is the table's name; later versions are ``<name>_v<N>``."""
    return name if version <= 1 else f"{name}_v{version}"


def table_key(layer: str, name: str, version: int) -> str:
    """The module key: ``<layer>-<name>`` for version 1 (as before versions existed), then
    ``<layer>-<name>-v<N>``."""
    return f"{layer}-{name}" if version <= 1 else f"{layer}-{name}-v{version}"


def current_version(spec: Mapping[str, Any]) -> int:
    """The table's version (the schema's default, 1, unless the descriptor says)."""
    # The three layers' table schemas are alike (tests/defaults_test.py checks the defaults agree).
    first = default("pipeline", "tables.landing.<name>.version")
    version = spec.get("version", first)
    return version if isinstance(version, int) and not isinstance(version, bool) else first


def of_table(layer: str, name: str, spec: Mapping[str, Any]) -> list[TableVersion]:
    """Every managed version of one table: the kept ones (oldest first), then the current one.

    Worked out once per loaded descriptor's table (a new list each call, of the same frozen
    versions, whose ``spec`` callers only read): building a pipeline asks about each table
    about fourteen times (the model, its tasks, the access check, the stored tables)."""
    known = _OF_TABLE.get(spec, (layer, name))
    if known is None:
        known = _OF_TABLE.put(spec, (layer, name), tuple(_of_table(layer, name, spec)))
    return list(known)


# Per table spec and (layer, name): its versions.
_OF_TABLE: IdentityMemo[tuple[TableVersion, ...]] = IdentityMemo(65536)


def _of_table(layer: str, name: str, spec: Mapping[str, Any]) -> list[TableVersion]:
    base = {k: v for k, v in spec.items() if k not in _CURRENT_ONLY}
    path = ("tables", layer, name)
    found = [
        TableVersion(layer, name, int(kept["version"]), str(kept["schema"]),
                     {**base, **{k: v for k, v in kept.items() if k != "version"}}, (*path, "keep_versions", i), False)
        for i, kept in sorted(enumerate(spec.get("keep_versions") or ()), key=lambda item: item[1]["version"])
    ]
    found.append(TableVersion(layer, name, current_version(spec), str(spec.get("schema", "")), dict(spec), path, True))
    return found


def of_pipeline(tables: Mapping[str, Mapping[str, Mapping[str, Any]]],
                layers: Iterable[str] | None = None) -> list[TableVersion]:
    """Every managed table version of a pipeline's ``tables``, by layer (in ``layers`` order)
    and name."""
    order = list(layers) if layers is not None else sorted(tables)
    return [v for layer in order for name, spec in sorted((tables.get(layer) or {}).items())
            for v in of_table(layer, name, spec)]


def current_ids(tables: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, str]]:
    """layer -> table name -> the table ID of its current version (what the pipeline writes).

    Names are those the pipeline code uses: a renamed table keeps its old one (naming.google_key).
    """
    return {layer: {naming.google_key(name, spec): table_id(naming.google_key(name, spec), current_version(spec))
                    for name, spec in sorted(by_name.items())}
            for layer, by_name in sorted(tables.items())}


def backfill_source(layer: str, name: str, spec: Mapping[str, Any]) -> TableVersion | None:
    """The version the current one is backfilled from: the newest kept one, if any."""
    kept = [v for v in of_table(layer, name, spec) if not v.current]
    return kept[-1] if kept else None


def backfill_file(layer: str, name: str, version: int) -> str:
    """The rendered backfill statement, relative to the DAG's SQL folder."""
    return f"backfill/{layer}.{table_id(name, version)}.sql"


def backfill_task_id(layer: str, name: str) -> str:
    """The DAG task that runs a table's backfill."""
    return f"backfill_{layer}_{name}"


# ------------------------------------------------------------------ the backfill statement


def _sql_type(field: Mapping[str, Any]) -> str:
    return SQL_TYPES.get(str(field.get("type", "STRING")).upper(), str(field.get("type", "")).upper())


def _by_name(schema: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    return {str(f["name"]).lower(): f for f in schema if isinstance(f, dict) and "name" in f}


def _nested(field: Mapping[str, Any]) -> bool:
    return _sql_type(field) == "STRUCT" or str(field.get("mode", "NULLABLE")).upper() == "REPEATED"


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """The same column definition, nested fields included (names compared as BigQuery does)."""
    if _sql_type(old) != _sql_type(new) or str(old.get("mode", "NULLABLE")).upper() != \
            str(new.get("mode", "NULLABLE")).upper():
        return False
    old_fields, new_fields = _by_name(old.get("fields") or ()), _by_name(new.get("fields") or ())
    return old_fields.keys() == new_fields.keys() and all(_same(old_fields[k], new_fields[k]) for k in old_fields)


def backfill_problems(old: Iterable[Any], new: Iterable[Any]) -> list[tuple[str, str]]:
    """``(column, why)`` for every column of ``new`` the backfill from ``old`` cannot fill."""
    before = _by_name(old)
    found = []
    for field in new:
        if not isinstance(field, dict) or "name" not in field:
            continue
        column = str(field["name"])
        prior = before.get(column.lower())
        if prior is None:
            if str(field.get("mode", "NULLABLE")).upper() == "REQUIRED":
                found.append((column, "is REQUIRED and not in the older version, so the backfill has no value for "
                                      "it (make it NULLABLE)"))
            continue
        if _same(prior, field):
            continue
        if _nested(prior) or _nested(field):
            found.append((column, "changes a RECORD or REPEATED column, which the backfill does not convert"))
        elif _sql_type(field) not in CASTS.get(_sql_type(prior), frozenset({_sql_type(prior)})):
            found.append((column, f"changes from {_sql_type(prior)} to {_sql_type(field)}, which BigQuery's CAST "
                                  "cannot convert"))
    return found


def backfill_sql(target: str, source: str, old: Iterable[Any], new: Iterable[Any], from_version: int,
                 to_version: int) -> str:
    """The statement copying every row of ``source`` into ``target`` (``project.dataset.table``
    IDs) while ``target`` is empty: unchanged columns as they are, a changed type through
    CAST (which fails the job on a value it cannot convert, rather than writing NULL), NULL
    for a column the older version lacks. Columns the new version dropped are not copied."""
    before = _by_name(old)
    columns: list[str] = []
    values: list[str] = []
    for field in new:
        column = str(field["name"])
        prior = before.get(column.lower())
        columns.append(column)
        if prior is not None and (_same(prior, field) or _nested(field)):
            values.append(f"{prior['name']} AS {column}" if prior["name"] != column else column)
        elif prior is not None:
            values.append(f"CAST({prior['name']} AS {_sql_type(field)}) AS {column}")
        elif _nested(field):
            values.append(f"NULL AS {column}")
        else:
            values.append(f"CAST(NULL AS {_sql_type(field)}) AS {column}")
    select = ",\n".join(f"  {v}" for v in values)
    return (
        f"-- Backfill of version {to_version} from version {from_version}, rendered by df-gen.\n"
        "-- Copies the older version's rows once: it inserts only while the new table is empty.\n"
        f"INSERT INTO `{target}` ({', '.join(columns)})\n"
        f"SELECT\n{select}\n"
        f"FROM `{source}`\n"
        f"WHERE NOT EXISTS (SELECT 1 FROM `{target}`)\n"
    )


# ------------------------------------------------------------------ descriptor rules


def problems(layer: str, name: str, spec: Mapping[str, Any],
             taken: Mapping[str, str]) -> list[tuple[tuple[Any, ...], str]]:
    """What validation refuses in one table's versions, without its schema files:
    ``(path in the descriptor, message)`` pairs. ``taken``: every table ID of the layer ->
    the table that uses it."""
    where = f"tables.{layer}.{name}"
    path = ("tables", layer, name)
    version = current_version(spec)
    found: list[tuple[tuple[Any, ...], str]] = []
    seen: set[int] = set()
    for i, kept in enumerate(spec.get("keep_versions") or ()):
        number = kept["version"]
        if number >= version:
            found.append(((*path, "keep_versions", i, "version"),
                          f"{where}.keep_versions[{i}].version: {number} is not older than the table's version "
                          f"{version}"))
        elif number in seen:
            found.append(((*path, "keep_versions", i, "version"),
                          f"{where}.keep_versions[{i}].version: version {number} is listed twice"))
        seen.add(number)
    for item in of_table(layer, name, spec):
        owner = taken.get(item.table_id)
        if owner is not None and owner != name:
            found.append(((*item.path, "version") if item.current and "version" in spec else item.path,
                          f"{where}: version {item.version} is table {item.table_id}, which is also table "
                          f"'{owner}' of this layer"))
    return found


def taken_ids(by_name: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Table ID -> table name, for every version of a layer's tables (the first owner wins)."""
    taken: dict[str, str] = {}
    for name, spec in sorted(by_name.items(), key=lambda item: (current_version(item[1]) > 1, item[0])):
        for item in of_table("", name, spec):
            taken.setdefault(item.table_id, name)
    return taken
