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
from click.testing import CliRunner
from synthsupport import cache_entries, use_workers, write_synthetic

from generator import cache
from generator.cli import cli
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


# --- the per-file work in forked worker processes (generator.workers) ------------------------

def _validate_with(monkeypatch, env_dir: Path, processes: int):
    """validate() with a cold cache, in ``processes`` processes: its descriptors or its error
    lines, and the documents cache it wrote."""
    use_workers(monkeypatch, processes)
    shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
    try:
        found = validate(env_dir)
    except DfGenError as exc:
        result: object = exc.lines()
    else:
        result = [(doc.path, doc.display, doc.data, doc.positions, doc.key_positions) for doc in found.documents()]
        result.append(dict(found.digests))
    return result, cache_entries(env_dir / cache.DOCUMENTS)


def test_worker_processes_validate_as_one_process(tmp_path, monkeypatch):
    env_dir = write_synthetic(tmp_path / "env")
    serial = _validate_with(monkeypatch, env_dir, 1)
    assert _validate_with(monkeypatch, env_dir, 2) == serial
    assert _validate_with(monkeypatch, env_dir, 3) == serial
    assert len(serial[0]) == 1 + 4 + 30 + 1


def test_errors_found_in_worker_processes_are_the_serial_lines(tmp_path, monkeypatch):
    env_dir = write_synthetic(tmp_path / "env")
    pipelines = env_dir / "pipelines"
    # Items alternate between the processes: the parent checks even positions, the child odd ones.
    (pipelines / "p3.yaml").write_text("apiVersion: dfgen/v1\nkind: Pipeline\n  bad: [indent\n")
    (pipelines / "p12.yaml").write_text((pipelines / "p12.yaml").read_text() + "surprise: 1\n")
    (pipelines / "p21.yaml").write_text((pipelines / "p21.yaml").read_text().replace("not_null: [event_id]",
                                                                                    "not_null: [nope]"))
    # Rules across files: p4's view takes p8's name (both in ds0's exposure dataset); p13 has
    # too many labels with its data source's.
    (pipelines / "p4.yaml").write_text((pipelines / "p4.yaml").read_text().replace("daily4:", "daily8:"))
    labels = "".join(f"  l{n}: v\n" for n in range(60))
    (pipelines / "p13.yaml").write_text((pipelines / "p13.yaml").read_text() + f"labels:\n{labels}")
    labels = "".join(f"  m{n}: v\n" for n in range(10))
    source = env_dir / "datasources" / "ds1.yaml"
    source.write_text(source.read_text().replace("labels:\n", f"labels:\n{labels}"))
    monkeypatch.chdir(env_dir)
    serial, _ = _validate_with(monkeypatch, Path("."), 1)
    assert [line.split(": error: ")[0] for line in serial] == [
        "pipelines/p12.yaml:32:1", "pipelines/p13.yaml:32:1", "pipelines/p21.yaml:30:16", "pipelines/p3.yaml:3:6",
        "pipelines/p8.yaml:24:3"]
    assert _validate_with(monkeypatch, Path("."), 2)[0] == serial
    result = CliRunner().invoke(cli, ["validate", "."])
    assert result.exit_code == 1
    assert result.output == "".join(f"{line}\n" for line in serial)


def test_invalid_cases_give_the_same_lines_in_worker_processes(tmp_path, monkeypatch):
    use_workers(monkeypatch, 2)
    for index, case in enumerate(_cases("invalid")):
        env_dir = _environment(tmp_path / str(index), case)
        monkeypatch.chdir(env_dir)
        with pytest.raises(DfGenError) as raised:
            validate(Path("."))
        expected = (case.parent / f"{case.stem}.expected").read_text()
        assert "\n".join(raised.value.lines()) + "\n" == expected, case
