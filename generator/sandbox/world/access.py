"""Dataset access lists: an entry is in a dataset's access list once, whichever resource made it.

Two resource types write a member's entry of a dataset's access list: a
``google_bigquery_dataset_access`` (``role`` and ``user_by_email``, ``group_by_email``, ...) and a
``google_bigquery_dataset_iam_member`` (``role`` and ``member``). On Google's side both are
the same entry: BigQuery keeps the basic role of the three predefined dataset roles (the
provider expands ``roles/bigquery.dataEditor`` to ``WRITER`` for the access resource,
expandNestedBigQueryDatasetAccessRole in google/services/bigquery/
resource_bigquery_dataset_access.go, and reads ``WRITER`` back as ``roles/bigquery.dataEditor``
for the IAM member, accessToPolicyForIamMember in google/services/bigquery/
iam_bigquery_member_dataset.go, where ``serviceAccount:X`` and ``user:X`` are ``userByEmail``).
"""

from __future__ import annotations

from typing import Any

from generator.sandbox.store import DATASET_ACCESS_ENTRY
from generator.sandbox.store import key as store_key
from generator.sandbox.world.projects import text

ACCESS = "google_bigquery_dataset_access"
MEMBER = "google_bigquery_dataset_iam_member"
ENTRY_TYPES = (ACCESS, MEMBER)

# bigqueryAccessRoleToPrimitiveMap (resource_bigquery_dataset_access.go).
_PRIMITIVE = {
    "roles/bigquery.dataOwner": "OWNER",
    "roles/bigquery.dataEditor": "WRITER",
    "roles/bigquery.dataViewer": "READER",
}
# iamMemberToAccessForIamMember (iam_bigquery_member_dataset.go): IAM member prefix -> the
# access entry's member field.
_MEMBER_FIELDS = {
    "group": "group_by_email",
    "domain": "domain",
    "iamMember": "iam_member",
    "user": "user_by_email",
    "serviceAccount": "user_by_email",
}
_SPECIAL_GROUPS = ("projectOwners", "projectReaders", "projectWriters", "allAuthenticatedUsers")
_ACCESS_MEMBER_FIELDS = ("user_by_email", "group_by_email", "domain", "special_group", "iam_member")


def member_entry(type_name: str, state: dict[str, Any]) -> tuple[str, ...] | None:
    """The member entry a dataset access resource or dataset IAM member stands for:
    ``(project, dataset, basic role, member field, member)``; None for other types and for
    entries without a member (authorized views, datasets, routines)."""
    role = text(state.get("role"))
    if type_name not in ENTRY_TYPES or role is None:
        return None
    where = (str(state.get("project")), str(state.get("dataset_id")), _PRIMITIVE.get(role, role))
    if type_name == ACCESS:
        for field in _ACCESS_MEMBER_FIELDS:
            value = text(state.get(field))
            if value:
                return (*where, field, value.lower() if field.endswith("_by_email") else value)
        return None
    member = str(state.get("member"))
    if member in _SPECIAL_GROUPS:
        return (*where, "special_group", member)
    prefix, _, value = member.partition(":")
    kind = _MEMBER_FIELDS.get(prefix)
    if kind is None or not value:
        return None
    return (*where, kind, value.lower() if kind.endswith("_by_email") else value)


def _holders(entry: tuple[str, ...], resources: dict[str, Any]) -> list[str]:
    """Store keys of the resources that stand for ``entry``."""
    return [
        k for k, e in resources.items()
        if e["type"] in ENTRY_TYPES and member_entry(e["type"], e["state"]) == entry
    ]


def dataset_access_problem(state: dict[str, Any], resources: dict[str, Any]) -> str | None:
    """Why the provider refuses to add an entry to a dataset's access list: the list has it
    already (from another configuration, another resource of this one, or a dataset IAM
    member of the same role and member). Its create reads the list and fails when the entry
    is found (resourceBigQueryDatasetAccessPatchCreateEncoder in
    google/services/bigquery/resource_bigquery_dataset_access.go). A dataset IAM member's
    create never fails so: it merges its binding into the list (resourceIamMemberCreate,
    MergeBindings, google/tpgiamresource/resource_iam_member.go)."""
    rid = text(state.get("id"))
    if rid is None:
        return None
    entry = member_entry(ACCESS, state)
    there = store_key(ACCESS, rid, state) in resources or (entry is not None and _holders(entry, resources))
    if not there:
        return None
    fields = " ".join(f"{name}:{state[name]}" for name in DATASET_ACCESS_ENTRY if state.get(name))
    return (
        f"Unable to create DatasetAccess, existing object already found: map[{fields}] "
        "(sandbox rule: dataset access: an entry is in a dataset's access list once; "
        "grant it from one resource)"
    )


def entry_deleted(type_name: str, prior: dict[str, Any], resources: dict[str, Any]) -> list[str]:
    """Store keys of the other resources that stood for the entry a deleted dataset access or
    dataset IAM member removed from the list: they are gone with it (the access resource's
    delete writes the list without its entry, resourceBigQueryDatasetAccessPatchDeleteEncoder;
    the member's removes the member from its role's binding, resourceIamMemberDelete), and
    their next refresh finds nothing (resourceIamMemberRead clears the id)."""
    entry = member_entry(type_name, prior)
    return [] if entry is None else _holders(entry, resources)
