"""Write a valid synthetic environment of a given size and time df-gen over it.

    python benchmarks/synthetic.py --datasources 100 --pipelines 1000 --out /tmp/synth

writes OUT/environment.yaml, OUT/datasources/*.yaml, OUT/pipelines/*.yaml and the shared
pipeline code under OUT/code/, then prints how long validation (and with --render, a cold
render, a no-op render and render --check) takes, best and median of --repeat runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENVIRONMENT = """\
apiVersion: dfgen/v1
kind: Environment
prefix: synth
organization:
  parent: folders/123456789012
  billing_account: 012345-6789AB-CDEF01
region: europe-west1
location: EU
projects:
  landing: {}
  processing: {}
  curated: {}
  exposure: {}
  orchestration: {}
network:
  vpc:
    subnets:
      composer:
        cidr: 10.10.0.0/24
composer:
  image_version: composer-3-airflow-2.10.5
  size: medium
principals:
  data_engineers:
    - group:data-engineers@example.com
  analysts:
    - group:analysts@example.com
policy_tags:
  tags:
    high:
      readers:
        - group:pii-readers@example.com
      masking: SHA256
    low: {}
terraform:
  state_bucket: synth-tfstate
  automation_service_account: terraform@synth-seed.iam.gserviceaccount.com
pipelines_dir: code
"""

DATASOURCE = """\
apiVersion: dfgen/v1
kind: DataSource
description: Synthetic source {index}
buckets:
  landing:
    retention_days: 7
    lifecycle:
      delete_after_days: 30
  archive:
    storage_class: NEARLINE
external_identities:
  writer: {{}}
datasets:
  landing: {{}}
  curated: {{}}
  exposure:
    iam:
      roles/bigquery.dataViewer:
        - group:analysts@example.com
labels:
  domain: ds{index}
"""

PIPELINE = """\
apiVersion: dfgen/v1
kind: Pipeline
datasource: {datasource}
code: generic
dag:
  schedule: "@daily"
  start_date: "2024-01-01"
tables:
  landing:
    t{index}:
      schema: schemas/events.json
      partitioning:
        field: event_date
      policy_tags:
        email: high
  curated:
    t{index}:
      schema: schemas/events.json
      clustering: [event_id]
      policy_tags:
        email: high
views:
  daily{index}:
    layer: exposure
    sql: sql/views/daily.sql.j2
    authorized_on: [curated]
data_quality:
  curated.t{index}:
    not_null: [event_id]
    unique: [event_id]
"""

SCHEMA = """[
  {"name": "event_id", "type": "STRING", "mode": "REQUIRED"},
  {"name": "event_date", "type": "DATE", "mode": "REQUIRED"},
  {"name": "email", "type": "STRING", "mode": "NULLABLE"}
]
"""

DAG = '''"""{{ dag_id }} (synthetic)."""
TABLES = {{ tables | tojson }}
TASKS = {{ tasks | tojson }}
'''

# The tasks the DAG runs (see pipelines/retail/tasks.yaml): df-gen access checks each.
TASKS = """\
tasks:
  - {id: "wait_{table}", each: landing_tables, kind: wait_for_files, identity: load}
  - {id: "load_{table}", each: landing_tables, kind: load_files, identity: load, project: landing}
  - {id: "transform_{table}", each: curated_tables, kind: query, identity: transformation,
     project: processing, sql: sql/merge.sql.j2}
  - {id: "check_{name}", each: "files:sql/checks/*.sql.j2", kind: check_query, identity: transformation,
     project: processing, sql: "sql/checks/{name}.sql.j2"}
  - {id: "archive_{table}", each: landing_tables, kind: archive_files, identity: load}
"""

# Every pipeline has one landing and one curated table of the same name.
MERGE = """\
MERGE `{{ datasets.curated.project }}.{{ datasets.curated.dataset_id }}.{{ tables[0].name }}` AS target
USING (
  SELECT event_id, event_date, LOWER(email) AS email
  FROM `{{ datasets.landing.project }}.{{ datasets.landing.dataset_id }}.{{ tables[0].name }}`
  WHERE event_id IS NOT NULL
) AS source
ON target.event_id = source.event_id
WHEN MATCHED THEN UPDATE SET email = source.email
WHEN NOT MATCHED THEN INSERT (event_id, event_date, email) VALUES (source.event_id, source.event_date, source.email)
"""

CHECK = """\
SELECT COUNT(*) > 0 AS has_rows
FROM `{{ datasets.curated.project }}.{{ datasets.curated.dataset_id }}.{{ tables[0].name }}`
"""

VIEW = """\
SELECT event_date, COUNT(DISTINCT event_id) AS events
FROM `{{ datasets.curated.project }}.{{ datasets.curated.dataset_id }}.{{ tables[0].name }}`
GROUP BY event_date
"""


def write(out: Path, datasources: int, pipelines: int) -> None:
    """Write the synthetic environment into ``out`` (replacing what is there)."""
    if out.exists():
        shutil.rmtree(out)
    (out / "datasources").mkdir(parents=True)
    (out / "pipelines").mkdir()
    (out / "code" / "generic" / "schemas").mkdir(parents=True)
    (out / "environment.yaml").write_text(ENVIRONMENT)
    (out / "code" / "generic" / "schemas" / "events.json").write_text(SCHEMA)
    (out / "code" / "generic" / "dag.py.j2").write_text(DAG)
    (out / "code" / "generic" / "tasks.yaml").write_text(TASKS)
    (out / "code" / "generic" / "sql" / "checks").mkdir(parents=True)
    (out / "code" / "generic" / "sql" / "views").mkdir()
    (out / "code" / "generic" / "sql" / "merge.sql.j2").write_text(MERGE)
    (out / "code" / "generic" / "sql" / "checks" / "not_empty.sql.j2").write_text(CHECK)
    (out / "code" / "generic" / "sql" / "views" / "daily.sql.j2").write_text(VIEW)
    for index in range(datasources):
        (out / "datasources" / f"ds{index}.yaml").write_text(DATASOURCE.format(index=index))
    for index in range(pipelines):
        text = PIPELINE.format(index=index, datasource=f"ds{index % datasources}")
        (out / "pipelines" / f"p{index}.yaml").write_text(text)


def _time(func, repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasources", type=int, default=100)
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/df-gen-synthetic"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--render", action="store_true", help="also time render (cold, no-op, --check)")
    args = parser.parse_args()

    from generator.validate import validate

    write(args.out, args.datasources, args.pipelines)
    files = 1 + args.datasources + args.pipelines
    print(f"synthetic environment: 1 environment, {args.datasources} data sources, "
          f"{args.pipelines} pipelines ({files} files) in {args.out}")
    best, median = _time(lambda: validate(args.out), args.repeat)
    print(f"validate: best {best:.3f} s, median {median:.3f} s ({files / best:.0f} files/s)")
    if args.render:
        from generator.render import render

        def cold() -> None:
            shutil.rmtree(args.out / "stacks", ignore_errors=True)
            render(args.out)

        best, median = _time(cold, args.repeat)
        written = sum(1 for p in (args.out / "stacks").rglob("*") if p.is_file())
        print(f"render (cold, {written} files): best {best:.3f} s, median {median:.3f} s")
        best, median = _time(lambda: render(args.out), args.repeat)
        print(f"render (no-op): best {best:.3f} s, median {median:.3f} s")
        best, median = _time(lambda: render(args.out, check=True), args.repeat)
        print(f"render --check: best {best:.3f} s, median {median:.3f} s")


if __name__ == "__main__":
    main()
