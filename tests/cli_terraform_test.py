"""``df-gen terraform`` (generator/cli_terraform.py): the passthrough checks the sandbox's
store as plan and apply do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import DfGenGroup
from generator.cli_terraform import terraform_command
from generator.loader import display_path


@pytest.mark.parametrize("damage", ['{"resources": {"google_project/x": {"ty', "[]"])
def test_damaged_sandbox_store_is_one_line_in_the_passthrough(tmp_path: Path, damage: str) -> None:
    """df-gen terraform --sandbox checks the store as plan and apply do (no provider traceback)."""
    store = tmp_path / "box" / "store.json"
    store.parent.mkdir()
    store.write_text(damage)
    cli = DfGenGroup(name="df-gen")
    cli.add_command(terraform_command)
    result = CliRunner().invoke(cli, ["terraform", "--sandbox", "--sandbox-dir", str(store.parent), "--", "plan"])
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {display_path(store)}: ")
    assert line.endswith(f"restore it from a copy, or delete {display_path(store.parent)} to start the sandbox "
                         "afresh")
