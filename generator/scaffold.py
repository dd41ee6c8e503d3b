"""``df-gen new``: scaffold a valid, commented environment directory.

Writes environment.yaml, one data source and one pipeline, each starting with a
yaml-language-server modeline that points at the shipped JSON Schema, plus the pipeline's
code directory when it does not exist yet. Never overwrites a file.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from generator.errors import DfGenError
from generator.jinja import environment, render
from generator.loader import display_path
from generator.resources import SCHEMAS_DIR, data_dir
from generator.validate import KEY_PATTERN, MAX_KEY


def scaffold(env_dir: Path, *, datasource: str, pipeline: str, prefix: str | None = None) -> list[str]:
    """Create the descriptors under ``env_dir``; return the paths written."""
    for what, key in (("data source", datasource), ("pipeline", pipeline)):
        if not re.match(KEY_PATTERN, key) or len(key) > MAX_KEY:
            raise DfGenError(f"invalid {what} key '{key}': lowercase letters, digits and dashes, "
                             f"starting with a letter, at most {MAX_KEY} characters")
    env_dir = Path(env_dir)
    prefix = prefix or _default_prefix(env_dir)
    if not re.match(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$", prefix):
        raise DfGenError(f"invalid prefix '{prefix}': 2-20 lowercase letters, digits and dashes, "
                         "starting with a letter (set one with --prefix)")
    in_repo = env_dir.resolve().parent.name == "environments"
    pipelines_dir = Path("../../pipelines") if in_repo else Path("code")
    modules_path = _modules_path(env_dir)
    targets = {
        env_dir / "environment.yaml": "environment.yaml.j2",
        env_dir / "datasources" / f"{datasource}.yaml": "datasource.yaml.j2",
        env_dir / "pipelines" / f"{pipeline}.yaml": "pipeline.yaml.j2",
    }
    existing = [display_path(p) for p in targets if p.exists()]
    if existing:
        raise DfGenError(f"{existing[0]}: already exists; df-gen new never overwrites a file")
    jinja = environment(data_dir("templates") / "scaffold")
    written = []
    for path, template in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        context = {
            "schema_dir": _relative(SCHEMAS_DIR, path.parent),
            "prefix": prefix,
            "datasource": datasource,
            "pipeline": pipeline,
            "modules_path": modules_path,
            "pipelines_dir": "" if in_repo else str(pipelines_dir),
        }
        _write_new(path, render(jinja, template, context))
        written.append(display_path(path))
    code_dir = (env_dir / pipelines_dir / pipeline).resolve()
    if not code_dir.exists():
        shutil.copytree(data_dir("templates") / "scaffold" / "code", code_dir)
        written.append(display_path(code_dir) + "/")
    return written


def _default_prefix(env_dir: Path) -> str:
    name = re.sub(r"[^a-z0-9-]", "-", env_dir.resolve().name.lower()).strip("-") or "env"
    return f"acme-{name}"[:20].rstrip("-")


def _modules_path(env_dir: Path) -> str:
    """Modules of this checkout if the environment lives in it, else the installed ones."""
    return _relative(data_dir("modules"), env_dir)


def _relative(target: Path, start: Path) -> str:
    target, start = target.resolve(), start.resolve()
    try:
        if os.path.commonpath([target, start]) == target.anchor:
            return target.as_posix()  # no common folder: a relative path would only mislead
        return Path(os.path.relpath(target, start)).as_posix()
    except ValueError:  # another drive on Windows
        return target.as_posix()


def _write_new(path: Path, text: str) -> None:
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
