"""Adoption: existing resources a descriptor marks ``existing: true``, imported, never created.

A bucket, dataset, topic or table that already exists under the name df-gen gives it is
brought under management with a Terraform ``import`` block in its stack's ``lifecycle.tf``
(:mod:`generator.lifecycle_blocks`; Terraform >= 1.5, which the stacks require). Each id is in a format the google
provider documents in the resource's "Import" section (``website/docs/r/<type>.html.markdown``
of hashicorp/terraform-provider-google):

- ``google_storage_bucket``: ``{{project_id}}/{{bucket}}`` (the project named, so the provider
  never has to infer it);
- ``google_bigquery_dataset``: ``projects/{{project}}/datasets/{{dataset_id}}``;
- ``google_bigquery_table``: ``projects/{{project}}/datasets/{{dataset_id}}/tables/{{table_id}}``;
- ``google_pubsub_topic``: ``projects/{{project}}/topics/{{name}}``.

The blocks stay in the stack after the import has applied: once the resource is in state,
Terraform skips an import block whose target it already manages with that id, so later plans
are clean, and a state that loses the resource (``df-gen destroy``, which forgets adopted
resources) imports it again on the next apply instead of creating a duplicate.

Each :class:`Adoption` remembers where its ``existing`` key is, so that a plan that fails
because the object does not exist ("Cannot import non-existent remote object") is reported
at that key (:func:`missing_objects`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from generator import lifecycle_blocks, naming, versions
from generator.errors import Diagnostic
from generator.loader import Document

# The Terraform core message when the read after an import finds nothing
# (internal/terraform/node_resource_plan_instance.go of hashicorp/terraform).
MISSING = "Cannot import non-existent remote object"
COMMENT = "Adopted"  # how an adoption's import block starts in lifecycle.tf (read back for orphans)
_TARGET = re.compile(r'import an existing object to\s+"(\S+?)",\s+the provider')


@dataclass(frozen=True)
class Adoption:
    """One adopted resource: its address, import id, what it is and where the descriptor asks."""

    to: str
    id: str
    what: str
    """``bucket "acme-lnd-bucket"``: the resource in words."""
    descriptor: str
    """The descriptor, relative to the environment directory (for the rendered comment)."""
    path: str
    line: int
    col: int

    @property
    def comment(self) -> str:
        """The comment printed above the block (no line number: the stack stays put when the
        descriptor grows)."""
        return f"{COMMENT} ({self.descriptor}: existing: true): {self.what} already exists; imported, not created."

    def block(self) -> lifecycle_blocks.Import:
        """The ``import`` block."""
        return lifecycle_blocks.Import(self.to, self.id, self.comment)

    def diagnostic(self, message: str, hint: str = "") -> Diagnostic:
        """A diagnostic at the descriptor's ``existing`` key."""
        return Diagnostic(self.path, self.line, self.col, message, hint)


def _address(module: str, resource: str, key: str) -> str:
    return f"module.{module}.{resource}[{json.dumps(key)}]"


def _asked(doc: Document, path: tuple[str | int, ...], to: str, rid: str, what: str) -> Adoption:
    line, col = doc.where((*path, "existing"), key=True)
    # Environment descriptors are at the top of the environment directory, the others one
    # folder below (datasources/, pipelines/).
    kind_dir = doc.path.parent.name if doc.data.get("kind") != "Environment" else ""
    descriptor = f"{kind_dir}/{doc.path.name}" if kind_dir else doc.path.name
    return Adoption(to, rid, what, descriptor, doc.display, line, col)


def environment_imports(doc: Document, projects: Mapping[str, str]) -> tuple[Adoption, ...]:
    """Adopted shared buckets and datasets of the environment stack."""
    env = doc.data
    prefix = env["prefix"]
    shared = env.get("shared", {})
    found = []
    for key, bucket in sorted(shared.get("buckets", {}).items()):
        if bucket.get("existing"):
            name = naming.shared_bucket(prefix, key)
            # modules/environment: shared buckets live in the orchestration project.
            found.append(_asked(doc, ("shared", "buckets", key),
                                _address("environment", "google_storage_bucket.shared", key),
                                f"{projects['orchestration']}/{name}", f'bucket "{name}"'))
    for key, dataset in sorted(shared.get("datasets", {}).items()):
        if dataset.get("existing"):
            dataset_id = naming.shared_dataset(prefix, key)
            found.append(_asked(doc, ("shared", "datasets", key),
                                _address("environment", "google_bigquery_dataset.shared", key),
                                f"projects/{projects[dataset['layer']]}/datasets/{dataset_id}",
                                f'dataset "{dataset_id}"'))
    return tuple(found)


def datasource_imports(doc: Document, key: str, prefix: str, projects: Mapping[str, str]) -> tuple[Adoption, ...]:
    """Adopted buckets, datasets and topics of one data source's stack."""
    data = doc.data
    found = []
    for role, bucket in sorted(data.get("buckets", {}).items()):
        if bucket.get("existing"):
            name = naming.datasource_bucket(prefix, key, role)
            # modules/datasource: buckets default to the landing project.
            found.append(_asked(doc, ("buckets", role), _address("datasource", "google_storage_bucket.default", role),
                                f"{projects['landing']}/{name}", f'bucket "{name}"'))
    for layer, dataset in sorted(data.get("datasets", {}).items()):
        if dataset.get("existing"):
            dataset_id = naming.datasource_dataset(prefix, key, layer)
            found.append(_asked(doc, ("datasets", layer),
                                _address("datasource", "google_bigquery_dataset.default", layer),
                                f"projects/{projects[layer]}/datasets/{dataset_id}", f'dataset "{dataset_id}"'))
    for topic_key, topic in sorted(data.get("pubsub", {}).get("topics", {}).items()):
        if topic.get("existing"):
            name = naming.topic(key, topic_key)
            found.append(_asked(doc, ("pubsub", "topics", topic_key),
                                _address("datasource", "google_pubsub_topic.default", topic_key),
                                f"projects/{projects[naming.PUBSUB_LAYER]}/topics/{name}", f'topic "{name}"'))
    return tuple(found)


def pipeline_imports(doc: Document, datasets: Mapping[str, Mapping[str, str]]) -> tuple[Adoption, ...]:
    """Adopted tables of one pipeline's stack (``datasets``: layer -> project and dataset_id).

    ``existing: true`` adopts the table of the entry's own name, which is its version 1
    (:mod:`generator.versions`): later versions are new tables, created beside it.
    """
    tables = doc.data.get("tables", {})
    found = []
    for item in versions.of_pipeline(tables):
        if item.version == 1 and tables[item.layer][item.name].get("existing"):
            where = datasets[item.layer]
            found.append(_asked(doc, ("tables", item.layer, item.name),
                                _address("pipeline", "google_bigquery_table.tables", item.key),
                                f"projects/{where['project']}/datasets/{where['dataset_id']}/tables/{item.table_id}",
                                f"table {where['dataset_id']}.{item.table_id}"))
    return tuple(found)


def missing_objects(imports: Iterable[Adoption], output: str, sandbox: bool) -> list[Diagnostic]:
    """One diagnostic per adopted object that Terraform found missing in ``output``.

    ``output`` is Terraform's text of a failed plan; Terraform names each import's target
    address in its "Cannot import non-existent remote object" error. Empty when the plan
    failed for another reason.
    """
    if MISSING not in output:
        return []
    # Terraform quotes the address Go-style (%q): its inner quotes come escaped; wrapping
    # may break the line before it, never inside it (an address has no spaces).
    text = output.replace('\\"', '"')
    targets = set(_TARGET.findall(text))
    where = "in the sandbox" if sandbox else "in Google Cloud"
    return [
        item.diagnostic(f"{item.what} is marked existing but does not exist {where} "
                        f"(Terraform: {MISSING}, import id {item.id}); nothing of this stack was applied",
                        hint="fix the name, create it first, or drop 'existing' to let df-gen create it")
        for item in imports
        if item.to in targets
    ]


def blocks(adopted: Iterable[Adoption]) -> tuple[lifecycle_blocks.Block, ...]:
    """The ``import`` blocks of ``adopted``, for :attr:`generator.model.Stack.lifecycle`."""
    return tuple(item.block() for item in adopted)


# An adoption's block as lifecycle_blocks prints it, under its comment.
_BLOCK = re.compile(r'^# ' + COMMENT + r' \(.*\n(?:#.*\n)*import \{\n  to = (\S+)\n  id = "([^"\n]*)"\n\}', re.M)


def read_back(lifecycle_tf: str, display: str) -> tuple[Adoption, ...]:
    """The adoptions of a rendered ``lifecycle.tf`` (a stack whose descriptor is gone: destroy
    still keeps its adopted resources). Other import blocks (renames) are not adoptions."""
    return tuple(Adoption(to, rid, to, display, display, 0, 0) for to, rid in _BLOCK.findall(lifecycle_tf))


def addresses(imports: Iterable[Adoption]) -> list[str]:
    """The adopted resources' addresses (what ``df-gen destroy`` forgets instead of deleting)."""
    return [item.to for item in imports]
