"""The append-only log of cache entries (generator/cache/log.py): one changed entry writes one
line, a damaged or partial line is a miss, another stamp or format drops every entry, and a
log holding mostly entries no run uses any more is compacted."""

from __future__ import annotations

from pathlib import Path

from generator.cache.log import SLACK, Log


def test_entries_come_back_and_one_change_appends_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "x.log"
    log = Log(path, "one")
    assert log.get("a") is None
    log.put("a", {"v": 1})
    log.put("b", [1, 2])
    log.save()
    first = path.read_bytes()
    log = Log(path, "one")
    assert log.get("a") == {"v": 1} and log.get("b") == [1, 2]
    log.put("a", {"v": 1})  # unchanged: nothing to write
    log.save()
    assert path.read_bytes() == first
    log.put("b", [3])
    log.save()
    assert path.read_bytes() == first + path.read_bytes()[len(first):]
    assert path.read_bytes()[len(first):].count(b"\n") == 1
    again = Log(path, "one")
    assert again.get("a") == {"v": 1} and again.get("b") == [3]  # the last line of a key wins


def test_another_stamp_or_format_drops_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    log = Log(path, "one")
    log.put("a", 1)
    log.save()
    assert Log(path, "two").get("a") is None
    path.write_text(path.read_text().replace('"format":1', '"format":9'))
    assert Log(path, "one").get("a") is None
    log = Log(path, "two")
    log.put("c", 3)
    log.save()  # rewritten whole, with the new stamp
    assert path.read_text().count("\n") == 2 and Log(path, "two").get("c") == 3


def test_a_damaged_or_partial_line_is_a_miss_and_written_again(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    log = Log(path, "one")
    log.put("a", {"text": "first"})
    log.put("b", {"text": "second"})
    log.save()
    path.write_text(path.read_text().replace("first", "fir5t")[:-5])  # a changed byte, a cut line
    log = Log(path, "one")
    assert log.get("a") is None and log.get("b") is None
    log.put("a", {"text": "first"})
    log.put("b", {"text": "second"})
    log.save()
    again = Log(path, "one")
    assert again.get("a") == {"text": "first"} and again.get("b") == {"text": "second"}
    assert path.read_text().count("\n") == 5  # appended after the cut line, on a line of their own


def test_unreadable_or_missing_logs_are_misses(tmp_path: Path) -> None:
    (tmp_path / "dir.log").mkdir()
    log = Log(tmp_path / "dir.log", "one")
    log.put("a", 1)
    log.save()  # cannot be written: only time is lost
    assert log.get("a") == 1
    path = tmp_path / "x.log"
    log = Log(path, "one")
    log.put("a", 1)
    log.save()
    log = Log(path, "one")
    path.unlink()  # deleted while a run had it open: written again whole
    log.put("b", 2)
    log.save()
    assert Log(path, "one").get("b") == 2


def test_a_log_of_mostly_unused_entries_is_compacted(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    log = Log(path, "one")
    for index in range(3 * SLACK):
        log.put(f"k{index}", index)
    log.save()
    log = Log(path, "one")
    assert log.get("k1") == 1
    log.put("new", "n")
    log.save()  # two used entries against 3 * SLACK lines: rewritten with those two
    assert path.read_text().count("\n") == 3
    log = Log(path, "one")
    assert log.get("k1") == 1 and log.get("new") == "n" and log.get("k2") is None
