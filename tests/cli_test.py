"""The CLI through click's runner: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import __version__, collector
from generator import cli as cli_module
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




def test_main_sets_the_collector_thresholds_for_a_cli_process(monkeypatch):
    before = gc.get_threshold()
    monkeypatch.setattr("sys.argv", ["df-gen", "--version"])
    try:
        with pytest.raises(SystemExit) as raised:
            cli_module.main()
        assert raised.value.code == 0
        assert gc.get_threshold() == collector.THRESHOLDS != before
    finally:
        gc.set_threshold(*before)
        atexit.unregister(gc.freeze)  # this test process's exit collects as usual


@pytest.mark.parametrize("command", ["validate", "render", "graph", "access", "lineage"])
def test_commands_that_build_the_model_run_with_collection_paused(tmp_path, monkeypatch, command):
    """Collecting while validate and the model build their objects scans only what stays
    (generator.collector); the collector is on again once the command is done."""
    import generator.validate

    seen = []
    real = generator.validate.validate

    def validate(env_dir):
        seen.append(gc.isenabled())
        return real(env_dir)

    monkeypatch.setattr("generator.validate.validate", validate)
    monkeypatch.setattr("generator.render.validate", validate)  # imported there by name
    shutil.copytree(BASE, tmp_path / "env")
    monkeypatch.chdir(tmp_path)
    gc.enable()
    result = _run(command, "env")
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()


def test_a_cli_process_freezes_its_objects_on_the_way_out(tmp_path: Path) -> None:
    """Nothing is collected at exit (gc.freeze, registered by main): the exit's collection
    would scan every object the command built."""
    script = ("import atexit, gc, sys\n"
              "sys.argv = ['df-gen', '--version']\n"
              "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
              "from generator.cli import main\n"
              "main()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.returncode == 0 and done.stdout.endswith("frozen True\n"), done.stdout + done.stderr
