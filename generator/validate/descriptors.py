"""The validated descriptors of one environment directory, and what a key may be."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from generator.defaults import default
from generator.loader import Document

KINDS = ("environment", "datasource", "pipeline")

KEY_PATTERN = r"^[a-z][a-z0-9-]*$"

MAX_KEY = 30


@dataclass(frozen=True)
class Descriptors:
    """The validated descriptors of one environment directory."""

    env_dir: Path
    environment: Document
    datasources: dict[str, Document]
    pipelines: dict[str, Document]
    digests: Mapping[Path, str] = field(default_factory=dict, compare=False, repr=False)
    """Each descriptor's path -> the hash of the bytes validate read (generator.generate keys on it)."""

    @cached_property
    def pipelines_dir(self) -> Path:
        """Where pipeline code lives (``pipelines_dir`` relative to the environment)."""
        relative = self.environment.data.get("pipelines_dir", default("environment", "pipelines_dir"))
        return (self.env_dir / relative).resolve()

    @cached_property
    def pipelines_of(self) -> dict[str, list[str]]:
        """Each data source's pipelines (keys, sorted); a data source without one is absent."""
        by_source: dict[str, list[str]] = {}
        for key in sorted(self.pipelines):
            by_source.setdefault(self.pipelines[key].data["datasource"], []).append(key)
        return by_source

    def documents(self) -> Iterator[Document]:
        """Every descriptor, environment first."""
        yield self.environment
        yield from self.datasources.values()
        yield from self.pipelines.values()
