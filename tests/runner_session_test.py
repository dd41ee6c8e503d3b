"""The session of a run (generator/runner/session.py): what every command does before Terraform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from demosupport import copy_demo
from runner_test import fake  # noqa: F401 - fake is a fixture
from schema_changes_test import STACK, schema_file, set_table_option, table_change, with_amount

import generator.render
import generator.validate
from generator import runner


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every validation of the descriptors, wherever it is called from."""
    calls: list[Path] = []
    real = generator.validate.validate

    def counting(env_dir: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(Path(env_dir))
        return real(env_dir, *args, **kwargs)

    monkeypatch.setattr(generator.validate, "validate", counting)
    monkeypatch.setattr(generator.render, "validate", counting)
    return calls


def test_plan_and_apply_each_validate_once(tmp_path: Path, fake, validations: list[Path]) -> None:  # noqa: F811
    demo = copy_demo(tmp_path)
    engine = fake()
    assert not runner.apply(runner.RunOptions(demo, quiet=True, auto_approve=True)).failed
    original = json.loads(schema_file(demo).read_text())
    widened = with_amount(original, "BIGNUMERIC")  # a table change: the review reads the descriptors
    schema_file(demo).write_text(json.dumps(widened, indent=2) + "\n")
    set_table_option(demo, "accept_loss: true")  # so that apply goes on
    generator.render.render(demo)
    engine.script[(STACK, "show")] = [(0, json.dumps({"resource_changes": [
        table_change(original, widened, ["update"])]}))]
    validations.clear()

    report = runner.plan(runner.RunOptions(demo, quiet=True))
    assert {r.name: r.status for r in report.results}[STACK] == "changes", "\n".join(report.summary_lines())
    assert len(validations) == 1  # the up-to-date check, the model and the review share one

    report = runner.apply(runner.RunOptions(demo, quiet=True, auto_approve=True))
    assert {r.name: r.status for r in report.results}[STACK] == "applied", "\n".join(report.summary_lines())
    assert len(validations) == 2
    assert engine.commands(STACK).count("show") == 2  # each command reviewed the table change
