"""The model: module arguments computed from descriptors (on copies of the demo)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import naming
from generator.render import load_model

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
EU_REGIONS = list(naming.MULTI_REGION_REGIONS["eu"])


def demo_copy(tmp_path: Path, **edits: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the demo descriptors; ``edits`` maps a descriptor path (``environment``,
    ``datasources/store``, ...) to a function that changes its data in place."""
    env_dir = tmp_path / "environments" / "demo"
    shutil.copytree(DEMO, env_dir, ignore=shutil.ignore_patterns("stacks", ".df-gen"))
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    for relative, edit in edits.items():
        path = env_dir / f"{relative.replace('__', '/')}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return env_dir


# --- Pub/Sub data residency ------------------------------------------------------------


def test_topics_store_messages_in_the_regions_of_the_environment_location(tmp_path: Path) -> None:
    model = load_model(demo_copy(tmp_path))
    assert model.stack("datasource-ecommerce").arguments["message_storage_regions"] == EU_REGIONS
    assert "europe-west2" not in EU_REGIONS  # London is not in the EU
    # A data source without topics gets no policy.
    assert "message_storage_regions" not in model.stack("datasource-store").arguments


@pytest.mark.parametrize(
    ("location", "region", "expected"),
    [
        ("US", "us-central1", list(naming.MULTI_REGION_REGIONS["us"])),
        ("europe-west3", "europe-west3", ["europe-west3"]),
    ],
)
def test_message_storage_regions_follow_other_locations(
    tmp_path: Path, location: str, region: str, expected: list[str]
) -> None:
    def relocate(env: dict[str, Any]) -> None:
        env.update(location=location, region=region)
        env.pop("kms")  # the demo's keys are in EU locations

    model = load_model(demo_copy(tmp_path, environment=relocate))
    assert model.stack("datasource-ecommerce").arguments["message_storage_regions"] == expected


def test_message_storage_regions_set_in_the_descriptor(tmp_path: Path) -> None:
    def pin(source: dict[str, Any]) -> None:
        source["pubsub"]["allowed_regions"] = ["europe-west1"]

    model = load_model(demo_copy(tmp_path, datasources__ecommerce=pin))
    assert model.stack("datasource-ecommerce").arguments["message_storage_regions"] == ["europe-west1"]
