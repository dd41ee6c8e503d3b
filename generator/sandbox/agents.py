"""Google-managed service agents of a project: their e-mail formats and how Google creates them.

A service agent is a service account that Google owns and names after the project number
(``service-123@gcp-sa-pubsub.iam.gserviceaccount.com``). Knowing the format is not enough to
grant it a role: Google refuses a grant to an agent that does not exist yet ("Service
account ... does not exist"), and it creates most agents only when asked
(https://cloud.google.com/iam/docs/create-service-agents: "If a service agent hasn't been
created yet, then you can't grant roles to the service agent").

This table lists the agents of the APIs the bundled modules enable, with the way each one
comes to exist (:attr:`Agent.provisioning`):

- ``data_source:<type>``: a GA data source of the google provider calls the service's own
  "get service account" method, which creates the agent (Cloud Storage, BigQuery, Logging);
- ``service_identity``: the service has a *primary* service agent, created by
  ``services.generateServiceIdentity`` (``gcloud beta services identity create``,
  ``google_project_service_identity`` in the google-beta provider). Google's list
  (https://cloud.google.com/iam/docs/service-agents) marks these "Primary service agent";
- ``on_enable``: Google documents that enabling the API creates the account;
- ``with_project``: the account exists as soon as the project does.

The sandbox provider uses the table to answer the data sources and
``google_project_service_identity``; the world model uses :func:`parse` to recognise a grant
to an agent and :attr:`Agent.provisioning` to decide whether that agent exists yet.

Evidence besides Google's pages: Fabric's ``modules/project/service-agents.yaml``
(GoogleCloudPlatform/cloud-foundation-fabric, commit 11c1d248826f, built by its
``tools/build_service_agents.py`` from Google's service-agents page: ``is_primary`` is true
exactly where that page says "Primary service agent").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DATA_SOURCE = "data_source:"
SERVICE_IDENTITY = "service_identity"
ON_ENABLE = "on_enable"
WITH_PROJECT = "with_project"

IAM_AGENTS_PAGE = "https://cloud.google.com/iam/docs/service-agents"


@dataclass(frozen=True)
class Agent:
    """One project-level service agent (or Google-created default account)."""

    key: str  # short name used across df-gen: "storage", "pubsub", ...
    api: str | None  # the API it belongs to; None for the Google APIs Service Agent
    email_format: str  # with "{number}" for the project number
    provisioning: str  # "data_source:<type>" | "service_identity" | "on_enable" | "with_project"
    role: str | None  # role Google grants on the project when it creates the agent itself
    source: str  # where Google documents the format and the provisioning

    def email(self, project_number: str | int) -> str:
        """The agent's e-mail address in the project numbered ``project_number``."""
        return self.email_format.format(number=project_number)

    def member(self, project_number: str | int) -> str:
        """The IAM member string ``serviceAccount:<email>``."""
        return f"serviceAccount:{self.email(project_number)}"

    @property
    def data_source(self) -> str | None:
        """The google data source type that provisions the agent, if that is how."""
        if self.provisioning.startswith(DATA_SOURCE):
            return self.provisioning.removeprefix(DATA_SOURCE)
        return None


AGENTS: tuple[Agent, ...] = (
    # Cloud Storage: created only by a call that needs it, such as projects.serviceAccount.get
    # ("Get the email address of a project's Cloud Storage service agent"), which the data
    # source calls. https://cloud.google.com/storage/docs/projects#service-accounts,
    # https://cloud.google.com/storage/docs/getting-service-agent; provider doc
    # website/docs/d/storage_project_service_account.html.markdown ("it is only created when
    # certain relevant actions occur ... Use of this data source ... ensures it exists").
    # Fabric: gs-project-accounts, is_primary false (identity create does not make it).
    Agent(
        "storage",
        "storage.googleapis.com",
        "service-{number}@gs-project-accounts.iam.gserviceaccount.com",
        DATA_SOURCE + "google_storage_project_service_account",
        None,
        "https://cloud.google.com/storage/docs/getting-service-agent",
    ),
    # BigQuery encryption agent (CMEK): returned, and created, by projects.getServiceAccount
    # ("RPC to get the service account for a project used for interactions with Google
    # Cloud KMS"), which the data source calls.
    # https://cloud.google.com/bigquery/docs/reference/rest/v2/projects/getServiceAccount,
    # https://cloud.google.com/bigquery/docs/customer-managed-encryption; provider doc
    # website/docs/d/bigquery_default_service_account.html.markdown. Fabric:
    # bigquery-encryption, is_primary false.
    Agent(
        "bigquery",
        "bigquery.googleapis.com",
        "bq-{number}@bigquery-encryption.iam.gserviceaccount.com",
        DATA_SOURCE + "google_bigquery_default_service_account",
        None,
        "https://cloud.google.com/bigquery/docs/reference/rest/v2/projects/getServiceAccount",
    ),
    # Cloud Logging: projects.getSettings returns (and provisions) loggingServiceAccountId and
    # kmsServiceAccountId; the GA data source google_logging_project_settings reads them.
    # https://cloud.google.com/logging/docs/routing/managed-encryption-storage (CMEK: "determine
    # the service account ... gcloud logging settings describe"). Fabric: logging,
    # is_primary false, skip_iam true (lazily created: a grant on API enablement fails), and
    # Fabric itself reads it through data.google_logging_project_settings.
    Agent(
        "logging",
        "logging.googleapis.com",
        "service-{number}@gcp-sa-logging.iam.gserviceaccount.com",
        DATA_SOURCE + "google_logging_project_settings",
        "roles/logging.serviceAgent",
        "https://cloud.google.com/logging/docs/routing/managed-encryption-storage",
    ),
    # Primary service agents: Google's list marks them "Primary service agent"; they are the
    # ones services.generateServiceIdentity creates (https://cloud.google.com/iam/docs/
    # create-service-agents, https://cloud.google.com/sdk/gcloud/reference/beta/services/
    # identity/create). Fabric: is_primary true for each, and it provisions them with
    # google_project_service_identity (modules/project/service-agents.tf).
    Agent(
        "pubsub",
        "pubsub.googleapis.com",
        "service-{number}@gcp-sa-pubsub.iam.gserviceaccount.com",
        SERVICE_IDENTITY,
        "roles/pubsub.serviceAgent",
        IAM_AGENTS_PAGE + "#pubsub-service-account",
    ),
    Agent(
        "composer",
        "composer.googleapis.com",
        "service-{number}@cloudcomposer-accounts.iam.gserviceaccount.com",
        SERVICE_IDENTITY,
        "roles/composer.serviceAgent",
        IAM_AGENTS_PAGE + "#cloudcomposer-accounts",
    ),
    Agent(
        "artifactregistry",
        "artifactregistry.googleapis.com",
        "service-{number}@gcp-sa-artifactregistry.iam.gserviceaccount.com",
        SERVICE_IDENTITY,
        "roles/artifactregistry.serviceAgent",
        IAM_AGENTS_PAGE + "#artifactregistry",
    ),
    Agent(
        "dataplex",
        "dataplex.googleapis.com",
        "service-{number}@gcp-sa-dataplex.iam.gserviceaccount.com",
        SERVICE_IDENTITY,
        "roles/dataplex.serviceAgent",
        IAM_AGENTS_PAGE + "#dataplex",
    ),
    Agent(
        "dlp",
        "dlp.googleapis.com",
        "service-{number}@dlp-api.iam.gserviceaccount.com",
        SERVICE_IDENTITY,
        "roles/dlp.serviceAgent",
        IAM_AGENTS_PAGE + "#dlp-api",
    ),
    Agent(
        "monitoring",
        "monitoring.googleapis.com",
        "service-{number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
        SERVICE_IDENTITY,
        "roles/monitoring.notificationServiceAgent",
        IAM_AGENTS_PAGE + "#monitoring-notification",
    ),
    Agent(
        "container",
        "container.googleapis.com",
        "service-{number}@container-engine-robot.iam.gserviceaccount.com",
        SERVICE_IDENTITY,
        "roles/container.serviceAgent",
        IAM_AGENTS_PAGE + "#container-engine-robot",
    ),
    # Cloud KMS agent: not primary (Fabric is_primary false); Google creates it when KMS
    # needs it (Autokey, EKM). No module grants it anything; listed so that a grant to it
    # is recognised. Modelled as created by the API, the closest the sandbox can say.
    Agent(
        "cloudkms",
        "cloudkms.googleapis.com",
        "service-{number}@gcp-sa-cloudkms.iam.gserviceaccount.com",
        ON_ENABLE,
        "roles/cloudkms.serviceAgent",
        IAM_AGENTS_PAGE + "#cloudkms",
    ),
    # Compute Engine Service Agent: not primary (Fabric compute-system, is_primary false);
    # Compute Engine documents it among the service agents the API uses on the project's
    # behalf, created with the API. https://cloud.google.com/compute/docs/access/
    # service-accounts#service-agents
    Agent(
        "compute",
        "compute.googleapis.com",
        "service-{number}@compute-system.iam.gserviceaccount.com",
        ON_ENABLE,
        "roles/compute.serviceAgent",
        "https://cloud.google.com/compute/docs/access/service-accounts#service-agents",
    ),
    # Not a service agent but Google-created all the same: the Compute Engine default service
    # account appears when the Compute Engine API is enabled (issue 11 item 6 deprivileges it).
    # https://cloud.google.com/compute/docs/access/service-accounts#default_service_account;
    # Fabric lists it under default_service_accounts in modules/project/service-agents.tf.
    Agent(
        "compute_default",
        "compute.googleapis.com",
        "{number}-compute@developer.gserviceaccount.com",
        ON_ENABLE,
        "roles/editor",
        "https://cloud.google.com/compute/docs/access/service-accounts#default_service_account",
    ),
    # Google APIs Service Agent: runs internal Google processes for the project and exists with
    # it; no API of its own (Fabric cloudservices: api null).
    # https://cloud.google.com/iam/docs/service-agents#cloudservices
    Agent(
        "cloudservices",
        None,
        "{number}@cloudservices.gserviceaccount.com",
        WITH_PROJECT,
        None,
        IAM_AGENTS_PAGE + "#cloudservices",
    ),
)

# Not in the table: Data Catalog, Data Lineage and BigQuery Data Policy have no
# project-level agent in Google's list (Fabric's list has none either); BigQuery's other
# agents (Connected Sheets, Omni, Spark, ...) belong to features the modules do not use.

_BY_KEY = {a.key: a for a in AGENTS}
_PATTERNS = [
    (re.compile("^" + re.escape(a.email_format).replace(r"\{number\}", "([0-9]+)") + "$"), a)
    for a in AGENTS
]


def agent(key: str) -> Agent:
    """The agent named ``key`` (``"storage"``, ``"pubsub"``, ...); KeyError if unknown."""
    return _BY_KEY[key]


def email(key: str, project_number: str | int) -> str:
    """E-mail of agent ``key`` in the project numbered ``project_number``."""
    return _BY_KEY[key].email(project_number)


def for_api(api: str) -> tuple[Agent, ...]:
    """The agents of ``api`` (``"pubsub.googleapis.com"``), in table order."""
    return tuple(a for a in AGENTS if a.api == api)


def primary(api: str) -> Agent | None:
    """The agent ``google_project_service_identity`` creates for ``api``, if it has one."""
    for a in AGENTS:
        if a.api == api and a.provisioning == SERVICE_IDENTITY:
            return a
    return None


def provisioned_by_data_source(type_name: str) -> Agent | None:
    """The agent that reading data source ``type_name`` provisions, if any."""
    for a in AGENTS:
        if a.data_source == type_name:
            return a
    return None


def parse(address: str) -> tuple[Agent, str] | None:
    """``(agent, project number)`` for an agent's e-mail or IAM member, else None.

    Accepts ``serviceAccount:`` members and bare e-mails, any letter case (IAM compares
    e-mails case-insensitively). A user-created service account never matches: its domain is
    ``<project-id>.iam.gserviceaccount.com``, which no agent format uses.
    """
    text = address.strip()
    if text.lower().startswith("serviceaccount:"):
        text = text.split(":", 1)[1]
    text = text.lower()
    for pattern, a in _PATTERNS:
        m = pattern.match(text)
        if m:
            return a, m.group(1)
    return None
