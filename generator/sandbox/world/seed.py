"""Seed: the store's first content from a seed document."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from generator.sandbox import agents
from generator.sandbox.store import key as store_key
from generator.sandbox.world.projects import CREATED, WORLD, new_project, projects, provision

ENV_SEED = "DF_GEN_SANDBOX_SEED"  # a seed file: what exists before the first write


def seed_data(seed: dict[str, Any], complete: Any) -> dict[str, Any]:
    """The store's first content from a seed document (format: the sandbox README).

    ``complete(type_name, state)`` returns the state with its computed attributes (id
    included) filled the way an apply would.
    """
    data: dict[str, Any] = {"resources": {}, WORLD: {"projects": {}}}
    for project_id, spec in (seed.get("projects") or {}).items():
        spec = spec or {}
        entry = new_project(project_id, spec.get("services"), None if "agents" not in spec else ())
        for agent in spec.get("agents") or []:
            provision(entry, agent if "@" in agent else agents.email(agent, entry["number"]))
        projects(data)[project_id] = entry
        attributes = {"project_id": project_id, "name": project_id, **(spec.get("attributes") or {})}
        state = complete("google_project", attributes)
        data["resources"][f"google_project/{state['id']}"] = {
            "type": "google_project", "id": state["id"], "state": state, CREATED: 0
        }
    for item in seed.get("resources") or []:
        type_name = str(item["type"])
        state = complete(type_name, dict(item.get("state") or {}))
        created = time.time() - float(item.get("age_seconds", 0))
        data["resources"][store_key(type_name, state["id"], state)] = {
            "type": type_name, "id": state["id"], "state": state, CREATED: created
        }
    return data


def seed_path(directory: Path) -> Path | None:
    """The seed of a sandbox dir: ``$DF_GEN_SANDBOX_SEED``, else ``seed.json``/``seed.yaml`` in it."""
    explicit = os.environ.get(ENV_SEED)
    if explicit:
        return Path(explicit)
    for name in ("seed.json", "seed.yaml", "seed.yml"):
        if (directory / name).is_file():
            return directory / name
    return None


def read_seed(path: Path) -> dict[str, Any]:
    """The seed document in ``path`` (JSON, or YAML by any other suffix)."""
    import json

    import yaml

    text = path.read_text(encoding="utf-8")
    doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return dict(doc or {})
