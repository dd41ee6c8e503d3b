"""generator.scaffold (``df-gen new``): a valid, commented environment that is never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.errors import DfGenError
from generator.scaffold import scaffold
from generator.validate import validate


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


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


def test_outside_a_checkout_the_code_lives_next_to_the_descriptors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    written = scaffold(Path("team-env"), datasource="sales", pipeline="sales-hourly")
    assert written[-1] == "team-env/code/sales-hourly/"
    assert "pipelines_dir: code" in (tmp_path / "team-env" / "environment.yaml").read_text()
    assert (tmp_path / "team-env" / "code" / "sales-hourly").is_dir()
    assert "prefix: acme-team-env" in (tmp_path / "team-env" / "environment.yaml").read_text()
    descriptors = validate(Path("team-env"))
    assert descriptors is not None


def test_an_existing_code_directory_is_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = tmp_path / "dev" / "code" / "crm-daily"
    code.mkdir(parents=True)
    (code / "mine.sql").write_text("select 1\n")
    written = scaffold(Path("dev"), datasource="crm", pipeline="crm-daily")
    assert not any(path.endswith("crm-daily/") for path in written)
    assert [p.name for p in code.iterdir()] == ["mine.sql"]


@pytest.mark.parametrize(("prefix", "message"), [
    ("Acme", "invalid prefix 'Acme'"),
    ("a", "invalid prefix 'a'"),
    ("acme-", "invalid prefix 'acme-'"),
])
def test_bad_prefixes_are_refused_before_anything_is_written(tmp_path, prefix, message):
    with pytest.raises(DfGenError, match=message):
        scaffold(tmp_path / "dev", datasource="crm", pipeline="crm-daily", prefix=prefix)
    assert not (tmp_path / "dev").exists()


def test_the_default_prefix_comes_from_the_directory_and_fits_the_schema(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scaffold(Path("Very_Long Environment Name"), datasource="crm", pipeline="crm-daily")
    text = (tmp_path / "Very_Long Environment Name" / "environment.yaml").read_text()
    prefix = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("prefix:"))
    assert prefix == "acme-very-long-envir"
    assert validate(Path("Very_Long Environment Name")) is not None
