"""Dataset access lists: an entry is in a dataset's access list once."""

from __future__ import annotations

from typing import Any

from generator.sandbox.store import DATASET_ACCESS_ENTRY
from generator.sandbox.store import key as store_key
from generator.sandbox.world.projects import text


def dataset_access_problem(state: dict[str, Any], resources: dict[str, Any]) -> str | None:
    """Why the provider refuses to add an entry to a dataset's access list: the list has it
    already (from another configuration or another resource of this one). Its create reads
    the list and fails when the entry is found (resourceBigQueryDatasetAccessPatchCreateEncoder
    in google/services/bigquery/resource_bigquery_dataset_access.go)."""
    rid = text(state.get("id"))
    if rid is None or store_key("google_bigquery_dataset_access", rid, state) not in resources:
        return None
    fields = " ".join(f"{name}:{state[name]}" for name in DATASET_ACCESS_ENTRY if state.get(name))
    return (
        f"Unable to create DatasetAccess, existing object already found: map[{fields}] "
        "(sandbox rule: dataset access: an entry is in a dataset's access list once; "
        "grant it from one resource)"
    )
