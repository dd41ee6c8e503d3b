"""The state of the world: listed projects, their APIs and provisioned service agents.

Kept in the store's data under ``data["world"]["projects"]``, by project ID (format: the
package docstring of :mod:`generator.sandbox.world`).
"""

from __future__ import annotations

import re
from typing import Any

from generator.sandbox import agents
from generator.sandbox.formats import project_number

WORLD = "world"
CREATED = "created"  # store entry key: epoch seconds at which the resource was created

# Attributes holding a parent's full name (projects/P/...), tried in order to place a
# resource that has no project attribute of its own.
_PARENT_ATTRS = (
    "crypto_key_id",
    "key_ring_id",
    "key_ring",
    "service_account_id",
    "taxonomy",
    "policy_tag",
    "parent",
    "topic",
    "subscription",
    "network",
    "id",
)
PROJECT_IN_NAME = re.compile(r"(?:^|/)projects/([^/]+)/")


def projects(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The listed projects of a store's data (created in the world section if missing)."""
    world = data.setdefault(WORLD, {})
    return world.setdefault("projects", {})  # type: ignore[no-any-return]


def listed(data: dict[str, Any], project: str | None) -> dict[str, Any] | None:
    """The world entry of ``project`` if the sandbox created (or was seeded with) it."""
    if not project:
        return None
    return data.get(WORLD, {}).get("projects", {}).get(project)


def api_enabled(entry: dict[str, Any], service: str) -> bool:
    """Whether ``service`` is enabled in a listed project (``services`` None: all are)."""
    services = entry.get("services")
    return services is None or service in services


def agent_exists(entry: dict[str, Any], email: str) -> bool:
    """Whether the agent ``email`` is provisioned in a listed project (``agents`` None: all)."""
    provisioned = entry.get("agents")
    return provisioned is None or email in provisioned


def new_project(project_id: str, services: Any = (), provisioned: Any = ()) -> dict[str, Any]:
    """A world entry for a project; None for ``services``/``provisioned`` means "all"."""
    entry: dict[str, Any] = {
        "number": project_number(project_id),
        "services": None if services is None else sorted(set(services)),
        "agents": None if provisioned is None else sorted(set(provisioned)),
    }
    for agent in agents.AGENTS:
        if agent.provisioning == agents.WITH_PROJECT:  # e.g. the Google APIs service agent
            provision(entry, agent.email(entry["number"]))
    for service in entry["services"] or []:
        enable_agents(entry, service)
    return entry


def project_of(type_name: str, state: dict[str, Any], resources: dict[str, Any]) -> str | None:
    """The project a resource lives in, from its attributes or its parent's."""
    if type_name == "google_project":
        return text(state.get("project_id"))
    project = text(state.get("project"))
    if project:
        return project.removeprefix("projects/")
    for attr in _PARENT_ATTRS:
        value = state.get(attr)
        if isinstance(value, str):
            match = PROJECT_IN_NAME.search(value)
            if match:
                return match.group(1)
    bucket = text(state.get("bucket"))
    if bucket:
        entry = resources.get(f"google_storage_bucket/{bucket}")
        if entry:
            return text(entry["state"].get("project"))
    return None


def provision(entry: dict[str, Any], email: str | None) -> None:
    """Record that agent ``email`` exists in a listed project."""
    if email is None or entry.get("agents") is None:
        return
    if email not in entry["agents"]:
        entry["agents"] = sorted({*entry["agents"], email})


def enable_agents(entry: dict[str, Any], service: str) -> None:
    """Agents Google creates when ``service`` is enabled."""
    for agent in agents.for_api(service):
        if agent.provisioning == agents.ON_ENABLE:
            provision(entry, agent.email(entry["number"]))


# --------------------------------------------------------------------------- helpers


def text(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def nested(value: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` through nested blocks (a block is a dict or a list of one)."""
    for name in path:
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value
