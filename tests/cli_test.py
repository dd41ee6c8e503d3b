"""The CLI through click's runner: exit codes, one-line errors, JSON output, scaffolding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from generator import __version__
from generator.cli import cli

BASE = Path(__file__).parent / "data" / "descriptors" / "base"


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_version_option_prints_version():
    result = _run("--version")
    assert result.exit_code == 0
    assert result.output == f"df-gen, version {__version__}\n"


def test_validate_valid_environment(tmp_path, monkeypatch):
    shutil.copytree(BASE, tmp_path / "env")
    monkeypatch.chdir(tmp_path)
    result = _run("validate", "env")
    assert result.exit_code == 0, result.output
    assert result.stdout == "env: valid (1 environment, 1 data source, 1 pipeline)\n"


def test_validate_reports_every_error_one_line_each(tmp_path, monkeypatch):
    env = tmp_path / "env"
    shutil.copytree(BASE, env)
    text = (env / "environment.yaml").read_text()
    text = text.replace("size: small", "size: tiny").replace("region: europe-west1", "region: Europe")
    (env / "environment.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = _run("validate", "env")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "env/environment.yaml:13:9: error: region: 'Europe' is invalid (A Google Cloud region)",
        "env/environment.yaml:30:9: error: composer.size: 'tiny' is not one of: small, medium, large",
    ]
    assert "Traceback" not in result.output


def test_validate_json(tmp_path, monkeypatch):
    env = tmp_path / "env"
    shutil.copytree(BASE, env)
    (env / "datasources" / "sales.yaml").write_text("apiVersion: dfgen/v1\nkind: DataSource\n")
    monkeypatch.chdir(tmp_path)
    result = _run("validate", "env", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document == {
        "valid": False,
        "errors": [{
            "path": "env/datasources/sales.yaml", "line": 1, "column": 1,
            "message": "missing required key 'datasets'", "hint": None,
        }],
        "summary": None,
    }
    ok = _run("validate", str(BASE), "--format", "json")
    assert json.loads(ok.stdout) == {
        "valid": True, "errors": [], "summary": {"environments": 1, "datasources": 1, "pipelines": 1},
    }


def test_usage_error_exits_2():
    result = _run("validate", "--format", "xml", ".")
    assert result.exit_code == 2


def test_new_scaffolds_a_valid_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run("new", "environments/dev", "--datasource", "crm", "--pipeline", "crm-daily")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "created environments/dev/environment.yaml",
        "created environments/dev/datasources/crm.yaml",
        "created environments/dev/pipelines/crm-daily.yaml",
        "created pipelines/crm-daily/",
        "next: df-gen validate environments/dev",
    ]
    env = tmp_path / "environments" / "dev"
    first = (env / "environment.yaml").read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema = Path(first.split("$schema=")[1])
    schema = schema if schema.is_absolute() else env / schema
    assert json.loads(schema.read_text())["title"] == "df-gen Environment"
    assert _run("validate", "environments/dev").exit_code == 0


def test_new_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run("new", "dev").exit_code == 0
    before = (tmp_path / "dev" / "environment.yaml").read_text()
    result = _run("new", "dev")
    assert result.exit_code == 1
    assert result.stderr == "error: dev/environment.yaml: already exists; df-gen new never overwrites a file\n"
    assert (tmp_path / "dev" / "environment.yaml").read_text() == before


def test_new_rejects_bad_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run("new", "dev", "--datasource", "Sales")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid data source key 'Sales'")
