"""The per-file cache of validate (generator/cache/documents.py, ``Documents``): a changed descriptor is
the only file parsed and schema-checked again, the rules across files still see every file,
and the cache changes nothing but time (deleted, damaged, or written by another df-gen)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from demosupport import copy_sources

import generator.validate
import generator.validate.pipeline
from generator import cache
from generator.cache.inputs import tool_digest
from generator.cache.store import Store
from generator.errors import DfGenError
from generator.validate import validate

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    return copy_sources(tmp_path, stacks=False)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The files validate parses and schema-checks (they still run, only recorded)."""
    seen: dict[str, list[str]] = {"parse": [], "schema": []}

    def recorded(name: str, real: Callable[..., Any], which: Callable[..., str]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            seen[name].append(which(*args))
            return real(*args)
        return wrapper

    monkeypatch.setattr(generator.validate, "parse",
                        recorded("parse", generator.validate.parse, lambda path, raw: Path(path).name))
    monkeypatch.setattr(generator.validate, "schema_errors",
                        recorded("schema", generator.validate.schema_errors, lambda kind, doc: doc.path.name))
    return seen


def snapshot(env_dir: Path) -> Any:
    """Everything validate returns about each document, or the diagnostics it raises."""
    try:
        descriptors = validate(env_dir)
    except DfGenError as exc:
        return [d.format() for d in exc.diagnostics]
    return [(doc.path, doc.display, doc.data, doc.positions, doc.key_positions) for doc in descriptors.documents()]


def uncached(env_dir: Path) -> Any:
    shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
    result = snapshot(env_dir)
    shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
    return result


def test_only_the_changed_descriptor_is_parsed_and_schema_checked_again(env_dir: Path,
                                                                          work: dict[str, list[str]]) -> None:
    first = snapshot(env_dir)
    assert len(work["parse"]) == len(work["schema"]) == len(first)  # cold: every file
    work["parse"].clear()
    work["schema"].clear()
    assert snapshot(env_dir) == first
    assert work == {"parse": [], "schema": []}  # warm: none
    pipeline = env_dir / "pipelines" / "store-daily.yaml"
    pipeline.write_text(pipeline.read_text().replace("description:", "description: Changed.", 1))
    changed = snapshot(env_dir)
    assert work == {"parse": ["store-daily.yaml"], "schema": ["store-daily.yaml"]}
    assert changed == uncached(env_dir) and changed != first


def test_rules_across_files_still_see_the_cached_files(env_dir: Path) -> None:
    snapshot(env_dir)
    source = env_dir / "datasources" / "store.yaml"
    data_text = source.read_text()
    assert "  curated:" in data_text
    # Drop the data source's curated dataset: its unchanged (cached) pipeline now refers to it.
    lines = data_text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("  curated:"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    source.write_text("".join(lines[:start] + lines[end:]))
    reported = snapshot(env_dir)
    assert isinstance(reported, list) and any("store-daily.yaml" in line and "has no curated dataset" in line
                                              for line in reported), reported
    assert reported == uncached(env_dir)


def test_schema_errors_come_back_from_the_cache_with_the_path_as_shown_now(
        env_dir: Path, work: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = env_dir / "pipelines" / "store-daily.yaml"
    pipeline.write_text(pipeline.read_text() + "colour: blue\n")
    first = snapshot(env_dir)
    assert any("unknown key 'colour'" in line for line in first), first
    work["schema"].clear()
    monkeypatch.chdir(env_dir)  # display paths are relative to the working directory
    again = snapshot(env_dir)
    assert work["schema"] == []  # from the cache
    assert any(line.startswith("pipelines/store-daily.yaml:") and "unknown key 'colour'" in line
               for line in again), again
    assert again == uncached(env_dir)


@pytest.mark.parametrize("damage", ["deleted", "not a store", "another format", "a changed byte", "cut short",
                                    "unreadable"])
def test_a_deleted_or_damaged_cache_changes_nothing_but_time(env_dir: Path, damage: str,
                                                             work: dict[str, list[str]]) -> None:
    first = snapshot(env_dir)
    path = env_dir / cache.DOCUMENTS
    data = path.read_bytes()
    header, _, payload = data.partition(b"\n")
    if damage == "deleted":
        path.unlink()
    elif damage == "not a store":
        path.write_text("{not json")
    elif damage == "another format":
        path.write_bytes(header.replace(b'"format":3', b'"format":0') + b"\n" + payload)
    elif damage == "a changed byte":  # its checksum no longer holds
        path.write_bytes(data.replace(b"apiVersion", b"apiVersiom"))
    elif damage == "cut short":  # a write cut short
        path.write_bytes(data[:len(data) // 2])
    else:
        path.unlink()
        path.mkdir()
    work["parse"].clear()
    assert snapshot(env_dir) == first
    if damage != "unreadable":
        assert work["parse"]  # the damaged entries were parsed again...
        work["parse"].clear()
        assert snapshot(env_dir) == first
        assert work["parse"] == []  # ...and recorded again


def test_recorded_positions_that_do_not_decode_are_parsed_again(env_dir: Path) -> None:
    """An entry whose checksum holds but whose positions do not decode (a df-gen bug, say)
    still places every error: the file's bytes are parsed again for them."""
    snapshot(env_dir)
    store = Store(env_dir / cache.DOCUMENTS, tool_digest())
    for key in store.keys():
        entry = store.get(key)
        if "where" in entry:
            store.put(key, {**entry, "where": b"[[not positions"})
    store.save()
    source = env_dir / "datasources" / "store.yaml"
    lines = source.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("  curated:"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    source.write_text("".join(lines[:start] + lines[end:]))
    reported = snapshot(env_dir)
    assert any("store-daily.yaml" in line and "has no curated dataset" in line for line in reported), reported
    assert reported == uncached(env_dir)


def test_one_changed_descriptor_appends_its_entries_only(env_dir: Path) -> None:
    snapshot(env_dir)
    path = env_dir / cache.DOCUMENTS
    before = path.read_bytes()
    snapshot(env_dir)
    assert path.read_bytes() == before  # nothing changed: nothing written
    keys = set(Store(path, tool_digest()).keys())
    pipeline = env_dir / "pipelines" / "store-daily.yaml"
    pipeline.write_text(pipeline.read_text().replace("description:", "description: Changed.", 1))
    snapshot(env_dir)
    assert path.read_bytes().startswith(before)  # appended, nothing rewritten
    # The descriptor's parse, its own rules' result and its part of the rules across files.
    assert len(set(Store(path, tool_digest()).keys()) - keys) == 3


def test_another_df_gen_drops_every_entry(env_dir: Path, work: dict[str, list[str]],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first = snapshot(env_dir)
    work["parse"].clear()
    monkeypatch.setattr(cache.documents, "tool_digest", lambda: "another df-gen")
    assert snapshot(env_dir) == first
    assert len(work["parse"]) == len(first)


def test_the_tool_digest_covers_schemas_templates_and_modules() -> None:
    files = {os.path.relpath(path, ROOT) for path in cache.inputs._tool_files()}
    assert "generator/schemas/pipeline.schema.json" in files
    assert "generator/validate/__init__.py" in files and "generator/loader.py" in files
    assert any(name.startswith("templates/") for name in files)
    assert any(name.startswith("modules/pipeline/") for name in files)


@pytest.fixture
def rule_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pipelines whose own rules (validate.pipeline.pipeline_rules) ran, not from the cache."""
    ran: list[str] = []
    real = generator.validate.pipeline.pipeline_rules

    def counted(d: Any, key: str, clean: Any) -> Any:
        ran.append(key)
        return real(d, key, clean)

    monkeypatch.setattr(generator.validate.pipeline, "pipeline_rules", counted)
    return ran


def test_a_pipelines_rules_run_again_only_when_one_of_their_inputs_changed(
        env_dir: Path, rule_runs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    first = snapshot(env_dir)
    assert sorted(rule_runs) == ["ecommerce-hourly", "store-daily"]
    rule_runs.clear()
    assert snapshot(env_dir) == first and rule_runs == []
    # The pipeline's descriptor.
    pipeline = env_dir / "pipelines" / "store-daily.yaml"
    pipeline.write_text(pipeline.read_text().replace("description:", "description: Changed.", 1))
    snapshot(env_dir)
    assert rule_runs == ["store-daily"]
    # A schema in the code directory both pipelines share: a policy-tagged column goes.
    rule_runs.clear()
    schemas = sorted((env_dir.parent.parent / "pipelines" / "retail" / "schemas").rglob("*.json"))
    tagged = next(path for path in schemas if '"email"' in path.read_text())
    fields = json.loads(tagged.read_text())
    tagged.write_text(json.dumps([f for f in fields if f["name"] != "email"], indent=2))
    broken = snapshot(env_dir)
    assert sorted(rule_runs) == ["ecommerce-hourly", "store-daily"]
    assert any("no column 'email'" in line for line in broken), broken
    assert broken == uncached(env_dir)
    # The taxonomy's tags (the environment descriptor).
    tagged.write_text(json.dumps(fields, indent=2))
    snapshot(env_dir)
    rule_runs.clear()
    environment = env_dir / "environment.yaml"
    environment.write_text(environment.read_text() + "\n")  # same data, new bytes: tags unchanged
    snapshot(env_dir)
    assert rule_runs == []
    # Messages name files relative to the working directory: another one runs the rules again.
    monkeypatch.chdir(env_dir)
    assert snapshot(env_dir) == uncached(env_dir)


def test_a_collision_the_changed_file_makes_is_reported_and_one_undone_elsewhere_goes(
        env_dir: Path, work: dict[str, list[str]]) -> None:
    """Each pipeline's claimed names come from the cache (generator.validate.summary); they
    are merged on every run, so the rules across files see every pipeline."""
    first = snapshot(env_dir)
    daily = env_dir / "pipelines" / "store-daily.yaml"
    weekly = env_dir / "pipelines" / "store-weekly.yaml"
    weekly.write_text(daily.read_text() + "# weekly\n")  # the same tables, in the same data source's datasets
    work["parse"].clear()
    reported = snapshot(env_dir)
    assert work["parse"] == ["store-weekly.yaml"]  # store-daily's claims come from the cache
    assert any(line.startswith(str(weekly.relative_to(Path.cwd())) if weekly.is_relative_to(Path.cwd()) else "")
               and "is already generated for" in line and "store-daily.yaml" in line for line in reported), reported
    assert reported == uncached(env_dir)
    snapshot(env_dir)  # the cache again
    # Undone in the other file: store-daily moves to the other data source's datasets.
    daily.write_text(daily.read_text().replace("datasource: store", "datasource: ecommerce", 1))
    work["parse"].clear()
    moved = snapshot(env_dir)
    assert work["parse"] == ["store-daily.yaml"]
    assert not any("store-weekly.yaml" in line and "is already generated for" in line
                   and "store-daily.yaml" in line and "dataset demo_store" in line for line in moved), moved
    assert moved == uncached(env_dir)
    weekly.unlink()
    daily.write_text(daily.read_text().replace("datasource: ecommerce", "datasource: store", 1))
    assert snapshot(env_dir) == first


@pytest.mark.parametrize("change", ["labels of the data source", "masking of the environment"])
def test_a_pipelines_part_of_the_rules_across_files_follows_its_data_source_and_environment(
        env_dir: Path, change: str) -> None:
    pipeline = env_dir / "pipelines" / "store-daily.yaml"
    if change == "labels of the data source":  # 40 of the pipeline's and 40 of its data source's: too many
        pipeline.write_text(pipeline.read_text() + "labels:\n" + "".join(f"  p-{i}: x\n" for i in range(40)))
    snapshot(env_dir)
    if change == "labels of the data source":
        source = env_dir / "datasources" / "store.yaml"
        labels = "".join(f"  s-{index}: x\n" for index in range(40))
        source.write_text(source.read_text().replace("labels:\n", f"labels:\n{labels}", 1))
        expected = "labels after merging"
    else:
        environment = env_dir / "environment.yaml"
        environment.write_text(environment.read_text().replace("masking: DEFAULT_MASKING_VALUE",
                                                               "masking: DATE_YEAR_MASK", 1))
        expected = "is masked with DATE_YEAR_MASK"
    reported = snapshot(env_dir)
    assert any("pipelines/" in line and expected in line for line in reported), reported
    assert reported == uncached(env_dir)
