"""The sandbox's cloud: one JSON file of resources per sandbox directory.

``<sandbox-dir>/store.json`` maps ``"<type>/<id>"`` to ``{"type", "id", "state"}``. Every
change is a read-modify-write under an exclusive ``fcntl`` lock on ``store.lock`` and is
written atomically (temp file in the same directory, then ``os.replace``), so concurrent
Terraform runs (parallel stacks, two terminals) never see or leave a half-written store.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write, locked

ENV_SANDBOX_DIR = "DF_GEN_SANDBOX_DIR"  # the sandbox dir, set for the provider by sandbox.run
STORE_FILE = "store.json"
LOCK_FILE = "store.lock"


class Store:
    """Resources of one sandbox directory."""

    def __init__(self, directory: Path | str, initial: Callable[[], dict[str, Any]] | None = None) -> None:
        self.dir = Path(directory)
        self.path = self.dir / STORE_FILE
        self.initial = initial  # the content before the first write (a seed), if any

    # ----------------------------------------------------------- reading

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return self.initial() if self.initial else {"resources": {}}
        data.setdefault("resources", {})
        return dict(data)

    def get(self, type_name: str, rid: str, state: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The stored state of resource ``type_name`` with id ``rid``, or None."""
        entry = self._read()["resources"].get(key(type_name, rid, state))
        return None if entry is None else dict(entry["state"])

    def all(self) -> dict[str, dict[str, Any]]:
        """Every stored resource: ``{"type/id": {"type", "id", "state"}}``."""
        return dict(self._read()["resources"])

    def find(self, type_name: str, **match: Any) -> list[dict[str, Any]]:
        """States of ``type_name`` whose attributes equal ``match``."""
        found = []
        for entry in self._read()["resources"].values():
            state = entry["state"]
            if entry["type"] == type_name and all(state.get(k) == v for k, v in match.items()):
                found.append(dict(state))
        return found

    # ----------------------------------------------------------- writing

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Lock the store and yield its data; the data is written back atomically on exit."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with locked(self.dir / LOCK_FILE):
            data = self._read()
            yield data
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        # Compact: the whole store is rewritten on every change (pretty-printing made a
        # 200-resource apply ~1 s slower). 0o600, as the temporary file it used to be.
        atomic_write(self.path, json.dumps(data, separators=(",", ":"), sort_keys=True), mode=0o600)

    def put(self, type_name: str, rid: str, state: dict[str, Any]) -> None:
        """Store (create or replace) one resource."""
        with self.transaction() as data:
            data["resources"][key(type_name, rid, state)] = {"type": type_name, "id": rid, "state": state}

    def delete(self, type_name: str, rid: str) -> bool:
        """Remove one resource; True if it existed."""
        with self.transaction() as data:
            return data["resources"].pop(key(type_name, rid), None) is not None


# Types whose provider id is a name that is unique only within its project: the provider
# sets the id of google_logging_metric to "{{name}}" (google/services/logging/
# resource_logging_metric.go, ReplaceVars(d, config, "{{name}}")), while Cloud Logging keeps
# metrics per project (projects/{{project}}/metrics/{{name}}). The store keys them by project
# so that two projects may each hold a metric of the same name, as in Google Cloud.
PROJECT_SCOPED_IDS = frozenset({"google_logging_metric"})


# google_bigquery_dataset_access is one entry of a dataset's access list, yet the provider
# sets its id to the dataset ("projects/{{project}}/datasets/{{dataset_id}}",
# resourceBigQueryDatasetAccessCreate in google/services/bigquery/
# resource_bigquery_dataset_access.go) and finds its entry in the list by these fields
# (resourceBigQueryDatasetAccessFindNestedObjectInList). The store keys each entry by them,
# so that a dataset holds many entries and the same entry only once.
DATASET_ACCESS_ENTRY = (
    "role", "user_by_email", "group_by_email", "domain", "special_group", "iam_member", "view", "dataset", "routine",
)


def dataset_access_entry(state: dict[str, Any]) -> str:
    """The entry a google_bigquery_dataset_access stands for, as a stable string."""
    return json.dumps([state.get(name) or None for name in DATASET_ACCESS_ENTRY], sort_keys=True)


def key(type_name: str, rid: str, state: dict[str, Any] | None = None) -> str:
    """The store key of a resource (``state`` gives the project of project-scoped ids and
    the entry of a dataset access)."""
    if type_name in PROJECT_SCOPED_IDS and state and state.get("project"):
        return f"{type_name}/{state['project']}/{rid}"
    if type_name == "google_bigquery_dataset_access" and state:
        return f"{type_name}/{rid}/{dataset_access_entry(state)}"
    return f"{type_name}/{rid}"
