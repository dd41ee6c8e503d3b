"""Which stacks a run covers (generator/runner/selection.py): dependencies, --only and the
reverse order of destroy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from demosupport import ALL

from generator import runner
from generator.errors import DfGenError
from generator.render import load_model


def test_select_stacks_with_dependencies_only_and_reverse(demo: Path) -> None:
    model = load_model(demo)
    assert runner.select_stacks(model, [], False) == ALL
    assert runner.select_stacks(model, ["pipeline-store-daily"], False) == [
        "environment", "datasource-store", "pipeline-store-daily"]
    assert runner.select_stacks(model, ["pipeline-store-daily"], True) == ["pipeline-store-daily"]
    # destroy: a stack goes with the stacks that need it
    assert runner.select_stacks(model, ["datasource-store"], False, reverse=True) == [
        "datasource-store", "pipeline-store-daily"]
    with pytest.raises(DfGenError, match="no stack named nope"):
        runner.select_stacks(model, ["nope"], False)
