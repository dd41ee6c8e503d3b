"""Where a run works: one environment's paths in one mode, and what a killed run left there.

Everything df-gen keeps per environment lives in ``ENV_DIR/.df-gen/<mode>/`` (mode
``sandbox`` or ``gcp``): ``plans/`` (saved plans and the fingerprint each was made at),
``logs/<stack>.log`` (Terraform's output), ``tfdata/<stack>/`` (``TF_DATA_DIR``),
``fingerprints.json`` (:mod:`generator.fingerprint`) and, in sandbox mode, ``state/`` and
the sandbox's store.
"""

from __future__ import annotations

import sys
from pathlib import Path

from generator.loader import display_path
from generator.overrides import remove_stale, restore_lock_files, stale_state_locks


class Workspace:
    """Paths of one environment in one mode (``sandbox`` or ``gcp``)."""

    def __init__(self, env_dir: Path, sandbox: bool) -> None:
        self.env_dir = Path(env_dir).resolve()
        self.mode = "sandbox" if sandbox else "gcp"
        self.stacks_dir = self.env_dir / "stacks"
        self.root = self.env_dir / ".df-gen" / self.mode
        self.plans = self.root / "plans"
        self.logs = self.root / "logs"
        self.state = self.root / "state"
        self.lock_backups = self.root / "lockfiles"

    def plan_file(self, stack: str) -> Path:
        """The saved plan of ``stack``."""
        return self.plans / f"{stack}.tfplan"

    def plan_meta(self, stack: str) -> Path:
        """What df-gen knows about the saved plan (fingerprint, summary)."""
        return self.plans / f"{stack}.json"

    def log(self, stack: str) -> Path:
        """Terraform's output for ``stack`` in the latest run."""
        return self.logs / f"{stack}.log"

    def tfdata(self, stack: str) -> Path:
        """``TF_DATA_DIR`` of ``stack`` in this mode."""
        return self.root / "tfdata" / stack

    def records(self) -> Path:
        """``fingerprints.json``."""
        return self.root / "fingerprints.json"


def clean_leftovers(ws: Workspace, sandbox: bool) -> None:
    """Remove what a crashed or killed run left behind, naming each (under the environment's lock).

    Override files would send a GCP run to local state; moved lock files go back; in
    sandbox mode, Terraform's stale state lock info and orphaned providers go too.
    """
    for path in remove_stale(ws.stacks_dir):
        print(f"{display_path(path)}: removed, left behind by an interrupted or killed run",
              file=sys.stderr)
    for mode_dir in (ws.env_dir / ".df-gen").glob("*/lockfiles"):
        restore_lock_files(ws.stacks_dir, mode_dir)
    if sandbox:
        _clean_sandbox(ws)


def _clean_sandbox(ws: Workspace) -> None:
    """Say what a killed run left in the sandbox, and clean what is proved unused.

    Runs under df-gen's environment lock, before any Terraform of this run starts.
    """
    from generator.sandbox.processes import stop_orphans

    removed, held = stale_state_locks(ws.state)
    for path in removed:
        print(f"{display_path(path)}: removed, Terraform's state lock info left behind by a killed run "
              "(no process holds the lock)", file=sys.stderr)
    for path in held:
        print(f"{display_path(path)}: kept, a running process holds Terraform's lock on this state "
              "(another Terraform outside df-gen?)", file=sys.stderr)
    for pid in stop_orphans(ws.root):
        print(f"{display_path(ws.root)}: stopped sandbox provider process {pid}, left running by a killed run",
              file=sys.stderr)
