"""The Airflow test environments' requirements files agree with tools/airflow_requirements.py.

The files are written by the tool (which needs PyPI and minutes); these checks keep a hand
edit or a stale file from going unnoticed: the versions, the header naming the source, and
the trimming (the provider's heavy dependencies that the DAG never imports stay out).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import airflow_requirements as tool  # noqa: E402

# Declared by the google provider, never imported by the retail DAG's operators.
TRIMMED = ("ray", "google-cloud-aiplatform", "google-ads", "openai", "google-cloud-spanner")


def pins(path: Path) -> dict[str, str]:
    """name -> version of every requirement line; each must be an exact pin."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


@pytest.mark.parametrize("name", sorted(tool.ENVIRONMENTS))
def test_requirements_file_matches_the_tool(name: str) -> None:
    env = tool.ENVIRONMENTS[name]
    text = env.output.read_text(encoding="utf-8")
    assert text.startswith(tool.header(env))
    pinned = pins(env.output)
    assert pinned["apache-airflow"] == env.airflow
    assert pinned["apache-airflow-providers-google"] == env.google
    assert set(tool.IMPORT_PATH) <= set(pinned)
    assert not set(TRIMMED) & set(pinned)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == sorted(lines, key=str.lower)


def test_each_airflow_major_has_one_environment() -> None:
    majors = sorted(env.airflow.split(".")[0] for env in tool.ENVIRONMENTS.values())
    assert majors == ["2", "3"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for name in tool.ENVIRONMENTS:
        assert f".venv-{name}" in makefile
        assert f"DF_GEN_{name.upper()}_PYTHON=" in makefile
