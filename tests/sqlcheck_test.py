"""View SQL is parsed as BigQuery SQL: plain files by validate, templates once rendered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from generator.errors import DfGenError
from generator.render import load_model
from generator.sqlcheck import view_problem

BASE = Path(__file__).parent / "data" / "descriptors" / "base"


@pytest.mark.parametrize("text", [
    "SELECT 1",
    "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
    "SELECT a FROM `p.d.t` UNION ALL SELECT b FROM `p.d.u`",
    "-- comment\nSELECT COUNT(*) AS n FROM `p.d.t` WHERE d = CURRENT_DATE()\n",
])
def test_queries_pass(text):
    assert view_problem(text) is None


@pytest.mark.parametrize(("text", "problem"), [
    ("", (1, 1, "the file holds no query; a view needs one SELECT")),
    ("-- only a comment\n", (1, 1, "the file holds no query; a view needs one SELECT")),
    ("this is definitely not SQL ;;; DROP", (1, 22, "not BigQuery SQL: Invalid expression / Unexpected token")),
    ("DROP TABLE `p.d.t`", (1, 1, "a view is one query (SELECT ...), not a DROP statement")),
    ("SELECT 1; SELECT 2", (1, 1, "a view is one query, this file holds 2 statements")),
])
def test_non_queries_are_refused(text, problem):
    assert view_problem(text) == problem


def test_rendered_view_template_is_checked(tmp_path, monkeypatch):
    env_dir = tmp_path / "env"
    shutil.copytree(BASE, env_dir)
    views = env_dir / "code" / "sales-daily" / "sql"
    views.mkdir()
    (views / "v.sql.j2").write_text("SELECT event_id FROM `{{ datasets.landing.dataset_id }}.events`\nWHERE ((\n")
    pipeline = env_dir / "pipelines" / "sales-daily.yaml"
    data = yaml.safe_load(pipeline.read_text())
    data["views"] = {"v": {"layer": "exposure", "sql": "sql/v.sql.j2"}}
    pipeline.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(env_dir)
    with pytest.raises(DfGenError) as raised:
        load_model(Path("."))
    [line] = raised.value.lines()
    assert line.startswith("code/sales-daily/sql/v.sql.j2:2:")
    assert "view 'v' of pipeline 'sales-daily' (pipelines/sales-daily.yaml), once rendered: not BigQuery SQL" in line
