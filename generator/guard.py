"""What a saved plan does: change counts and the data-loss guard.

Both read ``terraform show -json PLANFILE`` (its ``resource_changes``), never Terraform's
human text. A change is destructive when it deletes or replaces a resource that holds
data or identity that cannot be recreated as it was (projects, buckets, datasets, tables,
KMS keys and key rings, Pub/Sub topics); ``apply`` refuses such plans unless
``--allow-destroy`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATEFUL_TYPES = frozenset(
    {
        "google_project",
        "google_storage_bucket",
        "google_bigquery_dataset",
        "google_bigquery_table",
        "google_kms_crypto_key",
        "google_kms_key_ring",
        "google_pubsub_topic",
    }
)


@dataclass(frozen=True)
class PlanSummary:
    """Counts as Terraform prints them (a replacement counts as one add and one destroy)."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    destructive: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would change any resource."""
        return bool(self.add or self.change or self.destroy)

    def counts(self) -> dict[str, int]:
        """``{"add", "change", "destroy"}`` for the JSON document."""
        return {"add": self.add, "change": self.change, "destroy": self.destroy}

    def text(self) -> str:
        """``2 to add, 0 to change, 1 to destroy``."""
        return f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    """Summarise a ``show -json`` plan document."""
    add = change = destroy = 0
    destructive: list[str] = []
    for item in plan.get("resource_changes") or ():
        if item.get("mode", "managed") != "managed":
            continue  # data sources are read, never changed
        actions = set((item.get("change") or {}).get("actions") or ())
        if "create" in actions:
            add += 1
        if "update" in actions:
            change += 1
        if "delete" in actions:
            destroy += 1
            if item.get("type") in STATEFUL_TYPES:
                destructive.append(str(item.get("address")))
    return PlanSummary(add, change, destroy, tuple(sorted(destructive)))
