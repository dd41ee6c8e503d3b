"""Checks: why Google would refuse a write, a data source read or a delete."""

from __future__ import annotations

from typing import Any

from generator.sandbox.world.access import dataset_access_problem
from generator.sandbox.world.apis import DATA_API, TYPE_API, api_disabled
from generator.sandbox.world.cmek import cmek_problems, kms_key
from generator.sandbox.world.identities import agent_problem, identity_problem, members
from generator.sandbox.world.projects import CREATED, api_enabled, listed, project_of
from generator.sandbox.world.retention import overwrites, retention_problem


def check_write(type_name: str, prior: Any, state: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """Why Google would refuse to create (``prior`` None) or update this resource."""
    resources = data["resources"]
    project = project_of(type_name, state, resources)
    entry = listed(data, project)
    problems: list[str] = []
    if entry is not None and entry.get("deleted") and type_name != "google_project":
        return [
            f'Error 403: Project {entry["number"]} ("{project}") has been deleted; nothing can be created '
            "or changed in it. (sandbox rule: deletion: a deleted project keeps its ID, empty)"
        ]
    api = TYPE_API.get(type_name)
    if entry is not None and api is not None and not api_enabled(entry, api):
        problems.append(api_disabled(api, entry["number"]))
    for member in members(type_name, state):
        problem = identity_problem(member, data) or agent_problem(member, data)
        if problem:
            problems.append(problem)
    if prior is None or kms_key(type_name, state) != kms_key(type_name, prior):
        problems += cmek_problems(type_name, state, project, data)
    if type_name == "google_bigquery_dataset_access" and prior is None:
        problem = dataset_access_problem(state, resources)
        if problem:
            problems.append(problem)
    if type_name == "google_storage_bucket_object" and prior is not None and overwrites(prior, state):
        problem = retention_problem(prior, data, "overwritten")
        if problem:
            problems.append(problem)
    return problems



def check_data_read(type_name: str, project: str | None, data: dict[str, Any]) -> str | None:
    """Why reading a data source that calls a project's API fails (API disabled)."""
    entry = listed(data, project)
    api = DATA_API.get(type_name)
    if entry is None or api is None or api_enabled(entry, api):
        return None
    return api_disabled(api, entry["number"])


def check_delete(type_name: str, prior: dict[str, Any], data: dict[str, Any]) -> str | None:
    """Why Google would refuse this delete (world rules; the provider has the others)."""
    if type_name == "google_storage_bucket_object":
        return retention_problem(prior, data, "deleted")
    if type_name == "google_storage_bucket" and prior.get("force_destroy"):
        # force_destroy deletes the objects first, which retention forbids as well.
        for entry in data["resources"].values():
            if entry["type"] == "google_storage_bucket_object" and entry["state"].get("bucket") == prior.get("name"):
                problem = retention_problem(entry["state"], data, "deleted", entry.get(CREATED))
                if problem:
                    return problem
    return None
