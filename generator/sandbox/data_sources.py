"""What the google provider's data sources return, derived from their arguments and the config.

The sandbox answers the data sources the bundled modules read: ``google_project``,
``google_client_config`` and the three whose GET makes Google create a service agent
(``google_storage_project_service_account``, ``google_bigquery_default_service_account``,
``google_logging_project_settings``; e-mails from :mod:`generator.sandbox.agents`). Any other
data source gets plausible values for its computed attributes. The world's checks around
the agent reads (API enabled, agent provisioned) are the provider's
(:meth:`generator.sandbox.provider.SandboxProvider.read_data`).
"""

from __future__ import annotations

from typing import Any

from generator.sandbox import agents, computed
from generator.sandbox.formats import Ctx, project_number
from generator.sandbox.store import Store
from generator.sandbox.values import UNKNOWN


def answer(type_name: str, block: dict[str, Any], state: Ctx, config: Ctx, store: Store) -> Ctx:
    """``state`` (the data source's arguments) with every attribute it returns set, in place."""
    values = _values(type_name, state, config, store)
    attrs = block.get("attributes", {})
    for name, value in values.items():
        if name in attrs and state.get(name) is None:
            state[name] = value
    # Anything computed still empty gets a plausible value.
    for name, attr in attrs.items():
        if attr.get("computed") and state.get(name) is None and name not in values:
            state[name] = UNKNOWN
    computed.fill(type_name, block, state, config)
    return state


def _values(type_name: str, state: Ctx, config: Ctx, store: Store) -> Ctx:
    project = state.get("project") or config.get("project")
    number = project_number(str(project or "sandbox-project"))
    if type_name == "google_project":
        pid = state.get("project_id") or project
        stored = store.find("google_project", project_id=pid)
        src = stored[0] if stored else {}
        return {
            "id": f"projects/{pid}",
            "project_id": pid,
            "number": project_number(str(pid)),
            "name": src.get("name") or pid,
            "labels": src.get("labels") or {},
            "effective_labels": src.get("effective_labels") or {},
            "terraform_labels": src.get("terraform_labels") or {},
            "org_id": src.get("org_id"),
            "folder_id": src.get("folder_id"),
            "billing_account": src.get("billing_account"),
        }
    if type_name == "google_client_config":
        return {
            "id": f"projects/{project}/regions/{config.get('region')}/zones/{config.get('zone') or ''}",
            "project": project,
            "region": config.get("region"),
            "zone": config.get("zone"),
            "access_token": "sandbox-access-token",
            "default_labels": config.get("default_labels") or {},
        }
    if type_name == "google_storage_project_service_account":
        email = agents.email("storage", number)
        return {"id": email, "email_address": email, "member": f"serviceAccount:{email}"}
    if type_name == "google_bigquery_default_service_account":
        email = agents.email("bigquery", number)
        return {"id": email, "email": email, "member": f"serviceAccount:{email}", "project": project}
    if type_name == "google_logging_project_settings":
        # projects.getSettings: one Logging agent serves sinks and CMEK
        # (loggingServiceAccountId, kmsServiceAccountId).
        email = agents.email("logging", number)
        return {
            "id": f"projects/{project}/settings",
            "name": f"projects/{project}/settings",
            "project": project,
            "logging_service_account_id": email,
            "kms_service_account_id": email,
        }
    return {}
