"""The Google Cloud world around the sandbox's resources, checked at create, update, delete.

The store (:mod:`generator.sandbox.store`) holds resources; this module keeps, beside them
under ``data["world"]``, what Google Cloud knows that no single resource says:

- ``projects``: every project the sandbox created (``google_project``) or was seeded with,
  by ID, with its number, the APIs enabled in it and the Google-managed service agents
  provisioned in it. A project that is not listed is an existing one the sandbox never saw
  created (an adopted project, the state project, a Shared VPC host): every API is enabled
  there and every agent exists. A deleted project stays listed as ``deleted`` so that
  nothing is created in it afterwards.

The rules (each cites its source where it is defined):

- **APIs**: a resource in a listed project needs the API that serves it enabled there.
- **Identities**: an IAM member ``serviceAccount:X@P.iam.gserviceaccount.com`` with P a
  listed project must be a service account in the store.
- **Service agents**: an IAM member that is a service agent of a listed project must have
  been provisioned (see :mod:`generator.sandbox.agents` for how Google provisions each).
- **CMEK**: a bucket, dataset, table, topic or Composer environment protected by a Cloud KMS
  key needs the project's agent for that service to hold
  ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on the key when it is created.
- **Deletion**: deleting a project deletes everything in it; an object under an unexpired
  bucket retention policy can be neither deleted nor overwritten.

Functions here work on the store's data inside its transaction and return error messages
(Google's wording first); the provider turns them into diagnostics.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from generator.sandbox import agents
from generator.sandbox.computed import project_number
from generator.sandbox.store import key as store_key

WORLD = "world"
CREATED = "created"  # store entry key: epoch seconds at which the resource was created

# --------------------------------------------------------------------------- APIs

# The API that serves each resource type, so the one that must be enabled in the
# resource's project. Types served by client-based APIs (Resource Manager, Service Usage,
# Access Context Manager, Org Policy: the quota project is the caller's, not the target)
# are absent and never checked.
# https://cloud.google.com/service-usage/docs/enable-disable ("you must enable an API in
# the project before you can use it"), and per product the "Before you begin" sections.
TYPE_API: dict[str, str] = {
    **dict.fromkeys(
        (
            "google_storage_bucket",
            "google_storage_bucket_iam_member",
            "google_storage_bucket_iam_binding",
            "google_storage_bucket_object",
        ),
        "storage.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_bigquery_dataset",
            "google_bigquery_dataset_access",
            "google_bigquery_dataset_iam_member",
            "google_bigquery_dataset_iam_binding",
            "google_bigquery_table",
            "google_bigquery_table_iam_member",
            "google_bigquery_table_iam_binding",
            "google_bigquery_routine",
            "google_bigquery_job",
        ),
        "bigquery.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_pubsub_topic",
            "google_pubsub_topic_iam_member",
            "google_pubsub_topic_iam_binding",
            "google_pubsub_subscription",
            "google_pubsub_subscription_iam_member",
        ),
        "pubsub.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_kms_key_ring",
            "google_kms_key_ring_iam_member",
            "google_kms_crypto_key",
            "google_kms_crypto_key_iam_member",
            "google_kms_crypto_key_iam_binding",
        ),
        "cloudkms.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_compute_network",
            "google_compute_subnetwork",
            "google_compute_subnetwork_iam_member",
            "google_compute_firewall",
            "google_compute_router",
            "google_compute_router_nat",
            "google_compute_route",
            "google_compute_global_address",
            "google_compute_shared_vpc_host_project",
        ),
        "compute.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_service_account",
            "google_service_account_iam_member",
            "google_service_account_iam_binding",
            "google_project_iam_custom_role",
            "google_project_default_service_accounts",
        ),
        "iam.googleapis.com",
    ),
    **dict.fromkeys(
        (
            "google_data_catalog_taxonomy",
            "google_data_catalog_taxonomy_iam_member",
            "google_data_catalog_policy_tag",
            "google_data_catalog_policy_tag_iam_member",
        ),
        "datacatalog.googleapis.com",
    ),
    **dict.fromkeys(("google_dataplex_datascan", "google_dataplex_datascan_iam_member"), "dataplex.googleapis.com"),
    **dict.fromkeys(
        ("google_logging_project_sink", "google_logging_metric", "google_logging_project_bucket_config"),
        "logging.googleapis.com",
    ),
    **dict.fromkeys(
        ("google_monitoring_alert_policy", "google_monitoring_notification_channel"), "monitoring.googleapis.com"
    ),
    "google_composer_environment": "composer.googleapis.com",
    **dict.fromkeys(
        ("google_data_loss_prevention_inspect_template", "google_data_loss_prevention_job_trigger"),
        "dlp.googleapis.com",
    ),
    **dict.fromkeys(
        ("google_bigquery_datapolicy_data_policy", "google_bigquery_datapolicy_data_policy_iam_member"),
        "bigquerydatapolicy.googleapis.com",
    ),
    "google_service_networking_connection": "servicenetworking.googleapis.com",
}

# Data sources that call a project's API and so make Google create its agent (GCS
# projects.serviceAccount.get, BigQuery projects.getServiceAccount, Logging
# projects.getSettings): the agent table says which.
DATA_API: dict[str, str] = {
    a.data_source: a.api for a in agents.AGENTS if a.data_source is not None and a.api is not None
}

# Names Google's "API has not been used" error gives the APIs (console titles).
API_TITLES: dict[str, str] = {
    "storage.googleapis.com": "Cloud Storage API",
    "bigquery.googleapis.com": "BigQuery API",
    "pubsub.googleapis.com": "Cloud Pub/Sub API",
    "cloudkms.googleapis.com": "Cloud Key Management Service (KMS) API",
    "compute.googleapis.com": "Compute Engine API",
    "iam.googleapis.com": "Identity and Access Management (IAM) API",
    "datacatalog.googleapis.com": "Google Cloud Data Catalog API",
    "dataplex.googleapis.com": "Cloud Dataplex API",
    "logging.googleapis.com": "Cloud Logging API",
    "monitoring.googleapis.com": "Cloud Monitoring API",
    "composer.googleapis.com": "Cloud Composer API",
    "dlp.googleapis.com": "Sensitive Data Protection (DLP)",
    "servicenetworking.googleapis.com": "Service Networking API",
    "bigquerydatapolicy.googleapis.com": "BigQuery Data Policy API",
}

# A project created through the Resource Manager API (what google_project calls) starts
# with no API enabled. Google's list of default services applies to projects created in
# the console or with gcloud only:
# https://cloud.google.com/service-usage/docs/enabled-service#default ("When you create a
# Google Cloud project using the Google Cloud console or Google Cloud CLI, the following
# APIs and services are enabled by default"); hashicorp/terraform-provider-google#14174
# ("After creating a project no APIs will be enabled").
DEFAULT_SERVICES: tuple[str, ...] = ()

# With auto_create_network = false the provider enables Compute Engine to delete the
# default network and leaves it enabled: website/docs/r/google_project.html.markdown
# (auto_create_network) and resource_google_project.go in hashicorp/terraform-provider-google.
NO_DEFAULT_NETWORK_SERVICES = ("compute.googleapis.com",)

# --------------------------------------------------------------------------- CMEK

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
_PROJECT_IN_NAME = re.compile(r"(?:^|/)projects/([^/]+)/")
_USER_SA = re.compile(r"^serviceAccount:([^@]+)@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$")


# --------------------------------------------------------------------------- state of the world


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
        _enable_agents(entry, service)
    return entry


def project_of(type_name: str, state: dict[str, Any], resources: dict[str, Any]) -> str | None:
    """The project a resource lives in, from its attributes or its parent's."""
    if type_name == "google_project":
        return _str(state.get("project_id"))
    project = _str(state.get("project"))
    if project:
        return project.removeprefix("projects/")
    for attr in _PARENT_ATTRS:
        value = state.get(attr)
        if isinstance(value, str):
            match = _PROJECT_IN_NAME.search(value)
            if match:
                return match.group(1)
    bucket = _str(state.get("bucket"))
    if bucket:
        entry = resources.get(f"google_storage_bucket/{bucket}")
        if entry:
            return _str(entry["state"].get("project"))
    return None


# --------------------------------------------------------------------------- checks


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
    for member in _members(type_name, state):
        problem = identity_problem(member, data) or agent_problem(member, data)
        if problem:
            problems.append(problem)
    if prior is None or _kms_key(type_name, state) != _kms_key(type_name, prior):
        problems += cmek_problems(type_name, state, project, data)
    if type_name == "google_storage_bucket_object" and prior is not None and _overwrites(prior, state):
        problem = retention_problem(prior, data, "overwritten")
        if problem:
            problems.append(problem)
    return problems


def api_disabled(service: str, number: str) -> str:
    """Google's error for a call to a disabled API."""
    title = API_TITLES.get(service, service)
    return (
        f"Error 403: {title} has not been used in project {number} before or it is disabled. "
        f"Enable it by visiting https://console.developers.google.com/apis/api/{service}/overview"
        f"?project={number} then retry. (sandbox rule: APIs: a project created through the API "
        "starts with none enabled; enable it with google_project_service first)"
    )


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


def cmek_problems(type_name: str, state: dict[str, Any], project: str | None, data: dict[str, Any]) -> list[str]:
    """Why creating a CMEK-protected resource fails: an agent cannot use the key."""
    key = _kms_key(type_name, state)
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


def retention_problem(obj: dict[str, Any], data: dict[str, Any], verb: str, created: Any = None) -> str | None:
    """Why an object cannot be ``verb`` ("deleted", "overwritten"): its bucket's retention policy.

    https://cloud.google.com/storage/docs/bucket-lock: "objects in the bucket can only be
    deleted or replaced once their age is greater than the retention period".
    """
    bucket = data["resources"].get(f"google_storage_bucket/{obj.get('bucket')}")
    if bucket is None:
        return None
    period = _retention_period(bucket["state"])
    if not period:
        return None
    if created is None:
        stored = data["resources"].get(f"google_storage_bucket_object/{obj.get('id')}", {})
        created = stored.get(CREATED)
    if not isinstance(created, (int, float)):
        return None
    age = time.time() - created
    if age >= period:
        return None
    return (
        f"Error 403: Object '{obj.get('name')}' is subject to bucket's retention policy or object "
        f"retention and cannot be deleted or overwritten until it is {period} seconds old "
        f"(it is {int(age)}; it was to be {verb}). (sandbox rule: deletion: bucket retention policy)"
    )


# --------------------------------------------------------------------------- recording


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
            _enable_agents(listed_entry, service)
    elif type_name == "google_project_service_identity":
        # services.generateServiceIdentity creates the service's primary agent.
        primary = agents.primary(str(state.get("service")))
        if primary is not None:
            provision(listed_entry, primary.email(listed_entry["number"]))
    elif type_name == "google_logging_project_sink":
        # The sink's writer identity is created with the sink:
        # https://cloud.google.com/logging/docs/export/configure_export_v2#dest-auth
        writer = _str(state.get("writer_identity"))
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
    return []


def provision(entry: dict[str, Any], email: str | None) -> None:
    """Record that agent ``email`` exists in a listed project."""
    if email is None or entry.get("agents") is None:
        return
    if email not in entry["agents"]:
        entry["agents"] = sorted({*entry["agents"], email})


def _enable_agents(entry: dict[str, Any], service: str) -> None:
    """Agents Google creates when ``service`` is enabled."""
    for agent in agents.for_api(service):
        if agent.provisioning == agents.ON_ENABLE:
            provision(entry, agent.email(entry["number"]))


# --------------------------------------------------------------------------- helpers


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _members(type_name: str, state: dict[str, Any]) -> Iterator[str]:
    """IAM members a resource grants something to."""
    if type_name.endswith("_iam_member"):
        member = _str(state.get("member"))
        if member:
            yield member
    elif type_name.endswith("_iam_binding"):
        for member in state.get("members") or []:
            if isinstance(member, str):
                yield member
    elif type_name == "google_bigquery_dataset_access":
        email = _str(state.get("user_by_email"))
        if email:
            yield f"serviceAccount:{email}" if email.endswith("gserviceaccount.com") else f"user:{email}"
        member = _str(state.get("iam_member"))
        if member:
            yield member


def _overwrites(prior: dict[str, Any], state: dict[str, Any]) -> bool:
    """Whether an object update uploads it again: the provider's Update re-creates the object
    when content, source_md5hash or detect_md5hash change (resource_storage_bucket_object.go)."""
    return any(prior.get(a) != state.get(a) for a in ("content", "source_md5hash", "detect_md5hash"))


def _nested(value: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` through nested blocks (a block is a dict or a list of one)."""
    for name in path:
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _kms_key(type_name: str, state: Any) -> str | None:
    if type_name not in CMEK or not isinstance(state, dict):
        return None
    return _str(_nested(state, CMEK[type_name][0]))


def _retention_period(bucket: dict[str, Any]) -> int:
    period = _nested(bucket, ("retention_policy", "retention_period"))  # a string in 8.x
    try:
        return int(period)
    except (TypeError, ValueError):
        return 0


def _holds(resources: dict[str, Any], key: str, member: str) -> bool:
    """Whether ``member`` holds ENCRYPTER on ``key`` (on the key, its ring or its project)."""
    ring = key.split("/cryptoKeys/")[0]
    key_project = _PROJECT_IN_NAME.search(key)
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


# --------------------------------------------------------------------------- seed


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
