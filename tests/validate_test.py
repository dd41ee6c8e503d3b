"""Descriptor cases: every file or folder under tests/data/descriptors/{valid,invalid}/<kind>/ is a case.

A file case replaces one file of the base environment (tests/data/descriptors/base); a
folder case is laid over the base environment (its files replace or add to the base's, by
path), for mistakes that take two files. An invalid case's expected output, every error
line in full, sits beside it as <case>.expected.
Set DF_GEN_UPDATE_EXPECTED=1 to write missing .expected files (then review them).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.errors import DfGenError
from generator.validate import validate

DATA = Path(__file__).parent / "data" / "descriptors"
TARGET = {
    "environment": "environment.yaml",
    "datasource": "datasources/sales.yaml",
    "pipeline": "pipelines/sales-daily.yaml",
}


def _cases(kind: str) -> list[Path]:
    return sorted([*(DATA / kind).glob("*/*.yaml"), *(p for p in (DATA / kind).glob("*/*") if p.is_dir())])


def _environment(tmp_path: Path, case: Path) -> Path:
    env_dir = tmp_path / "env"
    shutil.copytree(DATA / "base", env_dir)
    if case.is_dir():
        shutil.copytree(case, env_dir, dirs_exist_ok=True)
    else:
        shutil.copyfile(case, env_dir / TARGET[case.parent.name])
    return env_dir


def test_base_environment_is_valid():
    descriptors = validate(DATA / "base")
    assert list(descriptors.datasources) == ["sales"]
    assert list(descriptors.pipelines) == ["sales-daily"]


@pytest.mark.parametrize("case", _cases("valid"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_case(case, tmp_path, monkeypatch):
    env_dir = _environment(tmp_path, case)
    monkeypatch.chdir(env_dir)
    validate(Path("."))


@pytest.mark.parametrize("case", _cases("invalid"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_invalid_case(case, tmp_path, monkeypatch):
    env_dir = _environment(tmp_path, case)
    monkeypatch.chdir(env_dir)
    with pytest.raises(DfGenError) as raised:
        validate(Path("."))
    actual = "\n".join(raised.value.lines()) + "\n"
    expected_file = case.parent / f"{case.stem}.expected"
    if not expected_file.exists() and os.environ.get("DF_GEN_UPDATE_EXPECTED"):
        expected_file.write_text(actual)
    assert expected_file.exists(), f"no {expected_file.name}; actual output:\n{actual}"
    assert actual == expected_file.read_text()


def test_dates_stay_strings(tmp_path, monkeypatch):
    env_dir = _environment(tmp_path, DATA / "valid" / "pipeline" / "dates-as-strings.yaml")
    descriptors = validate(env_dir)
    assert descriptors.pipelines["sales-daily"].data["dag"]["start_date"] == "2024-01-01"


def test_missing_environment_descriptor(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DfGenError) as raised:
        validate(Path("."))
    assert raised.value.lines() == [
        "environment.yaml: error: missing environment descriptor "
        "(hint: run 'df-gen new .' to scaffold one)"
    ]


def test_not_a_directory(tmp_path):
    with pytest.raises(DfGenError, match="not an environment directory"):
        validate(tmp_path / "nope")


def test_duplicate_key_across_extensions(tmp_path, monkeypatch):
    env_dir = _environment(tmp_path, DATA / "valid" / "datasource" / "pubsub.yaml")
    shutil.copyfile(env_dir / "datasources" / "sales.yaml", env_dir / "datasources" / "sales.yml")
    monkeypatch.chdir(env_dir)
    with pytest.raises(DfGenError) as raised:
        validate(Path("."))
    assert raised.value.lines() == [
        "datasources/sales.yml:1:1: error: datasource 'sales' is also defined in datasources/sales.yaml"
    ]


def test_demo_environment_is_valid():
    descriptors = validate(Path(__file__).parent.parent / "environments" / "demo")
    assert len(descriptors.datasources) == 2
    assert len(descriptors.pipelines) == 2
