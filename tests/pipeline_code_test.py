"""A pipeline's code rendered into its stack's files: DAG, SQL and views (real Jinja, real files)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from generator import pipeline_code
from generator.analysis.cache import Analyser
from generator.errors import DfGenError

CONTEXT: dict[str, Any] = {"dag_id": "p", "datasets": {"curated": {"project": "acme-cur", "dataset_id": "shop_cur"}}}
VIEWS = {"views": {"top": {"layer": "exposure", "sql": "sql/views/top.sql.j2"}}}


def _code(tmp_path: Path, files: dict[str, str]) -> Path:
    code_dir = tmp_path / "code"
    for relative, text in files.items():
        (code_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (code_dir / relative).write_text(text)
    return code_dir


def _render(code_dir: Path, data: dict[str, Any]) -> pipeline_code.Code:
    return pipeline_code.render(code_dir, "pipelines/p.yaml", "p", data, CONTEXT, Analyser(None, {}))


def test_templates_are_filled_plain_files_copied_and_view_sources_not_uploaded(tmp_path: Path) -> None:
    code_dir = _code(tmp_path, {
        "dag.py.j2": "DAG_ID = '{{ dag_id }}'\n",
        "sql/load.sql.j2": "SELECT 1 FROM `{{ datasets.curated.project }}.{{ datasets.curated.dataset_id }}.t`\n",
        "sql/checks/plain.sql": "SELECT {{ not_a_template }}\n",
        "sql/views/top.sql.j2": "SELECT x FROM `{{ datasets.curated.dataset_id }}.t`\n",
    })
    code = _render(code_dir, VIEWS)
    assert dict(code.files) == {
        "dag.py": "DAG_ID = 'p'\n",
        "sql/load.sql": "SELECT 1 FROM `acme-cur.shop_cur.t`\n",
        "sql/checks/plain.sql": "SELECT {{ not_a_template }}\n",
        "views/top.sql": "SELECT x FROM `shop_cur.t`\n",
    }
    # Every code file read is an input of the stack, the view's source too.
    assert sorted(p.relative_to(code_dir).as_posix() for p in code.inputs) == [
        "dag.py.j2", "sql/checks/plain.sql", "sql/load.sql.j2", "sql/views/top.sql.j2"]


def test_code_without_dag_or_sql_renders_nothing(tmp_path: Path) -> None:
    code = _render(_code(tmp_path, {"README.md": "x"}), {})
    assert dict(code.files) == {} and code.inputs == ()


def test_a_view_template_rendering_two_statements_is_refused_at_its_file(tmp_path: Path) -> None:
    code_dir = _code(tmp_path, {"sql/views/top.sql.j2": "SELECT 1;\nSELECT {{ dag_id }}\n"})
    with pytest.raises(DfGenError) as caught:
        _render(code_dir, VIEWS)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message == ("view 'top' of pipeline 'p' (pipelines/p.yaml), once rendered: "
                                  "a view is one query, this file holds 2 statements")
    assert diagnostic.path.endswith("code/sql/views/top.sql.j2")


def test_a_sql_file_linking_out_of_the_code_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.sql").write_text("SELECT 1\n")
    code_dir = _code(tmp_path, {"sql/ok.sql": "SELECT 2\n"})
    os.symlink(tmp_path / "secret.sql", code_dir / "sql" / "leak.sql")
    with pytest.raises(DfGenError) as caught:
        _render(code_dir, {})
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.path.endswith("code/sql/leak.sql")
    assert "the pipeline's code directory" in diagnostic.message
