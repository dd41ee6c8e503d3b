"""``df-gen dags check`` against the pinned Airflow test environments.

The interpreters are those ``make test`` builds (tests/airflow2-requirements.txt and
tests/airflow3-requirements.txt), named by DF_GEN_AIRFLOW2_PYTHON / DF_GEN_AIRFLOW3_PYTHON.
Each test copies the demo, mutates its rendered stack files and runs the real check.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from demosupport import copy_sources

from generator.cli import cli
from generator.dags.airflows import select, wanted
from generator.errors import DfGenError

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
AIRFLOWS = {2: "DF_GEN_AIRFLOW2_PYTHON", 3: "DF_GEN_AIRFLOW3_PYTHON"}


def airflow_python(major: int) -> str:
    variable = AIRFLOWS[major]
    python = os.environ.get(variable)
    if not python:
        pytest.skip(f"{variable} is not set (make test sets it to the Airflow {major} venv it builds)")
    return python


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo (descriptors, rendered stacks, pipeline code, modules)."""
    return copy_sources(tmp_path, modules=True)


def set_image(env_dir: Path, image: str) -> None:
    path = env_dir / "environment.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"image_version: \S+", f"image_version: {image}", text), encoding="utf-8")


def run_check(env_dir: Path, *args: str) -> tuple[int, dict, str]:
    """Run the CLI with --json; return (exit code, document, stderr)."""
    result = CliRunner().invoke(cli, ["dags", "check", str(env_dir), "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    document = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, document, result.stderr


def problems(document: dict) -> list[tuple[str, str, int, str]]:
    return [(f["stack"], p["kind"], p["line"], p["message"]) for f in document["files"] for p in f["problems"]]


@pytest.mark.slow
@pytest.mark.parametrize("major,image", [(2, None), (3, "composer-3-airflow-3")],
                         ids=["airflow2-2.10.5", "airflow3-alias"])
def test_demo_dags_pass(demo: Path, major: int, image: str | None) -> None:
    python = airflow_python(major)
    if image:
        set_image(demo, image)
    code, document, stderr = run_check(demo, "--airflow-python", python)
    assert code == 0, (stderr, problems(document))
    assert document["ok"] is True
    assert document["airflow"]["version"].startswith(f"{major}.")
    assert {f["stack"]: f["dags"] for f in document["files"]} == {
        "pipeline-ecommerce-hourly": ["ecommerce-hourly"], "pipeline-store-daily": ["store-daily"]}
    for dag_file in document["files"]:
        assert 0 < dag_file["parse_seconds"] < 2
        assert "df_load_sa" in dag_file["variables"]


@pytest.mark.slow
def test_import_error_cycle_and_unset_variable_are_reported(demo: Path) -> None:
    python = airflow_python(2)
    ecommerce = demo / "stacks" / "pipeline-ecommerce-hourly" / "dag.py"
    lines = ecommerce.read_text(encoding="utf-8").splitlines()
    lines.append("broken = undefined_name  # an import error")
    ecommerce.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = demo / "stacks" / "pipeline-store-daily" / "dag.py"
    store.write_text(
        store.read_text(encoding="utf-8").replace(
            'LOCATION = Variable.get("df_location")',
            'LOCATION = Variable.get("df_location")\nAUDIT = Variable.get("df_audit_dataset")')
        + 'dag.get_task("transform_orders") >> dag.get_task("load_orders")  # a cycle\n',
        encoding="utf-8")
    code, document, _ = run_check(demo, "--airflow-python", python)
    assert code == 1
    assert document["ok"] is False
    found = problems(document)
    kinds = {(stack, kind) for stack, kind, _, _ in found}
    assert kinds == {("pipeline-ecommerce-hourly", "import_error"), ("pipeline-store-daily", "cycle"),
                     ("pipeline-store-daily", "missing_variable")}
    [error] = [p for p in found if p[1] == "import_error"]
    assert error[2] == len(lines) and "undefined_name" in error[3]
    [variable] = [p for p in found if p[1] == "missing_variable"]
    assert "'df_audit_dataset'" in variable[3]


@pytest.mark.slow
def test_variable_set_by_the_descriptor_passes(demo: Path) -> None:
    python = airflow_python(2)
    env = demo / "environment.yaml"
    env.write_text(env.read_text(encoding="utf-8").replace(
        "DF_ENVIRONMENT: demo", "DF_ENVIRONMENT: demo\n    AIRFLOW_VAR_DF_AUDIT_DATASET: audit"), encoding="utf-8")
    store = demo / "stacks" / "pipeline-store-daily" / "dag.py"
    store.write_text(store.read_text(encoding="utf-8").replace(
        'LOCATION = Variable.get("df_location")',
        'LOCATION = Variable.get("df_location")\nassert Variable.get("df_audit_dataset") == "audit"'),
        encoding="utf-8")
    code, document, stderr = run_check(demo, "--airflow-python", python, "--stack", "pipeline-store-daily")
    assert code == 0, (stderr, problems(document))
    assert "df_audit_dataset" in document["files"][0]["variables"]


@pytest.mark.slow
def test_slow_top_level_code_is_reported(demo: Path) -> None:
    python = airflow_python(2)
    dag = demo / "stacks" / "pipeline-ecommerce-hourly" / "dag.py"
    dag.write_text(dag.read_text(encoding="utf-8") + "import time\ntime.sleep(2.1)  # top-level work\n",
                   encoding="utf-8")
    code, document, _ = run_check(demo, "--airflow-python", python, "--stack", "pipeline-ecommerce-hourly")
    assert code == 1
    [(stack, kind, _, message)] = problems(document)
    assert (stack, kind) == ("pipeline-ecommerce-hourly", "slow_parse")
    assert document["files"][0]["parse_seconds"] > 2.1
    assert "after a warm-up import, over the 2 s limit" in message


@pytest.mark.slow
def test_missing_sql_file_is_reported(demo: Path) -> None:
    python = airflow_python(2)
    (demo / "stacks" / "pipeline-store-daily" / "sql" / "orders.sql").unlink()
    code, document, _ = run_check(demo, "--airflow-python", python, "--stack", "pipeline-store-daily")
    assert code == 1
    found = problems(document)
    missing = [p for p in found if p[1] == "missing_file"]
    # Terraform would fail to upload it, and the DAG reads it while being parsed.
    assert any("uploads store-daily/sql/orders.sql from sql/orders.sql" in p[3] for p in missing)
    assert any("references store-daily/sql/orders.sql" in p[3] for p in missing)
    assert any(p[1] == "import_error" and "orders.sql" in p[3] for p in found)


@pytest.mark.slow
def test_text_output_is_one_line_per_problem(demo: Path) -> None:
    python = airflow_python(2)
    (demo / "stacks" / "pipeline-store-daily" / "sql" / "orders.sql").unlink()
    result = CliRunner().invoke(cli, ["dags", "check", str(demo), "--airflow-python", python,
                                      "--stack", "pipeline-store-daily"])
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert errors and all(re.match(r"^\S+/pipeline-store-daily/\S+: error: ", line) for line in errors)
    assert "Traceback" not in result.output


def test_no_matching_airflow_is_one_line_error(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("DF_GEN_AIRFLOW_PYTHON", *AIRFLOWS.values()):
        monkeypatch.delenv(variable, raising=False)
    set_image(demo, "composer-3-airflow-3.0.6")
    result = CliRunner().invoke(cli, ["dags", "check", str(demo), "--airflow-python", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: no Airflow 3.0 interpreter for composer image composer-3-airflow-3.0.6 "
        f"(tried: {tmp_path / 'nope'} (no Airflow)); pass --airflow-python PATH or set DF_GEN_AIRFLOW_PYTHON"]


def test_image_versions() -> None:
    assert wanted("composer-3-airflow-2.10.5-build.3") == (2, 10)
    assert wanted("composer-3-airflow-3.1") == (3, 1)
    assert wanted("composer-3-airflow-2") == (2, None)
    with pytest.raises(DfGenError):
        select("composer-2.9.0-airflow-2.9.3", [])


def test_selects_by_major_and_minor() -> None:
    pythons = [p for p in (os.environ.get(v) for v in AIRFLOWS.values()) if p]
    if len(pythons) < 2:
        pytest.skip("DF_GEN_AIRFLOW2_PYTHON and DF_GEN_AIRFLOW3_PYTHON are not both set (make test sets them)")
    assert select("composer-3-airflow-3.1.7-build.10", pythons).version.startswith("3.1.")
    assert select("composer-3-airflow-2.10", pythons).version.startswith("2.10.")
    assert select("composer-3-airflow-2", pythons).version.startswith("2.")
    with pytest.raises(DfGenError, match="no Airflow 2.9 interpreter"):
        select("composer-3-airflow-2.9.3", pythons)
