"""The sandbox's world model (the generator/sandbox/world package), through the provider's own calls.

Fast: no Terraform. The conformance suite (tests/conformance_test.py) runs the same rules
with real Terraform; these tests pin what a Terraform run cannot easily show (the store's
world section, cascades, seeds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.sandbox import world
from generator.sandbox.formats import project_number
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.schema_loader import load
from generator.sandbox.store import Store
from generator.sandbox.values import normalize


@pytest.fixture(scope="module")
def schema() -> Any:
    return load()


def provider(schema: Any, directory: Path) -> SandboxProvider:
    p = SandboxProvider(schema, Store(directory))
    p.configure({"region": "europe-west1"})
    return p


def create(p: SandboxProvider, type_name: str, cfg: dict[str, Any]) -> tuple[Any, list[str]]:
    """Plan and apply one create; return the state and the error summaries."""
    proposed = normalize(p._resource_block(type_name), cfg)
    planned, _, diags = p.plan(type_name, None, proposed, cfg)
    assert not diags, diags
    state, diags = p.apply(type_name, None, planned, cfg)
    return state, [d.summary for d in diags]


def new_project(p: SandboxProvider, pid: str, **extra: Any) -> Any:
    state, errors = create(
        p, "google_project", {"project_id": pid, "name": pid, "deletion_policy": "DELETE", **extra}
    )
    assert errors == []
    return state


def test_created_project_starts_without_apis_and_auto_network_false_enables_compute(
    schema: Any, tmp_path: Path
) -> None:
    p = provider(schema, tmp_path)
    new_project(p, "acme-w-one")
    new_project(p, "acme-w-two", auto_create_network=False)
    data = p.store._read()
    assert data["world"]["projects"]["acme-w-one"]["services"] == []
    assert data["world"]["projects"]["acme-w-two"]["services"] == ["compute.googleapis.com"]
    _, errors = create(p, "google_pubsub_topic", {"project": "acme-w-one", "name": "events"})
    assert errors == [
        f"Error 403: Cloud Pub/Sub API has not been used in project {project_number('acme-w-one')} before "
        "or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
        f"pubsub.googleapis.com/overview?project={project_number('acme-w-one')} then retry. (sandbox rule: "
        "APIs: a project created through the API starts with none enabled; enable it with "
        "google_project_service first)"
    ]


def test_disable_on_destroy_decides_whether_the_api_stays(schema: Any, tmp_path: Path) -> None:
    p = provider(schema, tmp_path)
    new_project(p, "acme-w-one")
    kept, _ = create(p, "google_project_service", {"project": "acme-w-one", "service": "storage.googleapis.com"})
    dropped, _ = create(
        p,
        "google_project_service",
        {"project": "acme-w-one", "service": "pubsub.googleapis.com", "disable_on_destroy": True},
    )
    p.apply("google_project_service", kept, None, None)
    p.apply("google_project_service", dropped, None, None)
    assert p.store._read()["world"]["projects"]["acme-w-one"]["services"] == ["storage.googleapis.com"]


def test_deleting_a_project_deletes_what_is_in_it_and_nothing_is_created_there_after(
    schema: Any, tmp_path: Path
) -> None:
    p = provider(schema, tmp_path)
    project = new_project(p, "acme-w-gone")
    create(p, "google_project_service", {"project": "acme-w-gone", "service": "storage.googleapis.com"})
    bucket = {"project": "acme-w-gone", "name": "acme-w-gone-b", "location": "EU"}
    _, errors = create(p, "google_storage_bucket", bucket)
    assert errors == []
    create(p, "google_storage_bucket_object", {"bucket": "acme-w-gone-b", "name": "a.csv", "content": "a"})
    create(p, "google_storage_bucket", {"project": "acme-other", "name": "acme-w-other-b", "location": "EU"})
    p.apply("google_project", project, None, None)
    assert sorted(p.store.all()) == ["google_storage_bucket/acme-w-other-b"]
    _, errors = create(p, "google_storage_bucket", {"project": "acme-w-gone", "name": "acme-w-late", "location": "EU"})
    assert errors and "has been deleted" in errors[0]


def test_reading_the_agent_data_source_provisions_the_agent(schema: Any, tmp_path: Path) -> None:
    p = provider(schema, tmp_path)
    new_project(p, "acme-w-agent")
    number = project_number("acme-w-agent")
    member = f"serviceAccount:service-{number}@gs-project-accounts.iam.gserviceaccount.com"
    grant = {"project": "acme-w-agent", "role": "roles/storage.admin", "member": member}
    _, errors = create(p, "google_project_iam_member", grant)
    assert errors == [
        f"Error 400: Service account service-{number}@gs-project-accounts.iam.gserviceaccount.com does not "
        "exist. (sandbox rule: service agents: Google creates the storage service agent when it is asked "
        "for it (data source google_storage_project_service_account); grant it roles only after that, see "
        "generator/sandbox/agents.py)"
    ]
    _, diags = p.read_data("google_storage_project_service_account", {"project": "acme-w-agent"})
    assert "Cloud Storage API has not been used" in diags[0].summary
    create(p, "google_project_service", {"project": "acme-w-agent", "service": "storage.googleapis.com"})
    state, diags = p.read_data("google_storage_project_service_account", {"project": "acme-w-agent"})
    assert diags == [] and state["member"] == member
    assert create(p, "google_project_iam_member", grant)[1] == []


def test_a_grant_on_the_key_ring_satisfies_cmek(schema: Any, tmp_path: Path) -> None:
    p = provider(schema, tmp_path)
    new_project(p, "acme-w-cmek")
    for service in ("cloudkms.googleapis.com", "storage.googleapis.com"):
        create(p, "google_project_service", {"project": "acme-w-cmek", "service": service})
    ring, _ = create(p, "google_kms_key_ring", {"project": "acme-w-cmek", "name": "r", "location": "europe"})
    key, _ = create(p, "google_kms_crypto_key", {"name": "k", "key_ring": ring["id"]})
    bucket = {"project": "acme-w-cmek", "name": "acme-w-cmek-b", "location": "EU"}
    bucket["encryption"] = [{"default_kms_key_name": key["id"]}]
    _, errors = create(p, "google_storage_bucket", bucket)
    assert errors and "cloudkms.cryptoKeyVersions.useToEncrypt" in errors[0]
    agent, _ = p.read_data("google_storage_project_service_account", {"project": "acme-w-cmek"})
    grant = {"key_ring_id": ring["id"], "role": world.ENCRYPTER, "member": agent["member"]}
    assert create(p, "google_kms_key_ring_iam_member", grant)[1] == []
    assert create(p, "google_storage_bucket", bucket)[1] == []


def test_seed_declares_projects_and_resources(schema: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = {
        "projects": {"acme-seed-prj": {"services": ["storage.googleapis.com"], "agents": ["storage"]}},
        "resources": [
            {"type": "google_storage_bucket", "state": {"project": "acme-seed-prj", "name": "acme-seed-b"}},
            {
                "type": "google_storage_bucket_object",
                "age_seconds": 60,
                "state": {"bucket": "acme-seed-b", "name": "a.csv", "content": "a"},
            },
        ],
    }
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    monkeypatch.setenv("DF_GEN_SANDBOX_DIR", str(tmp_path))
    p = SandboxProvider.from_env(schema)
    p.configure({"region": "europe-west1"})
    stored = p.store.all()
    assert sorted(stored) == [
        "google_project/projects/acme-seed-prj",
        "google_storage_bucket/acme-seed-b",
        "google_storage_bucket_object/acme-seed-b-a.csv",
    ]
    entry = p.store._read()["world"]["projects"]["acme-seed-prj"]
    number = project_number("acme-seed-prj")
    assert entry["services"] == ["storage.googleapis.com"]
    assert entry["agents"] == [
        f"{number}@cloudservices.gserviceaccount.com",
        f"service-{number}@gs-project-accounts.iam.gserviceaccount.com",
    ]
    assert not (tmp_path / "store.json").exists()  # the seed becomes the store at the first write
    _, errors = create(p, "google_pubsub_topic", {"project": "acme-seed-prj", "name": "events"})
    assert errors and "Cloud Pub/Sub API has not been used" in errors[0]
