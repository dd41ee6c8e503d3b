"""BigQuery dynamic data masking: which predefined masking rule fits which column type.

A policy tag with ``masking`` in environment.yaml gets a data masking policy
(modules/environment/catalog.tf). Google lists, per predefined rule, the column types it
masks (https://cloud.google.com/bigquery/docs/column-data-masking-intro#masking_options):
a hash needs text or bytes, the character and e-mail masks text, the year mask a date or
time. ``pipeline_rule_problems`` refuses a tag whose rule does not fit a column a pipeline tags with
it, so a masked reader never meets a column the rule cannot mask.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.errors import Diagnostic
from generator.loader import json_file

DOC = "https://cloud.google.com/bigquery/docs/column-data-masking-intro#masking_options"

# Rule -> the column types it masks; None: every type. Legacy SQL names map to their
# GoogleSQL twins first (BigQuery JSON schemas accept both).
RULE_TYPES: dict[str, frozenset[str] | None] = {
    "SHA256": frozenset({"STRING", "BYTES"}),
    "EMAIL_MASK": frozenset({"STRING"}),
    "FIRST_FOUR_CHARACTERS": frozenset({"STRING"}),
    "LAST_FOUR_CHARACTERS": frozenset({"STRING"}),
    "DATE_YEAR_MASK": frozenset({"DATE", "DATETIME", "TIMESTAMP"}),
    "DEFAULT_MASKING_VALUE": None,
    "ALWAYS_NULL": None,
}

_LEGACY = {
    "INTEGER": "INT64",
    "FLOAT": "FLOAT64",
    "BOOLEAN": "BOOL",
    "RECORD": "STRUCT",
}


def column_type(field: dict[str, Any]) -> str:
    """A schema field's type in GoogleSQL spelling."""
    kind = str(field.get("type", "STRING")).upper()
    return _LEGACY.get(kind, kind)


def type_problem(rule: str, kind: str) -> str | None:
    """Why masking rule ``rule`` cannot mask a column of type ``kind``, or None."""
    allowed = RULE_TYPES.get(rule)
    if allowed is None or kind in allowed:
        return None
    return f"BigQuery applies {rule} to {' and '.join(sorted(allowed))} columns only, and this one is {kind}"


def pipeline_rule_problems(d: Any, key: str) -> Iterator[Diagnostic]:
    """Every tagged column of (schema-valid) pipeline ``key`` whose tag's masking rule does
    not fit the column's type. It depends on the pipeline, the environment's tags and the
    pipeline's code only (validate caches it per pipeline, generator.validate.summary)."""
    rules = {
        tag: spec["masking"]
        for tag, spec in d.environment.data.get("policy_tags", {}).get("tags", {}).items()
        if "masking" in spec
    }
    if not rules:
        return
    doc = d.pipelines[key]
    code_dir = d.pipelines_dir / doc.data["code"]
    for layer, tables in sorted(doc.data.get("tables", {}).items()):
        for name, table in sorted(tables.items()):
            tagged = {c: t for c, t in table.get("policy_tags", {}).items() if t in rules}
            types = _column_types(code_dir / table["schema"]) if tagged else {}
            for column, tag in sorted(tagged.items()):
                kind = types.get(column)
                problem = type_problem(rules[tag], kind) if kind else None
                if problem:
                    yield doc.error(
                        ("tables", layer, name, "policy_tags", column),
                        f"tables.{layer}.{name}.policy_tags.{column}: tag '{tag}' is masked with "
                        f"{rules[tag]}: {problem} ({DOC})",
                        hint=f"tag the column with another tag, or mask '{tag}' with a rule for "
                        f"{kind} columns (DEFAULT_MASKING_VALUE and ALWAYS_NULL fit every type)",
                    )


def _column_types(schema_file: Any) -> dict[str, str]:
    """Top-level column -> type of a BigQuery JSON schema; {} when unreadable (the table
    rules report that)."""
    try:
        fields = json_file(schema_file)  # parsed once per file version: pipelines share schemas
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(fields, list):
        return {}
    return {str(f["name"]): column_type(f) for f in fields if isinstance(f, dict) and "name" in f}
