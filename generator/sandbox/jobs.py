"""BigQuery query jobs in the sandbox: DDL on a stored table changes that table's schema.

df-gen's in-place migrations (:mod:`generator.migrations`) run as ``google_bigquery_job``
query jobs. The sandbox runs the DDL statements it understands against the tables in its
store, so that the provider's next refresh of the table (the sandbox's ``read`` returns the
stored schema) sees the new schema and the table plans no replacement:

- ``ALTER TABLE [IF EXISTS] t ALTER COLUMN c SET DATA TYPE T``: only to a type the column's
  type coerces to (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_column_set_data_type;
  :data:`generator.schema_changes.WIDENING`); anything else fails the job as Google does;
- ``ALTER TABLE [IF EXISTS] t ALTER COLUMN c DROP NOT NULL`` (…#alter_column_drop_not_null);
- ``ALTER TABLE [IF EXISTS] t DROP COLUMN [IF EXISTS] c`` (…#alter_table_drop_column): a
  partitioning column cannot be dropped.

Other queries (SELECT, DML) run as no-ops. A failed job is how Google reports a refused
statement: the job exists with ``status.error_result``; the provider's create only waits for
the job to exist (``PollCheckForExistence`` in resourceBigQueryJobCreate,
google/services/bigquery/resource_bigquery_job.go), so the apply itself succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlglot
from sqlglot import exp

from generator import bqtable
from generator.schema_changes import WIDENING

TABLE = "google_bigquery_table"


class JobError(Exception):
    """A statement BigQuery refuses; the message reads like Google's ``errorResult.message``."""


def run(resources: dict[str, Any], job: dict[str, Any]) -> None:
    """Run ``job``'s query against the tables in ``resources`` (the store, changed in place)
    and set its ``status`` (DONE, with ``error_result`` when a statement was refused; the
    statements before it stay applied, as in a BigQuery script)."""
    query = next(iter(job.get("query") or []), None)
    error: list[dict[str, str]] = []
    if isinstance(query, dict) and isinstance(query.get("query"), str):
        try:
            for statement in _statements(query["query"]):
                _alter(resources, statement, str(job.get("project") or ""))
        except JobError as exc:
            error = [{"reason": "invalidQuery", "location": "query", "message": str(exc)}]
    job["job_type"] = "QUERY"
    job["status"] = [{"state": "DONE", "error_result": error, "errors": list(error)}]


def _statements(text: str) -> Iterator[exp.Alter]:
    try:
        parsed = sqlglot.parse(text, read="bigquery")
    except sqlglot.errors.ParseError as exc:
        raise JobError(f"Syntax error: {str(exc).splitlines()[0]}") from None
    for statement in parsed:
        if isinstance(statement, exp.Alter) and statement.args.get("kind") == "TABLE":
            yield statement


def _find(resources: dict[str, Any], table: exp.Table, project: str) -> dict[str, Any] | None:
    want = (table.catalog or project, table.db, table.name)
    for entry in resources.values():
        state = entry.get("state") or {}
        found = (state.get("project"), state.get("dataset_id"), state.get("table_id"))
        if entry.get("type") == TABLE and found == want:
            return state
    return None


def _alter(resources: dict[str, Any], statement: exp.Alter, project: str) -> None:
    target = statement.this
    name = f"{target.catalog or project}.{target.db}.{target.name}"
    state = _find(resources, target, project)
    if state is None:
        if statement.args.get("exists"):
            return  # ALTER TABLE IF EXISTS on a missing table does nothing
        raise JobError(f"Not found: Table {name} was not found in location")
    schema = bqtable.parse_schema(state.get("schema"))
    if not isinstance(schema, list):
        schema = []
    for action in statement.args.get("actions") or ():
        if isinstance(action, exp.AlterColumn):
            _alter_column(schema, action, name)
        elif isinstance(action, exp.Drop) and str(action.args.get("kind", "")).upper() == "COLUMN":
            _drop_column(schema, action, name, state)
        else:
            raise JobError(f"ALTER TABLE action not supported by the sandbox: {action.sql('bigquery')}")
    state["schema"] = json.dumps(schema)


def _field(schema: list[Any], column: str) -> dict[str, Any] | None:
    return next((f for f in schema if isinstance(f, dict) and str(f.get("name", "")).lower() == column.lower()), None)


def _alter_column(schema: list[Any], action: exp.AlterColumn, table: str) -> None:
    column = action.this.name
    field = _field(schema, column)
    if field is None:
        if action.args.get("exists"):
            return
        raise JobError(f"Column {column} not found in table {table}")
    dtype = action.args.get("dtype")
    if dtype is not None:
        old = bqtable.TYPES.get(str(field.get("type", "")).upper(), "")
        new_sql = dtype.sql("bigquery").split("(")[0].upper()
        new = bqtable.TYPES.get(new_sql, new_sql)
        if old != new and (old, new) not in WIDENING:
            raise JobError(f"ALTER TABLE ALTER COLUMN SET DATA TYPE requires that the existing column type "
                           f"({_sql_name(old)}) is assignable to the new type ({_sql_name(new)})")
        field["type"] = new
    elif action.args.get("drop") and action.args.get("allow_null"):
        field["mode"] = "NULLABLE" if str(field.get("mode", "NULLABLE")).upper() == "REQUIRED" else field.get("mode")
    else:
        raise JobError(f"ALTER COLUMN action not supported by the sandbox: {action.sql('bigquery')}")


def _drop_column(schema: list[Any], action: exp.Drop, table: str, state: dict[str, Any]) -> None:
    for column_expr in action.args.get("tables") or []:
        column = column_expr.name
        field = _field(schema, column)
        if field is None:
            if action.args.get("exists"):
                continue
            raise JobError(f"Column {column} not found in table {table}")
        partitioning = next(iter(state.get("time_partitioning") or []), None) or {}
        if str(partitioning.get("field") or "").lower() == column.lower():
            raise JobError(f"Cannot drop column {column}: it is the partitioning column of table {table}")
        schema.remove(field)


def _sql_name(api_type: str) -> str:
    return {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}.get(api_type, api_type)
