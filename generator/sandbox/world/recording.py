"""Recording: the world after a successful write, data source read or delete."""

from __future__ import annotations

import time
from typing import Any

from generator.sandbox import agents
from generator.sandbox.world.access import ENTRY_TYPES, entry_deleted
from generator.sandbox.world.apis import DEFAULT_SERVICES, NO_DEFAULT_NETWORK_SERVICES
from generator.sandbox.world.projects import (
    CREATED,
    enable_agents,
    listed,
    new_project,
    project_of,
    projects,
    provision,
    text,
)


def record_write(
    type_name: str, prior: Any, state: dict[str, Any], entry: dict[str, Any], data: dict[str, Any]
) -> None:
    """Update the world after a successful create or update of a resource."""
    if prior is None:
        entry[CREATED] = time.time()
    if type_name == "google_project" and prior is None:
        services = list(DEFAULT_SERVICES)
        if state.get("auto_create_network") is False:
            services += NO_DEFAULT_NETWORK_SERVICES
        projects(data)[str(state["project_id"])] = new_project(str(state["project_id"]), services)
        return
    project = project_of(type_name, state, data["resources"])
    listed_entry = listed(data, project)
    if listed_entry is None:
        return
    if type_name == "google_project_service":
        service = str(state.get("service"))
        if listed_entry["services"] is not None and service not in listed_entry["services"]:
            listed_entry["services"] = sorted({*listed_entry["services"], service})
            enable_agents(listed_entry, service)
    elif type_name == "google_project_service_identity":
        # services.generateServiceIdentity creates the service's primary agent.
        primary = agents.primary(str(state.get("service")))
        if primary is not None:
            provision(listed_entry, primary.email(listed_entry["number"]))
    elif type_name == "google_logging_project_sink":
        # The sink's writer identity is created with the sink:
        # https://cloud.google.com/logging/docs/export/configure_export_v2#dest-auth
        writer = text(state.get("writer_identity"))
        if writer:
            provision(listed_entry, writer.removeprefix("serviceAccount:"))


def record_data_read(type_name: str, project: str | None, data: dict[str, Any]) -> None:
    """A data source read that makes Google create an agent (GCS, BigQuery getServiceAccount)."""
    entry = listed(data, project)
    if entry is None:
        return
    agent = agents.provisioned_by_data_source(type_name)
    if agent is not None:
        provision(entry, agent.email(entry["number"]))


def record_delete(type_name: str, prior: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """Update the world after a delete; return the store keys deleted along with it."""
    if type_name == "google_project":
        project = str(prior.get("project_id"))
        entry = projects(data).get(project)
        if entry is not None:
            entry.update(deleted=True, services=[], agents=[])
        else:
            projects(data)[project] = {**new_project(project), "deleted": True}
        # Deleting a project deletes everything in it:
        # https://cloud.google.com/resource-manager/docs/creating-managing-projects#shutting_down_projects
        resources = data["resources"]
        return [k for k, e in resources.items() if project_of(e["type"], e["state"], resources) == project]
    if type_name == "google_project_service" and prior.get("disable_on_destroy") is True:
        # Only disable_on_destroy = true disables the API (resource_google_project_service.go).
        entry = listed(data, project_of(type_name, prior, data["resources"]))
        if entry is not None and entry["services"] is not None:
            entry["services"] = [s for s in entry["services"] if s != prior.get("service")]
    if type_name in ENTRY_TYPES:
        return entry_deleted(type_name, prior, data["resources"])
    return []
