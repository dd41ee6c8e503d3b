"""The file of cache entries (generator/cache/store.py): entries come back as put, each in
objects of its own; nothing changed writes nothing; another stamp, format or Python, or a
damaged file, drops every entry; a file holding mostly entries no run uses any more is
compacted."""

from __future__ import annotations

import json
import marshal
from pathlib import Path

import pytest

from generator.cache.store import SLACK, Store, read_blob, write_blob


def test_entries_come_back_and_an_unchanged_entry_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "x.marshal"
    store = Store(path, "one")
    assert store.get("a") is None
    store.put("a", {"v": 1, "t": (1, 2)})
    store.put("b", [1, 2])
    store.save()
    first = path.read_bytes()
    store = Store(path, "one")
    assert store.get("a") == {"v": 1, "t": (1, 2)} and store.get("b") == [1, 2]
    store.put("a", {"v": 1, "t": (1, 2)})  # unchanged: nothing to write
    store.save()
    assert path.read_bytes() == first
    store.put("b", [3])
    store.save()
    again = Store(path, "one")
    assert again.get("a") == {"v": 1, "t": (1, 2)} and again.get("b") == [3]
    assert sorted(again.keys()) == ["a", "b"]


def test_each_get_is_an_object_of_its_own(tmp_path: Path) -> None:
    """A caller may change what it got: the next get of the key is as stored."""
    path = tmp_path / "x.marshal"
    store = Store(path, "one")
    store.put("a", {"list": [1]})
    store.save()
    store = Store(path, "one")
    got = store.get("a")
    got["list"].append(2)
    assert store.get("a") == {"list": [1]}


@pytest.mark.parametrize("change", ["stamp", "format", "marshal version"])
def test_another_stamp_format_or_python_drops_every_entry(tmp_path: Path, change: str) -> None:
    path = tmp_path / "x.marshal"
    store = Store(path, "one")
    store.put("a", 1)
    store.save()
    stamp = "one"
    if change == "stamp":
        stamp = "two"
    else:
        header, _, payload = path.read_bytes().partition(b"\n")
        fields = json.loads(header)
        fields["format" if change == "format" else "marshal"] += 1
        path.write_bytes(json.dumps(fields, separators=(",", ":")).encode() + b"\n" + payload)
    store = Store(path, stamp)
    assert store.get("a") is None
    store.put("c", 3)
    store.save()  # rewritten whole, with this run's header
    assert Store(path, stamp).get("c") == 3 and Store(path, stamp).get("a") is None


@pytest.mark.parametrize("damage", ["a changed byte", "cut short", "not a store", "entries not a mapping",
                                    "an entry not marshal"])
def test_a_damaged_file_or_entry_is_a_miss_and_written_again(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "x.marshal"
    store = Store(path, "one")
    store.put("a", {"text": "first"})
    store.put("b", {"text": "second"})
    store.save()
    data = path.read_bytes()
    if damage == "a changed byte":
        path.write_bytes(data.replace(b"first", b"fir5t"))
    elif damage == "cut short":
        path.write_bytes(data[:-5])
    elif damage == "not a store":
        path.write_bytes(b"\x00\xff not a cache\n\x01")
    elif damage == "entries not a mapping":
        write_blob(path, "one", [b"a", b"b"])
    else:
        write_blob(path, "one", {"a": b"\xff\x00 not marshal", "b": marshal.dumps({"text": "second"})})
    store = Store(path, "one")
    assert store.get("a") is None
    if damage == "an entry not marshal":
        assert store.get("b") == {"text": "second"}  # the other entries still hold
    store.put("a", {"text": "first"})
    store.put("b", {"text": "second"})
    store.save()
    again = Store(path, "one")
    assert again.get("a") == {"text": "first"} and again.get("b") == {"text": "second"}


def test_unreadable_or_missing_files_are_misses(tmp_path: Path) -> None:
    (tmp_path / "dir.marshal").mkdir()
    store = Store(tmp_path / "dir.marshal", "one")
    store.put("a", 1)
    store.save()  # cannot be written: only time is lost
    assert store.get("a") == 1
    assert read_blob(tmp_path / "missing.marshal", "one") is None
    path = tmp_path / "x.marshal"
    store = Store(path, "one")
    store.put("a", 1)
    store.save()
    store = Store(path, "one")
    path.unlink()  # deleted while a run had it open: written again whole
    store.put("b", 2)
    store.save()
    assert Store(path, "one").get("b") == 2


def test_a_store_of_mostly_unused_entries_is_compacted(tmp_path: Path) -> None:
    path = tmp_path / "x.marshal"
    store = Store(path, "one")
    for index in range(3 * SLACK):
        store.put(f"k{index}", index)
    store.save()
    store = Store(path, "one")
    assert store.get("k1") == 1
    store.put("new", "n")
    store.save()  # two used entries against 3 * SLACK: rewritten with those two
    store = Store(path, "one")
    assert sorted(store.keys()) == ["k1", "new"]
    assert store.get("k1") == 1 and store.get("new") == "n" and store.get("k2") is None


def test_a_store_with_few_unused_entries_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "x.marshal"
    store = Store(path, "one")
    for index in range(SLACK):
        store.put(f"k{index}", index)
    store.save()
    store = Store(path, "one")
    store.put("new", "n")
    store.save()
    assert len(Store(path, "one").keys()) == SLACK + 1
