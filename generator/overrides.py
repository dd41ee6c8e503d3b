"""Sandbox mode without touching committed files: a Terraform override file per stack.

In sandbox mode each stack directory gets ``df_gen_sandbox_override.tf`` for the duration
of one df-gen command (under the environment's lock; ``*_override.tf`` is git-ignored).
Terraform merges it over the committed files:

- the ``gcs`` backend becomes a ``local`` one under the sandbox directory;
- ``impersonate_service_account`` of the google provider becomes null (the sandbox has no
  identities to impersonate), and so does that of every ``google-beta`` provider block the
  stack declares (the sandbox serves google-beta too; an override of a provider block the
  stack does not declare would be an error, so only declared ones are overridden);
- for stacks that read the environment stack's outputs, the ``gcs``
  ``terraform_remote_state`` becomes a ``local`` one reading the sandbox state file.

A crash can leave a file behind; the next run, holding the lock, removes it first
(:func:`remove_stale`), so a Google Cloud run never picks up a local backend.

``terraform init`` also writes ``.terraform.lock.hcl`` next to the committed files, with
the checksum of the sandbox's provider. In sandbox mode :func:`keep_lock_file` puts the
stack's own lock file back (or removes the new one) once ``init`` is done, keeping a copy
in the sandbox directory until then so that a crash loses nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from generator import hcl
from generator.model import Stack

OVERRIDE_NAME = "df_gen_sandbox_override.tf"
LOCK_FILE = ".terraform.lock.hcl"
_MARKER = "# Written by df-gen for a sandbox run; removed when the run ends. Do not commit."


_PROVIDER_BLOCK = re.compile(r'^provider\s+"(google|google-beta)"\s*\{(.*?)^\}', re.M | re.S)
_ALIAS = re.compile(r'^\s*alias\s*=\s*"([^"]+)"', re.M)


def beta_provider_aliases(stack_dir: Path | None) -> list[str | None]:
    """Aliases of the ``provider "google-beta"`` blocks in ``stack_dir``'s own ``.tf`` files
    (None for the unaliased one), in file order; empty when there are none."""
    found: list[str | None] = []
    if stack_dir is None or not stack_dir.is_dir():
        return found
    for path in sorted(stack_dir.glob("*.tf")):
        if path.name.endswith("_override.tf"):
            continue
        for name, body in _PROVIDER_BLOCK.findall(path.read_text(encoding="utf-8")):
            if name == "google-beta":
                alias = _ALIAS.search(body)
                found.append(alias.group(1) if alias else None)
    return found


def override_text(stack: Stack, state_dir: Path, stack_dir: Path | None = None) -> str:
    """The override file of ``stack``, with local state files under ``state_dir``;
    ``stack_dir`` (the rendered stack) tells which google-beta provider blocks to override."""
    state_dir = state_dir.resolve()
    lines = [
        _MARKER,
        "",
        "terraform {",
        '  backend "local" {',
        f"    path = {hcl.string(str(state_dir / f'{stack.name}.tfstate'))}",
        "  }",
        "}",
        "",
        'provider "google" {',
        "  impersonate_service_account = null",
        "}",
    ]
    for alias in beta_provider_aliases(stack_dir):
        lines += ["", 'provider "google-beta" {']
        if alias is not None:
            lines.append(f"  alias                       = {hcl.string(alias)}")
        lines += ["  impersonate_service_account = null", "}"]
    if stack.remote_environment is not None:
        lines += [
            "",
            'data "terraform_remote_state" "environment" {',
            '  backend = "local"',
            "  config = {",
            f"    path = {hcl.string(str(state_dir / 'environment.tfstate'))}",
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def remove_stale(stacks_dir: Path) -> list[Path]:
    """Delete override files a crashed run left in ``stacks_dir/*/``; return them."""
    removed = []
    for path in sorted(stacks_dir.glob(f"*/{OVERRIDE_NAME}")):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


@contextlib.contextmanager
def sandbox_overrides(stacks: Iterable[Stack], stacks_dir: Path, state_dir: Path) -> Iterator[None]:
    """Write the override file of every stack for the block's duration, then remove them."""
    written: list[Path] = []
    try:
        for stack in stacks:
            directory = stacks_dir / stack.name
            if not directory.is_dir():
                continue
            path = directory / OVERRIDE_NAME
            path.write_text(override_text(stack, state_dir, directory))
            written.append(path)
        yield
    finally:
        for path in written:
            path.unlink(missing_ok=True)


def restore_lock_files(stacks_dir: Path, backup_dir: Path) -> None:
    """Put back lock files a crashed sandbox ``init`` left in ``backup_dir``."""
    if not backup_dir.is_dir():
        return
    for saved in sorted(backup_dir.iterdir()):
        target = stacks_dir / saved.stem / LOCK_FILE
        if saved.suffix == ".absent":
            if target.parent.is_dir():
                target.unlink(missing_ok=True)
        elif saved.suffix == ".hcl" and target.parent.is_dir():
            shutil.copyfile(saved, target)
        saved.unlink()


@contextlib.contextmanager
def keep_lock_file(stack_dir: Path, backup_dir: Path) -> Iterator[None]:
    """Leave ``stack_dir``'s ``.terraform.lock.hcl`` as it was before the block.

    The stack's own lock file (pinning the real provider's checksums) is moved aside so
    that the sandbox's provider does not clash with it, and put back afterwards.
    """
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = stack_dir / LOCK_FILE
    name = stack_dir.name
    if target.exists():
        backup = backup_dir / f"{name}.hcl"
        shutil.copyfile(target, backup)
        target.unlink()
    else:
        backup = backup_dir / f"{name}.absent"
        backup.write_text("")
    try:
        yield
    finally:
        if backup.suffix == ".hcl":
            shutil.copyfile(backup, target)
        else:
            target.unlink(missing_ok=True)
        backup.unlink(missing_ok=True)


def stale_state_locks(state_dir: Path) -> tuple[list[Path], list[Path]]:
    """Remove the lock-info files a killed Terraform left beside the sandbox's state.

    Terraform's local backend locks ``X.tfstate`` with an fcntl write lock on the file and
    writes ``.X.tfstate.lock.info`` beside it (hashicorp/terraform
    internal/states/statemgr/filesystem_lock_unix.go and filesystem.go, lockInfoPath). The
    lock dies with its process, the info file does not. An info file is removed only when
    that same lock can be taken now, which proves no process holds it. Returns the files
    removed and the ones kept because a running process holds the lock.
    """
    removed: list[Path] = []
    held: list[Path] = []
    for info in sorted(Path(state_dir).glob(".*.lock.info")):
        state = info.with_name(info.name[1:-len(".lock.info")])
        try:
            handle = open(state, "r+b")  # closed below; a write lock needs write access
        except FileNotFoundError:
            handle = None  # no state file: nothing can be locked
        except OSError:
            held.append(info)
            continue
        if handle is not None:
            with handle:
                try:
                    fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    held.append(info)
                    continue
                fcntl.lockf(handle, fcntl.LOCK_UN)
        info.unlink(missing_ok=True)
        removed.append(info)
    return removed, held
