"""What a saved plan does: change counts, per resource type, and the data-loss guard.

Everything reads ``terraform show -json PLANFILE`` (its ``resource_changes``), never
Terraform's human text. Counts follow Terraform's own: a replacement is one add and one
destroy (and is also counted in ``replace``); a resource being imported counts in
``import`` (``change.importing``, Terraform 1.5+), whatever else happens to it.

A change is destructive when it deletes or replaces a resource that holds data or
identity that cannot be recreated as it was (projects, buckets, datasets, tables, KMS keys
and key rings, Pub/Sub topics); ``apply`` refuses such plans unless ``--allow-destroy`` is
given. Each destructive item keeps why Terraform deletes or replaces it (its
``action_reason`` and ``replace_paths``), so a report can say so in words.
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

COUNT_KEYS = ("add", "change", "replace", "destroy", "import")

# Terraform's JSON plan "action_reason" values (internal/command/jsonplan/plan.go in
# hashicorp/terraform), said in words.
_REASONS = {
    "replace_because_cannot_update": "replaced: a changed argument cannot be updated in place",
    "replace_because_tainted": "replaced: the object is tainted",
    "replace_by_request": "replaced: requested with -replace",
    "replace_by_triggers": "replaced: a replace_triggered_by reference changed",
    "delete_because_no_resource_config": "deleted: no longer in the configuration",
    "delete_because_no_module": "deleted: its module call is no longer in the configuration",
    "delete_because_wrong_repetition": "deleted: count/for_each was added or removed",
    "delete_because_count_index": "deleted: its count index is out of range",
    "delete_because_each_key": "deleted: its for_each key is gone",
    "delete_because_no_move_target": "deleted: the target of its moved block does not exist",
}


@dataclass(frozen=True)
class Loss:
    """One destructive change: what, how (``delete`` or ``replace``) and why."""

    address: str
    type: str
    action: str
    reason: str

    def as_json(self) -> dict[str, str]:
        """The report's form."""
        return {"address": self.address, "type": self.type, "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class PlanSummary:
    """Counts as Terraform prints them (a replacement counts as one add and one destroy)."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    destructive: tuple[str, ...] = field(default_factory=tuple)
    replace: int = 0
    imports: int = 0
    by_type: tuple[tuple[str, tuple[int, ...]], ...] = ()
    losses: tuple[Loss, ...] = ()

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would change any resource."""
        return bool(self.add or self.change or self.destroy or self.imports)

    def counts(self) -> dict[str, int]:
        """``{"add", "change", "replace", "destroy", "import"}`` for the JSON documents."""
        return dict(zip(COUNT_KEYS, (self.add, self.change, self.replace, self.destroy, self.imports), strict=True))

    def type_counts(self) -> dict[str, dict[str, int]]:
        """The same counts per resource type (types without changes left out)."""
        return {kind: dict(zip(COUNT_KEYS, numbers, strict=True)) for kind, numbers in self.by_type}

    def text(self) -> str:
        """``2 to add, 0 to change, 1 to destroy`` (and ``, 1 to import`` when any)."""
        text = f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"
        return f"{text}, {self.imports} to import" if self.imports else text

    def to_meta(self) -> dict[str, Any]:
        """Everything, for the saved plan's metadata file."""
        return {"changes": self.counts(), "destructive": list(self.destructive),
                "resource_types": self.type_counts(), "losses": [loss.as_json() for loss in self.losses]}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> PlanSummary:
        """Read :meth:`to_meta` back (older metadata without the details reads as none)."""
        changes = meta["changes"]
        return cls(changes["add"], changes["change"], changes["destroy"], tuple(meta.get("destructive", ())),
                   changes.get("replace", 0), changes.get("import", 0),
                   tuple((kind, tuple(counts[k] for k in COUNT_KEYS))
                         for kind, counts in sorted(meta.get("resource_types", {}).items())),
                   tuple(Loss(**loss) for loss in meta.get("losses", ())))


def loss_reason(item: Mapping[str, Any], action: str) -> str:
    """Why Terraform deletes or replaces ``item``, with the arguments that force it."""
    reason = _REASONS.get(str(item.get("action_reason") or ""), f"{action}d by the plan")
    paths = (item.get("change") or {}).get("replace_paths") or []
    named = sorted({".".join(str(step) for step in path) for path in paths if path})
    if named and action == "replace":
        reason = f"replaced: {', '.join(named)} cannot be updated in place"
    return f"{reason}; a {item.get('type')} holds data or identity that is lost with it"


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    """Summarise a ``show -json`` plan document."""
    totals = dict.fromkeys(COUNT_KEYS, 0)
    by_type: dict[str, dict[str, int]] = {}
    destructive: list[str] = []
    losses: list[Loss] = []
    for item in plan.get("resource_changes") or ():
        if item.get("mode", "managed") != "managed":
            continue  # data sources are read, never changed
        change = item.get("change") or {}
        actions = set(change.get("actions") or ())
        hits = {
            "add": "create" in actions,
            "change": "update" in actions,
            "replace": {"create", "delete"} <= actions,
            "destroy": "delete" in actions,
            "import": bool(change.get("importing")),
        }
        kind = str(item.get("type"))
        for key, hit in hits.items():
            if hit:
                totals[key] += 1
                counts = by_type.setdefault(kind, dict.fromkeys(COUNT_KEYS, 0))
                counts[key] += 1
        if "delete" in actions and kind in STATEFUL_TYPES:
            action = "replace" if hits["replace"] else "delete"
            destructive.append(str(item.get("address")))
            losses.append(Loss(str(item.get("address")), kind, action, loss_reason(item, action)))
    return PlanSummary(
        totals["add"], totals["change"], totals["destroy"], tuple(sorted(destructive)),
        totals["replace"], totals["import"],
        tuple((kind, tuple(counts[k] for k in COUNT_KEYS)) for kind, counts in sorted(by_type.items())),
        tuple(sorted(losses, key=lambda loss: loss.address)),
    )
