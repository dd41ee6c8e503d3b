"""A small synthetic environment (``benchmarks/synthetic.py``'s writer) and the switch that
makes df-gen's per-file work run in forked worker processes however small it is."""

from __future__ import annotations

import importlib.util
import json
import marshal
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import workers
from generator.cache.store import Store

ROOT = Path(__file__).resolve().parent.parent


def synthetic_module() -> Any:
    """``benchmarks/synthetic.py`` as a module (the benchmarks are no package)."""
    if "synthetic" in sys.modules:
        return sys.modules["synthetic"]
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "benchmarks" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["synthetic"] = module
    spec.loader.exec_module(module)
    return module


def write_synthetic(out: Path, datasources: int = 4, pipelines: int = 30, codes: int = 3) -> Path:
    """A valid synthetic environment in ``out``; returns ``out``."""
    synthetic_module().write(out, datasources=datasources, pipelines=pipelines, codes=codes)
    return out


def use_workers(monkeypatch: pytest.MonkeyPatch, processes: int) -> None:
    """``processes`` processes for every map of two items or more (1: everything serial)."""
    monkeypatch.setattr(workers, "MIN_ITEMS", 2)
    monkeypatch.setenv("DF_GEN_WORKERS", str(processes))
    ignore_idle_threads(monkeypatch)


def ignore_idle_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even beside the idle threads earlier tests of this process left (a pytest-xdist
    worker runs many modules: a thread pool, a server's poller). df-gen itself stays serial
    beside any thread (workers.other_threads); the functions these tests map take no lock
    such a thread could hold, so the tests exercise the forked path whatever ran before."""
    monkeypatch.setattr(workers, "other_threads", lambda: False)


def store_of(path: Path) -> Store:
    """The cache store at ``path``, opened under the stamp its header holds."""
    return Store(path, json.loads(path.read_bytes().partition(b"\n")[0])["stamp"])


def cache_entries(path: Path) -> Any:
    """A cache file's entries, decoded, or its bytes when it is no store: marshal's bytes for
    equal data differ with how the objects were shared in the process that wrote them (the
    worker processes hand theirs back pickled), so caches are compared by content."""
    if path.suffix != ".marshal":
        return path.read_bytes()
    store = store_of(path)
    entries = {key: store.get(key) for key in store.keys()}
    for entry in entries.values():  # a descriptor's positions: marshalled on their own
        if isinstance(entry, dict) and isinstance(entry.get("where"), bytes):
            entry["where"] = marshal.loads(entry["where"])
    return entries
