"""Incremental render (generator/generate.py, generator/cache/stacks.py): a stack is built
again exactly when one of its inputs changed, and what render leaves in ``stacks/`` is,
byte for byte, what a cold render (no stacks, no cache) writes."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from demosupport import copy_sources
from synthsupport import cache_entries, store_of, use_workers, write_synthetic

import generator.analysis.cache
import generator.model.datasource
import generator.model.environment
import generator.model.pipeline
from generator.cache.record import RECORD
from generator.cache.stacks import STACKS, recorded
from generator.cli import cli
from generator.render import MANIFEST

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    """A copy of the demo and its pipeline code, rendered once (a warm cache)."""
    target = copy_sources(tmp_path)
    assert render(target)[0] == 0
    return target


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The units the model builds (the real functions run, only recorded)."""
    calls: list[str] = []

    def counted(module: Any, name: str, unit: Callable[[tuple[Any, ...]], str]) -> None:
        real = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(unit(args))
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    counted(generator.model.pipeline, "pipeline_stack", lambda args: f"pipeline:{args[1]}")
    counted(generator.model.datasource, "datasource_stack", lambda args: f"datasource:{args[1]}")
    counted(generator.model.environment, "environment_stack", lambda args: "environment")
    return calls


def render(env_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["render", *args, str(env_dir)])
    return result.exit_code, result.output


def snapshot(env_dir: Path) -> dict[str, bytes]:
    """Every file under ``stacks/`` (the manifest included)."""
    stacks = env_dir / "stacks"
    return {path.relative_to(stacks).as_posix(): path.read_bytes()
            for path in sorted(stacks.rglob("*")) if path.is_file()}


def cold(env_dir: Path) -> dict[str, bytes]:
    """What a cold render of ``env_dir`` writes: a copy rendered with no stacks and no cache."""
    copy = env_dir.parent.parent / "cold" / env_dir.name  # same depth and name: same relative paths
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(env_dir, copy, ignore=shutil.ignore_patterns(".df-gen", "stacks"))
    assert render(copy)[0] == 0
    return snapshot(copy)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


CHANGES: dict[str, tuple[Callable[[Path], None], set[str], set[str]]] = {
    # kind of input: (the change, the stacks whose files change, the units built again)
    # The data source is built again too (its pipelines' descriptors decide its grants to
    # their agents), with the same files here.
    "pipeline descriptor": (
        lambda env: edit(env / "pipelines" / "store-daily.yaml", "retries: 2", "retries: 4"),
        {"pipeline-store-daily"}, {"pipeline:store-daily", "environment", "datasource:store"}),
    # A scan in landing: the landing project's Dataplex agent (environment) writes the results
    # to the store's curated dataset (the data source grants it).
    "pipeline's scans": (
        lambda env: edit(env / "pipelines" / "store-daily.yaml", "  curated.customers:", "  landing.customers:"),
        {"pipeline-store-daily", "environment", "datasource-store"},
        {"pipeline:store-daily", "environment", "datasource:store"}),
    "data source descriptor": (
        lambda env: edit(env / "datasources" / "ecommerce.yaml", "delete_after_days: 14", "delete_after_days: 21"),
        {"datasource-ecommerce"}, {"datasource:ecommerce", "pipeline:ecommerce-hourly", "environment"}),
    "environment descriptor": (
        lambda env: edit(env / "environment.yaml", "team: data-platform", "team: data-office"),
        {"environment", "datasource-ecommerce", "datasource-store", "pipeline-ecommerce-hourly",
         "pipeline-store-daily"},
        {"environment", "datasource:ecommerce", "datasource:store", "pipeline:ecommerce-hourly",
         "pipeline:store-daily"}),
    # Both pipelines share the retail code: both follow a change of it. The environment
    # stack depends on the code only through the tags its SQL reads, unchanged here.
    "pipeline code file": (
        lambda env: edit(env.parent.parent / "pipelines" / "retail" / "sql" / "orders.sql.j2",
                         "-- Landing -> curated orders", "-- Landing to curated orders"),
        {"pipeline-ecommerce-hourly", "pipeline-store-daily"},
        {"pipeline:ecommerce-hourly", "pipeline:store-daily"}),
    "schema file": (
        lambda env: edit(env.parent.parent / "pipelines" / "retail" / "schemas" / "curated" / "orders.json",
                         '"description": "Order key."', '"description": "The order key."'),
        {"pipeline-ecommerce-hourly", "pipeline-store-daily"},
        {"pipeline:ecommerce-hourly", "pipeline:store-daily"}),
}


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_each_kind_of_input_change_is_rendered_as_a_cold_render_would(env_dir: Path, built: list[str],
                                                                      kind: str) -> None:
    change, stacks, units = CHANGES[kind]
    before = snapshot(env_dir)
    change(env_dir)
    code, output = render(env_dir)
    assert code == 0, output
    after = snapshot(env_dir)
    changed = {relative for relative in after if after[relative] != before.get(relative)} - {
        ".df-gen-manifest.json"}
    assert {relative.split("/", 1)[0] for relative in changed} == stacks
    assert set(built) == units  # the other stacks were neither modelled nor rendered
    assert after == cold(env_dir)
    built.clear()  # the record the incremental render left answers the next render alone
    code, output = render(env_dir)
    assert code == 0 and output.endswith(f"stacks: 0 created, 0 updated, 0 deleted, {len(after) - 1} unchanged\n")
    assert built == []


def test_an_unchanged_environment_stack_is_not_built_again(env_dir: Path, built: list[str]) -> None:
    # A comment changes the descriptor's bytes but nothing the stacks say.
    path = env_dir / "pipelines" / "store-daily.yaml"
    path.write_text(path.read_text() + "# reviewed\n")
    before = snapshot(env_dir)
    assert render(env_dir)[0] == 0
    assert built == ["pipeline:store-daily", "environment", "datasource:store"]
    assert snapshot(env_dir) == before
    built.clear()
    assert render(env_dir, "--force")[0] == 0  # the record is up to date: nothing at all is built
    assert built == []


def test_deleting_the_cache_changes_nothing_but_time(env_dir: Path, built: list[str]) -> None:
    before = snapshot(env_dir)
    times = {path: path.stat().st_mtime_ns for path in (env_dir / "stacks").rglob("*") if path.is_file()}
    shutil.rmtree(env_dir / ".df-gen" / "cache")
    code, output = render(env_dir)
    assert code == 0 and " 0 created, 0 updated, 0 deleted," in output
    assert snapshot(env_dir) == before
    assert {path: path.stat().st_mtime_ns for path in times} == times
    assert "environment" in built and "pipeline:store-daily" in built  # built again, the same
    assert (env_dir / STACKS).is_file()


@pytest.mark.parametrize("damage", ["not a store", "an entry not a mapping", "a wrong file hash", "a changed byte"])
def test_a_corrupt_cache_is_rebuilt(env_dir: Path, built: list[str], damage: str) -> None:
    path = env_dir / STACKS
    unit = "pipeline:store-daily"
    entries = recorded(env_dir)
    files = entries[unit]["files"]
    if damage == "not a store":
        path.write_text("{not json")
    elif damage == "a changed byte":  # the file's checksum no longer holds
        path.write_bytes(path.read_bytes().replace(b"sha256:", b"sha256:0", 1))
    else:  # a well-formed store with a wrong entry
        if damage == "an entry not a mapping":
            entries[unit] = ["garbage"]
        else:
            files["pipeline-store-daily/main.tf"] = "sha256:" + "0" * 64
        store = store_of(path)
        store.put(unit, entries[unit])
        store.save()
    edit(env_dir / "pipelines" / "ecommerce-hourly.yaml", "retries: 3", "retries: 5")
    code, output = render(env_dir)
    assert code == 0, output
    assert unit in built
    assert snapshot(env_dir) == cold(env_dir)
    rebuilt = recorded(env_dir)[unit]["files"]
    manifest = json.loads((env_dir / "stacks" / ".df-gen-manifest.json").read_text())["files"]
    assert rebuilt == {relative: manifest[relative] for relative in rebuilt}
    assert "pipeline-store-daily/main.tf" in rebuilt


def test_one_changed_pipeline_appends_the_entries_of_the_stacks_it_changes_only(env_dir: Path) -> None:
    path = env_dir / STACKS
    before, data = store_of(path), path.read_bytes()
    edit(env_dir / "pipelines" / "ecommerce-hourly.yaml", "retries: 3", "retries: 5")
    assert render(env_dir)[0] == 0
    after = store_of(path)
    assert path.read_bytes().startswith(data) and set(after.keys()) == set(before.keys())
    units = [unit for unit in after.keys() if after.get(unit) != before.get(unit)]
    # its own stack, its data source's (which hashes its pipelines) and the environment's
    assert sorted(units) == ["datasource:ecommerce", "environment", "pipeline:ecommerce-hourly"]


def test_a_hand_edit_or_a_deleted_file_in_an_unchanged_stack_is_still_seen(env_dir: Path) -> None:
    edit(env_dir / "pipelines" / "ecommerce-hourly.yaml", "retries: 3", "retries: 5")
    main = env_dir / "stacks" / "pipeline-store-daily" / "main.tf"
    main.write_text(main.read_text() + "# mine\n")
    code, output = render(env_dir)
    assert code == 1 and "pipeline-store-daily/main.tf" in output and "edited by hand" in output
    main.unlink()
    code, output = render(env_dir)
    assert code == 0 and f"create {env_dir}/stacks/pipeline-store-daily/main.tf" in output.replace(
        os.path.relpath(env_dir), str(env_dir))
    assert snapshot(env_dir) == cold(env_dir)


def test_a_change_of_df_gens_own_templates_renders_every_stack_again(env_dir: Path, tmp_path: Path) -> None:
    """df-gen's own files are part of every key (tool_digest): a copy of df-gen whose stack
    template differs renders the new text into every stack, as its cold render does."""
    tool = tmp_path / "tool"
    for part in ("generator", "templates", "modules"):
        shutil.copytree(ROOT / part, tool / part, ignore=shutil.ignore_patterns("__pycache__", ".terraform*"))
    template = tool / "templates" / "stack" / "versions.tf.j2"
    template.write_text(template.read_text() + "# a df-gen upgrade\n")

    def run(target: Path) -> None:
        done = subprocess.run([sys.executable, "-c", "from generator.cli import main; main()", "render", str(target)],
                              env={**os.environ, "PYTHONPATH": str(tool)}, cwd=tmp_path,  # not this checkout
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr

    run(env_dir)
    after = snapshot(env_dir)
    versions = [relative for relative in after if relative.endswith("/versions.tf")]
    assert len(versions) == 5 and all(after[r].endswith(b"# a df-gen upgrade\n") for r in versions)
    copy = tmp_path / "cold" / "environments" / "demo"
    shutil.copytree(env_dir, copy, ignore=shutil.ignore_patterns(".df-gen", "stacks"))
    shutil.copytree(tmp_path / "pipelines", tmp_path / "cold" / "pipelines")
    run(copy)
    assert snapshot(copy) == after


def test_an_unchanged_view_of_a_stack_built_again_is_not_parsed_again(env_dir: Path, built: list[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = generator.analysis.cache.view_problem

    def counted(text: str) -> Any:
        parsed.append(text)
        return real(text)
    monkeypatch.setattr(generator.analysis.cache, "view_problem", counted)
    edit(env_dir / "pipelines" / "store-daily.yaml", "retries: 2", "retries: 4")
    assert render(env_dir)[0] == 0
    assert "pipeline:store-daily" in built and parsed == []  # its view's text was checked before
    view = env_dir.parent.parent / "pipelines" / "retail" / "sql" / "views" / "sales_by_product_day.sql.j2"
    view.write_text(view.read_text() + ";\nSELECT 1\n")
    code, output = render(env_dir)
    assert code == 1 and "once rendered" in output and parsed  # a changed view is checked


def test_every_stack_of_the_demo_is_cached_and_a_stack_reading_an_uncovered_input_is_not(
        env_dir: Path, built: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    units = recorded(env_dir)
    assert sorted(units) == ["datasource:ecommerce", "datasource:store", "environment", "pipeline:ecommerce-hourly",
                             "pipeline:store-daily"]
    # A data source stack that names a file its key does not hash (say a model change made
    # it read the environment's other data sources) is built on every render, never cached.
    real = generator.model.datasource.datasource_stack
    other = env_dir / "datasources" / "store.yaml"

    def reading(ctx: Any, key: str, data: Any) -> Any:
        stack = real(ctx, key, data)
        return dataclasses.replace(stack, inputs=(*stack.inputs, other)) if key == "ecommerce" else stack
    monkeypatch.setattr(generator.model.datasource, "datasource_stack", reading)
    shutil.rmtree(env_dir / ".df-gen" / "cache")
    for _ in range(2):
        edit(env_dir / "pipelines" / "store-daily.yaml", "retries: 2", "retries: 3")
        assert render(env_dir)[0] == 0
        assert "datasource:ecommerce" not in recorded(env_dir)
        edit(env_dir / "pipelines" / "store-daily.yaml", "retries: 3", "retries: 2")
    built.clear()
    edit(env_dir / "pipelines" / "store-daily.yaml", "retries: 2", "retries: 4")
    assert render(env_dir)[0] == 0
    assert "datasource:ecommerce" in built and "pipeline:ecommerce-hourly" not in built


# --- pipeline stacks built and rendered in forked worker processes (generator.workers) -----

def _cold_render_with(monkeypatch: pytest.MonkeyPatch, env_dir: Path, processes: int) -> dict[str, bytes]:
    """``stacks/`` and the caches after a cold render in ``processes`` processes (but the
    inputs record, which holds times)."""
    use_workers(monkeypatch, processes)
    shutil.rmtree(env_dir / "stacks", ignore_errors=True)
    shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
    code, output = render(env_dir)
    assert code == 0, output
    caches = env_dir / ".df-gen" / "cache"
    return {**snapshot(env_dir), **{f"cache/{p.name}": cache_entries(p) for p in sorted(caches.iterdir())
                                     if p.name != RECORD.name}}


def test_worker_processes_render_as_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = write_synthetic(tmp_path / "env")
    serial = _cold_render_with(monkeypatch, env_dir, 1)
    assert sum(name.endswith("/dag.py") for name in serial) == 30
    assert _cold_render_with(monkeypatch, env_dir, 2) == serial
    # Three pipelines changed: the three built again by two processes, as one process would.
    for index in (3, 4, 5):
        path = env_dir / "pipelines" / f"p{index}.yaml"
        path.write_text(path.read_text().replace("Synthetic pipeline", "Changed pipeline"))
    assert render(env_dir)[0] == 0
    assert snapshot(env_dir) == {k: v for k, v in _cold_render_with(monkeypatch, env_dir, 1).items()
                                 if not k.startswith("cache/")}


def test_a_file_a_worker_cannot_write_is_the_serial_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         immutable: Callable[[Path], None]) -> None:
    """render writes the stacks' files in worker processes too: a write that fails there is
    the line one process gives, and the manifest is not written."""
    env_dir = write_synthetic(tmp_path / "env")
    for key in ("p1", "p10"):  # neighbours in the stacks' order: one of them is a child's
        (env_dir / "stacks" / f"pipeline-{key}").mkdir(parents=True)
        immutable(env_dir / "stacks" / f"pipeline-{key}")
    outputs = _failing_renders(monkeypatch, env_dir)
    assert not (env_dir / "stacks" / MANIFEST).exists()
    assert outputs[0] == (f"{env_dir}/stacks/pipeline-p1/versions.tf: error: cannot write this file: Operation not "
                          "permitted (hint: check the permissions of stacks/ (and chattr/immutable flags))\n")


def test_an_error_in_a_pipeline_rendered_by_a_worker_is_the_serial_line(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = write_synthetic(tmp_path / "env")
    # Code c1's view no longer parses: its first pipeline in key order, p1, is the second
    # item, a child's (the parent takes the even ones).
    view = env_dir / "code" / "c1" / "sql" / "views" / "daily.sql.j2"
    view.write_text(view.read_text().replace("GROUP BY", "GROUP BY BY"))
    outputs = _failing_renders(monkeypatch, env_dir)
    assert len(outputs[0].splitlines()) == 1 and "pipeline 'p1'" in outputs[0], outputs[0]


def _failing_renders(monkeypatch: pytest.MonkeyPatch, env_dir: Path) -> list[str]:
    """What a render that fails prints in one process and in two (the same, or it fails)."""
    outputs = []
    for processes in (1, 2):
        use_workers(monkeypatch, processes)
        shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
        code, output = render(env_dir)
        assert code == 1
        outputs.append(output)
    assert outputs[0] == outputs[1]
    return outputs


def test_a_bug_in_a_worker_is_raised_in_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.generate import generate
    from generator.validate import validate

    env_dir = write_synthetic(tmp_path / "env")
    descriptors = validate(env_dir)
    real = generator.model.pipeline.pipeline_stack

    parent = os.getpid()

    def buggy(ctx: Any, key: str, data: dict[str, Any]) -> Any:
        # In a worker process, whichever pipelines it claims (generator.workers); the parent
        # takes its time so that the worker claims some.
        if os.getpid() != parent:
            raise ZeroDivisionError("a bug")
        time.sleep(0.01)
        return real(ctx, key, data)

    monkeypatch.setattr(generator.model.pipeline, "pipeline_stack", buggy)
    use_workers(monkeypatch, 2)
    with pytest.raises(ZeroDivisionError, match="a bug") as raised:
        generate(descriptors)
    assert "in a df-gen worker process" in "\n".join(raised.value.__notes__)
