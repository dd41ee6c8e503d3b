"""Tests of the retail demo pipeline code in ``pipelines/retail``.

The DAG and SQL templates are rendered the way df-gen renders them (one strict Jinja
environment, the context of the contract) into a temporary DAG folder, then checked:

- the DAG compiles, and its structure (tasks, dependencies, impersonation) is read by
  running it against a small stand-in of the Airflow API, in every test run;
- the same DAG is loaded into the real ``DagBag`` of Airflow 2 and of Airflow 3, each with
  the Google provider Composer ships (the interpreters named by ``DF_GEN_AIRFLOW2_PYTHON``
  and ``DF_GEN_AIRFLOW3_PYTHON``; ``make test`` installs both), without import errors or
  deprecation warnings, and ruff's Airflow 3 migration rules find nothing to change;
- the SQL parses with sqlglot's BigQuery dialect and agrees with the table schemas, and
  its behaviour (deduplication, idempotency, strict typing, checks, the view's totals) is
  exercised on DuckDB over the sample data, transpiled by sqlglot;
- the sample data agrees with the schemas and is what the generator produces.
"""

from __future__ import annotations

import ast
import copy
import csv
import importlib.util
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from generator import jinja as df_gen_jinja
from generator import tasks as df_gen_tasks

# sqlglot (BigQuery parser) is a test dependency; DuckDB is optional, see Warehouse.
sqlglot = pytest.importorskip("sqlglot")
exp = pytest.importorskip("sqlglot.expressions")

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / "pipelines" / "retail"
GENERATOR = ROOT / "tools" / "generate_sample_data.py"
ENTITIES = ("customers", "products", "orders")
KEYS = {"customers": "customer_id", "products": "product_id", "orders": "order_id"}
FOREIGN_KEYS = {("orders", "customer_id"): "customers", ("orders", "product_id"): "products"}
PII_LEVELS = {"high", "medium", "low"}

# A render context as df-gen builds it for the demo environment (contract.md).
CONTEXT: dict[str, Any] = {
    "dag_id": "sales-daily",
    "schedule": "@daily",
    "start_date": "2024-01-01",
    "retries": 2,
    "pipeline": "sales-daily",
    "datasource": "sales",
    "buckets": {"landing": "dfd-sales-landing", "archive": "dfd-sales-archive"},
    "datasets": {
        "landing": {"project": "dfd-landing", "dataset_id": "sales_landing"},
        "curated": {"project": "dfd-curated", "dataset_id": "sales_curated"},
        "exposure": {"project": "dfd-exposure", "dataset_id": "sales_exposure"},
    },
    "tables": [
        *({"name": n, "layer": "landing", "table_id": n, "source_uri_prefix": f"{n}/"} for n in ENTITIES),
        *({"name": n, "layer": "curated", "table_id": n, "source_uri_prefix": None} for n in ENTITIES),
    ],
    "sql_folder": "sql/sales-daily",
    # Descriptor variables may be strings, numbers or booleans.
    "variables": {
        "note": "it's \"quoted\" <b>",
        "sensor_timeout_minutes": 50,
        "skip_without_files": True,
    },
    # Dataplex scans, run by the DAG (the rules live in Terraform, see modules/pipeline).
    "quality": [
        {"table": "orders", "layer": "landing", "scan_id": "sales-daily-landing-orders",
         "project": "dfd-landing", "region": "europe-west1"},
        *(
            {"table": n, "layer": "curated", "scan_id": f"sales-daily-curated-{n}",
             "project": "dfd-curated", "region": "europe-west1"}
            for n in ENTITIES
        ),
    ],
}
# `{{ ref.<layer>.<table> }}`: the quoted ID of each table's current version.
CONTEXT["ref"] = {
    layer: {t["name"]: f"`{CONTEXT['datasets'][layer]['project']}.{CONTEXT['datasets'][layer]['dataset_id']}."
                       f"{t['table_id']}`" for t in CONTEXT["tables"] if t["layer"] == layer}
    for layer in ("landing", "curated")
}
# The DAG's tasks, expanded from the code's tasks.yaml the way the model does it.
CONTEXT["tasks"] = [
    {"id": t.id, "spec": t.dag_entry()}
    for t in df_gen_tasks.expand(CODE, {
        "tables": {layer: {n: {} for n in ENTITIES} for layer in ("landing", "curated")},
        "data_quality": {f"{q['layer']}.{q['table']}": {} for q in CONTEXT["quality"]},
    })
]
# Airflow Variables that the environment module sets on Composer (AIRFLOW_VAR_*).
AIRFLOW_VARIABLES = {
    "df_landing_project": "dfd-landing",
    "df_processing_project": "dfd-processing",
    "df_curated_project": "dfd-curated",
    "df_exposure_project": "dfd-exposure",
    "df_orchestration_project": "dfd-orchestration",
    "df_region": "europe-west1",
    "df_location": "EU",
    "df_load_sa": "dfd-load@dfd-processing.iam.gserviceaccount.com",
    "df_transformation_sa": "dfd-trf@dfd-processing.iam.gserviceaccount.com",
    "df_orchestration_sa": "dfd-orc@dfd-orchestration.iam.gserviceaccount.com",
}
LOAD_SA = AIRFLOW_VARIABLES["df_load_sa"]
TRF_SA = AIRFLOW_VARIABLES["df_transformation_sa"]


# --- rendering ---------------------------------------------------------------------------


def plain_env() -> jinja2.Environment:
    """The environment contract.md describes: strict, default delimiters and whitespace."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(CODE)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(name: str, context: dict[str, Any] | None = None) -> str:
    """Render one template of the pipeline code with df-gen's own Jinja environment."""
    return df_gen_jinja.environment(CODE).get_template(name).render(**(context or CONTEXT))


def sql_templates() -> list[str]:
    return sorted(p.relative_to(CODE).as_posix() for p in (CODE / "sql").rglob("*.sql.j2"))


def render_dag_folder(folder: Path, context: dict[str, Any] | None = None) -> Path:
    """Lay out a Composer DAG folder: the DAG file and the SQL under ``sql_folder``."""
    context = context or CONTEXT
    dag_file = folder / f"{context['dag_id'].replace('-', '_')}.py"
    folder.mkdir(parents=True, exist_ok=True)
    dag_file.write_text(render("dag.py.j2", context), encoding="utf-8")
    for name in sql_templates():
        target = folder / context["sql_folder"] / Path(name).relative_to("sql").with_suffix("")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(name, context), encoding="utf-8")
    return dag_file


def fqn(layer: str, table: str) -> str:
    dataset = CONTEXT["datasets"][layer]
    return f"{dataset['project']}.{dataset['dataset_id']}.{table}"


def load_schema(layer: str, table: str) -> list[dict[str, Any]]:
    return json.loads((CODE / "schemas" / layer / f"{table}.json").read_text(encoding="utf-8"))


def field_names(layer: str, table: str) -> list[str]:
    return [field["name"] for field in load_schema(layer, table)]


def test_every_template_renders_with_the_contract_context() -> None:
    templates = sorted(p.relative_to(CODE).as_posix() for p in CODE.rglob("*.j2"))
    assert "dag.py.j2" in templates
    assert len(templates) == 1 + len(sql_templates())
    for name in templates:
        text = render(name)
        assert text.endswith("\n"), name
        assert "{{" not in text and "{%" not in text, f"{name}: Jinja left in the output"


@pytest.mark.parametrize("name", ["dag.py.j2", "sql/orders.sql.j2"])
def test_templates_render_in_a_plain_strict_environment(name: str) -> None:
    # Without df-gen's trim_blocks/lstrip_blocks the layout differs, the code does not.
    # (Variables without characters that the two tojson filters escape differently.)
    context = {**CONTEXT, "variables": {"sensor_timeout_minutes": 50}}
    text = plain_env().get_template(name).render(**context)
    if name.endswith(".py.j2"):
        assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(render(name, context)))
    else:
        assert sqlglot.parse_one(text, read="bigquery") == sqlglot.parse_one(
            render(name), read="bigquery"
        )


def test_templates_need_only_the_contract_context() -> None:
    # Each key the templates use must be in the context; a missing one is an error, not "".
    context = {key: value for key, value in CONTEXT.items() if key != "datasets"}
    with pytest.raises(jinja2.UndefinedError, match="datasets"):
        render("dag.py.j2", context)
    context = {key: value for key, value in CONTEXT.items() if key != "ref"}
    with pytest.raises(jinja2.UndefinedError, match="ref"):
        render("sql/customers.sql.j2", context)


def test_rendering_is_deterministic() -> None:
    assert render("dag.py.j2") == render("dag.py.j2", copy.deepcopy(CONTEXT))


# --- the DAG, statically ----------------------------------------------------------------


def dag_call(tree: ast.Module) -> ast.Call:
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "DAG"
    ]
    assert len(calls) == 1
    return calls[0]


def test_rendered_dag_compiles_with_the_fixed_settings() -> None:
    source = render("dag.py.j2")
    tree = ast.parse(source)
    compile(tree, "sales_daily.py", "exec")
    constants = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.isupper()
        and not isinstance(node.value, ast.Call | ast.BinOp)
        and node.targets[0].id not in ("ACCOUNTS", "PROJECTS")  # built from Variables
    }
    params = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "PARAMS"
    )
    # PARAMS = json.loads("<JSON>"): JSON booleans are not Python literals.
    assert isinstance(params, ast.Call) and isinstance(params.args[0], ast.Constant)
    assert isinstance(params.args[0].value, str)
    constants["PARAMS"] = json.loads(params.args[0].value)
    assert constants["DAG_ID"] == "sales-daily"
    assert constants["START_DATE"] == "2024-01-01"
    assert constants["RETRIES"] == 2
    assert constants["LANDING_TABLES"] == {n: f"{n}/" for n in ENTITIES}
    assert {k for k, v in constants["TASKS"].items() if v["kind"] == "query"} == {
        f"transform_{n}" for n in ENTITIES
    }
    assert constants["TASKS"]["transform_orders"] == {
        "kind": "query", "identity": "transformation", "project": "processing", "layer": "curated",
        "table": "orders", "sql": "orders.sql",
    }
    assert constants["DATASETS"]["curated"] == "dfd-curated.sales_curated"
    assert constants["PARAMS"] == CONTEXT["variables"]
    assert constants["QUALITY"] == CONTEXT["quality"]
    keywords = {kw.arg: kw.value for kw in dag_call(tree).keywords}
    assert isinstance(keywords["catchup"], ast.Constant) and keywords["catchup"].value is False
    assert {"dag_id", "schedule", "start_date", "default_args", "tags", "doc_md"} <= set(keywords)


def test_landing_prefix_defaults_to_the_table_name() -> None:
    context = copy.deepcopy(CONTEXT)
    context["tables"][0]["source_uri_prefix"] = None
    assert '"customers": "customers/",' in render("dag.py.j2", context)


# --- the DAG, run against a stand-in of the Airflow API -----------------------------------


class _XCom:
    """Stands for ``task.output``: the value a task returns, resolved at run time."""

    def __init__(self, task: _Task) -> None:
        self.task = task


class _Task:
    """Records an operator's arguments and its upstream tasks, like BaseOperator."""

    registry: dict[str, _Task] = {}

    def __init__(self, task_id: str, mapped: bool = False, **kwargs: Any) -> None:
        assert task_id not in self.registry, f"duplicate task_id {task_id}"
        self.task_id, self.kwargs, self.mapped = task_id, kwargs, mapped
        self.operator = type(self).__name__
        self.upstream: set[str] = {v.task.task_id for v in kwargs.values() if isinstance(v, _XCom)}
        self.registry[task_id] = self

    @property
    def output(self) -> _XCom:
        return _XCom(self)

    def __rshift__(self, other: _Task | list[_Task]) -> _Task | list[_Task]:
        for task in other if isinstance(other, list) else [other]:
            task.upstream.add(self.task_id)
        return other

    def __rrshift__(self, other: list[_Task]) -> _Task:
        for task in other:
            self.upstream.add(task.task_id)
        return self

    @classmethod
    def partial(cls, **kwargs: Any) -> types.SimpleNamespace:
        return types.SimpleNamespace(expand=lambda **more: cls(mapped=True, **kwargs, **more))


class _TaskFlow:
    """Stands for an ``@task``-decorated function: ``.override(task_id=...).expand(...)``."""

    def __init__(self, function: Any, task_id: str | None = None) -> None:
        self.function, self.task_id = function, task_id or function.__name__

    def override(self, task_id: str) -> _TaskFlow:
        return _TaskFlow(self.function, task_id)

    def partial(self, **kwargs: Any) -> Any:
        return types.SimpleNamespace(expand=lambda **more: self.expand(**kwargs, **more))

    def expand(self, **kwargs: Any) -> _Task:
        mapped = type("@task", (_Task,), {})(self.task_id, mapped=True, **kwargs)
        mapped.function = self.function  # type: ignore[attr-defined]
        return mapped


class RetentionError(Exception):
    """What GCS answers (403) when an object under a retention policy would be replaced."""


class _Gcs:
    """Objects of the sandbox buckets by bucket, and the identities that touched them.

    The archive bucket has a retention policy, so its objects can be neither replaced
    nor deleted (https://cloud.google.com/storage/docs/bucket-lock).
    """

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, str]] = {"dfd-sales-landing": {}, "dfd-sales-archive": {}}
        self.retained = {"dfd-sales-archive"}
        self.identities: set[Any] = set()
        self.fail_next_delete = False

    def hook(self, impersonation_chain: Any = None) -> Any:
        self.identities.add(impersonation_chain)
        gcs = self

        class Hook:
            def exists(self, bucket_name: str, object_name: str) -> bool:
                return object_name in gcs.objects[bucket_name]

            def rewrite(self, source_bucket: str, source_object: str,
                        destination_bucket: str, destination_object: str) -> None:
                target = gcs.objects[destination_bucket]
                if destination_bucket in gcs.retained and destination_object in target:
                    raise RetentionError(f"{destination_object} is under retention")
                target[destination_object] = gcs.objects[source_bucket][source_object]

            def delete(self, bucket_name: str, object_name: str) -> None:
                if bucket_name in gcs.retained:
                    raise RetentionError(f"{object_name} is under retention")
                if gcs.fail_next_delete:
                    gcs.fail_next_delete = False
                    raise ConnectionError("delete interrupted")
                del gcs.objects[bucket_name][object_name]

        return Hook()


class _Dag:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __enter__(self) -> _Dag:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _stub_airflow(monkeypatch: pytest.MonkeyPatch, major: int = 2) -> None:
    """Install fake ``airflow`` and ``pendulum`` modules with the names the DAG imports.

    ``major`` picks the layout: Airflow 2 has ``airflow.DAG`` and ``airflow.models.Variable``;
    Airflow 3's DAG authoring interface is ``airflow.sdk`` (the old names only linger).
    """
    operators = {
        "airflow.providers.google.cloud.operators.bigquery": (
            "BigQueryCheckOperator",
            "BigQueryInsertJobOperator",
        ),
        "airflow.providers.google.cloud.operators.dataplex": ("DataplexRunDataQualityScanOperator",),
        "airflow.providers.google.cloud.sensors.gcs": ("GCSObjectsWithPrefixExistenceSensor",),
        "airflow.providers.google.cloud.transfers.gcs_to_bigquery": ("GCSToBigQueryOperator",),
    }
    airflow: Any = types.ModuleType("airflow")
    hooks: Any = types.ModuleType("airflow.providers.google.cloud.hooks.gcs")
    hooks.GCSHook = lambda impersonation_chain=None: GCS.hook(impersonation_chain)
    monkeypatch.setitem(sys.modules, hooks.__name__, hooks)
    # Variable.get of a name the environment does not set fails, as in Composer.
    variable = types.SimpleNamespace(get=AIRFLOW_VARIABLES.__getitem__)
    monkeypatch.setitem(sys.modules, "airflow", airflow)
    if major == 2:
        airflow.DAG = _Dag
        models: Any = types.ModuleType("airflow.models")
        models.Variable = variable
        monkeypatch.setitem(sys.modules, "airflow.models", models)
        decorators: Any = types.ModuleType("airflow.decorators")
        decorators.task = _TaskFlow
        monkeypatch.setitem(sys.modules, "airflow.decorators", decorators)
        monkeypatch.setitem(sys.modules, "airflow.sdk", None)  # no Task SDK in Airflow 2
    else:
        airflow.__path__ = []  # a package, so that airflow.sdk imports
        sdk: Any = types.ModuleType("airflow.sdk")
        sdk.DAG, sdk.Variable, sdk.task = _Dag, variable, _TaskFlow
        monkeypatch.setitem(sys.modules, "airflow.sdk", sdk)
    for module_name, names in operators.items():
        module = types.ModuleType(module_name)
        for name in names:
            setattr(module, name, type(name, (_Task,), {}))
        monkeypatch.setitem(sys.modules, module_name, module)
    pendulum: Any = types.ModuleType("pendulum")
    pendulum.parse = lambda text, tz: datetime.fromisoformat(text).replace(tzinfo=UTC)
    monkeypatch.setitem(sys.modules, "pendulum", pendulum)


GCS = _Gcs()


@pytest.fixture(params=[2, 3], ids=["airflow2", "airflow3"])
def stub_dag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    """Run the rendered DAG file against the stand-in of each Airflow; yield its globals."""
    _stub_airflow(monkeypatch, request.param)
    monkeypatch.setattr(_Task, "registry", {})
    monkeypatch.setattr(sys.modules[__name__], "GCS", _Gcs())
    dag_file = render_dag_folder(tmp_path / "dags")
    yield runpy.run_path(str(dag_file))


EXPECTED_UPSTREAM = {
    "wait_customers": set(),
    "wait_products": set(),
    "wait_orders": set(),
    "load_customers": {"wait_customers"},
    "load_products": {"wait_products"},
    "load_orders": {"wait_orders"},
    "check_landing_orders": {"load_orders"},
    "transform_customers": {"load_customers"},
    "transform_products": {"load_products"},
    "transform_orders": {"load_orders", "check_landing_orders"},
    "check_curated_customers": {"transform_customers"},
    "check_curated_products": {"transform_products"},
    "check_curated_orders": {"transform_orders"},
    "check_orders_references": {"transform_customers", "transform_products", "transform_orders"},
    "archive_customers": {
        "wait_customers", "load_customers", "check_curated_customers", "check_orders_references"
    },
    "archive_products": {
        "wait_products", "load_products", "check_curated_products", "check_orders_references"
    },
    "archive_orders": {
        "wait_orders", "check_landing_orders", "check_curated_orders", "check_orders_references"
    },
}


def test_dag_tasks_and_dependencies(stub_dag: dict[str, Any]) -> None:
    tasks = _Task.registry
    assert {task_id: task.upstream for task_id, task in tasks.items()} == EXPECTED_UPSTREAM
    dag = stub_dag["dag"].kwargs
    assert dag["catchup"] is False
    assert dag["max_active_runs"] == 1
    assert dag["start_date"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert dag["schedule"] == "@daily"
    assert dag["default_args"]["retries"] == 2
    assert dag["default_args"]["retry_delay"].total_seconds() > 0
    assert dag["params"] == CONTEXT["variables"]
    assert {"sales-daily", "sales"} <= set(dag["tags"])


def test_dag_tasks_impersonate_the_task_service_accounts(stub_dag: dict[str, Any]) -> None:
    expected = {
        "GCSObjectsWithPrefixExistenceSensor": LOAD_SA,
        "GCSToBigQueryOperator": LOAD_SA,
        "BigQueryInsertJobOperator": TRF_SA,
        "BigQueryCheckOperator": TRF_SA,
        "DataplexRunDataQualityScanOperator": TRF_SA,
    }
    for task in _Task.registry.values():
        if task.operator == "@task":
            continue  # archive: its hook impersonates, see test_archive_*
        assert task.kwargs["impersonation_chain"] == expected[task.operator], task.task_id


def test_dag_loads_exactly_the_sensed_files_and_archives_them(stub_dag: dict[str, Any]) -> None:
    tasks = _Task.registry
    for table in ENTITIES:
        wait, load = tasks[f"wait_{table}"], tasks[f"load_{table}"]
        archive = tasks[f"archive_{table}"]
        assert wait.kwargs["bucket"] == "dfd-sales-landing"
        assert wait.kwargs["prefix"] == f"{table}/"
        assert wait.kwargs["mode"] == "reschedule"
        assert wait.kwargs["timeout"] == 50 * 60
        assert wait.kwargs["soft_fail"] is True
        assert load.kwargs["source_objects"].task is wait
        assert load.kwargs["destination_project_dataset_table"] == fqn("landing", table)
        assert load.kwargs["write_disposition"] == "WRITE_APPEND"
        assert load.kwargs["create_disposition"] == "CREATE_NEVER"
        assert load.kwargs["skip_leading_rows"] == 1
        assert load.kwargs["project_id"] == "dfd-landing"
        assert load.kwargs["location"] == "EU"
        assert archive.mapped and archive.kwargs["name"].task is wait
        assert archive.kwargs["account"] == LOAD_SA
        assert archive.function is stub_dag["archive"].function


def test_archive_moves_each_delivery_under_its_own_run(stub_dag: dict[str, Any]) -> None:
    """A re-delivered name is archived again: its earlier copy is under retention."""
    archive, landing, kept = stub_dag["archive"].function, "dfd-sales-landing", "dfd-sales-archive"
    name = "customers/customers-20250101.csv"
    first, second = "scheduled__2025-01-01T03:00:00+00:00", "manual__2025-01-02T09:12:00+00:00"
    GCS.objects[landing][name] = "delivery 1"
    assert archive(name, LOAD_SA, run_id=first) == f"{first}/{name}"
    GCS.objects[landing][name] = "delivery 2"
    assert archive(name, LOAD_SA, run_id=second) == f"{second}/{name}"
    assert GCS.objects[landing] == {}
    assert GCS.objects[kept] == {f"{first}/{name}": "delivery 1", f"{second}/{name}": "delivery 2"}
    assert GCS.identities == {LOAD_SA}
    # Every archived object keeps its own name: none was replaced (GCS would refuse it).
    GCS.objects[landing][name] = "delivery 3"
    with pytest.raises(ValueError, match="run id"):
        archive(name, LOAD_SA)


def test_archive_retry_after_a_failed_delete_keeps_the_archived_copy(
    stub_dag: dict[str, Any]
) -> None:
    archive, landing, kept = stub_dag["archive"].function, "dfd-sales-landing", "dfd-sales-archive"
    name, run = "orders/orders-20250101.csv", "scheduled__2025-01-01T03:00:00+00:00"
    GCS.objects[landing][name] = "orders"
    GCS.fail_next_delete = True
    with pytest.raises(ConnectionError):
        archive(name, LOAD_SA, run_id=run)
    # The retry finds the archived copy (which it could not replace) and deletes the file.
    assert archive(name, LOAD_SA, run_id=run) == f"{run}/{name}"
    assert GCS.objects == {landing: {}, kept: {f"{run}/{name}": "orders"}}


def test_dag_runs_the_rendered_sql(stub_dag: dict[str, Any], tmp_path: Path) -> None:
    for table in ENTITIES:
        task = _Task.registry[f"transform_{table}"]
        query = task.kwargs["configuration"]["query"]
        assert query["useLegacySql"] is False
        assert query["query"] == render(f"sql/{table}.sql.j2")
        assert task.kwargs["project_id"] == "dfd-processing"
    gate = _Task.registry["check_orders_references"]
    assert gate.operator == "BigQueryCheckOperator"
    assert gate.kwargs["sql"] == render("sql/checks/orders_references.sql.j2")


def test_dag_runs_the_data_quality_scans_once_their_tables_are_written(
    stub_dag: dict[str, Any]
) -> None:
    for check in CONTEXT["quality"]:
        task = _Task.registry[f"check_{check['layer']}_{check['table']}"]
        assert task.operator == "DataplexRunDataQualityScanOperator"
        assert task.kwargs["data_scan_id"] == check["scan_id"]
        assert task.kwargs["project_id"] == check["project"]
        assert task.kwargs["region"] == "europe-west1"
        # Synchronous: the task waits for the job and fails when a rule fails.
        assert task.kwargs["fail_on_dq_failure"] is True
        assert task.kwargs["result_timeout"] >= 600
        writer = "load" if check["layer"] == "landing" else "transform"
        assert task.upstream == {f"{writer}_{check['table']}"}


def test_dag_sensor_defaults_without_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = {**CONTEXT, "variables": {}}
    _stub_airflow(monkeypatch)
    monkeypatch.setattr(_Task, "registry", {})
    runpy.run_path(str(render_dag_folder(tmp_path / "dags", context)))
    wait = _Task.registry["wait_orders"]
    assert (wait.kwargs["timeout"], wait.kwargs["soft_fail"]) == (6 * 3600, False)


def test_dag_fails_to_import_without_its_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stub_airflow(monkeypatch)
    monkeypatch.setattr(_Task, "registry", {})
    dag_file = render_dag_folder(tmp_path / "dags")
    (dag_file.parent / CONTEXT["sql_folder"] / "orders.sql").unlink()
    with pytest.raises(FileNotFoundError, match="orders.sql"):
        runpy.run_path(str(dag_file))


# --- the DAG in real Airflow 2 and Airflow 3 ---------------------------------------------

_DAGBAG_SCRIPT = """
import json, sys, warnings
import airflow
from airflow.models import DagBag
folder = sys.argv[1]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    bag = DagBag(dag_folder=folder, include_examples=False)
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "catchup": dag.catchup,
        "start_date": dag.start_date.isoformat(),
        "max_active_runs": dag.max_active_runs,
        "retries": dag.default_args.get("retries"),
        "tasks": {
            t.task_id: {
                "operator": t.operator_name if hasattr(t, "operator_name") else type(t).__name__,
                "upstream": sorted(t.upstream_task_ids),
            }
            for t in dag.tasks
        },
    }
# Warnings raised by the DAG files themselves (deprecated imports or arguments), not by
# Airflow's or the provider's own modules.
own = [
    f"{w.category.__name__}: {w.message}"
    for w in caught
    if str(w.filename).startswith(folder)
]
print(json.dumps({
    "version": airflow.__version__,
    "import_errors": bag.import_errors,
    "warnings": own,
    "dags": dags,
}))
"""

# The two Airflow test environments that make test installs (tests/airflow2-requirements.txt,
# tests/airflow3-requirements.txt): the Airflow versions Composer 3 runs, each with the Google
# provider Composer ships.
AIRFLOWS = {2: "DF_GEN_AIRFLOW2_PYTHON", 3: "DF_GEN_AIRFLOW3_PYTHON"}


@pytest.fixture(params=sorted(AIRFLOWS), ids=[f"airflow{major}" for major in sorted(AIRFLOWS)])
def airflow_python(request: pytest.FixtureRequest) -> tuple[int, str]:
    """(major version, interpreter) of one Airflow test environment."""
    variable = AIRFLOWS[request.param]
    python = os.environ.get(variable)
    if not python:
        pytest.skip(f"{variable} is not set (make test sets it to the venv it installs)")
    return request.param, python


def dagbag(folder: Path, tmp_path: Path, airflow: tuple[int, str]) -> dict[str, Any]:
    """Load a DAG folder into Airflow's DagBag in a child process; return what it found."""
    major, python = airflow
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        # A throw-away Airflow home, so nothing is written to ~/airflow.
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        **{f"AIRFLOW_VAR_{k.upper()}": v for k, v in AIRFLOW_VARIABLES.items()},
    }
    done = subprocess.run(
        [python, "-c", _DAGBAG_SCRIPT, str(folder.resolve())],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"].split(".")[0] == str(major), result["version"]
    assert result["import_errors"] == {}
    assert result["warnings"] == []
    return result["dags"]


@pytest.mark.slow  # Airflow in an interpreter of its own: seconds per DagBag
def test_dag_loads_into_airflow_dagbag(tmp_path: Path, airflow_python: tuple[int, str]) -> None:
    dags = tmp_path / "dags"
    render_dag_folder(dags)
    dag = dagbag(dags, tmp_path, airflow_python)["sales-daily"]
    assert dag["catchup"] is False
    assert dag["start_date"].startswith("2024-01-01T00:00:00")
    assert dag["max_active_runs"] == 1
    assert dag["retries"] == 2
    assert {k: set(v["upstream"]) for k, v in dag["tasks"].items()} == EXPECTED_UPSTREAM
    assert dag["tasks"]["archive_orders"]["operator"] == "@task"


# --- the DAGs of the demo environment, rendered by df-gen -------------------------------


def demo_dag_folder(tmp_path: Path, env_dir: Path = ROOT / "environments" / "demo") -> Path:
    """Composer's DAG folder after every pipeline stack of the demo (or of ``env_dir``)
    uploaded its ``files``."""
    from generator.render import load_model, render_files

    model = load_model(env_dir)
    rendered = render_files(model)
    folder = tmp_path / "composer-dags"
    for stack in model.stacks:
        # files: object name in the DAG folder -> "${path.module}/<file rendered in the stack>"
        for name, local in stack.arguments.get("files", {}).items():
            match = re.fullmatch(r'"\$\{path\.module\}/(.+)"', local.expression)
            assert match, f"{stack.name}: unexpected upload source {local.expression}"
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rendered[f"{stack.name}/{match.group(1)}"], encoding="utf-8")
    return folder


def _demo_descriptors() -> dict[str, dict[str, Any]]:
    folder = ROOT / "environments" / "demo" / "pipelines"
    found = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in folder.glob("*.yaml")}
    return {key: data for key, data in found.items() if data.get("code") == "retail"}


def _expected_tasks(descriptor: dict[str, Any]) -> set[str]:
    tables = descriptor["tables"]
    return (
        {f"{step}_{t}" for t in tables["landing"] for step in ("wait", "load", "archive")}
        | {f"transform_{t}" for t in tables["curated"]}
        | {f"check_{name.replace('.', '_')}" for name in descriptor.get("data_quality", {})}
        | {"check_orders_references"}
    )


def test_demo_dags_render_compile_and_build_their_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    descriptors = _demo_descriptors()
    assert descriptors, "the demo has no pipeline using pipelines/retail"
    folder = demo_dag_folder(tmp_path)
    _stub_airflow(monkeypatch)
    for key, descriptor in descriptors.items():
        monkeypatch.setattr(_Task, "registry", {})
        namespace = runpy.run_path(str(folder / f"{key}.py"))
        assert namespace["dag"].kwargs["dag_id"] == key
        assert namespace["dag"].kwargs["catchup"] is False
        assert namespace["dag"].kwargs["schedule"] == descriptor["dag"]["schedule"]
        assert set(_Task.registry) == _expected_tasks(descriptor)


@pytest.mark.slow  # Airflow in an interpreter of its own: seconds per DagBag
def test_demo_dags_load_into_airflow_dagbag(
    tmp_path: Path, airflow_python: tuple[int, str]
) -> None:
    dags = dagbag(demo_dag_folder(tmp_path), tmp_path, airflow_python)
    descriptors = _demo_descriptors()
    assert set(dags) == set(descriptors)
    for key, dag in dags.items():
        assert dag["catchup"] is False
        assert dag["retries"] == descriptors[key]["dag"]["retries"]
        assert set(dag["tasks"]) == _expected_tasks(descriptors[key])


# ruff's rules for the move to Airflow 3 (https://docs.astral.sh/ruff/rules/#airflow-air):
# AIR301 names and arguments removed in Airflow 3 (schedule_interval, days_ago, ...), AIR302
# names moved to providers, AIR311/AIR312 names that still work in Airflow 3 but move to
# airflow.sdk or the standard provider and are to be removed.
AIRFLOW3_RULES = "AIR301,AIR302,AIR311,AIR312"


def ruff_airflow3(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--preview",
            "--select", AIRFLOW3_RULES, "--output-format", "json", str(path),
        ],
        capture_output=True, text=True, check=False,
    )


def test_dag_uses_no_names_airflow_3_removed_or_deprecated(tmp_path: Path) -> None:
    done = ruff_airflow3(render_dag_folder(tmp_path / "dags"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_airflow_3_rules_flag_airflow_2_only_dags(tmp_path: Path) -> None:
    # Guards the check above: the rules see the Airflow 2 spellings they are meant to catch.
    old = tmp_path / "old_dag.py"
    old.write_text(
        "from airflow import DAG\n"
        "from airflow.models import Variable\n"
        "from airflow.operators.dummy import DummyOperator\n"
        "from airflow.utils.dates import days_ago\n"
        "REGION = Variable.get('df_region')\n"
        "with DAG(dag_id='x', schedule_interval='@daily', start_date=days_ago(1)) as dag:\n"
        "    DummyOperator(task_id='t')\n",
        encoding="utf-8",
    )
    done = ruff_airflow3(old)
    assert done.returncode == 1, done.stdout + done.stderr
    found = {finding["code"] for finding in json.loads(done.stdout)}
    assert {"AIR301", "AIR302", "AIR311"} <= found, done.stdout


# --- SQL ---------------------------------------------------------------------------------


def parse_sql(name: str) -> Any:
    """Parse a rendered SQL template; it must hold exactly one statement."""
    statements = sqlglot.parse(render(name), read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(statements) == 1, f"{name}: one statement expected"
    assert statements[0] is not None
    return statements[0]


def table_ids(tree: Any) -> set[str]:
    """Fully qualified tables a statement reads or writes (CTE names excluded)."""
    return {
        f"{t.catalog}.{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.catalog and t.db
    }


def test_sqlglot_rejects_broken_bigquery_sql() -> None:
    # Guards the tests below: the parser must be strict enough to fail on real mistakes.
    with pytest.raises(sqlglot.errors.ParseError):
        sqlglot.parse("MERGE `p.d.t` AS t USING (SELECT 1 AS x AS s ON", read="bigquery")


@pytest.mark.parametrize("name", sql_templates())
def test_sql_parses_as_bigquery(name: str) -> None:
    parse_sql(name)


@pytest.mark.parametrize("table", ENTITIES)
def test_curated_sql_is_a_deduplicating_merge_matching_the_schemas(table: str) -> None:
    tree = parse_sql(f"sql/{table}.sql.j2")
    assert isinstance(tree, exp.Merge)
    key = KEYS[table]
    assert f"{tree.this.catalog}.{tree.this.db}.{tree.this.name}" == fqn("curated", table)
    assert table_ids(tree) == {fqn("curated", table), fqn("landing", table)}
    # The typed CTE reads every landing column, and only those.
    typed = tree.find(exp.CTE)
    assert typed is not None
    assert {c.name for c in typed.this.find_all(exp.Column)} == set(field_names("landing", table))
    # Deduplication: one row per key, chosen by QUALIFY ROW_NUMBER() ... = 1.
    qualify = tree.find(exp.Qualify)
    assert qualify is not None
    window = qualify.find(exp.Window)
    assert window is not None and isinstance(window.this, exp.RowNumber)
    assert [p.name for p in window.args["partition_by"]] == [key]
    # Upsert on the key, inserting every curated column, updating all but the key.
    assert {c.name for c in tree.args["on"].find_all(exp.Column)} == {key}
    whens = {bool(w.args.get("matched")): w.args["then"] for w in tree.args["whens"].expressions}
    curated = field_names("curated", table)
    assert [c.name for c in whens[False].this.expressions] == curated
    assert sorted(e.this.name for e in whens[True].expressions) == sorted(
        name for name in curated if name != key
    )


def test_cross_table_check_returns_one_row_of_conditions() -> None:
    tree = parse_sql("sql/checks/orders_references.sql.j2")
    assert isinstance(tree, exp.Select) and tree.args.get("group") is None
    assert table_ids(tree) == {fqn("curated", t) for t in ENTITIES}
    assert all(isinstance(e.this, exp.EQ) for e in tree.expressions)


def test_exposure_view_aggregates_curated_without_pii() -> None:
    tree = parse_sql("sql/views/sales_by_product_day.sql.j2")
    assert isinstance(tree, exp.Select)
    assert table_ids(tree) == {fqn("curated", t) for t in ENTITIES}
    assert tree.args.get("group") is not None
    pii = set(demo_policy_tags()["curated.customers"])
    used = {c.name for c in tree.find_all(exp.Column)} | {e.alias_or_name for e in tree.expressions}
    assert pii and not (pii & used)


# --- schemas -----------------------------------------------------------------------------

BIGQUERY_TYPES = {"STRING", "INTEGER", "NUMERIC", "BOOLEAN", "DATE", "TIMESTAMP", "FLOAT"}


@pytest.mark.parametrize("layer", ["landing", "curated"])
@pytest.mark.parametrize("table", ENTITIES)
def test_schema_files_are_bigquery_schemas(layer: str, table: str) -> None:
    schema = load_schema(layer, table)
    names = [field["name"] for field in schema]
    assert len(names) == len(set(names))
    for field in schema:
        assert set(field) == {"name", "type", "mode", "description"}, field
        # Legacy type names: the API answers with these, so Terraform sees no diff.
        assert field["type"] in BIGQUERY_TYPES
        assert field["mode"] in {"NULLABLE", "REQUIRED"}
        assert field["description"].strip()
    if layer == "landing":
        # Landing keeps the delivered text; typing happens in the curated SQL.
        assert {(f["type"], f["mode"]) for f in schema} == {("STRING", "NULLABLE")}
    else:
        assert set(field_names("landing", table)) <= set(names)
        assert next(f for f in schema if f["name"] == KEYS[table])["mode"] == "REQUIRED"


def demo_policy_tags() -> dict[str, dict[str, str]]:
    """Policy tags the demo pipelines put on this code's tables, as ``layer.table -> {column: tag}``.

    The pipeline descriptors are the one place where columns get their sensitivity; every
    demo pipeline must tag the same columns the same way.
    """
    found: dict[str, dict[str, str]] = {}
    for descriptor in sorted((ROOT / "environments" / "demo" / "pipelines").glob("*.yaml")):
        data = yaml.safe_load(descriptor.read_text(encoding="utf-8"))
        assert data["code"] == "retail"
        for layer, tables in data["tables"].items():
            for table, spec in tables.items():
                tags = spec.get("policy_tags", {})
                if tags:
                    key = f"{layer}.{table}"
                    assert found.setdefault(key, tags) == tags, f"{descriptor.name} tags {key} differently"
    return found


def test_policy_tags_name_existing_pii_columns() -> None:
    tags = demo_policy_tags()
    assert set(tags) == {"landing.customers", "curated.customers"}
    for qualified, columns in tags.items():
        layer, table = qualified.split(".")
        assert set(columns) <= set(field_names(layer, table)), qualified
        assert set(columns.values()) <= PII_LEVELS
        assert {"email", "phone", "full_name", "birth_date"} <= set(columns)


# --- sample data -------------------------------------------------------------------------


def read_csv(table: str) -> tuple[list[str], list[dict[str, str]]]:
    with (CODE / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def parse_value(kind: str, text: str) -> object:
    """Parse a CSV value the way the curated SQL CASTs it; raise ValueError if it cannot."""
    if kind == "STRING":
        return text
    if kind == "INTEGER":
        value = int(text)
        if not -(2**63) <= value < 2**63:
            raise ValueError(text)
        return value
    if kind == "NUMERIC":
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(text) from error
        exponent = number.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -9 or abs(number) >= Decimal(10) ** 29:
            raise ValueError(text)
        return number
    if kind == "BOOLEAN":
        if text.lower() not in {"true", "false"}:
            raise ValueError(text)
        return text.lower() == "true"
    if kind == "DATE":
        return date.fromisoformat(text)
    if kind == "TIMESTAMP":
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(f"{text}: no time zone")
        return moment
    raise ValueError(f"unknown type {kind}")


@pytest.mark.parametrize("value", ["abc", "2024-13-01", "1.0000000001", "yes"])
def test_parse_value_rejects_bad_values(value: str) -> None:
    kinds = {"abc": "INTEGER", "2024-13-01": "DATE", "1.0000000001": "NUMERIC", "yes": "BOOLEAN"}
    with pytest.raises(ValueError):
        parse_value(kinds[value], value)


@pytest.mark.parametrize("table", ENTITIES)
def test_sample_data_matches_the_schemas(table: str) -> None:
    header, rows = read_csv(table)
    assert header == field_names("landing", table)
    assert len(rows) >= 100
    curated = {field["name"]: field for field in load_schema("curated", table)}
    for number, row in enumerate(rows, start=2):
        for column, text in row.items():
            field = curated[column]
            if text == "":
                assert field["mode"] == "NULLABLE", f"{table}.csv:{number}: {column} is empty"
                continue
            try:
                parse_value(field["type"], text)
            except ValueError as error:
                pytest.fail(f"{table}.csv:{number}: {column}={text!r}: {error}")
    keys = [row[KEYS[table]] for row in rows]
    assert len(keys) == len(set(keys)), f"{table}: duplicate keys"


def test_sample_data_foreign_keys_resolve() -> None:
    for (table, column), parent in FOREIGN_KEYS.items():
        parents = {row[KEYS[parent]] for row in read_csv(parent)[1]}
        missing = {row[column] for row in read_csv(table)[1]} - parents
        assert not missing, f"{table}.{column}: unknown {sorted(missing)[:5]}"


def test_sample_data_has_pii_to_protect() -> None:
    rows = read_csv("customers")[1]
    assert all("@" in row["email"] and row["phone"].startswith("+") for row in rows)
    assert len({row["email"] for row in rows}) == len(rows)


# --- the generator -----------------------------------------------------------------------


def _generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("generate_sample_data", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_sample_data_is_up_to_date() -> None:
    messages: list[str] = []
    assert _generator().main(["--out", str(CODE / "data"), "--check"], echo=messages.append) == 0
    assert messages == []


def test_generator_check_reports_stale_files(tmp_path: Path) -> None:
    generator = _generator()
    shutil.copytree(CODE / "data", tmp_path / "data")
    orders = tmp_path / "data" / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8") + "O999999,C00001\n", encoding="utf-8")
    (tmp_path / "data" / "products.csv").unlink()
    messages: list[str] = []
    assert generator.main(["--out", str(tmp_path / "data"), "--check"], echo=messages.append) == 1
    assert sorted(Path(m.split(":")[0]).name for m in messages) == ["orders.csv", "products.csv"]
    # Writing repairs them.
    assert generator.main(["--out", str(tmp_path / "data")], echo=messages.append) == 0
    assert generator.main(["--out", str(tmp_path / "data"), "--check"], echo=print) == 0


def test_generator_is_deterministic_per_seed() -> None:
    generator = _generator()
    assert generator.generate() == generator.generate()
    assert generator.generate(1) != generator.generate(2)


# --- SQL behaviour, on DuckDB ---------------------------------------------------------------
# The BigQuery SQL is transpiled by sqlglot and run on DuckDB over the sample data. This
# checks what the statements do (deduplication, idempotency, strict typing, aggregates),
# not BigQuery itself: the two engines agree on this standard SQL, not on everything.

_DUCK_TYPES = {
    "STRING": "VARCHAR",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
    "NUMERIC": "DECIMAL(38, 9)",
    "INTEGER": "BIGINT",
    "BOOLEAN": "BOOLEAN",
}


class Warehouse:
    """A DuckDB database laid out like the BigQuery projects and datasets of CONTEXT."""

    def __init__(self) -> None:
        duckdb = pytest.importorskip("duckdb")
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        for layer in ("landing", "curated"):
            dataset = CONTEXT["datasets"][layer]
            self.con.execute(f"ATTACH ':memory:' AS \"{dataset['project']}\"")
            self.con.execute(f"CREATE SCHEMA \"{dataset['project']}\".{dataset['dataset_id']}")
            for table in ENTITIES:
                columns = ", ".join(
                    f"{f['name']} {_DUCK_TYPES[f['type']]}"
                    + (" NOT NULL" if f["mode"] == "REQUIRED" else "")
                    for f in load_schema(layer, table)
                )
                self.con.execute(f"CREATE TABLE {self.name(layer, table)} ({columns})")

    @staticmethod
    def name(layer: str, table: str) -> str:
        project, dataset = CONTEXT["datasets"][layer].values()
        return f'"{project}".{dataset}.{table}'

    def deliver(self, table: str, rows: list[dict[str, str]] | None = None) -> None:
        """Append a delivery to a landing table, as the DAG's load does (WRITE_APPEND)."""
        if rows is None:
            path = (CODE / "data" / f"{table}.csv").as_posix()
            self.con.execute(
                f"INSERT INTO {self.name('landing', table)} "
                f"SELECT * FROM read_csv('{path}', header = true, all_varchar = true)"
            )
            return
        for row in rows:
            values = [row[name] for name in field_names("landing", table)]
            marks = ", ".join("?" for _ in values)
            self.con.execute(f"INSERT INTO {self.name('landing', table)} VALUES ({marks})", values)

    def bigquery(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one BigQuery statement, transpiled to DuckDB; return its rows."""
        (statement,) = sqlglot.transpile(sql, read="bigquery", write="duckdb")
        return self.con.execute(statement).fetchall()

    def transform(self) -> dict[str, int]:
        """Run the curated MERGEs; return the rows each one changed."""
        return {t: self.bigquery(render(f"sql/{t}.sql.j2"))[0][0] for t in ENTITIES}

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        return self.con.execute(
            f"SELECT * FROM {self.name('curated', table)} ORDER BY {KEYS[table]}"
        ).fetchall()


@pytest.fixture
def warehouse() -> Warehouse:
    """Landing tables holding the sample data, curated tables empty."""
    base = Warehouse()
    for table in ENTITIES:
        base.deliver(table)
    return base


def test_transform_loads_each_key_once_and_is_idempotent(warehouse: Warehouse) -> None:
    counts = {table: len(read_csv(table)[1]) for table in ENTITIES}
    assert warehouse.transform() == counts
    before = {table: warehouse.rows(table) for table in ENTITIES}
    # A second run, and a re-delivery of the very same files, change nothing.
    assert warehouse.transform() == dict.fromkeys(ENTITIES, 0)
    for table in ENTITIES:
        warehouse.deliver(table)
    assert warehouse.transform() == dict.fromkeys(ENTITIES, 0)
    assert {table: warehouse.rows(table) for table in ENTITIES} == before


def test_transform_keeps_the_newest_version_of_each_key(warehouse: Warehouse) -> None:
    first, second = read_csv("customers")[1][:2]
    # Delivered together with the originals, before any transformation ran.
    newer = {**first, "city": "Newtown", "updated_at": "2030-01-01T00:00:00Z"}
    warehouse.deliver("customers", [newer])
    warehouse.transform()
    # Delivered later: an update, and a stale copy that must not win.
    newest = {**first, "city": "Latest", "updated_at": "2031-01-01T00:00:00Z"}
    stale = {**second, "email": " OLD@EXAMPLE.COM ", "updated_at": "2000-01-01T00:00:00Z"}
    warehouse.deliver("customers", [stale, newest])
    assert warehouse.transform()["customers"] == 1
    rows = {row[0]: row for row in warehouse.rows("customers")}
    columns = field_names("curated", "customers")
    assert len(rows) == len(read_csv("customers")[1])
    assert rows[first["customer_id"]][columns.index("city")] == "Latest"
    updated_at = rows[first["customer_id"]][columns.index("updated_at")]
    assert updated_at == datetime(2031, 1, 1, tzinfo=UTC)
    assert rows[second["customer_id"]][columns.index("email")] == second["email"]


def test_transform_types_and_derives_columns(warehouse: Warehouse) -> None:
    warehouse.transform()
    source = read_csv("orders")[1][0]
    row = dict(zip(field_names("curated", "orders"), warehouse.rows("orders")[0], strict=True))
    assert row["order_id"] == source["order_id"]
    assert row["quantity"] == int(source["quantity"])
    assert row["amount"] == int(source["quantity"]) * Decimal(source["unit_price"])
    assert row["order_date"] == date.fromisoformat(source["order_ts"][:10])
    product = warehouse.rows("products")[0]
    assert isinstance(product[field_names("curated", "products").index("active")], bool)


@pytest.mark.parametrize(("column", "value"), [("quantity", "two"), ("order_ts", "yesterday")])
def test_transform_fails_on_malformed_values(
    warehouse: Warehouse, column: str, value: str
) -> None:
    warehouse.deliver("orders", [{**read_csv("orders")[1][0], column: value}])
    with pytest.raises(Exception, match="(?i)conversion|convert|cast"):
        warehouse.transform()


def test_cross_table_checks_pass_and_catch_orphans(
    warehouse: Warehouse, stub_dag: dict[str, Any]
) -> None:
    warehouse.transform()
    gate = _Task.registry["check_orders_references"].kwargs["sql"]
    assert all(warehouse.bigquery(gate)[0])
    orphan = {**read_csv("orders")[1][0], "order_id": "O999999", "customer_id": "C99999"}
    warehouse.deliver("orders", [orphan])
    warehouse.transform()
    assert warehouse.bigquery(gate)[0] == (False, True)


def test_exposure_view_totals_match_the_sample_data(warehouse: Warehouse) -> None:
    warehouse.transform()
    rows = warehouse.bigquery(render("sql/views/sales_by_product_day.sql.j2"))
    sales = [row for row in read_csv("orders")[1] if row["status"] != "cancelled"]
    assert sum(row[3] for row in rows) == len(sales)
    assert sum(row[6] for row in rows) == sum(
        int(row["quantity"]) * Decimal(row["unit_price"]) for row in sales
    )
    keys = [(row[0], row[1], row[2]) for row in rows]
    assert len(keys) == len(set(keys))
    assert {row[1] for row in rows} <= {row["category"] for row in read_csv("products")[1]}
