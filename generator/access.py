"""Who may do what in an environment: every grant the environment module makes, computed once.

The environment module holds no default access; the model passes it these values as
explicit inputs, so the whole access picture (personas, task accounts, impersonation,
policy-tag readers) is read here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from generator import naming
from generator.defaults import default

TASK_PROJECT = naming.TASK_PROJECT

# How long exported audit logs are kept unless the descriptor says (logging.sink.retention_days).

# Layers whose pipeline tables each task reads in a way BigQuery checks against policy tags,
# for pipelines whose tasks df-gen cannot read (see tag_readers). The transformation tasks
# MERGE landing tables into curated ones and check curated tables: MERGE, UPDATE and DELETE
# need fine-grained read on every column they scan, source and target
# (https://cloud.google.com/bigquery/docs/column-level-security-writes). The load tasks only
# load files into landing tables, which BigQuery does not check.
TASK_READS: Mapping[str, tuple[str, ...]] = {
    "load": (),
    "transformation": ("landing", "processing", "curated"),
    "orchestration": (),
}

# Personas' project roles per layer. Raw landing files and the curated (personal) data are
# left out here: they are descriptor choices (``access``), off by default.
_DATA_ENGINEERS = {
    "landing": ["roles/bigquery.dataViewer", "roles/bigquery.jobUser"],
    "processing": ["roles/bigquery.dataEditor", "roles/bigquery.jobUser", "roles/storage.objectViewer"],
    "curated": ["roles/bigquery.dataEditor", "roles/bigquery.jobUser"],
    "exposure": ["roles/bigquery.dataEditor", "roles/bigquery.jobUser"],
    "orchestration": ["roles/composer.user", "roles/logging.viewer", "roles/monitoring.viewer"],
}
_ANALYSTS = {"exposure": ["roles/bigquery.dataViewer", "roles/bigquery.jobUser"]}
_SECURITY = {
    **{layer: ["roles/iam.securityReviewer"] for layer in naming.LAYERS},
    # jobUser: to query the exported audit logs (dataViewer comes on the logs dataset).
    "orchestration": [
        "roles/bigquery.jobUser",
        "roles/datacatalog.categoryAdmin",
        "roles/dlp.reader",
        "roles/iam.securityReviewer",
        "roles/logging.privateLogViewer",
    ],
}


# Personas that read every policy tag of the taxonomy (besides each tag's own readers).
TAG_READER_PERSONAS = ("security",)

# What the security persona gets on the log sink's destination, by destination kind: read
# the exported audit logs (querying the dataset needs jobUser too, granted above).
LOG_READER_ROLES: Mapping[str, str] = {
    "bigquery": "roles/bigquery.dataViewer",
    "storage": "roles/storage.objectViewer",
}


def log_readers(env: Mapping[str, Any], destination: str) -> dict[str, list[str]]:
    """Grants on the log sink's dataset or bucket (role -> members): the security persona reads
    the audit logs wherever they are exported."""
    security = env.get("principals", {}).get("security", [])
    return {LOG_READER_ROLES[destination]: list(security)} if security else {}


def persona_roles(env: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Project roles per persona and layer, for the personas that have members."""
    access = env.get("access", {})
    roles = {
        "data_engineers": {layer: list(r) for layer, r in _DATA_ENGINEERS.items()},
        "analysts": {layer: list(r) for layer, r in _ANALYSTS.items()},
        "security": {layer: list(r) for layer, r in _SECURITY.items()},
    }
    def switch(key: str) -> bool:
        return bool(access.get(key, default("environment", f"access.{key}")))

    if switch("data_engineers_read_landing_files"):
        roles["data_engineers"]["landing"].append("roles/storage.objectViewer")
    if switch("analysts_read_curated"):
        roles["analysts"]["curated"] = ["roles/bigquery.dataViewer"]
    principals = env.get("principals", {})
    return {
        persona: {layer: sorted(r) for layer, r in sorted(layers.items(), key=lambda i: naming.LAYERS.index(i[0]))}
        for persona, layers in roles.items()
        if principals.get(persona)
    }


def task_roles() -> dict[str, dict[str, list[str]]]:
    """Project roles of each task account: running BigQuery jobs in its own project."""
    return {task: {TASK_PROJECT[task]: ["roles/bigquery.jobUser"]} for task in naming.TASKS}


def impersonators(env: Mapping[str, Any]) -> dict[str, list[str]]:
    """Who may impersonate each task account: Composer always, people as the descriptor says."""
    chosen = env.get("access", {}).get("impersonation", {})
    return {task: ["composer", *chosen.get(task, [])] for task in naming.TASKS}


def tag_readers(pipelines: Mapping[str, Mapping[str, Any]],
                task_reads: Mapping[str, Mapping[str, Iterable[str]] | None]) -> dict[str, list[str]]:
    """Task accounts that read each policy tag.

    For a pipeline whose code declares its tasks (``tasks.yaml``), ``task_reads[key]`` holds
    the tags of the columns each task identity's SQL reads, as sqlglot resolves them
    (``generator/analysis``): a task account reads exactly those. For a pipeline whose tasks
    cannot be read (no ``tasks.yaml``, or SQL sqlglot cannot analyse: ``validate`` reports
    it), every tag of its tables in the layers ``TASK_READS`` gives each task, so its DAG
    keeps working."""
    readers: dict[str, set[str]] = {}
    for key, data in pipelines.items():
        declared = task_reads.get(key)
        if declared is not None:
            for task, tags in declared.items():
                for tag in tags:
                    readers.setdefault(tag, set()).add(task)
            continue
        for layer, tables in data.get("tables", {}).items():
            for table in tables.values():
                for tag in table.get("policy_tags", {}).values():
                    for task, layers in TASK_READS.items():
                        if layer in layers:
                            readers.setdefault(tag, set()).add(task)
    return {tag: sorted(tasks) for tag, tasks in sorted(readers.items())}


# --- Google's service agents that act for the pipelines ------------------------------------

# The layer whose project runs a pipeline's DLP inspect template and job triggers (the
# model passes it as the pipeline module's dlp.project).
DLP_LAYER = "landing"

# What the agents need on BigQuery. Dataplex: "BigQuery Data Editor (roles/bigquery.dataEditor)
# ... on the results dataset and table", and read on a scanned table in another project
# (https://cloud.google.com/dataplex/docs/use-auto-data-quality). DLP: its agent holds only
# "common permissions on the project"
# (https://cloud.google.com/sensitive-data-protection/docs/access-control/service-accounts), so
# it is granted read on each inspected table and write on the findings dataset, wherever they are.
AGENT_READ_ROLE = "roles/bigquery.dataViewer"
AGENT_WRITE_ROLE = "roles/bigquery.dataEditor"


def agent_key(layer: str, agent: str) -> str:
    """How the environment module names a pipeline service agent: ``"<layer>/<agent>"``."""
    return f"{layer}/{agent}"


def _scan_layers(data: Mapping[str, Any]) -> list[str]:
    """Layers of a pipeline's data-quality scans: each runs in its table's layer project."""
    layers = {name.split(".", 1)[0] for name in data.get("data_quality", {})}
    return sorted(layers, key=naming.LAYERS.index)


def pipeline_agents(pipelines: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Layers whose projects need the Dataplex or DLP service agent: where data-quality scans
    run and where DLP job triggers run. The environment provisions exactly these."""
    layers: dict[str, set[str]] = {}
    for data in pipelines.values():
        layers.setdefault("dataplex", set()).update(_scan_layers(data))
        if "dlp" in data:
            layers.setdefault("dlp", set()).add(DLP_LAYER)
    return {agent: sorted(found, key=naming.LAYERS.index) for agent, found in sorted(layers.items()) if found}


def agent_tag_readers(pipelines: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Service agents (``layer/agent``) that read each policy tag: BigQuery checks fine-grained
    read on every column a reader scans, agents included ("grant your service agent the
    Fine-Grained Reader role", https://cloud.google.com/sensitive-data-protection/docs/troubleshoot-data-profiles).
    A DLP job inspects every column of its tables; a data-quality scan reads its rules' columns."""
    readers: dict[str, set[str]] = {}
    for data in pipelines.values():
        tables = data.get("tables", {})
        if "dlp" in data:
            for layer_tables in tables.values():
                for table in layer_tables.values():
                    for tag in table.get("policy_tags", {}).values():
                        readers.setdefault(tag, set()).add(agent_key(DLP_LAYER, "dlp"))
        for name, rule in data.get("data_quality", {}).items():
            layer, table_name = name.split(".", 1)
            tags = tables.get(layer, {}).get(table_name, {}).get("policy_tags", {})
            for column in (*rule.get("not_null", []), *rule.get("unique", [])):
                if column in tags:
                    readers.setdefault(tags[column], set()).add(agent_key(layer, "dataplex"))
    return {tag: sorted(keys) for tag, keys in sorted(readers.items())}


def results_layer(data: Mapping[str, Any], layers: Collection[str]) -> str | None:
    """Where a pipeline's data-quality scans export their results: the data source's curated
    dataset when it has one, else the layer of its first scan; None without scans."""
    if not data.get("data_quality"):
        return None
    return "curated" if "curated" in layers else sorted(data["data_quality"])[0].split(".", 1)[0]


def findings_layer(data: Mapping[str, Any], layers: Collection[str]) -> str | None:
    """Where DLP saves a pipeline's findings: the data source's curated dataset, when it has one."""
    return "curated" if "dlp" in data and "curated" in layers else None


def pipeline_agent_grants(data: Mapping[str, Any], tables: list[str]) -> dict[str, dict[str, str]]:
    """One pipeline's grants to the agents on its own tables, keyed by a stable name:
    ``agent`` (``layer/agent``), ``role`` and ``table`` (a key of the module's tables).
    DLP inspects ``tables``. A scan runs in the project of the table it checks (the layer's),
    so the read Google asks for across projects is never needed. Write on the results and
    findings datasets is the data source's: :func:`datasource_agent_grants`."""
    if "dlp" not in data:
        return {}
    inspector = agent_key(DLP_LAYER, "dlp")
    return {f"dlp-read-{key}": {"agent": inspector, "role": AGENT_READ_ROLE, "table": key} for key in sorted(tables)}


def datasource_agent_grants(pipelines: Iterable[Mapping[str, Any]], layers: Collection[str]
                            ) -> dict[str, dict[str, str]]:
    """Grants to the agents on a data source's datasets, for all its ``pipelines`` (the
    descriptors' data): each ``(agent, role, dataset)`` entry once, keyed
    ``<dataset>/<role>/<agent>``. The pipelines of a source share its datasets, so a scan's
    results and DLP's findings of every pipeline go to the same dataset; the data source's
    stack grants the entries, so no pipeline's grants depend on its siblings, and a pipeline
    added or removed changes only this set. ``layers`` are the source's dataset layers."""
    grants: dict[str, dict[str, str]] = {}

    def grant(agent: str, role: str, dataset: str) -> None:
        grants[f"{dataset}/{role}/{agent}"] = {"agent": agent, "role": role, "dataset": dataset}

    for data in pipelines:
        results = results_layer(data, layers)
        if results is not None:
            for layer in _scan_layers(data):
                grant(agent_key(layer, "dataplex"), AGENT_WRITE_ROLE, results)
        findings = findings_layer(data, layers)
        if findings is not None:
            grant(agent_key(DLP_LAYER, "dlp"), AGENT_WRITE_ROLE, findings)
    return dict(sorted(grants.items()))


# Project roles that let a persona read BigQuery tables, so query columns that carry policy tags.
_TABLE_READ_ROLES = ("roles/bigquery.dataViewer", "roles/bigquery.dataEditor", "roles/bigquery.dataOwner")


def masked_readers(env: Mapping[str, Any], tag: str) -> list[str]:
    """Personas that see a masked tag's columns masked: those that read BigQuery tables in
    some layer and are not fine-grained readers of the tag (its ``readers`` do not list all
    their members). Without Masked Reader their queries on a tagged column fail; with it
    BigQuery returns the masked value
    (https://cloud.google.com/bigquery/docs/column-data-masking-intro). Security reads
    every tag in full, so it is never a masked reader."""
    spec = env.get("policy_tags", {}).get("tags", {}).get(tag, {})
    if "masking" not in spec:
        return []
    members = env.get("principals", {})
    readers = set(spec.get("readers", []))
    return [
        persona
        for persona, layers in persona_roles(env).items()
        if persona != "security"
        and any(role in _TABLE_READ_ROLES for roles in layers.values() for role in roles)
        and not set(members.get(persona, [])) <= readers
    ]


def perimeter_ingress(
    automation: str, landing_project: str, env: Mapping[str, Any], datasources: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Who works on the projects from outside a VPC-SC perimeter: Terraform's automation
    account (later stacks create tables and upload DAGs), every data source's external
    writers, and the descriptor's ``vpc_sc.ingress_identities``. The module adds Composer."""
    members = [f"serviceAccount:{automation}"]
    for key, data in sorted(datasources.items()):
        for name, ident in sorted(data.get("external_identities", {}).items()):
            if "member" in ident:
                members.append(ident["member"])
            else:
                account = naming.external_account_id(naming.google_key(key, data), name)
                email = naming.service_account_email(account, landing_project)
                members.append(f"serviceAccount:{email}")
    members += env.get("vpc_sc", {}).get("ingress_identities", [])
    return list(dict.fromkeys(members))
