"""Sandbox override files: content, lifetime, crash leftovers, lock files kept as they were."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from generator.model import Backend, Stack
from generator.overrides import (
    LOCK_FILE,
    OVERRIDE_NAME,
    keep_lock_file,
    override_text,
    remove_stale,
    restore_lock_files,
    sandbox_overrides,
)

BACKEND = Backend("bucket", "env/stack", "tf@seed.iam.gserviceaccount.com")
STACK = Stack("datasource-sales", "datasource", "sales", ("environment",), "../../modules/datasource",
              {}, (), BACKEND, "europe-west1")


def test_override_text_switches_backend_impersonation_and_remote_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    text = override_text(STACK, state)
    assert f'path = "{state}/datasource-sales.tfstate"' in text
    assert "impersonate_service_account = null" in text
    assert "terraform_remote_state" not in text
    reading = replace(STACK, remote_environment=BACKEND)
    text = override_text(reading, state)
    assert 'data "terraform_remote_state" "environment" {\n  backend = "local"' in text
    assert f'path = "{state}/environment.tfstate"' in text


def test_overrides_live_only_inside_the_block_even_on_errors(tmp_path: Path) -> None:
    (tmp_path / "datasource-sales").mkdir()
    target = tmp_path / "datasource-sales" / OVERRIDE_NAME
    with sandbox_overrides([STACK], tmp_path, tmp_path / "state"):
        assert target.is_file()
    assert not target.exists()
    with pytest.raises(KeyboardInterrupt):
        with sandbox_overrides([STACK], tmp_path, tmp_path / "state"):
            raise KeyboardInterrupt
    assert not target.exists()


def test_remove_stale_deletes_only_override_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / OVERRIDE_NAME).write_text("# left by a crash")
    (tmp_path / "a" / "main.tf").write_text("")
    assert remove_stale(tmp_path) == [tmp_path / "a" / OVERRIDE_NAME]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["main.tf"]


def test_lock_file_is_put_back_or_removed(tmp_path: Path) -> None:
    stacks, backups = tmp_path / "stacks", tmp_path / "backups"
    (stacks / "env").mkdir(parents=True)
    lock = stacks / "env" / LOCK_FILE
    with keep_lock_file(stacks / "env", backups):
        lock.write_text("sandbox checksums")
    assert not lock.exists()
    lock.write_text("real checksums")
    with keep_lock_file(stacks / "env", backups):
        assert not lock.exists()  # moved aside so the sandbox provider does not clash with it
        lock.write_text("sandbox checksums")
    assert lock.read_text() == "real checksums"
    assert not any(backups.iterdir())


def test_lock_files_left_by_a_crash_are_restored(tmp_path: Path) -> None:
    stacks, backups = tmp_path / "stacks", tmp_path / "backups"
    for name in ("a", "b"):
        (stacks / name).mkdir(parents=True)
    backups.mkdir()
    (backups / "a.hcl").write_text("real")
    (stacks / "a" / LOCK_FILE).write_text("sandbox")
    (backups / "b.absent").write_text("")
    (stacks / "b" / LOCK_FILE).write_text("sandbox")
    restore_lock_files(stacks, backups)
    assert (stacks / "a" / LOCK_FILE).read_text() == "real"
    assert not (stacks / "b" / LOCK_FILE).exists()
    assert not any(backups.iterdir())
