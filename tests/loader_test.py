"""The loader: positions, YAML traps and hostile files, each a one-line error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from generator.errors import DfGenError
from generator.loader import load


def _load(tmp_path: Path, content: str | bytes, name: str = "f.yaml"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return load(path)


def _error(tmp_path: Path, content: str | bytes) -> str:
    with pytest.raises(DfGenError) as raised:
        _load(tmp_path, content)
    lines = raised.value.lines()
    assert len(lines) == 1
    return lines[0].replace(str(tmp_path) + os.sep, "")


def test_positions_of_values_and_keys(tmp_path):
    doc = _load(tmp_path, "a: 1\nb:\n  - x\n  - {c: yes}\n")
    assert doc.data == {"a": 1, "b": ["x", {"c": True}]}
    assert doc.where(("a",)) == (1, 4)
    assert doc.where(("b", 1, "c")) == (4, 9)
    assert doc.where(("b", 1, "c"), key=True) == (4, 6)
    assert doc.where(("b", 7, "missing")) == (3, 3)


def test_dates_and_times_stay_strings(tmp_path):
    doc = _load(tmp_path, "d: 2024-01-01\nt: 2024-01-01T10:00:00Z\n")
    assert doc.data == {"d": "2024-01-01", "t": "2024-01-01T10:00:00Z"}


def test_duplicate_key(tmp_path):
    assert _error(tmp_path, "a: 1\nb: 2\na: 3\n") == (
        "f.yaml:3:1: error: duplicate key 'a' (first defined on line 1)"
    )


def test_syntax_error_shows_numbered_lines(tmp_path):
    with pytest.raises(DfGenError) as raised:
        _load(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    text = raised.value.lines()[0].replace(str(tmp_path) + os.sep, "")
    assert text.splitlines() == [
        "f.yaml:3:2: error: YAML syntax: did not find expected ',' or ']'",
        "    1 | a: 1",
        "    2 | b: [1, 2",
        ">   3 | c: 3",
    ]


def test_alias_bomb_is_bounded(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    assert _error(tmp_path, "\n".join(lines) + "\n").endswith(
        "error: more than 200000 values (an alias bomb?)"
    )


def test_deep_nesting(tmp_path):
    message = _error(tmp_path, "[" * 5000 + "]" * 5000)
    assert message.startswith("f.yaml:1:")
    assert "nesting" in message


def test_python_tags_refused(tmp_path):
    assert _error(tmp_path, "a: !!python/object/apply:os.system [ls]\n") == (
        "f.yaml:1:4: error: unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system"
    )


def test_bad_utf8(tmp_path):
    assert _error(tmp_path, b"a: 1\nb: \xff\n") == "f.yaml:2:4: error: invalid UTF-8 (byte 0xff)"


def test_binary(tmp_path):
    assert _error(tmp_path, b"\x7fELF\x02\x01\x01\x00") == (
        "f.yaml:1:1: error: control character U+007F: binary data, not YAML"
    )


def test_huge_file(tmp_path):
    assert _error(tmp_path, "a: " + "x" * (3 * 1024 * 1024)) == (
        "f.yaml:1:1: error: file is larger than 2 MiB; not a descriptor"
    )


def test_huge_value(tmp_path):
    assert _error(tmp_path, "a: " + "x" * 70000 + "\n") == "f.yaml:1:4: error: value is longer than 64 KiB"


def test_merge_keys_refused(tmp_path):
    assert _error(tmp_path, "a: &a {x: 1}\nb:\n  <<: *a\n") == (
        "f.yaml:3:3: error: YAML merge keys (<<) are not supported; write the keys out"
    )


def test_symlink_loop(tmp_path):
    (tmp_path / "f.yaml").symlink_to(tmp_path / "g.yaml")
    (tmp_path / "g.yaml").symlink_to(tmp_path / "f.yaml")
    with pytest.raises(DfGenError) as raised:
        load(tmp_path / "f.yaml")
    assert raised.value.lines()[0].endswith("f.yaml: error: cannot read file: Too many levels of symbolic links")


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "f.yaml").mkdir()
    with pytest.raises(DfGenError) as raised:
        load(tmp_path / "f.yaml")
    assert raised.value.lines()[0].endswith("f.yaml: error: is a directory, expected a YAML file")


def test_non_string_keys_refused(tmp_path):
    assert _error(tmp_path, "? [a, b]\n: 1\n") == "f.yaml:1:3: error: mapping keys must be plain strings"


def test_a_file_that_reports_no_size_is_read_whole(tmp_path):
    """Files of /proc report a size of 0; reading stops at the end, not at the reported size."""
    if not Path("/proc/version").is_file():
        pytest.skip("no /proc/version here")
    (tmp_path / "f.yaml").symlink_to("/proc/version")
    text = Path("/proc/version").read_text()
    assert len(text) > 1 and load(tmp_path / "f.yaml").data == yaml.safe_load(text)
