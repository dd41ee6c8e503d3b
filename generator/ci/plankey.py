"""Where a pull request's saved plans wait for the apply after the merge.

The key is a digest of git's tree ids, at ``HEAD``, of the environment directory and of
every local module directory its stacks call. The pull-request run plans a checkout whose
environment is what the default branch will hold after the merge (GitHub plans the test
merge commit; GitLab and Cloud Build the source branch, up to date with its target), so the
run after the merge finds the plans under the same key exactly when the environment's files
are the same. Any other change since (another merge touching the environment) gives another
key: no plan is found and apply plans again, and says so. Terraform refuses a saved plan
whose state changed since ("Saved plan is stale"); df-gen's apply then plans again too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from generator.errors import DfGenError
from generator.fingerprint import is_local_source
from generator.gitchanges import git, inside, repository_root
from generator.render import load_model


def plan_key(env_dir: Path, cwd: Path | None = None) -> str:
    """A short key naming the environment's committed files (and modules) at ``HEAD``."""
    root = repository_root(cwd, "ci plan-key")
    model = load_model(env_dir)
    directories = {str(inside(root, Path(env_dir), "the environment directory", "ci plan-key"))}
    for stack in model.stacks:
        if is_local_source(stack.source):
            module_dir = (Path(env_dir) / "stacks" / stack.name / stack.source).resolve()
            if module_dir.is_relative_to(root):
                directories.add(str(inside(root, module_dir, "module", "ci plan-key")))
    digest = hashlib.sha256()
    for directory in sorted(directories):
        done = git(["rev-parse", f"HEAD:{directory}"], root)
        if done.returncode != 0:
            raise DfGenError(f"{directory}: not committed at HEAD; commit it before planning in CI")
        digest.update(f"{directory}\0{done.stdout.strip()}\n".encode())
    return digest.hexdigest()[:20]
