"""The access model: every role each identity holds on which resource, from the model.

Read from the arguments df-gen passes the bundled modules (personas, task accounts,
impersonation, policy-tag readers and masked readers, dataset IAM, authorized views, scan
runners) plus the grants the data source module makes on its own buckets, datasets and
topics (``modules/datasource/iam.tf``, mirrored in ``DATASOURCE_BUCKET_GRANTS`` and
``DATASOURCE_DATASET_GRANTS``; a test compares the two). Nothing is read from Google Cloud.

Resources are named like Google's resource names: ``projects/P``,
``projects/P/datasets/D``, ``projects/P/datasets/D/tables/T``, ``buckets/B``,
``projects/P/topics/T``, ``policyTags/TAG``, ``dataPolicies/TAG`` (the masking policy of a
tag), ``serviceAccounts/TASK``, ``dataScans/ID``. A grant on a project covers its datasets
and tables, one on a dataset its tables (IAM inheritance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from generator import naming

if TYPE_CHECKING:
    from generator.model import Model, Stack

FINE_GRAINED_READER = "roles/datacatalog.categoryFineGrainedReader"
MASKED_READER = "roles/bigquerydatapolicy.maskedReader"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
VIEW_ACCESS = "authorized view"
"""The role column of a dataset's authorized-view entry (a view reads the whole dataset)."""

# modules/datasource/iam.tf, locals.bucket_grants and locals.dataset_grants: who (internal,
# external writers, task accounts) gets which role on the data source's buckets and datasets.
DATASOURCE_BUCKET_GRANTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("landing", "roles/storage.objectCreator", ("external",)),
    ("landing", "roles/storage.objectAdmin", ("internal",)),
    ("landing", "roles/storage.objectUser", ("task:load",)),
    ("archive", "roles/storage.objectCreator", ("internal",)),
    ("archive", "roles/storage.objectAdmin", ("task:load",)),
    ("archive", "roles/storage.objectViewer", ("task:transformation",)),
)
DATASOURCE_DATASET_GRANTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("landing", "roles/bigquery.dataEditor", ("internal", "task:load")),
    ("landing", "roles/bigquery.dataViewer", ("task:transformation",)),
    ("processing", "roles/bigquery.dataEditor", ("internal", "task:transformation")),
    ("curated", "roles/bigquery.dataEditor", ("task:transformation",)),
    ("exposure", "roles/bigquery.dataEditor", ("task:transformation",)),
)


@dataclass(frozen=True)
class Identity:
    """Someone who acts: a task account, Composer, a data source identity or a persona."""

    key: str
    """``task:load``, ``composer``, ``datasource:store:internal``, ``persona:analysts``, ..."""
    kind: str
    members: tuple[str, ...]
    """IAM members (``serviceAccount:...``, ``group:...``)."""


@dataclass(frozen=True)
class Grant:
    """One role of one member on one resource, and which stack grants it."""

    member: str
    role: str
    resource: str
    stack: str
    scope: str = ""
    """``datasource:KEY`` when a data source's stack grants it for that data source's own
    pipelines; empty for environment-wide grants."""


@dataclass(frozen=True)
class Table:
    """A BigQuery table or view of the environment."""

    fqn: str
    """``project.dataset.table``."""
    layer: str
    datasource: str
    pipeline: str
    columns: Mapping[str, str]
    """Column -> type (views: the output columns, typed ``VIEW``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Column -> policy tag."""
    view_sql: str = ""
    view_file: str = ""
    authorized_on: tuple[str, ...] = ()
    """Datasets (``projects/P/datasets/D``) the view is authorized on."""

    @property
    def dataset(self) -> str:
        project, dataset, _ = self.fqn.split(".")
        return f"projects/{project}/datasets/{dataset}"

    @property
    def resource(self) -> str:
        project, dataset, table = self.fqn.split(".")
        return f"projects/{project}/datasets/{dataset}/tables/{table}"


@dataclass(frozen=True)
class AccessModel:
    """Identities, grants, and the resources they apply to."""

    identities: Mapping[str, Identity]
    grants: tuple[Grant, ...]
    tables: Mapping[str, Table]
    projects: Mapping[str, str]
    """Layer -> project ID."""
    bucket_projects: Mapping[str, str]
    personas: Mapping[str, tuple[str, ...]]
    tag_readers: Mapping[str, tuple[str, ...]]
    """Tag -> the readers its descriptor entry and df-gen list (members)."""

    def held(self, identity: Identity, resource: str, scope: str | None = None) -> list[Grant]:
        """Grants any member of ``identity`` holds on ``resource`` or a parent of it.

        With ``scope``, a data source's grants count only for that data source. Each place's
        share is answered once per identity: the tasks of many pipelines ask about tables of
        the same datasets and projects, whose grant lists are long."""
        found: list[Grant] = []
        for place in self.parents(resource):
            question = (identity.members, place, scope)
            share = self._held.get(question)
            if share is None:
                share = self._held[question] = tuple(
                    g for g in self._by_resource.get(place, ())
                    if g.member in identity.members and (scope is None or not g.scope or g.scope == scope)
                )
            found += share
        return found

    @cached_property
    def _held(self) -> dict[tuple[tuple[str, ...], str, str | None], tuple[Grant, ...]]:
        return {}

    @cached_property
    def _by_resource(self) -> dict[str, list[Grant]]:
        """Grants by resource: ``held`` is asked for every table and persona."""
        index: dict[str, list[Grant]] = {}
        for grant in self.grants:
            index.setdefault(grant.resource, []).append(grant)
        return index

    def parents(self, resource: str) -> list[str]:
        """The resource and every resource it inherits IAM from."""
        parts = resource.split("/")
        if parts[0] == "projects" and len(parts) >= 4:
            return ["/".join(parts[:n]) for n in range(len(parts), 1, -2)]
        if parts[0] == "buckets" and resource[8:] in self.bucket_projects:
            return [resource, f"projects/{self.bucket_projects[resource[8:]]}"]
        return [resource]


def build(model: Model, tables: Mapping[str, Table]) -> AccessModel:
    """The access model of one environment's model."""
    env = model.stack("environment")
    args = env.arguments
    projects = {layer: spec["project_id"] for layer, spec in args["projects"].items()}
    identities: dict[str, Identity] = {}
    grants: list[Grant] = []
    principals: Mapping[str, list[str]] = args.get("principals", {})
    for persona, members in principals.items():
        identities[f"persona:{persona}"] = Identity(f"persona:{persona}", "persona", tuple(members))
    tasks = {}
    for task, sa in args["service_accounts"].items():
        member = f"serviceAccount:{naming.service_account_email(sa['account_id'], projects[sa['project']])}"
        tasks[task] = member
        identities[f"task:{task}"] = Identity(f"task:{task}", "task", (member,))
        for layer, roles in sa.get("roles", {}).items():
            grants += [Grant(member, role, f"projects/{projects[layer]}", "environment") for role in roles]
    composer_email = naming.service_account_email(args["composer"]["service_account_id"],
                                                  projects[naming.COMPOSER_LAYER])
    composer = f"serviceAccount:{composer_email}"
    identities["composer"] = Identity("composer", "composer", (composer,))
    grants.append(Grant(composer, "roles/composer.worker", f"projects/{projects[naming.COMPOSER_LAYER]}",
                        "environment"))
    for persona, layers in args.get("persona_roles", {}).items():
        for layer, roles in layers.items():
            grants += [Grant(m, role, f"projects/{projects[layer]}", "environment")
                       for role in roles for m in principals.get(persona, [])]
    for task, members in args.get("impersonators", {}).items():
        for m in members:
            grants.append(Grant(composer if m == "composer" else m, TOKEN_CREATOR, f"serviceAccounts/{task}",
                                "environment"))

    def expand(readers: Iterable[str]) -> list[str]:
        out: list[str] = []
        for r in readers:
            out += principals.get(r, []) if r in naming_personas() else [tasks[r]] if r in tasks else [r]
        return list(dict.fromkeys(out))

    tag_readers: dict[str, tuple[str, ...]] = {}
    for tag, spec in (args.get("policy_taxonomy") or {}).get("tags", {}).items():
        readers = expand(spec.get("readers", []))
        tag_readers[tag] = tuple(readers)
        grants += [Grant(m, FINE_GRAINED_READER, f"policyTags/{tag}", "environment") for m in readers]
        masking = spec.get("masking") or {}
        grants += [Grant(m, MASKED_READER, f"dataPolicies/{tag}", "environment")
                   for m in expand(masking.get("masked_readers", []))]
    for spec in args.get("shared_datasets", {}).values():
        resource = f"projects/{projects[spec['project']]}/datasets/{spec['dataset_id']}"
        for role, members in spec.get("iam", {}).items():
            grants += [Grant(m, role, resource, "environment") for m in members]
    bucket_projects: dict[str, str] = {}
    for stack in model.stacks:
        if stack.released_from:  # no module call: it grants nothing (generator.renames)
            continue
        if stack.kind == "datasource":
            grants += _datasource(stack, projects, tasks, identities, bucket_projects)
        elif stack.kind == "pipeline":
            grants += _pipeline(stack, projects, tables)
    return AccessModel(identities, tuple(grants), tables, projects, bucket_projects,
                       {p: tuple(m) for p, m in principals.items()}, tag_readers)


def naming_personas() -> tuple[str, ...]:
    """Persona names a tag's readers may list."""
    return ("data_engineers", "analysts", "security")


def _datasource(stack: Stack, projects: Mapping[str, str], tasks: Mapping[str, str],
                identities: dict[str, Identity], bucket_projects: dict[str, str]) -> list[Grant]:
    args: Mapping[str, Any] = stack.arguments
    key = stack.key
    scope = f"datasource:{key}"
    who: dict[str, list[str]] = {f"task:{t}": [m] for t, m in tasks.items()}
    internal_email = naming.service_account_email(args["internal_identity"]["account_id"],
                                                  projects[naming.INTERNAL_ACCOUNT_LAYER])
    internal = f"serviceAccount:{internal_email}"
    who["internal"] = [internal]
    identities[f"datasource:{key}:internal"] = Identity(f"datasource:{key}:internal", "datasource", (internal,))
    who["external"] = []
    for name, ident in args.get("external_identities", {}).items():
        writers = projects[naming.EXTERNAL_ACCOUNT_LAYER]
        member = ident.get("member") or "serviceAccount:" + naming.service_account_email(ident["account_id"], writers)
        who["external"].append(member)
        identities[f"datasource:{key}:external:{name}"] = Identity(
            f"datasource:{key}:external:{name}", "datasource", (member,))
    grants = []
    for role_of_bucket, role, names in DATASOURCE_BUCKET_GRANTS:
        bucket = args["buckets"].get(role_of_bucket)
        if bucket is None:
            continue
        bucket_projects[bucket["name"]] = projects["landing"]
        grants += [Grant(m, role, f"buckets/{bucket['name']}", stack.name, scope) for n in names for m in who[n]]
    for layer, role, names in DATASOURCE_DATASET_GRANTS:
        dataset = args["datasets"].get(layer)
        if dataset is None:
            continue
        resource = f"projects/{projects[layer]}/datasets/{dataset['dataset_id']}"
        grants += [Grant(m, role, resource, stack.name, scope) for n in names for m in who[n]]
    for layer, dataset in args["datasets"].items():
        resource = f"projects/{projects[layer]}/datasets/{dataset['dataset_id']}"
        for role, members in (dataset.get("iam") or {}).items():
            grants += [Grant(m, role, resource, stack.name) for m in members]
    for topic in args.get("topics", {}).values():
        resource = f"projects/{projects[naming.PUBSUB_LAYER]}/topics/{topic['name']}"
        grants += [Grant(m, "roles/pubsub.publisher", resource, stack.name, scope) for m in who["external"]]
        for name, sub in topic.get("subscriptions", {}).items():
            sub_resource = f"projects/{projects[naming.PUBSUB_LAYER]}/subscriptions/{name}"
            grants += [Grant(m, "roles/pubsub.subscriber", sub_resource, stack.name, scope)
                       for m in [internal, *sub.get("subscribers", [])]]
    return grants


def _pipeline(stack: Stack, projects: Mapping[str, str], tables: Mapping[str, Table]) -> list[Grant]:
    args: Mapping[str, Any] = stack.arguments
    grants = []
    datasets = args["datasets"]
    for name, view in args.get("views", {}).items():
        where = datasets[view["layer"]]
        member = f"view:{where['project']}.{where['dataset_id']}.{name}"
        for layer in view.get("authorized_on", []):
            source = datasets[layer]
            grants.append(Grant(member, VIEW_ACCESS, f"projects/{source['project']}/datasets/{source['dataset_id']}",
                                stack.name))
    for scan_id in args.get("data_quality", {}):
        for member in args.get("data_quality_runners", []):
            grants += [Grant(member, role, f"dataScans/{scan_id}", stack.name)
                       for role in ("roles/dataplex.dataScanEditor", "roles/dataplex.dataScanDataViewer")]
    return grants
