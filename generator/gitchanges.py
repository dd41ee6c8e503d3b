"""``--changed-since REF``: the stacks whose committed files a git range touched.

A stack changed when a file differs between ``REF`` and the working tree (tracked changes
and untracked files) under

- its directory ``stacks/<name>/`` — the rendered files, which already carry every
  descriptor and pipeline-code change, since render copies the code into the stack;
- the local module it calls (the files that shape its behaviour, as the fingerprint
  counts them: no READMEs, ``examples/`` or dot files); a module pinned by a git source
  changes the source string in ``main.tf``, so the stack's own files show it.

The stacks that need a changed stack change with it. The repository is the one holding
the current directory (CI runs from the checkout's root); the environment must lie inside.
Only git's plumbing is used (``rev-parse``, ``diff --name-only``, ``ls-files``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from generator.errors import DfGenError
from generator.fingerprint import is_local_source
from generator.loader import display_path
from generator.model import Model

GIT_TIMEOUT = 60


def git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run git in ``cwd`` (bounded in time, never prompting)."""
    git = shutil.which("git")
    if git is None:
        raise DfGenError("--changed-since needs git, and git is not on PATH")
    try:
        return subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}, check=False)
    except subprocess.TimeoutExpired:
        raise DfGenError(f"git {' '.join(args[:2])} took longer than {GIT_TIMEOUT}s") from None


def repository_root(cwd: Path | None = None, what: str = "--changed-since") -> Path:
    """The top of the git work tree holding ``cwd`` (default: the current directory)."""
    where = Path(cwd or Path.cwd())
    done = git(["rev-parse", "--show-toplevel"], where)
    if done.returncode != 0:
        raise DfGenError(f"{what}: {where} is not inside a git repository (run df-gen from the checkout)")
    return Path(done.stdout.strip()).resolve()


def resolve_ref(root: Path, ref: str) -> str:
    """The commit ``ref`` names, or a one-line error."""
    if not ref or ref.startswith("-"):
        raise DfGenError(f"--changed-since: '{ref}' is not a git revision")
    done = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root)
    if done.returncode != 0:
        raise DfGenError(f"--changed-since: unknown git revision '{ref}' in {root} "
                         "(a shallow clone lacks older commits: git fetch --unshallow)")
    return done.stdout.strip()


def changed_files(root: Path, commit: str) -> set[str]:
    """Paths (relative to ``root``) that differ between ``commit`` and the working tree."""
    diff = git(["diff", "--name-only", "--no-renames", "-z", commit, "--"], root)
    if diff.returncode != 0:
        raise DfGenError(f"--changed-since: git diff failed: {diff.stderr.strip().splitlines()[-1:]}")
    untracked = git(["ls-files", "--others", "--exclude-standard", "-z"], root)
    names = diff.stdout.split("\0") + (untracked.stdout.split("\0") if untracked.returncode == 0 else [])
    return {name for name in names if name}


def inside(root: Path, path: Path, what: str, option: str = "--changed-since") -> PurePosixPath:
    """``path`` relative to the repository ``root``, or a one-line error."""
    try:
        return PurePosixPath(path.resolve().relative_to(root).as_posix())
    except ValueError:
        raise DfGenError(f"{option}: {what} {display_path(path)} is outside the git repository {root}") from None


def _module_file_counts(relative: PurePosixPath) -> bool:
    """True for a module file the fingerprint counts (see ``fingerprint.module_files``)."""
    parts = relative.parts
    return not (any(p.startswith(".") for p in parts) or "examples" in parts[:-1]
                or relative.name.lower().endswith(".md"))


def touched(files: Iterable[str], directory: PurePosixPath, module: bool = False) -> bool:
    """True when one of ``files`` lies under ``directory``."""
    for name in files:
        path = PurePosixPath(name)
        if directory == PurePosixPath(".") or directory in path.parents:
            if not module or _module_file_counts(path.relative_to(directory)):
                return True
    return False


def changed_stacks(model: Model, ref: str, cwd: Path | None = None) -> set[str]:
    """The stacks of ``model`` whose files changed since ``ref``, with every stack that needs them."""
    root = repository_root(cwd)
    env_dir = Path(model.env_dir)
    inside(root, env_dir, "the environment directory")
    files = changed_files(root, resolve_ref(root, ref))
    stacks_dir = env_dir / "stacks"
    changed = set()
    for stack in model.stacks:
        if touched(files, inside(root, stacks_dir / stack.name, "stack")):
            changed.add(stack.name)
        elif is_local_source(stack.source):
            module_dir = (stacks_dir / stack.name / stack.source).resolve()
            if module_dir.is_relative_to(root) and touched(files, inside(root, module_dir, "module"), module=True):
                changed.add(stack.name)
    todo = list(changed)
    while todo:
        name = todo.pop()
        for other in model.stacks:
            if name in other.needs and other.name not in changed:
                changed.add(other.name)
                todo.append(other.name)
    return changed
