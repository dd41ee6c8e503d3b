"""Every name df-gen gives to a Google Cloud resource, computed in one place.

Validation checks these names against Google's limits, the model stores them and the
templates print them; nothing else invents a name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LAYERS = ("landing", "processing", "curated", "exposure", "orchestration")
DATA_LAYERS = ("landing", "curated", "exposure")
TASKS = ("load", "transformation", "orchestration")
TASK_PROJECT = {"load": "landing", "transformation": "processing", "orchestration": "orchestration"}
"""The layer whose project holds each task's service account."""
COMPOSER_LAYER = "orchestration"
INTERNAL_ACCOUNT_LAYER = "processing"
EXTERNAL_ACCOUNT_LAYER = "landing"
PUBSUB_LAYER = "landing"
LOG_DATASET_LAYER = "orchestration"
"""Where the bundled modules put Composer's account, data source accounts, topics and the log dataset."""

_LAYER_SUFFIX = {
    "landing": "lnd",
    "processing": "prc",
    "curated": "cur",
    "exposure": "exp",
    "orchestration": "orc",
}


def project_id(prefix: str, layer: str, existing: str | None = None) -> str:
    """The layer's project: the adopted one, else ``<prefix>-<lnd|prc|cur|exp|orc>``."""
    return existing or f"{prefix}-{_LAYER_SUFFIX[layer]}"


def task_account_id(task: str) -> str:
    """Account ID of the environment's per-task service account (e.g. ``df-load``)."""
    return f"df-{task}"


def service_account_email(account_id: str, project: str) -> str:
    """E-mail of a user-managed service account: ``<account_id>@<project>.iam.gserviceaccount.com``
    (https://cloud.google.com/iam/docs/service-accounts-create)."""
    return f"{account_id}@{project}.iam.gserviceaccount.com"


def composer_account_id() -> str:
    """Account ID of Composer's own service account."""
    return "df-composer"


def composer_name(prefix: str) -> str:
    """Name of the Cloud Composer environment."""
    return f"{prefix}-composer"


def network_name(prefix: str) -> str:
    """Name of the local VPC."""
    return f"{prefix}-vpc"


def kms_key_ring(prefix: str, location: str) -> str:
    """Key ring holding the environment's keys in one location."""
    return f"{prefix}-{kms_location(location)}"


def kms_key_id(project: str, prefix: str, location: str, service: str) -> str:
    """Resource ID of the environment's key for ``service`` (``projects/.../cryptoKeys/...``)."""
    return (f"projects/{project}/locations/{kms_location(location)}/keyRings/{kms_key_ring(prefix, location)}"
            f"/cryptoKeys/{kms_key(service)}")


def kms_location(location: str) -> str:
    """Cloud KMS location of keys for data in ``location`` (any case).

    Cloud KMS names the multi-regions differently from BigQuery and Cloud Storage: data in
    the EU multi-region is protected by keys in ``europe``, US data by keys in ``us``.
    """
    return {"eu": "europe", "us": "us"}.get(location.lower(), location.lower())


# Google Cloud regions inside each multi-region's territory: the regions in member states
# of the European Union (not London or Zurich), and the regions in the United States.
# https://cloud.google.com/about/locations and https://cloud.google.com/bigquery/docs/locations
MULTI_REGION_REGIONS = {
    "eu": (
        "europe-central2", "europe-north1", "europe-north2", "europe-southwest1", "europe-west1",
        "europe-west3", "europe-west4", "europe-west8", "europe-west9", "europe-west10",
        "europe-west12",
    ),
    "us": (
        "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
        "us-west3", "us-west4",
    ),
}


def message_storage_regions(location: str) -> list[str]:
    """Regions where Pub/Sub may store the messages of data kept in ``location``.

    Pub/Sub's message storage policy takes regions only: a multi-region (EU, US) becomes
    the regions inside it, a region stays itself.
    """
    return list(MULTI_REGION_REGIONS.get(location.lower(), (location.lower(),)))


def kms_key(service: str) -> str:
    """Key name of one service's CMEK key."""
    return f"df-{service}"


def taxonomy_name(prefix: str) -> str:
    """Display name of the default policy-tag taxonomy."""
    return f"{prefix} data sensitivity"


def data_policy_id(prefix: str, tag: str) -> str:
    """ID of the BigQuery data masking policy of one policy tag (unique within its project;
    letters, digits and underscores, as in Google's own examples)."""
    return _dataset(f"{prefix}_{tag}_masking")


def shared_bucket(prefix: str, key: str) -> str:
    """A shared bucket of the environment."""
    return f"{prefix}-{key}"


def shared_dataset(prefix: str, key: str) -> str:
    """A shared dataset of the environment."""
    return _dataset(f"{prefix}_{key}")


def log_bucket(prefix: str) -> str:
    """Bucket receiving the environment's log sink (storage destination)."""
    return f"{prefix}-logs"


def log_dataset(prefix: str) -> str:
    """Dataset receiving the environment's log sink (BigQuery destination)."""
    return _dataset(f"{prefix}_logs")


def datasource_bucket(prefix: str, datasource: str, role: str) -> str:
    """A data source's ``landing`` or ``archive`` bucket."""
    return f"{prefix}-{datasource}-{role}"


def datasource_dataset(prefix: str, datasource: str, layer: str) -> str:
    """A data source's dataset in one layer."""
    return _dataset(f"{prefix}_{datasource}_{layer}")


def internal_account_id(datasource: str) -> str:
    """The data source's internal (processing) service account."""
    return f"{datasource}-proc"


def external_account_id(datasource: str, name: str) -> str:
    """A service account created for an external writer of the data source."""
    return f"{datasource}-{name}"


def topic(datasource: str, name: str) -> str:
    """A data source's Pub/Sub topic."""
    return f"{datasource}-{name}"


def subscription(datasource: str, topic_name: str, name: str) -> str:
    """A subscription of a data source's topic."""
    return f"{datasource}-{topic_name}-{name}"


def dead_letter_topic(datasource: str, topic_name: str) -> str:
    """The dead-letter topic of a data source's topic (its pull subscription has the same name)."""
    return f"{topic(datasource, topic_name)}-dead-letter"


def notification_channel_key(email: str) -> str:
    """Key of an e-mail notification channel: the address's local part, as a slug."""
    return re.sub(r"[^a-z0-9]+", "-", email.split("@")[0].lower()).strip("-") or "email"


def log_sink(prefix: str) -> str:
    """Name of the environment's audit-log sink."""
    return f"{prefix}-audit"


LOG_SINK_KEY = "logs"
"""Key of the log sink's dataset or bucket among the environment's shared ones."""

MAX_SCAN_ID = 63


def data_quality_scan_id(pipeline: str, layer: str, table: str) -> str:
    """ID of a table's data-quality scan: lowercase letters, digits and dashes, cut to 63."""
    return re.sub(r"[^a-z0-9-]", "-", f"{pipeline}-{layer}-{table}".lower())[:MAX_SCAN_ID].strip("-")


MAX_LABELS = 64
"""Google Cloud allows at most 64 labels per resource:
https://cloud.google.com/resource-manager/docs/labels-overview#requirements"""

SERVICE_AGENT_DOMAINS = {
    "dataplex": "gcp-sa-dataplex.iam.gserviceaccount.com",
    "dlp": "dlp-api.iam.gserviceaccount.com",
    "pubsub": "gcp-sa-pubsub.iam.gserviceaccount.com",
}
"""Where the service agents the data sources and pipelines grant live, ``service-NUMBER@<domain>``:
https://cloud.google.com/iam/docs/service-agents (the sandbox's agents.py holds the full table).
Only the fallback for an environment applied before its ``service_agents`` output existed."""


def service_agent_email(agent: str, project_number: str) -> str:
    """E-mail of the ``agent`` (``dataplex``, ``dlp``, ``pubsub``) of the project numbered
    ``project_number`` (a number, or a Terraform interpolation of one)."""
    return f"service-{project_number}@{SERVICE_AGENT_DOMAINS[agent]}"


MAX_SERVICE_ACCOUNT_DESCRIPTION = 256
"""A service account's description is at most 256 UTF-8 bytes:
https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts"""

MODULE_LABELS = {
    "environment": ("layer",),
    "datasource": ("df_datasource", "df_bucket_role"),
    "pipeline": ("df_pipeline",),
}
"""The most label keys a bundled module adds to one resource (modules/*/main.tf merges
``df_datasource``/``df_pipeline``; buckets.tf, datasets.tf and pubsub.tf add one more each,
projects.tf adds ``layer``)."""


def google_key(key: str, spec: Any) -> str:
    """The key that names an entry's Google Cloud resources: its own, or, once the entry was
    renamed, the key it was renamed from (``renamed_from``). Google names (dataset and table
    IDs, bucket names, service-account IDs) cannot change, so a rename keeps them."""
    # A dict first: checking against the Mapping ABC is slow, and this is asked 30 times per pipeline.
    renamed = spec.get("renamed_from") if isinstance(spec, dict) or isinstance(spec, Mapping) else None
    return renamed if isinstance(renamed, str) and renamed else key


def stack_name(kind: str, key: str = "") -> str:
    """Directory name of a stack under ``stacks/``."""
    return "environment" if kind == "environment" else f"{kind}-{key}"


def state_prefix(base: str, stack: str) -> str:
    """GCS backend prefix of one stack's state."""
    return f"{base.rstrip('/')}/{stack}"


def _dataset(name: str) -> str:
    return name.replace("-", "_")


# Google's naming rules, checked after the prefix is applied.
RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "project": (
        re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"),
        "project IDs are 6-30 lowercase letters, digits or hyphens, starting with a letter",
    ),
    "service_account": (
        re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"),
        "service-account IDs are 6-30 lowercase letters, digits or hyphens, starting with a letter",
    ),
    "bucket": (
        re.compile(r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$"),
        "bucket names are 3-63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    ),
    "dataset": (
        re.compile(r"^[A-Za-z0-9_]{1,1024}$"),
        "dataset IDs are at most 1024 letters, digits or underscores",
    ),
    "topic": (
        re.compile(r"^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$"),
        "topic names are 3-255 characters starting with a letter",
    ),
    "composer": (
        re.compile(r"^[a-z](?:[-0-9a-z]{0,62}[0-9a-z])?$"),
        "Composer environment names are at most 64 lowercase letters, digits or hyphens",
    ),
}


def check(kind: str, name: str) -> str | None:
    """Return why ``name`` breaks Google's rule for ``kind``, or None when it is valid."""
    pattern, rule = RULES[kind]
    if not pattern.match(name):
        return rule
    if kind in ("bucket", "topic") and name.startswith("goog"):
        return f"{kind} names cannot start with 'goog'"
    if kind == "bucket" and "google" in name:
        return "bucket names cannot contain 'google'"
    return None


# --- one registry of generated names ---------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One generated name or key, the scope it must be unique in, and the entry that made it."""

    noun: str
    """What the name is, e.g. ``bucket name`` or ``dataset ID``."""
    scope: str
    """Where it must be unique, e.g. ``project acme-lnd`` (empty: everywhere)."""
    name: str
    owner: str
    """The descriptor entry in words, e.g. ``shared bucket 'logs'``."""
    place: Any
    """The caller's handle on where the entry is written (a file, line and column)."""


class Registry:
    """Every name the environment generates; two claims on one name are a collision.

    Collisions are found by the generated value, whatever produced it (a key, a prefix and
    a key, a truncation, an e-mail's local part), so no pair of rules needs its own check.
    """

    def __init__(self) -> None:
        self._first: dict[tuple[str, str, str], tuple[str, Any]] = {}
        """(noun, scope, name) -> the owner and place of its first claim (a :class:`Claim` is
        made for collisions only: every render makes 5,000 claims for 1,000 pipelines)."""
        self.collisions: list[tuple[Claim, Claim]] = []
        """(later claim, first claim) for every name claimed twice."""

    def claim(self, noun: str, name: str, owner: str, place: Any, scope: str = "") -> str:
        """Record that ``owner`` (at ``place``) generates ``name``; return ``name``."""
        mine = (owner, place)
        first = self._first.setdefault((noun, scope, name), mine)
        if first is not mine:
            self.collisions.append((Claim(noun, scope, name, owner, place), Claim(noun, scope, name, *first)))
        return name


def quality_results_table(pipeline: str) -> str:
    """BigQuery table that a pipeline's data-quality scans export their results to."""
    return "data_quality_" + re.sub(r"[^a-z0-9_]", "_", pipeline.lower())


def dag_object(pipeline: str) -> str:
    """Object name of a pipeline's DAG file in Composer's DAG folder."""
    return f"{pipeline}.py"


def dag_sql_folder(pipeline: str) -> str:
    """Folder of a pipeline's SQL files in Composer's DAG folder (the DAG reads them there)."""
    return f"{pipeline}/sql"


def dlp_inspect_template(pipeline: str) -> str:
    """ID of a pipeline's DLP inspection template."""
    return f"{pipeline}-inspect"


def dlp_findings_table(pipeline: str) -> str:
    """BigQuery table that a pipeline's DLP job triggers save their findings to."""
    return "dlp_findings_" + re.sub(r"[^a-z0-9_]", "_", pipeline.lower())
