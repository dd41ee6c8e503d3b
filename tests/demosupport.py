"""Helpers shared by the tests that work on a copy of the demo environment.

A plain module, not a test file (the fixtures built on it are in ``conftest.py``). A copy
of the demo is ``environments/demo`` with the repository's ``pipelines/`` and ``modules/``
beside it, as in the repository, so that relative paths in the descriptors resolve.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from generator import runner
from generator.render import render

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
ALL = ["environment", "datasource-ecommerce", "datasource-store",
       "pipeline-ecommerce-hourly", "pipeline-store-daily"]


def copy_sources(base: Path, *, stacks: bool = True, modules: bool = False) -> Path:
    """The demo's environment directory (with its committed stacks unless ``stacks`` is
    false, never its ``.df-gen`` cache) and the pipeline code under ``base``, and the modules
    when a test runs Terraform or reads them beside the copy; not rendered again."""
    ignore = [".df-gen", ".terraform*", *([] if stacks else ["stacks"])]
    shutil.copytree(DEMO, base / "environments" / "demo", ignore=shutil.ignore_patterns(*ignore))
    shutil.copytree(ROOT / "pipelines", base / "pipelines")
    if modules:
        shutil.copytree(ROOT / "modules", base / "modules", ignore=shutil.ignore_patterns(".terraform*"))
    return base / "environments" / "demo"


def copy_demo(base: Path) -> Path:
    """A copy of the demo (descriptors, stacks, modules, pipeline code) under ``base``,
    rendered. The demo is copied and rendered once per test session; each call copies that
    rendered tree (without ``.df-gen``, whose records name their directory), which is what
    copying and rendering in place gives, for a fraction of the time."""
    template = _rendered_demo()
    for part in ("environments", "pipelines", "modules"):
        shutil.copytree(template / part, base / part, ignore=shutil.ignore_patterns(".df-gen"))
    return base / "environments" / "demo"


@functools.cache
def _rendered_demo() -> Path:
    base = Path(tempfile.mkdtemp(prefix="df-gen-demo-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    shutil.copytree(DEMO, base / "environments" / "demo", ignore=shutil.ignore_patterns(".df-gen"))
    shutil.copytree(ROOT / "pipelines", base / "pipelines")
    shutil.copytree(ROOT / "modules", base / "modules", ignore=shutil.ignore_patterns(".terraform*"))
    render(base / "environments" / "demo")
    return base


# What a sandbox run leaves under ``.df-gen`` that names the directory it ran in, or that
# the next run writes again: Terraform's data directories (the backend configuration holds
# the state file's absolute path; df-gen's init marker hashes it, so the copy's first run
# initialises each stack it runs afresh), the sandbox's provider wrappers, mirror and CLI
# configuration (absolute paths, written by every run), Terraform's logs, and df-gen's
# caches (keyed by absolute paths; deleting them changes nothing but time).
_RUN_LOCAL = ("cache", "sandbox/tfdata", "sandbox/logs", "sandbox/bin", "sandbox/mirror", "sandbox/terraform.rc",
              "sandbox/plugin-cache", "sandbox/providers")


def copy_applied(applied: Path, base: Path) -> Path:
    """A private copy under ``base`` of the demo copy ``applied`` (a base directory made by
    :func:`copy_demo`) after a sandbox run, as valid as if it had been applied there:
    stacks, descriptors, fingerprints, sandbox store and Terraform state are copied; what
    names the old directory is left for the next run to write again (``_RUN_LOCAL``); the
    states' records of the environment state's path (the ``terraform_remote_state`` data
    source) name the copy's. Returns the copy's environment directory."""
    applied, base = applied.resolve(), base.resolve()
    for part in ("environments", "pipelines", "modules"):
        shutil.copytree(applied / part, base / part, symlinks=True)
    env_dir = base / "environments" / "demo"
    for name in _RUN_LOCAL:
        path = env_dir / ".df-gen" / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    old, new = f"{applied}/", f"{base}/"
    for state in (env_dir / ".df-gen" / "sandbox" / "state").glob("*.tfstate"):
        text = state.read_text()
        if old in text:
            state.write_text(text.replace(old, new))
    return env_dir


def opts(env_dir: Path, **kwargs: Any) -> runner.RunOptions:
    """Run options for ``env_dir``, quiet (no progress lines)."""
    return runner.RunOptions(env_dir=env_dir, quiet=True, **kwargs)


def statuses(report: runner.RunReport) -> dict[str, str]:
    """Each stack's status in ``report``."""
    return {r.name: r.status for r in report.results}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity and no user configuration; return stdout."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
        env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin"},
    ).stdout


def commit_demo(env_dir: Path) -> Path:
    """Commit the demo copy whose environment is ``env_dir`` into a git repository of its
    own (rooted at the copy's base, beside ``pipelines/`` and ``modules/``)."""
    base = env_dir.parent.parent
    git(base, "init", "-q", "-b", "main")
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "demo")
    return env_dir


def stack_tree(env_dir: Path) -> dict[str, bytes]:
    """Every file under stacks/ (what git would see)."""
    stacks = env_dir / "stacks"
    return {p.relative_to(stacks).as_posix(): p.read_bytes() for p in sorted(stacks.rglob("*")) if p.is_file()}


def sandbox_store(env_dir: Path) -> dict[str, Any]:
    """The sandbox's resources (its store), keyed by type/id; empty when it has none."""
    path = env_dir / ".df-gen" / "sandbox" / "store.json"
    return json.loads(path.read_text())["resources"] if path.exists() else {}


def state_addresses(env_dir: Path) -> dict[str, list[str]]:
    """Each sandbox state's managed resource instances, by stack."""
    found = {}
    for path in sorted((env_dir / ".df-gen" / "sandbox" / "state").glob("*.tfstate")):
        state = json.loads(path.read_text())
        found[path.stem] = sorted(
            f"{r.get('module', '')}.{r['type']}.{r['name']}[{i.get('index_key', '')}]"
            for r in state.get("resources", []) if r["mode"] == "managed" for i in r["instances"])
    return found
