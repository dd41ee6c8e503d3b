"""The canonical form of SQL (generator/analysis/canonical.py) and the work done once per run.

The claim: analysing a statement in its canonical form and renaming the result back gives
exactly the direct analysis, so the pipelines of one code directory can share it. Checked
statement by statement (the demo's SQL, the synthetic benchmark's, hand-written statements
that try each rule) and end to end: the rendered files and the access report of the demo
and of a synthetic tree are the same with the sharing and the per-run memos switched off.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from demosupport import copy_sources

from generator import loader
from generator.analysis import cache, canonical, inventory, sql
from generator.analysis.report import as_json, report_for
from generator.memo import IdentityMemo
from generator.model import build
from generator.render import render_files
from generator.validate import validate

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"


def _synthetic_module() -> Any:
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "benchmarks" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("synthetic", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "env"
    _synthetic_module().write(out, datasources=4, pipelines=12, codes=3)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("demo")
    return copy_sources(base, stacks=False)


def _statements(env_dir: Path) -> tuple[list[str], dict[str, Any]]:
    """Every SQL text the access check analyses (tasks' and views' as rendered), and the schema."""
    descriptors = validate(env_dir)
    model = build(descriptors)
    texts = []
    for stack in model.stacks:
        texts += [text for name, text in sorted(stack.files.items()) if name.startswith(("sql/", "views/"))]
    return texts, inventory.schema_of(inventory.stored_tables(descriptors))


@pytest.mark.parametrize("tree", ["demo", "synthetic"])
def test_each_statement_analysed_canonically_equals_its_direct_analysis(tree: str, request: Any,
                                                                        tmp_path: Path) -> None:
    texts, schema = _statements(request.getfixturevalue(tree))
    analyser = cache.Analyser(tmp_path, schema)
    shared = 0
    for text in texts:
        form = canonical.canonical(text, lambda name: sql.schema_columns(schema, name) != [])
        shared += form is not None
        assert analyser.analyse(text) == sql.analyse(text, schema), text
    assert shared == len(texts)  # the demo's and the benchmark's SQL all have a canonical form
    # One analysis per distinct template (and table schemas), not per pipeline.
    assert analyser.misses < len(set(texts))
    analyser.save()
    again = cache.Analyser(tmp_path, schema)  # and through the file
    assert [again.analyse(text) for text in texts] == [sql.analyse(text, schema) for text in texts]
    assert again.misses == 0


SCHEMA: dict[str, Any] = {
    "prj-a": {
        "ds_one": {"orders": {"id": "STRING", "email": "STRING", "total": "INT64"},
                   "t": {"id": "STRING", "x": "STRING"}},
        "ds_two": {"orders": {"id": "STRING", "email": "STRING", "amount": "INT64"}},
    },
}

# Each tries one rule of canonical.py; the expected value says whether it may be shared.
CASES = [
    ("SELECT id, email FROM `prj-a.ds_one.orders`", True),
    ("SELECT * FROM `prj-a.ds_one.orders`", True),
    # The table's name qualifies a column: the name must stay.
    ("SELECT orders.email FROM `prj-a.ds_one.orders`", False),
    ("SELECT ORDERS.email FROM `prj-a.ds_one.orders`", False),
    # Two tables with the same name in two datasets (they share the default alias).
    ("SELECT a.id FROM `prj-a.ds_one.orders` AS a JOIN `prj-a.ds_two.orders` AS b ON a.id = b.id", True),
    ("MERGE `prj-a.ds_two.orders` AS t USING (SELECT id, email FROM `prj-a.ds_one.orders`) AS s "
     "ON t.id = s.id WHEN MATCHED THEN UPDATE SET email = s.email "
     "WHEN NOT MATCHED THEN INSERT (id, email) VALUES (s.id, s.email)", True),
    # A CTE named like the table it reads.
    ("WITH orders AS (SELECT id FROM `prj-a.ds_one.orders`) SELECT id FROM orders", False),
    # Written without back-ticks, or in upper case: left as is.
    ("SELECT id FROM prj-a.ds_one.orders", False),
    ("SELECT id FROM `PRJ-A.DS_ONE.ORDERS`", False),
    # A table no schema describes is never replaced; a known one next to it is.
    ("SELECT table_name FROM `prj-a.ds_one.INFORMATION_SCHEMA.TABLES`", False),
    ("SELECT o.id FROM `prj-a.ds_one.orders` AS o JOIN `prj-a.ds_one.missing` AS m ON o.id = m.id", False),
    # The dataset mentioned in a line comment (ignored), a block comment or a string (kept).
    ("-- from ds_one\nSELECT id # orders\nFROM `prj-a.ds_one.orders`", True),
    ("/* ds_one */ SELECT id FROM `prj-a.ds_one.orders`", False),
    ("SELECT '--' AS x, id FROM `prj-a.ds_one.orders` -- orders", False),
    ("SELECT 'prj-a' AS p, id FROM `prj-a.ds_one.orders`", False),
    # A one-letter table whose name is also a column qualifier and part of other words.
    ("SELECT t.x FROM `prj-a.ds_one.t`", False),
    ("SELECT x, total FROM `prj-a.ds_one.t` JOIN `prj-a.ds_one.orders` USING (id)", True),
    # Errors: reported where they are in the original text.
    ("SELECT nope FROM `prj-a.ds_one.orders`", True),
    ("SELECT id FROM `prj-a.ds_one.orders` WHERE", True),
    ("SELECT id FROM `prj-a.ds_one.orders`; SELECT 1", True),
    ("SELECT dfgen_ph_p0 FROM `prj-a.ds_one.orders`", False),
]


def _outcome(analyse: Any, text: str) -> Any:
    try:
        return analyse(text)
    except sql.SqlError as exc:
        return ("error", exc.line, exc.col, exc.why)


@pytest.mark.parametrize(("text", "shareable"), CASES)
def test_hand_written_statements_are_shared_only_when_safe_and_analyse_alike(text: str, shareable: bool,
                                                                               tmp_path: Path) -> None:
    form = canonical.canonical(text, lambda name: sql.schema_columns(SCHEMA, name) != [])
    assert (form is not None) == shareable
    analyser = cache.Analyser(tmp_path, SCHEMA)
    assert _outcome(analyser.analyse, text) == _outcome(lambda t: sql.analyse(t, SCHEMA), text)
    # The view check too: a problem is placed in the original text.
    assert analyser.view_problem(text) == cache.view_problem(text)


def test_the_same_template_over_tables_of_other_schemas_is_analysed_again(tmp_path: Path) -> None:
    schema = json.loads(json.dumps(SCHEMA))
    analyser = cache.Analyser(tmp_path, schema)
    one = analyser.analyse("SELECT * FROM `prj-a.ds_one.orders`")
    two = analyser.analyse("SELECT * FROM `prj-a.ds_two.orders`")
    assert analyser.misses == 2  # a different schema behind the placeholder: another entry
    assert {c for _, c in one.reads} == {"id", "email", "total"}
    assert {c for _, c in two.reads} == {"id", "email", "amount"}
    schema["prj-a"]["ds_two"]["orders"] = dict(schema["prj-a"]["ds_one"]["orders"])
    same = cache.Analyser(tmp_path, schema)
    same.analyse("SELECT * FROM `prj-a.ds_one.orders`")
    same.analyse("SELECT * FROM `prj-a.ds_two.orders`")
    assert same.misses == 1  # same schema: one analysis serves both


def _outputs(env_dir: Path) -> tuple[dict[str, str], dict[str, Any]]:
    descriptors = validate(env_dir)
    model = build(descriptors)
    return render_files(model), as_json(report_for(descriptors, model))


@pytest.mark.parametrize("tree", ["demo", "synthetic"])
def test_outputs_are_the_same_without_sharing_and_memos(tree: str, request: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = request.getfixturevalue(tree)
    shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
    fast = _outputs(env_dir)
    shutil.rmtree(env_dir / ".df-gen", ignore_errors=True)
    # Off: canonical forms, the identity memos (tasks, table versions, what a run shares) and
    # JSON memos, the SQL cache file.
    monkeypatch.setattr(cache, "canonical", lambda text, known: None)
    monkeypatch.setattr(IdentityMemo, "get", lambda self, owner, key=None: None)  # tasks, table versions, sharing
    monkeypatch.setattr(loader, "_json_version",
                        lambda path, *_: json.loads(path.read_text(encoding="utf-8")))
    monkeypatch.setattr(cache, "CACHE_FILE", Path("never") / "sql.json")
    monkeypatch.setattr(cache, "_LOADED", {})
    slow = _outputs(env_dir)
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert len(fast[0]) > 10 and fast[1]["tasks"]
