"""Identities: IAM members that must exist before they are granted anything.

A user-managed service account of a listed project must be in the store; a service agent
of a listed project must have been provisioned (:mod:`generator.sandbox.agents`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from generator.sandbox import agents
from generator.sandbox.world.projects import agent_exists, listed, projects, text

_USER_SA = re.compile(r"^serviceAccount:([^@]+)@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$")


def identity_problem(member: str, data: dict[str, Any]) -> str | None:
    """Why an IAM grant to ``member`` fails: a service account that was never created.

    https://cloud.google.com/iam/docs/service-accounts-create: a service account exists
    once created; a policy naming one that does not exist is refused with 400.
    """
    user_sa = _USER_SA.match(member)
    if user_sa is None:
        return None
    entry = listed(data, user_sa.group(2))
    email = member.removeprefix("serviceAccount:")
    if entry is None:
        return None
    known = any(
        e["type"] == "google_service_account" and e["state"].get("email") == email for e in data["resources"].values()
    )
    if known:
        return None
    return (
        f"Error 400: Service account {email} does not exist. (sandbox rule: identities: "
        "a service account of a project the sandbox created must be created before it "
        "is granted anything)"
    )


def agent_problem(member: str, data: dict[str, Any]) -> str | None:
    """Why an IAM grant to ``member`` fails: a service agent Google has not created yet.

    https://cloud.google.com/iam/docs/create-service-agents: "If a service agent hasn't
    been created yet, then you can't grant roles to the service agent".
    """
    found = agents.parse(member)
    if found is None:
        return None
    agent, number = found
    for entry in projects(data).values():
        if entry.get("number") == number and not entry.get("deleted"):
            email = agent.email(number)
            if agent_exists(entry, email):
                return None
            return (
                f"Error 400: Service account {email} does not exist. (sandbox rule: service "
                f"agents: Google creates the {agent.key} service agent {_how(agent)}; grant it "
                "roles only after that, see generator/sandbox/agents.py)"
            )
    return None


def _how(agent: agents.Agent) -> str:
    """How Google provisions ``agent``, in words."""
    if agent.data_source:
        return f"when it is asked for it (data source {agent.data_source})"
    if agent.provisioning == agents.SERVICE_IDENTITY:
        return f'through google_project_service_identity (google-beta, service = "{agent.api}")'
    if agent.provisioning == agents.ON_ENABLE:
        return f"when {agent.api} is enabled"
    return "with the project"


def members(type_name: str, state: dict[str, Any]) -> Iterator[str]:
    """IAM members a resource grants something to."""
    if type_name.endswith("_iam_member"):
        member = text(state.get("member"))
        if member:
            yield member
    elif type_name.endswith("_iam_binding"):
        for member in state.get("members") or []:
            if isinstance(member, str):
                yield member
    elif type_name == "google_bigquery_dataset_access":
        email = text(state.get("user_by_email"))
        if email:
            yield f"serviceAccount:{email}" if email.endswith("gserviceaccount.com") else f"user:{email}"
        member = text(state.get("iam_member"))
        if member:
            yield member
