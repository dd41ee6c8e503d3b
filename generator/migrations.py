"""In-place schema migrations: the BigQuery DDL a table's ``migrate`` way forward renders.

A pipeline table may choose ``migrate: {set_data_type: [...], drop_not_null: [...],
drop_columns: [...]}`` for a schema change BigQuery can make in place. df-gen renders one DDL
script per table, run by Terraform as a ``google_bigquery_job`` query job ordered before the
table (``modules/pipeline/migrations.tf``); once it ran, the table's schema on Google Cloud
already is the new one and the provider plans no replacement.

The statements (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language):

- ``ALTER TABLE ... ALTER COLUMN c SET DATA TYPE T`` ("ALTER COLUMN SET DATA TYPE statement"):
  only to a type the old one coerces to (INT64 to NUMERIC, BIGNUMERIC or FLOAT64; NUMERIC to
  BIGNUMERIC or FLOAT64; BIGNUMERIC to FLOAT64);
- ``ALTER TABLE ... ALTER COLUMN c DROP NOT NULL`` ("ALTER COLUMN DROP NOT NULL statement");
- ``ALTER TABLE ... DROP COLUMN IF EXISTS c`` ("ALTER TABLE DROP COLUMN statement": the column's
  data is gone, the table stays).

Every statement carries ``ALTER TABLE IF EXISTS``, so that the job of an environment whose
table does not exist yet (a fresh apply: the table is then created with the new schema)
succeeds and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

# The schema file's type names (legacy API names included) -> GoogleSQL type names.
SQL_TYPES = {"INTEGER": "INT64", "INT64": "INT64", "FLOAT": "FLOAT64", "FLOAT64": "FLOAT64",
             "NUMERIC": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC", "DECIMAL": "NUMERIC",
             "BIGDECIMAL": "BIGNUMERIC"}

# The types ALTER COLUMN SET DATA TYPE converts to (from a narrower numeric type).
WIDER = frozenset({"NUMERIC", "BIGNUMERIC", "FLOAT64"})


def statements(project: str, dataset: str, table: str, migrate: Mapping[str, Sequence[str]],
               schema: Sequence[Mapping[str, Any]]) -> list[str]:
    """The DDL statements of one table's ``migrate``, in a fixed order: types, NOT NULL, drops.

    ``schema`` is the table's new JSON schema: it gives each ``set_data_type`` column its type.
    Unknown columns and types not in :data:`SQL_TYPES` were refused by validation.
    """
    target = f"ALTER TABLE IF EXISTS `{project}.{dataset}.{table}`"
    types = {str(f.get("name", "")).lower(): str(f.get("type", "")).upper() for f in schema}
    out = [f"{target} ALTER COLUMN {c} SET DATA TYPE {SQL_TYPES[types[c.lower()]]}"
           for c in migrate.get("set_data_type", ())]
    out += [f"{target} ALTER COLUMN {c} DROP NOT NULL" for c in migrate.get("drop_not_null", ())]
    out += [f"{target} DROP COLUMN IF EXISTS {c}" for c in migrate.get("drop_columns", ())]
    return out


def script(stmts: Sequence[str]) -> str:
    """The job's query: the statements as one BigQuery script."""
    return "".join(f"{s};\n" for s in stmts)


def job_id(table: str, query: str) -> str:
    """A job ID per script: BigQuery job IDs are unique for good, so a changed script is a new
    job (``job_id`` forces a new resource) and the same script is never run twice."""
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()[:12]
    return f"df_gen_migrate_{table}_{digest}"


def problems(migrate: Mapping[str, Any], schema: Any) -> list[tuple[tuple[Any, ...], str]]:
    """What validation refuses in a ``migrate``: ``(path under migrate, message)`` pairs."""
    fields = {str(f.get("name", "")).lower(): f for f in schema if isinstance(f, dict)} \
        if isinstance(schema, list) else {}
    found: list[tuple[tuple[Any, ...], str]] = []
    for kind in ("set_data_type", "drop_not_null"):
        for i, column in enumerate(migrate.get(kind) or ()):
            field = fields.get(str(column).lower())
            if field is None:
                found.append(((kind, i), f"migrate.{kind}: column {column} is not in the table's schema"))
            elif kind == "set_data_type" and SQL_TYPES.get(str(field.get("type", "")).upper()) not in WIDER:
                found.append(((kind, i), f"migrate.set_data_type: column {column} has type {field.get('type')}; "
                              "BigQuery converts in place only to NUMERIC, BIGNUMERIC or FLOAT64 "
                              "(ALTER COLUMN SET DATA TYPE)"))
    for i, column in enumerate(migrate.get("drop_columns") or ()):
        if str(column).lower() in fields:
            found.append((("drop_columns", i), f"migrate.drop_columns: column {column} is still in the "
                                               "table's schema; remove it from the schema file"))
    return found
