"""Helpers for tests that drive the sandbox provider in process, without Terraform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.sandbox import schema_loader
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.store import Store
from generator.sandbox.values import normalize


def configured(tmp_path: Path, project: str = "df-test-proj", schema: schema_loader.ProviderSchema | None = None,
               **config: Any) -> SandboxProvider:
    """A provider over a fresh store in ``tmp_path``, configured as a provider block would
    (``region`` defaults to europe-west1; pass ``region=None`` to leave it out)."""
    provider = SandboxProvider(schema or schema_loader.load(schema_loader.DEFAULT_SCHEMA), Store(tmp_path / "sb"))
    config.setdefault("region", "europe-west1")
    provider.configure({"project": project, **{k: v for k, v in config.items() if v is not None}})
    return provider


def created(provider: SandboxProvider, type_name: str, cfg: dict[str, Any], *, complete: bool = True) -> dict[str, Any]:
    """Plan and apply one create as Terraform would, asserting Google accepts it; the new state.

    ``complete`` fills the attributes the configuration leaves out with nulls (Terraform sends
    every attribute of the schema); tests that pass a whole value already say ``False``."""
    value = normalize(provider.schema.resource(type_name)["block"], cfg) if complete else cfg
    planned, _, diags = provider.plan(type_name, None, value, value)
    assert not diags, diags
    state, diags = provider.apply(type_name, None, planned, value)
    assert not diags, diags
    return dict(state)
