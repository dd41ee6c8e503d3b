"""What a saved plan does: change counts, per resource type, and the data-loss guard.

Everything reads ``terraform show -json PLANFILE`` (its ``resource_changes``), never
Terraform's human text. Counts follow Terraform's own: a replacement is one add and one
destroy (and is also counted in ``replace``); a resource being imported counts in
``import`` (``change.importing``, Terraform 1.5+), whatever else happens to it; a resource a
``removed`` block with ``destroy = false`` releases counts in ``forget`` (Terraform 1.7+'s
``forget`` action: it leaves Terraform's state and stays on Google Cloud).

A change is destructive when it deletes or replaces a resource of a type in
:data:`STATEFUL` (data, identity or protection that cannot be recreated as it was), when it
deletes an object under retention, or when it drops BigQuery columns in place (the provider
sends that as an update, but the columns' data is gone). ``apply`` refuses such plans unless
``--allow-destroy`` is given; a table whose replacement or column drop the descriptor
acknowledges (``accept_loss``, see :mod:`generator.schema_changes`) is let through. Each
destructive item keeps why Terraform deletes or replaces it (its
``action_reason`` and ``replace_paths``), so a report can say so in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator import bqtable

STATEFUL: dict[str, str] = {
    "google_project": "a project: deleting it deletes everything in it; its ID is reserved for 30 days",
    "google_storage_bucket": "a bucket: its objects are deleted with it",
    "google_bigquery_dataset": "a dataset: its tables and their rows are deleted with it",
    "google_bigquery_table": "a table: its rows are deleted with it",
    "google_kms_crypto_key": "a CMEK key: data encrypted with it becomes unreadable once it is destroyed",
    "google_kms_key_ring": "a key ring: its keys are scheduled for destruction",
    "google_pubsub_topic": "a topic: messages not yet delivered are lost, publishers fail",
    "google_pubsub_subscription": "a subscription: its unacknowledged messages are lost",
    "google_composer_environment": "the Composer environment: its Airflow database (DAG run history, "
                                   "connections, variables) is deleted with it",
    "google_service_account": "a service account: a new one with the same e-mail is a different "
                              "principal, so every grant naming the old one stops working",
    "google_data_catalog_taxonomy": "the policy-tag taxonomy: its tags, and the column protection they "
                                    "give, are deleted with it",
    "google_data_catalog_policy_tag": "a policy tag: the columns it protects silently lose their "
                                      "fine-grained access control",
}
"""Every resource type whose deletion or replacement loses something that cannot be recreated as
it was, with what is lost. Objects (``google_storage_bucket_object``) count only while under
retention (see :func:`object_under_retention`)."""

STATEFUL_TYPES = frozenset(STATEFUL)

COUNT_KEYS = ("add", "change", "replace", "destroy", "import", "forget")

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
    forgets: int = 0
    by_type: tuple[tuple[str, tuple[int, ...]], ...] = ()
    losses: tuple[Loss, ...] = ()
    # Lossy or incompatible BigQuery schema changes (generator.schema_changes), JSON-shaped.
    schema_changes: tuple[dict[str, Any], ...] = ()
    # Every resource leaving Terraform's management: (address, type, "forget" or "delete").
    leaving: tuple[tuple[str, str, str], ...] = ()
    # Resources a moved block moves to a new address (``previous_address``): nothing changes on
    # Google Cloud, but the state must be applied (renamed keys, generator.renames).
    moves: int = 0

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would change any resource."""
        return bool(self.add or self.change or self.destroy or self.imports or self.forgets or self.moves)

    def counts(self) -> dict[str, int]:
        """``{"add", "change", "replace", "destroy", "import", "forget"}`` for the JSON documents."""
        numbers = (self.add, self.change, self.replace, self.destroy, self.imports, self.forgets)
        return dict(zip(COUNT_KEYS, numbers, strict=True))

    def type_counts(self) -> dict[str, dict[str, int]]:
        """The same counts per resource type (types without changes left out)."""
        return {kind: dict(zip(COUNT_KEYS, numbers, strict=True)) for kind, numbers in self.by_type}

    def text(self) -> str:
        """``2 to add, 0 to change, 1 to destroy`` (and ``, 1 to import``, ``, 3 to forget`` when
        any, as Terraform prints them)."""
        text = f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"
        text = f"{text}, {self.imports} to import" if self.imports else text
        text = f"{text}, {self.forgets} to forget" if self.forgets else text
        return f"{text}, {self.moves} to move" if self.moves else text

    def to_meta(self) -> dict[str, Any]:
        """Everything, for the saved plan's metadata file."""
        return {"changes": self.counts(), "destructive": list(self.destructive),
                "resource_types": self.type_counts(), "losses": [loss.as_json() for loss in self.losses],
                "schema_changes": list(self.schema_changes), "leaving": [list(item) for item in self.leaving],
                "moves": self.moves}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> PlanSummary:
        """Read :meth:`to_meta` back (older metadata without the details reads as none)."""
        changes = meta["changes"]
        return cls(changes["add"], changes["change"], changes["destroy"], tuple(meta.get("destructive", ())),
                   changes.get("replace", 0), changes.get("import", 0), changes.get("forget", 0),
                   tuple((kind, tuple(counts.get(k, 0) for k in COUNT_KEYS))
                         for kind, counts in sorted(meta.get("resource_types", {}).items())),
                   tuple(Loss(**loss) for loss in meta.get("losses", ())),
                   tuple(meta.get("schema_changes", ())),
                   tuple((str(a), str(t), str(act)) for a, t, act in meta.get("leaving", ())),
                   int(meta.get("moves", 0)))


def loss_reason(item: Mapping[str, Any], action: str) -> str:
    """Why Terraform deletes or replaces ``item``, with the arguments that force it."""
    reason = _REASONS.get(str(item.get("action_reason") or ""), f"{action}d by the plan")
    paths = (item.get("change") or {}).get("replace_paths") or []
    named = sorted({".".join(str(step) for step in path) for path in paths if path})
    if named and action == "replace":
        reason = f"replaced: {', '.join(named)} cannot be updated in place"
    return f"{reason}; a {item.get('type')} holds data or identity that is lost with it"


def summarize(plan: Mapping[str, Any], accepted: Iterable[str] = ()) -> PlanSummary:
    """Summarise a ``show -json`` plan document.

    ``accepted`` holds addresses whose loss the descriptors acknowledge: they still count
    as changes but are not destructive.
    """
    skip = set(accepted)
    retained = _buckets_under_retention(plan)
    totals = dict.fromkeys(COUNT_KEYS, 0)
    by_type: dict[str, dict[str, int]] = {}
    destructive: list[str] = []
    losses: list[Loss] = []
    leaving: list[tuple[str, str, str]] = []
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
            "forget": "forget" in actions,
        }
        kind = str(item.get("type"))
        for key, hit in hits.items():
            if hit:
                totals[key] += 1
                counts = by_type.setdefault(kind, dict.fromkeys(COUNT_KEYS, 0))
                counts[key] += 1
        address = str(item.get("address"))
        if hits["forget"] or ("delete" in actions and not hits["replace"]):
            leaving.append((address, kind, "forget" if hits["forget"] else "delete"))
        if address in skip:
            continue
        stateful = kind in STATEFUL_TYPES or (kind == "google_storage_bucket_object"
                                              and object_under_retention(change.get("before"), retained))
        if "delete" in actions and stateful:
            action = "replace" if hits["replace"] else "delete"
            destructive.append(address)
            losses.append(Loss(address, kind, action, loss_reason(item, action)))
        elif "update" in actions:
            dropped = dropped_columns(item)
            if dropped:
                destructive.append(address)
                losses.append(Loss(address, kind, "update", f"columns {', '.join(dropped)} dropped in place: "
                                                            "BigQuery deletes their data"))
    moves = sum(1 for item in plan.get("resource_changes") or ()
                if item.get("previous_address") and item.get("previous_address") != item.get("address"))
    return PlanSummary(
        totals["add"], totals["change"], totals["destroy"], tuple(sorted(destructive)),
        totals["replace"], totals["import"], totals["forget"],
        tuple((kind, tuple(counts[k] for k in COUNT_KEYS)) for kind, counts in sorted(by_type.items())),
        tuple(sorted(losses, key=lambda loss: loss.address)),
        leaving=tuple(sorted(leaving)),
        moves=moves,
    )
def dropped_columns(item: Mapping[str, Any]) -> tuple[str, ...]:
    """Columns a ``google_bigquery_table`` update drops in place (their data is deleted).

    Terraform shows the change as an update: the provider removes top-level columns with a
    table patch when nothing else forces a replacement (``resourceBigQueryTableSchemaIsChangeable``
    in google/services/bigquery/resource_bigquery_table.go of the provider).
    """
    if item.get("type") != "google_bigquery_table":
        return ()
    body = item.get("change") or {}
    before, after = body.get("before") or {}, body.get("after") or {}
    old, new = bqtable.parse_schema(before.get("schema")), bqtable.parse_schema(after.get("schema"))
    if not isinstance(old, list) or not isinstance(new, list):
        return ()
    try:
        changes = bqtable.classify_schema_change(old, new, external=bool(before.get("external_data_configuration")))
    except bqtable.SchemaShapeError:
        return ()
    return tuple(c.column_name for c in changes if c.kind == bqtable.LOSSY_IN_PLACE)


def object_under_retention(before: Any, retained_buckets: Iterable[str] = ()) -> bool:
    """True when deleting this bucket object (its prior state) would delete retained data: an
    object retention, an event-based or temporary hold, or a bucket retention policy
    (https://cloud.google.com/storage/docs/bucket-lock, .../object-holds, .../object-lock)."""
    if not isinstance(before, Mapping):
        return False
    if before.get("retention") or before.get("event_based_hold") or before.get("temporary_hold"):
        return True
    return before.get("bucket") in set(retained_buckets)


def _buckets_under_retention(plan: Mapping[str, Any]) -> set[str]:
    """Names of the buckets in the plan's prior state that have a retention policy."""
    names: set[str] = set()

    def walk(module: Mapping[str, Any]) -> None:
        for resource in module.get("resources") or ():
            values = resource.get("values") or {}
            if resource.get("type") == "google_storage_bucket" and values.get("retention_policy"):
                names.add(str(values.get("name")))
        for child in module.get("child_modules") or ():
            walk(child)

    walk(((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {})
    return names
