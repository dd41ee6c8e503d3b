"""generator.sandbox.store: the JSON store under a lock, written atomically."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from generator.sandbox.store import Store


def _writer(directory: str, worker: int, count: int) -> None:
    store = Store(directory)
    for i in range(count):
        store.put("google_x", f"w{worker}-{i}", {"id": f"w{worker}-{i}", "n": i})


def test_store_survives_concurrent_writers(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    store = Store(tmp_path)
    assert len(store.all()) == 100  # no update was lost
    assert store.get("google_x", "w3-24") == {"id": "w3-24", "n": 24}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.json", "store.lock"]  # no temp file left


def test_store_transaction_is_not_written_on_error(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put("t", "a", {"id": "a"})
    with pytest.raises(RuntimeError), store.transaction() as data:
        data["resources"].clear()
        raise RuntimeError("boom")
    assert store.get("t", "a") == {"id": "a"}
    assert store.delete("t", "a") and not store.delete("t", "a")
