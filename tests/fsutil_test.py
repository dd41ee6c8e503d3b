"""generator.fsutil.atomic_write: the one write every generated file goes through."""

from __future__ import annotations

import os
import stat

import pytest

from generator.fsutil import atomic_write


def test_writes_the_bytes_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a" / "b" / "main.tf"  # its directories are made on the first write
    atomic_write(target, "resource {}\n")
    atomic_write(target, b"replaced\n")
    assert target.read_bytes() == b"replaced\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["main.tf"]


def test_a_large_payload_is_written_whole(tmp_path):
    payload = os.urandom(3 * 1024 * 1024 + 7)  # more than one write(2) may take at once on a pipe or NFS
    atomic_write(tmp_path / "big.bin", payload)
    assert (tmp_path / "big.bin").read_bytes() == payload


def test_the_mode_is_the_new_files(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "run.sh", "#!/bin/sh\n", mode=0o755)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "run.sh").stat().st_mode) == 0o755


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "main.tf"
    target.write_text("old\n")
    (tmp_path / "sub").mkdir()
    with pytest.raises(IsADirectoryError):  # the rename fails: a directory is in the way
        atomic_write(tmp_path / "sub", "new\n")
    with pytest.raises(TypeError):  # the payload cannot be written: nothing replaces the file
        atomic_write(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.tf", "sub"]
