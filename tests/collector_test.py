"""generator.collector: the collector's thresholds and its pause for batch work."""

from __future__ import annotations

import gc

import pytest

from generator import collector


@pytest.fixture(autouse=True)
def _collection_as_it_was():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_paused_turns_collection_off_inside_and_back_on_after():
    gc.enable()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    @collector.paused()
    def work() -> bool:
        return gc.isenabled()

    assert work() is False
    assert gc.isenabled()


def test_what_paused_work_built_is_frozen_out_of_later_collections():
    gc.unfreeze()
    with collector.paused():
        built = [[index] for index in range(1000)]
    assert gc.get_freeze_count() >= len(built)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_paused_turns_collection_back_on_after_an_error():
    gc.enable()
    with pytest.raises(ValueError), collector.paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_paused_leaves_collection_off_when_it_was_off():
    gc.disable()
    with collector.paused(), collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
