"""One df-gen run per environment: the lock refuses a second holder and names the first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.errors import DfGenError
from generator.lock import env_lock, lock_path


def test_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    with env_lock(tmp_path) as path:
        assert path == lock_path(tmp_path)
        assert path.read_text().strip() == str(os.getpid())
        with pytest.raises(DfGenError, match=rf"another df-gen run \(pid {os.getpid()}\) holds .*\.df-gen/lock"):
            with env_lock(tmp_path):
                pass
    with env_lock(tmp_path):  # released: free again
        pass
    assert lock_path(tmp_path).read_text() == ""


def test_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with env_lock(tmp_path):
            raise RuntimeError("boom")
    with env_lock(tmp_path):
        pass
