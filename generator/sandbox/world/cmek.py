"""CMEK: a resource protected by a Cloud KMS key needs its service agents to hold the key."""

from __future__ import annotations

from typing import Any

from generator.sandbox import agents
from generator.sandbox.world.projects import PROJECT_IN_NAME, listed, nested, text

ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

# type -> (path to the key name in the state, agents that must hold ENCRYPTER on it).
# https://cloud.google.com/storage/docs/encryption/using-customer-managed-keys#prereqs
# https://cloud.google.com/bigquery/docs/customer-managed-encryption#grant_permission
# https://cloud.google.com/pubsub/docs/encryption#using-cmek
# https://cloud.google.com/composer/docs/composer-3/configure-cmek-encryption (Composer 3:
# the Composer service agent and the Cloud Storage service agent).
CMEK: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "google_storage_bucket": (("encryption", "default_kms_key_name"), ("storage",)),
    "google_bigquery_dataset": (("default_encryption_configuration", "kms_key_name"), ("bigquery",)),
    "google_bigquery_table": (("encryption_configuration", "kms_key_name"), ("bigquery",)),
    "google_pubsub_topic": (("kms_key_name",), ("pubsub",)),
    "google_composer_environment": (("config", "encryption_config", "kms_key_name"), ("composer", "storage")),
}


def cmek_problems(type_name: str, state: dict[str, Any], project: str | None, data: dict[str, Any]) -> list[str]:
    """Why creating a CMEK-protected resource fails: an agent cannot use the key."""
    key = kms_key(type_name, state)
    entry = listed(data, project)
    if key is None or entry is None:
        return []
    problems = []
    for name in CMEK[type_name][1]:
        email = agents.email(name, entry["number"])
        if _holds(data["resources"], key, f"serviceAccount:{email}"):
            continue
        problems.append(
            f"Error 400: Permission 'cloudkms.cryptoKeyVersions.useToEncrypt' denied on resource "
            f"'{key}' (or it may not exist) for {email}. (sandbox rule: CMEK: the service agent "
            f"needs {ENCRYPTER} on the key before the protected resource is created; order the "
            "resource after the grant with depends_on)"
        )
    return problems


def kms_key(type_name: str, state: Any) -> str | None:
    if type_name not in CMEK or not isinstance(state, dict):
        return None
    return text(nested(state, CMEK[type_name][0]))


def _holds(resources: dict[str, Any], key: str, member: str) -> bool:
    """Whether ``member`` holds ENCRYPTER on ``key`` (on the key, its ring or its project)."""
    ring = key.split("/cryptoKeys/")[0]
    key_project = PROJECT_IN_NAME.search(key)
    for entry in resources.values():
        s = entry["state"]
        if s.get("role") != ENCRYPTER:
            continue
        kind = entry["type"]
        granted = s.get("member") == member or member in (s.get("members") or [])
        if not granted:
            continue
        if kind.startswith("google_kms_crypto_key_iam_") and s.get("crypto_key_id") == key:
            return True
        if kind.startswith("google_kms_key_ring_iam_") and s.get("key_ring_id") == ring:
            return True
        if kind.startswith("google_project_iam_") and key_project and s.get("project") == key_project.group(1):
            return True
    return False
