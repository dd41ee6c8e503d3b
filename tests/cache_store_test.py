"""The cache files (generator/cache/store.py): a store's entries come back as put, each in
objects of its own; a change appends its entries, nothing changed writes nothing; another
stamp, format or Python drops every entry, damage the entries after it; a store holding
mostly entries no run uses any more is compacted. A blob comes back whole or not at all."""

from __future__ import annotations

import json
import marshal
import struct
import zlib
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
    assert path.read_bytes().startswith(first)  # appended: nothing rewritten
    again = Store(path, "one")
    assert again.get("a") == {"v": 1, "t": (1, 2)} and again.get("b") == [3]  # the last entry of a key wins
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
        header, _, chunks = path.read_bytes().partition(b"\n")
        fields = json.loads(header)
        fields["format" if change == "format" else "marshal"] += 1
        path.write_bytes(json.dumps(fields, separators=(",", ":")).encode() + b"\n" + chunks)
    store = Store(path, stamp)
    assert store.get("a") is None
    store.put("c", 3)
    store.save()  # rewritten whole, with this run's header
    assert Store(path, stamp).get("c") == 3 and Store(path, stamp).get("a") is None


@pytest.mark.parametrize("damage", ["a changed byte in the last chunk", "the last chunk cut short", "not a store",
                                    "an entry not marshal"])
def test_damage_is_a_miss_for_the_entries_after_it_and_they_are_written_again(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "x.marshal"
    store = Store(path, "one")
    store.put("a", {"text": "first"})
    store.save()
    first = path.read_bytes()
    store = Store(path, "one")
    store.put("b", {"text": "second"})
    store.save()  # a second chunk
    data = path.read_bytes()
    if damage == "a changed byte in the last chunk":
        path.write_bytes(data.replace(b"second", b"sec0nd"))
    elif damage == "the last chunk cut short":
        path.write_bytes(data[:-3])
    elif damage == "not a store":
        path.write_bytes(b"\x00\xff not a cache\n\x01")
    else:  # a well-formed chunk (its length, its crc32, a marshalled dict) whose entry is garbage
        payload = marshal.dumps({"b": b"\xff garbage"})
        path.write_bytes(first + struct.pack("<II", len(payload), zlib.crc32(payload)) + payload)
    store = Store(path, "one")
    assert store.get("b") is None
    assert store.get("a") == (None if damage == "not a store" else {"text": "first"})  # the entries before it
    store.put("a", {"text": "first"})
    store.put("b", {"text": "second"})
    store.save()
    again = Store(path, "one")
    assert again.get("a") == {"text": "first"} and again.get("b") == {"text": "second"}


def test_a_blob_comes_back_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "x.marshal"
    write_blob(path, "one", {"files": [1, 2], "t": (3,)})
    assert read_blob(path, "one") == {"files": [1, 2], "t": (3,)}
    assert read_blob(path, "two") is None
    data = path.read_bytes()
    path.write_bytes(data[:-2])
    assert read_blob(path, "one") is None
    path.write_bytes(data.replace(b"files", b"filez"))
    assert read_blob(path, "one") is None


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
    before = path.read_bytes()
    store = Store(path, "one")
    store.put("new", "n")
    store.save()
    assert path.read_bytes().startswith(before) and len(Store(path, "one").keys()) == SLACK + 1


def test_a_store_rewritten_by_another_df_gen_meanwhile_is_not_appended_to(tmp_path: Path) -> None:
    """Entries go under their own stamp only: a file another df-gen rewrote since this run
    read it is rewritten, not appended to."""
    path = tmp_path / "x.marshal"
    mine = Store(path, "one")
    mine.put("a", 1)
    mine.save()
    mine = Store(path, "one")
    theirs = Store(path, "two")
    theirs.put("t", 2)
    theirs.save()  # another stamp: rewritten with theirs
    mine.get("a")
    mine.put("b", 3)
    mine.save()
    assert Store(path, "two").get("b") is None and Store(path, "two").get("t") is None
    assert Store(path, "one").get("b") == 3 and Store(path, "one").get("a") == 1
