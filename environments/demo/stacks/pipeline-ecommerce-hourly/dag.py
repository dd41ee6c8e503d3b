"""Retail pipeline `ecommerce-hourly` of data source `ecommerce`.

Rendered by df-gen from `pipelines/retail/dag.py.j2`; edit the template, not this file.

For each landing table (customers, products, orders):

1. **wait** for CSV files under the table's prefix in the landing bucket;
2. **load** exactly those files into the landing table (raw STRING columns, appended);
3. **check** the landing table when the descriptor asks for it, by running its Dataplex
   data-quality scan (results exported to BigQuery; a failed rule fails the task);
4. **transform** landing into the curated table of the same name with a MERGE
   (typed, deduplicated, idempotent: re-running it changes nothing);
5. **check** the curated table with its Dataplex scan (rows present, keys not null and
   unique), and run the checks across tables in `sql/checks/` (orders reference known
   customers and products);
6. **archive**: move the loaded files to the archive bucket, only once all of the above
   succeeded, so a failed run leaves its files in landing for the next attempt. Each file
   is archived as `<run id>/<its landing name>`: the archive bucket's retention policy
   forbids replacing an object, so a re-delivered name must never meet its earlier copy.

A table the descriptor gave a new version (`<table>_v<N>`) is written in its new version;
while an older version is kept, a **backfill** task first copies the older rows into it
(once: the statement inserts only while the new table is empty).

Which account each task impersonates, and the SQL it runs, is declared in the pipeline
code's `tasks.yaml` (rendered below as `TASKS`): loading and archiving impersonate the load
service account; transformations and checks the transformation service account. Project IDs, location and service
accounts come from the Airflow Variables that the environment sets on Composer
(`AIRFLOW_VAR_DF_*`). The aggregated exposure view is created by Terraform, not here.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.google.cloud.hooks.gcs import GCSHook
from airflow.providers.google.cloud.operators.bigquery import (
    BigQueryCheckOperator,
    BigQueryInsertJobOperator,
)
from airflow.providers.google.cloud.operators.dataplex import DataplexRunDataQualityScanOperator
from airflow.providers.google.cloud.sensors.gcs import GCSObjectsWithPrefixExistenceSensor
from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator

try:  # Airflow 3 (composer-3-airflow-3.*): DAGs are written against the Task SDK.
    from airflow.sdk import DAG, Variable, task
except ImportError:  # Airflow 2 (composer-3-airflow-2.*)
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable

# Values rendered by df-gen from the environment, data source and pipeline descriptors.
DAG_ID = "ecommerce-hourly"
SCHEDULE = "@hourly"
START_DATE = "2024-01-01"
RETRIES = 3
PIPELINE = "ecommerce-hourly"
DATASOURCE = "ecommerce"
LANDING_BUCKET = "acme-demo-ecommerce-landing"
ARCHIVE_BUCKET = "acme-demo-ecommerce-archive"
# Layer -> "project.dataset".
DATASETS = {
    "curated": "acme-demo-cur.acme_demo_ecommerce_curated",
    "exposure": "acme-demo-exp.acme_demo_ecommerce_exposure",
    "landing": "acme-demo-lnd.acme_demo_ecommerce_landing",
}
# Landing table -> object prefix of its files in the landing bucket (default "<table>/").
LANDING_TABLES = {
    "customers": "customers/",
    "orders": "orders/",
    "products": "products/",
}
# Layer.table -> the table ID of its current version (`<table>`, or `<table>_v<N>` once the
# descriptor gave the table a new version): loads write the current version.
TABLE_IDS = {
    "landing.customers": "customers",
    "landing.orders": "orders",
    "landing.products": "products",
    "curated.customers": "customers",
    "curated.orders": "orders",
    "curated.products": "products",
}
# The DAG's tasks, declared in the pipeline code's tasks.yaml and expanded by df-gen:
# task ID -> what it does (kind), the task service account it impersonates (identity), its
# table and the SQL file it runs (relative to SQL_FOLDER). `df-gen access` checks the grants
# of this same list, so what runs and what is checked cannot drift apart.
TASKS = {
    "wait_customers": {"identity": "load", "kind": "wait_for_files", "layer": "landing", "table": "customers"},
    "wait_orders": {"identity": "load", "kind": "wait_for_files", "layer": "landing", "table": "orders"},
    "wait_products": {"identity": "load", "kind": "wait_for_files", "layer": "landing", "table": "products"},
    "load_customers": {"identity": "load", "kind": "load_files", "layer": "landing", "project": "landing", "table": "customers"},
    "load_orders": {"identity": "load", "kind": "load_files", "layer": "landing", "project": "landing", "table": "orders"},
    "load_products": {"identity": "load", "kind": "load_files", "layer": "landing", "project": "landing", "table": "products"},
    "check_curated_orders": {"identity": "transformation", "kind": "quality_scan", "layer": "curated", "table": "orders"},
    "transform_customers": {"identity": "transformation", "kind": "query", "layer": "curated", "project": "processing", "sql": "customers.sql", "table": "customers"},
    "transform_orders": {"identity": "transformation", "kind": "query", "layer": "curated", "project": "processing", "sql": "orders.sql", "table": "orders"},
    "transform_products": {"identity": "transformation", "kind": "query", "layer": "curated", "project": "processing", "sql": "products.sql", "table": "products"},
    "check_orders_references": {"identity": "transformation", "kind": "check_query", "project": "processing", "sql": "checks/orders_references.sql"},
    "archive_customers": {"identity": "load", "kind": "archive_files", "layer": "landing", "table": "customers"},
    "archive_orders": {"identity": "load", "kind": "archive_files", "layer": "landing", "table": "orders"},
    "archive_products": {"identity": "load", "kind": "archive_files", "layer": "landing", "table": "products"},
}
SQL_FOLDER = "ecommerce-hourly/sql"
# Dataplex data-quality scans (created by Terraform from the descriptor's data_quality),
# each run once its table is written.
QUALITY = [
    {
        "table": "orders",
        "layer": "curated",
        "scan_id": "ecommerce-hourly-curated-orders",
        "project": "acme-demo-cur",
        "region": "europe-west1",
    },
]
# Free variables of the pipeline descriptor (strings, numbers, booleans), exposed to
# templates as `params`. Read here: sensor_timeout_minutes (default 360) and
# skip_without_files (default false: a run without files fails when the sensor times out).
PARAMS = json.loads("{\"skip_without_files\": true}")

# Environment-wide values. Composer defines them as AIRFLOW_VAR_* environment variables,
# which Variable.get reads without a metadata database query, so parsing stays cheap.
LOCATION = Variable.get("df_location")
LANDING_PROJECT = Variable.get("df_landing_project")
PROCESSING_PROJECT = Variable.get("df_processing_project")
LOAD_SA = Variable.get("df_load_sa")
TRANSFORMATION_SA = Variable.get("df_transformation_sa")
# The account each declared identity impersonates, and the projects jobs run in.
ACCOUNTS = {"load": LOAD_SA, "transformation": TRANSFORMATION_SA}
PROJECTS = {"landing": LANDING_PROJECT, "processing": PROCESSING_PROJECT}

SQL_DIR = Path(__file__).resolve().parent / SQL_FOLDER
# Poke rarely and free the worker slot between pokes; the wait is bounded so that a run
# without files ends (max_active_runs=1 would otherwise hold back the next runs).
SENSOR_POKE = timedelta(minutes=5)
SENSOR_TIMEOUT = timedelta(minutes=float(PARAMS.get("sensor_timeout_minutes", 360)))
SKIP_WITHOUT_FILES = bool(PARAMS.get("skip_without_files", False))
QUALITY_TIMEOUT = timedelta(hours=1)


def table_id(layer: str, table: str) -> str:
    """Return the `project.dataset.table` id of a table's current version in a layer."""
    return f"{DATASETS[layer]}.{TABLE_IDS[f'{layer}.{table}']}"


def declared(kind: str) -> list[tuple[str, dict]]:
    """The declared tasks of one kind, as (task ID, declaration) pairs."""
    return [(task_id, spec) for task_id, spec in TASKS.items() if spec["kind"] == kind]


def archive_name(run_id: str, name: str) -> str:
    """The archive object of landing object `name` moved by run `run_id`.

    The archive bucket has a retention policy, under which an object can be neither
    replaced nor deleted: an earlier delivery of the same name, archived by an earlier
    run, must keep its own object. Run ids are unique per DAG, so names cannot collide.
    """
    return f"{run_id}/{name}"


@task
def archive(name: str, account: str, run_id: str | None = None) -> str:
    """Move one loaded landing object to the archive bucket; return its archive name.

    Safe to retry: an archive object already written by an earlier try of this run is
    kept (it cannot be replaced anyway) and only the landing object is deleted.
    """
    if run_id is None:
        raise ValueError("archive needs the run id from the task context")
    target = archive_name(run_id, name)
    hook = GCSHook(impersonation_chain=account)
    if not hook.exists(ARCHIVE_BUCKET, target):
        # rewrite, not copy: it also completes for large objects and across storage classes.
        hook.rewrite(LANDING_BUCKET, name, ARCHIVE_BUCKET, target)
    hook.delete(LANDING_BUCKET, name)
    return target


default_args = {
    "owner": "data-engineering",
    "depends_on_past": False,
    "retries": RETRIES,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
}

with DAG(
    dag_id=DAG_ID,
    description=f"Retail pipeline {PIPELINE} of data source {DATASOURCE}",
    schedule=SCHEDULE,
    start_date=pendulum.parse(START_DATE, tz="UTC"),
    catchup=False,
    # Runs share the landing files; two at once would load them twice.
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=12),
    default_args=default_args,
    params=PARAMS,
    tags=["df-gen", "retail", PIPELINE, DATASOURCE],
    doc_md=__doc__,
) as dag:
    # Backfills (added by df-gen for a table whose new version keeps an older one): copy the
    # older version's rows into the new one before anything writes it. The statement inserts
    # only while the new table is empty, so every run after the first changes nothing.
    backfills = {}
    for task_id, spec in declared("backfill"):
        backfills[(spec["layer"], spec["table"])] = BigQueryInsertJobOperator(
            task_id=task_id,
            configuration={
                "query": {
                    "query": (SQL_DIR / spec["sql"]).read_text(encoding="utf-8"),
                    "useLegacySql": False,
                }
            },
            project_id=PROJECTS[spec["project"]],
            location=LOCATION,
            impersonation_chain=ACCOUNTS[spec["identity"]],
        )
    producers = {}
    landed = {}
    for task_id, spec in declared("wait_for_files"):
        table = spec["table"]
        landed[table] = GCSObjectsWithPrefixExistenceSensor(
            task_id=task_id,
            bucket=LANDING_BUCKET,
            prefix=LANDING_TABLES[table],
            impersonation_chain=ACCOUNTS[spec["identity"]],
            mode="reschedule",
            poke_interval=SENSOR_POKE.total_seconds(),
            timeout=SENSOR_TIMEOUT.total_seconds(),
            soft_fail=SKIP_WITHOUT_FILES,
        )
    for task_id, spec in declared("load_files"):
        table = spec["table"]
        wait = landed[table]
        load = GCSToBigQueryOperator(
            task_id=task_id,
            bucket=LANDING_BUCKET,
            # Exactly the objects the sensor found, so a file arriving mid-run waits for
            # the next run instead of being archived unloaded.
            source_objects=wait.output,
            destination_project_dataset_table=table_id("landing", table),
            source_format="CSV",
            skip_leading_rows=1,
            allow_quoted_newlines=True,
            # The table and its schema (with policy tags) belong to Terraform.
            autodetect=None,
            create_disposition="CREATE_NEVER",
            write_disposition="WRITE_APPEND",
            project_id=PROJECTS[spec["project"]],
            location=LOCATION,
            impersonation_chain=ACCOUNTS[spec["identity"]],
        )
        wait >> load
        if ("landing", table) in backfills:
            backfills[("landing", table)] >> load
        producers[("landing", table)] = load

    for task_id, spec in declared("query"):
        table = spec["table"]
        transform = BigQueryInsertJobOperator(
            task_id=task_id,
            configuration={
                "query": {
                    "query": (SQL_DIR / spec["sql"]).read_text(encoding="utf-8"),
                    "useLegacySql": False,
                }
            },
            project_id=PROJECTS[spec["project"]],
            location=LOCATION,
            impersonation_chain=ACCOUNTS[spec["identity"]],
        )
        # A curated table is built from the landing table of the same name, or from all
        # of them when there is none.
        loads = [task for (layer, _), task in producers.items() if layer == "landing"]
        producers.get(("landing", table), loads) >> transform
        if ("curated", table) in backfills:
            backfills[("curated", table)] >> transform
        producers[("curated", table)] = transform

    # Tasks that must succeed before a landing table's files may be archived.
    finals = {key: [task] for key, task in producers.items()}
    scans = {(check["layer"], check["table"]): check for check in QUALITY}
    for task_id, spec in declared("quality_scan"):
        key = (spec["layer"], spec["table"])
        check = scans[key]
        check_task = DataplexRunDataQualityScanOperator(
            task_id=task_id,
            project_id=check["project"],
            region=check["region"],
            data_scan_id=check["scan_id"],
            # Wait for the job and fail the task when a rule does not pass.
            fail_on_dq_failure=True,
            result_timeout=QUALITY_TIMEOUT.total_seconds(),
            impersonation_chain=ACCOUNTS[spec["identity"]],
        )
        producers[key] >> check_task
        finals[key] = [check_task]
        # A transformation reads a landing table only once that table passed its checks.
        if key[0] == "landing" and ("curated", key[1]) in producers:
            check_task >> producers[("curated", key[1])]

    # Checks across tables (e.g. foreign keys), run after every transformation; each must
    # return one row of TRUE values.
    gates = []
    for task_id, spec in declared("check_query"):
        gate = BigQueryCheckOperator(
            task_id=task_id,
            sql=(SQL_DIR / spec["sql"]).read_text(encoding="utf-8"),
            use_legacy_sql=False,
            project_id=PROJECTS[spec["project"]],
            location=LOCATION,
            impersonation_chain=ACCOUNTS[spec["identity"]],
        )
        [task for (layer, _), task in producers.items() if layer == "curated"] >> gate
        gates.append(gate)

    for task_id, spec in declared("archive_files"):
        table = spec["table"]
        wait = landed[table]
        # One mapped task instance per loaded file: the move is exact and a retry only
        # repeats the files that failed.
        moved = archive.override(task_id=task_id).partial(account=ACCOUNTS[spec["identity"]]).expand(
            name=wait.output
        )
        finals.get(("curated", table), finals[("landing", table)]) >> moved
        finals[("landing", table)] >> moved
        gates >> moved
