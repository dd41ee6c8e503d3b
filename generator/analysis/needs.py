"""What each DAG task needs: permissions on resources, from its kind and its SQL.

Per kind (the operators of ``pipelines/retail/dag.py.j2``):

- ``wait_for_files`` (GCS sensor): ``storage.objects.list`` on the landing bucket;
- ``load_files`` (load job): ``bigquery.jobs.create`` in its project, ``storage.objects.get``
  on the landing bucket, ``bigquery.tables.updateData`` on the landing table
  (https://cloud.google.com/bigquery/docs/batch-loading-data#required_permissions); a load
  does not check policy tags (https://cloud.google.com/bigquery/docs/column-level-security-writes);
- ``query`` / ``check_query``: ``bigquery.jobs.create`` in its project,
  ``bigquery.tables.getData`` on every table read, ``bigquery.tables.updateData`` on the
  DML target, and fine-grained read on the policy tag of every column read (a masked read
  is not enough: the job would compute on masked values);
- ``quality_scan``: ``dataplex.datascans.run`` and ``dataplex.datascans.getData`` on the
  scan (the operator starts the job and reads its result);
- ``archive_files`` (GCSHook exists/rewrite/delete): ``storage.objects.get`` and
  ``storage.objects.delete`` on the landing bucket, ``storage.objects.get`` and
  ``storage.objects.create`` on the archive bucket.

Every task also needs Composer to impersonate its account
(``iam.serviceAccounts.getAccessToken`` on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator import naming
from generator.analysis.grants import Table
from generator.analysis.inventory import PipelineTask


@dataclass(frozen=True)
class Need:
    """One permission one task needs on one resource (a column, for a policy tag)."""

    permission: str
    resource: str
    why: str
    column: str = ""
    """``project.dataset.table.column`` a fine-grained read is needed for."""
    actor: str = "task"
    """``task`` (the task's account) or ``composer`` (impersonating it)."""


def task_needs(item: PipelineTask, prefix: str, projects: Mapping[str, str],
               tables: Mapping[str, Table]) -> list[Need]:
    """Every permission one task needs."""
    task = item.task
    needs = [Need("iam.serviceAccounts.getAccessToken", f"serviceAccounts/{task.identity}",
                  "Composer impersonates the task's account", actor="composer")]
    bucket = {role: f"buckets/{naming.datasource_bucket(prefix, item.source_name or item.datasource, role)}"
              for role in ("landing", "archive")}

    def table_resource(layer: str, name: str) -> str:
        dataset = naming.datasource_dataset(prefix, item.source_name or item.datasource, layer)
        return f"projects/{projects[layer]}/datasets/{dataset}/tables/{name}"

    if task.project:
        needs.append(Need("bigquery.jobs.create", f"projects/{projects[task.project]}", "runs its BigQuery jobs there"))
    if task.kind == "wait_for_files":
        needs.append(Need("storage.objects.list", bucket["landing"], "lists the delivered files"))
    elif task.kind == "load_files":
        needs.append(Need("storage.objects.get", bucket["landing"], "reads the files it loads"))
        needs.append(Need("bigquery.tables.updateData", table_resource("landing", str(task.table)),
                          "appends the files' rows"))
    elif task.kind == "archive_files":
        needs += [
            Need("storage.objects.get", bucket["landing"], "reads each loaded file"),
            Need("storage.objects.delete", bucket["landing"], "deletes it once archived"),
            Need("storage.objects.get", bucket["archive"], "checks whether it is archived already"),
            Need("storage.objects.create", bucket["archive"], "writes the archived copy"),
        ]
    elif task.kind == "quality_scan":
        scan = f"dataScans/{naming.data_quality_scan_id(item.pipeline, str(task.layer), str(task.table))}"
        needs += [Need("dataplex.datascans.run", scan, "starts the scan"),
                  Need("dataplex.datascans.getData", scan, "reads the scan's result")]
    elif item.analysis is not None:
        analysis = item.analysis
        for name in sorted(analysis.tables):
            resource = _resource(name)
            if name == analysis.target:
                needs.append(Need("bigquery.tables.updateData", resource, f"{analysis.kind.upper()} writes it"))
            if name != analysis.target or any(t == name for t, _ in analysis.reads):
                needs.append(Need("bigquery.tables.getData", resource, "reads it"))
        for table_name, column in sorted(analysis.reads):
            table = tables.get(table_name)
            tag = table.tags.get(column) if table else None
            if tag:
                needs.append(Need("datacatalog.categories.fineGrainedGet", f"policyTags/{tag}",
                                  f"reads column {column}, tagged {tag}", column=f"{table_name}.{column}"))
    return needs


def _resource(fqn: str) -> str:
    project, dataset, table = fqn.split(".")
    return f"projects/{project}/datasets/{dataset}/tables/{table}"
