"""BigQuery table definitions: what Google refuses, and when the google provider replaces a table.

Two halves, one module each, shared by ``validate`` (before Terraform), the sandbox provider
(at apply and plan time) and the schema-change reports:

- **Definition rules** (``definition``, :data:`TABLE_RULES`): one list, each rule citing the Google page it
  models, applied to a :class:`TableDefinition` (the schema JSON as parsed, partitioning and
  clustering). :func:`check_table` returns :class:`Problem` objects whose ``where`` is a path
  into the definition: ``("schema", 0, "fields", 1, "type")``, ``("time_partitioning",
  "field")``, ``("range_partitioning", "field")`` or ``("clustering", 2)``; each caller maps it
  to a file position or a Terraform attribute path.
- **The schema-change classifier** (``changes``, :func:`classify_schema_change`), a model of the google
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

from generator.bqtable.changes import (
    COMPATIBLE,
    INCOMPATIBLE,
    LOSSY_IN_PLACE,
    SchemaChange,
    SchemaShapeError,
    classify_schema_change,
    forces_replacement,
    parse_schema,
    schemas_equivalent,
    type_equal,
)
from generator.bqtable.definition import (
    CLUSTER_TYPES,
    MAX_CLUSTERING,
    MAX_COLUMN_NAME,
    MAX_COLUMNS,
    MAX_NESTING,
    MODES,
    RESERVED_PREFIXES,
    SCHEMAS_DOC,
    TABLE_RULES,
    TIME_PARTITION_TYPES,
    TYPES,
    Path,
    Problem,
    Rule,
    TableDefinition,
    check_table,
    column_label,
    partitioning_change_problem,
)

__all__ = [
    "CLUSTER_TYPES", "COMPATIBLE", "INCOMPATIBLE", "LOSSY_IN_PLACE", "MAX_CLUSTERING", "MAX_COLUMNS",
    "MAX_COLUMN_NAME", "MAX_NESTING", "MODES", "Path", "Problem", "RESERVED_PREFIXES", "Rule", "SCHEMAS_DOC",
    "SchemaChange", "SchemaShapeError", "TABLE_RULES", "TIME_PARTITION_TYPES", "TYPES", "TableDefinition",
    "check_table", "classify_schema_change", "column_label", "forces_replacement", "parse_schema",
    "partitioning_change_problem", "schemas_equivalent", "type_equal"
]
