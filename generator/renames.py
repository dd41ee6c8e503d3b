"""Renames without recreation: a descriptor key changes, the Google Cloud names stay.

A table (``tables.<layer>.<name>``) or a data source (its file name) says the key it had
before with ``renamed_from: <old key>``. The old key keeps naming the Google resources
(:func:`generator.naming.google_key`): dataset, table and topic IDs, bucket names and
service-account IDs cannot change. Only Terraform addresses change, and df-gen renders what
moves the state along with them, so that no apply destroys anything:

- a table key inside its pipeline stack: ``moved`` blocks from the old address to the new
  (the table, and its DLP job trigger and migration job when it has them);
- a data source, whose whole stack changes name (``datasource-<old>`` to
  ``datasource-<new>``): the old stack is still rendered, without its module call, with
  ``removed { from = module.datasource, destroy = false }``; the new stack ``import``\\ s
  every stateful resource of the module and needs the old one, so the runner applies the
  release first. Between the two applies the resources are unmanaged, never deleted; the
  other order would leave two states owning them, and destroying either would delete them.
  IAM members are not imported: the new stack adds them again, which changes nothing (the
  provider's ``_iam_member`` create merges its member into the policy's bindings,
  ``MergeBindings`` in a read-modify-write, google/tpgiamresource/resource_iam_member.go).

What ``renamed_from`` must name (validated, one line each at the ``renamed_from`` value):
an entry of the **prior rendering** (``stacks/`` as committed, per its manifest): a table's
old key is a table the pipeline's stack rendered in that layer (its
``schemas/<layer>.<old>.json``), a data source's old key a rendered stack
``datasource-<old>``. Render and validate never read Terraform state, and the committed
stacks are what every teammate and CI see; the imports then fail at plan, without changing
anything, if the old stack was never applied.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import naming
from generator.cache.record import MANIFEST
from generator.errors import Diagnostic
from generator.lifecycle_blocks import Block, Import, Moved, Removed

if TYPE_CHECKING:
    from generator.validate import Descriptors

TABLE = 'module.pipeline.google_bigquery_table.tables["{key}"]'
DLP_TRIGGER = 'module.pipeline.google_data_loss_prevention_job_trigger.tables["{key}"]'
MIGRATION = 'module.pipeline.google_bigquery_job.migrations["{key}"]'


# ------------------------------------------------------------------ validation


def prior_files(env_dir: Path) -> set[str]:
    """Paths (relative to ``stacks/``) the prior rendering's manifest lists; empty without one
    (an unreadable manifest is render's error to report)."""
    try:
        document = json.loads((Path(env_dir) / "stacks" / MANIFEST).read_text())
        return {str(path) for path in dict(document["files"])}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def problems(d: Descriptors, clean: Mapping[str, set[str]]) -> Iterator[Diagnostic]:
    """Every ``renamed_from`` that names nothing, names a key that still exists, or names
    the same old key as another entry."""
    @functools.cache
    def prior() -> set[str]:
        """The manifest's paths, read when a ``renamed_from`` first asks (most renders have none)."""
        return prior_files(d.env_dir)

    @functools.cache
    def prior_stacks() -> set[str]:
        return {path.split("/", 1)[0] for path in prior()}

    claimed: dict[str, str] = {}
    for key in sorted(clean["datasource"]):
        doc = d.datasources[key]
        old = doc.data.get("renamed_from")
        if old is None:
            continue
        where: tuple[str, ...] = ("renamed_from",)
        if old == key:
            yield doc.error(where, f"renamed_from: '{old}' is this data source's own key")
        elif old in d.datasources:
            yield doc.error(where, f"renamed_from: data source '{old}' still exists "
                                   f"(datasources/{old}.yaml); a renamed key's old descriptor must go",
                            hint=f"delete datasources/{old}.yaml, or drop renamed_from")
        elif old in claimed:
            yield doc.error(where, f"renamed_from: data source '{claimed[old]}' is renamed from '{old}' too; "
                                   "one old key can become one new key only")
        elif naming.stack_name("datasource", old) not in prior_stacks():
            yield doc.error(where, f"renamed_from: no data source '{old}' in the prior rendering "
                                   f"(no stacks/{naming.stack_name('datasource', old)}/ in its manifest)",
                            hint="renamed_from names a key that df-gen rendered before; drop it for a new data source")
        claimed.setdefault(old, key)
    for key in sorted(clean["pipeline"]):
        doc = d.pipelines[key]
        stack = naming.stack_name("pipeline", key)
        for layer, tables in sorted((doc.data.get("tables") or {}).items()):
            taken: dict[str, str] = {}
            for name, spec in sorted(tables.items()):
                old = spec.get("renamed_from")
                if old is None:
                    continue
                where = ("tables", layer, name, "renamed_from")
                if old == name:
                    yield doc.error(where, f"tables.{layer}.{name}.renamed_from: '{old}' is the table's own key")
                elif old in tables:
                    yield doc.error(where, f"tables.{layer}.{name}.renamed_from: table '{old}' still exists in "
                                           f"tables.{layer}; a renamed key's old entry must go",
                                    hint=f"remove tables.{layer}.{old}, or drop renamed_from")
                elif old in taken:
                    yield doc.error(where, f"tables.{layer}.{name}.renamed_from: tables.{layer}.{taken[old]} is "
                                           f"renamed from '{old}' too; one old key can become one new key only")
                elif not any(re.fullmatch(rf"{re.escape(stack)}/schemas/{layer}\.{old}(_v[0-9]+)?\.json", p)
                             for p in prior()):
                    yield doc.error(where, f"tables.{layer}.{name}.renamed_from: no {layer} table '{old}' in the "
                                           f"prior rendering of {stack} (no schemas/{layer}.{old}.json in "
                                           "stacks/'s manifest)",
                                    hint="renamed_from names a key that df-gen rendered before; "
                                         "drop it for a new table")
                taken.setdefault(old, name)


# ------------------------------------------------------------------ tables


def table_moves(source: str, target: str, path: tuple[Any, ...], dlp: bool, migrate: bool) -> list[Block]:
    """``moved`` blocks for the module table key ``source`` renamed to ``target`` (a table
    version's key, ``curated-orders`` or ``curated-orders-v2``), declared at ``path``."""
    _, layer, name = path[:3]
    why = f"tables.{layer}.{name} (renamed_from): the table keeps its ID, only its address moves"
    blocks: list[Block] = [Moved(TABLE.format(key=source), TABLE.format(key=target), why)]
    if dlp:
        blocks.append(Moved(DLP_TRIGGER.format(key=source), DLP_TRIGGER.format(key=target)))
    if migrate:
        blocks.append(Moved(MIGRATION.format(key=source), MIGRATION.format(key=target)))
    return blocks


# ------------------------------------------------------------------ data sources


def released(key: str, old: str) -> str:
    """The comment of the old stack of data source ``key``, renamed from ``old``."""
    return (f"Data source '{old}' is now '{key}' (datasources/{key}.yaml, renamed_from); "
            f"stack {naming.stack_name('datasource', key)} imports its resources.")


def release_blocks() -> tuple[Block, ...]:
    """The old stack's only block: forget the module's resources, keep them."""
    return (Removed("module.datasource", destroy=False,
                    why="Forget, do not destroy: the renamed data source's stack imports them."),)


def datasource_imports(args: Mapping[str, Any], old: str) -> tuple[Block, ...]:
    """``import`` blocks for every stateful resource the datasource module creates from
    ``args`` (the module arguments, already named after ``old``).

    Import IDs follow the provider documentation's "Import" sections (website/docs/r/ in
    hashicorp/terraform-provider-google): ``{{bucket}}`` (storage_bucket),
    ``projects/{{project}}/datasets/{{dataset_id}}`` (bigquery_dataset),
    ``projects/{{project_id}}/serviceAccounts/{{email}}`` (service_account),
    ``projects/{{project}}/topics/{{name}}`` (pubsub_topic) and
    ``projects/{{project}}/subscriptions/{{name}}`` (pubsub_subscription). Addresses and
    projects follow modules/datasource (buckets.tf, datasets.tf, identities.tf, pubsub.tf).
    """
    projects: Mapping[str, str] = args["projects"]

    def project(value: str | None, default: str) -> str:
        value = value or default
        return projects.get(value, value)

    why = f"Was in stack {naming.stack_name('datasource', old)} (renamed_from: {old})."
    blocks: list[Block] = []
    for role, bucket in args.get("buckets", {}).items():
        blocks.append(Import(f'module.datasource.google_storage_bucket.default["{role}"]', bucket["name"], why))
        why = ""
    for layer, dataset in args.get("datasets", {}).items():
        blocks.append(Import(f'module.datasource.google_bigquery_dataset.default["{layer}"]',
                             f"projects/{project(dataset.get('project'), layer)}/datasets/{dataset['dataset_id']}"))
    internal = args["internal_identity"]
    blocks.append(Import("module.datasource.google_service_account.internal",
                         _account(project(internal.get("project"), "processing"), internal["account_id"])))
    for name, ident in args.get("external_identities", {}).items():
        if ident.get("account_id"):
            blocks.append(Import(f'module.datasource.google_service_account.external["{name}"]',
                                 _account(project(ident.get("project"), "landing"), ident["account_id"])))
    landing = projects["landing"]
    for topic_key, topic in args.get("topics", {}).items():
        blocks.append(Import(f'module.datasource.google_pubsub_topic.default["{topic_key}"]',
                             f"projects/{landing}/topics/{topic['name']}"))
        if topic.get("dead_letter"):
            name = topic["dead_letter_name"]
            blocks.append(Import(f'module.datasource.google_pubsub_topic.dead_letter["{topic_key}"]',
                                 f"projects/{landing}/topics/{name}"))
            blocks.append(Import(f'module.datasource.google_pubsub_subscription.dead_letter["{topic_key}"]',
                                 f"projects/{landing}/subscriptions/{name}"))
        for sub in topic.get("subscriptions", {}):
            blocks.append(Import(f'module.datasource.google_pubsub_subscription.default["{sub}"]',
                                 f"projects/{landing}/subscriptions/{sub}"))
    return tuple(blocks)


def _account(project: str, account_id: str) -> str:
    return f"projects/{project}/serviceAccounts/{naming.service_account_email(account_id, project)}"
