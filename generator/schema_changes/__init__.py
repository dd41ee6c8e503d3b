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

One module per step: ``sources`` (the records and the pipeline tables they come from),
``classify`` (one change, its consequence and ways forward), ``plans`` (a Terraform plan
against the prior state) and ``against`` (``validate --against REF``).
"""

from __future__ import annotations

from generator.schema_changes.against import (
    against_ref,
    check_ref,
)
from generator.schema_changes.classify import (
    classify,
    consequence,
)
from generator.schema_changes.plans import (
    choices_key,
    review_plan,
)
from generator.schema_changes.sources import (
    ACCEPT_LOSS,
    ADDRESS,
    MIGRATE,
    NEW_VERSION,
    TABLE_TYPE,
    WIDENING,
    ChangeItem,
    TableSource,
    migration_targets,
    schema_document,
    table_sources,
    text_line,
    unresolved,
    version_table_id,
)

__all__ = [
    "ACCEPT_LOSS",
    "ADDRESS",
    "ChangeItem",
    "MIGRATE",
    "NEW_VERSION",
    "TABLE_TYPE",
    "TableSource",
    "WIDENING",
    "against_ref",
    "check_ref",
    "choices_key",
    "classify",
    "consequence",
    "migration_targets",
    "review_plan",
    "schema_document",
    "table_sources",
    "text_line",
    "unresolved",
    "version_table_id",
]
