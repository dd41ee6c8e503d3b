"""The permissions df-gen checks, and which predefined roles include them.

Only the permissions the pipeline's operations need are listed, for the roles df-gen grants
(Google's role reference: https://cloud.google.com/iam/docs/roles-permissions/bigquery,
https://cloud.google.com/iam/docs/roles-permissions/storage,
https://cloud.google.com/iam/docs/roles-permissions/datacatalog,
https://cloud.google.com/iam/docs/roles-permissions/bigquerydatapolicy,
https://cloud.google.com/iam/docs/roles-permissions/dataplex,
https://cloud.google.com/iam/docs/roles-permissions/iam).
"""

from __future__ import annotations

from generator.analysis.grants import FINE_GRAINED_READER, MASKED_READER, TOKEN_CREATOR, VIEW_ACCESS

_READ_OBJECTS = {"storage.objects.get", "storage.objects.list"}
_ALL_OBJECTS = _READ_OBJECTS | {"storage.objects.create", "storage.objects.delete"}
_READ_TABLES = {"bigquery.tables.get", "bigquery.tables.getData"}
_EDIT_TABLES = _READ_TABLES | {"bigquery.tables.updateData", "bigquery.tables.create"}

PERMISSIONS: dict[str, frozenset[str]] = {
    "roles/storage.objectViewer": frozenset(_READ_OBJECTS),
    "roles/storage.objectCreator": frozenset({"storage.objects.create"}),
    "roles/storage.objectUser": frozenset(_ALL_OBJECTS),
    "roles/storage.objectAdmin": frozenset(_ALL_OBJECTS),
    "roles/storage.admin": frozenset(_ALL_OBJECTS),
    "roles/bigquery.dataViewer": frozenset(_READ_TABLES),
    "roles/bigquery.dataEditor": frozenset(_EDIT_TABLES),
    "roles/bigquery.dataOwner": frozenset(_EDIT_TABLES),
    "roles/bigquery.admin": frozenset(_EDIT_TABLES | {"bigquery.jobs.create"}),
    "roles/bigquery.jobUser": frozenset({"bigquery.jobs.create"}),
    "roles/bigquery.user": frozenset({"bigquery.jobs.create"}),
    # An authorized view reads every table of the dataset it is authorized on.
    VIEW_ACCESS: frozenset(_READ_TABLES),
    FINE_GRAINED_READER: frozenset({"datacatalog.categories.fineGrainedGet"}),
    MASKED_READER: frozenset({"bigquery.dataPolicies.maskedGet"}),
    "roles/dataplex.dataScanEditor": frozenset({"dataplex.datascans.run", "dataplex.datascans.get"}),
    "roles/dataplex.dataScanDataViewer": frozenset({"dataplex.datascans.getData", "dataplex.datascans.get"}),
    TOKEN_CREATOR: frozenset({"iam.serviceAccounts.getAccessToken"}),
}

# The role df-gen names when a permission is missing: the narrowest predefined one.
LEAST_ROLE = {
    "storage.objects.list": "roles/storage.objectViewer",
    "storage.objects.get": "roles/storage.objectViewer",
    "storage.objects.create": "roles/storage.objectCreator",
    "storage.objects.delete": "roles/storage.objectUser",
    "bigquery.jobs.create": "roles/bigquery.jobUser",
    "bigquery.tables.getData": "roles/bigquery.dataViewer",
    "bigquery.tables.updateData": "roles/bigquery.dataEditor",
    "datacatalog.categories.fineGrainedGet": FINE_GRAINED_READER,
    "bigquery.dataPolicies.maskedGet": MASKED_READER,
    "dataplex.datascans.run": "roles/dataplex.dataScanEditor",
    "dataplex.datascans.getData": "roles/dataplex.dataScanDataViewer",
    "iam.serviceAccounts.getAccessToken": TOKEN_CREATOR,
}


def grants_permission(role: str, permission: str) -> bool:
    """Whether ``role`` includes ``permission`` (unknown roles include nothing df-gen checks)."""
    return permission in PERMISSIONS.get(role, frozenset())
