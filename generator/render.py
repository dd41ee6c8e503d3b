"""``df-gen render``: write each stack's Terraform root under ``ENV_DIR/stacks/``.

Output is deterministic (same descriptors, same bytes) and written atomically. A manifest,
``stacks/.df-gen-manifest.json``, records the hash of every file df-gen wrote, so that:

- a no-op render writes nothing (modification times stay);
- a generated file edited by hand is never overwritten (``--force`` overwrites);
- a stack whose descriptor was removed is reported, not deleted (``--prune`` deletes);
- ``--check`` writes nothing and lists every file that would change, appear or go.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__, cache, hcl
from generator.errors import DfGenError, Diagnostic
from generator.fsutil import atomic_write, outside_problem, relative_entry_problem
from generator.jinja import environment
from generator.jinja import render as render_template
from generator.loader import display_path
from generator.model import Model, Stack, build
from generator.overrides import OVERRIDE_NAME
from generator.resources import data_dir
from generator.validate import Descriptors, validate

MANIFEST = ".df-gen-manifest.json"
STACK_FILES = ("versions.tf", "backend.tf", "providers.tf", "main.tf", "outputs.tf")


@dataclass
class Report:
    """What a render did (or, with --check, would do), by path relative to ``stacks/``."""

    stacks_dir: Path
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    orphaned: dict[str, list[str]] = field(default_factory=dict)
    conflicts: list[Diagnostic] = field(default_factory=list)
    """Generated files edited by hand (with --check; otherwise they stop the render)."""
    unknown: list[str] = field(default_factory=list)
    """Files in a stack's directory that df-gen did not write (they are part of the stack)."""

    @property
    def changed(self) -> bool:
        """True when the stacks on disk differ from the descriptors."""
        return bool(self.created or self.updated or self.deleted or self.orphaned or self.conflicts
                    or self.unknown)


def load_model(env_dir: Path) -> Model:
    """Validate ``env_dir`` and build its model."""
    return build(validate(env_dir))


def render_files(model: Model) -> dict[str, str]:
    """Every generated file, keyed by its path relative to ``stacks/``, in a stable order."""
    jinja = environment(data_dir("templates") / "stack")
    jinja.filters["hcl"] = hcl.value
    jinja.filters["hcl_attributes"] = lambda mapping, indent: hcl.attributes(mapping, indent)
    env_dir = model.env_dir.resolve()
    files: dict[str, str] = {}
    for stack in model.stacks:
        context = {
            "stack": stack,
            "body": {"source": stack.source, **stack.arguments},
            "inputs": [_relative(path, env_dir) for path in _descriptor_inputs(stack)],
        }
        for name in STACK_FILES:
            files[f"{stack.name}/{name}"] = render_template(jinja, f"{name}.j2", context)
        for name, text in sorted(stack.files.items()):
            files[f"{stack.name}/{name}"] = text
    return files


def _descriptor_inputs(stack: Stack) -> Iterable[Path]:
    return [p for p in stack.inputs if p.suffix in (".yaml", ".yml")]


def _relative(path: Path, start: Path) -> str:
    try:
        return path.resolve().relative_to(start).as_posix()
    except ValueError:
        return os.path.relpath(path.resolve(), start)


def render(env_dir: Path, *, check: bool = False, force: bool = False, prune: bool = False) -> Report:
    """Bring ``env_dir/stacks`` up to date with the descriptors (or, with ``check``, compare)."""
    since = cache.now()
    descriptors = validate(env_dir)
    files = render_files(build(descriptors))
    stacks_dir = Path(env_dir) / "stacks"
    manifest = _read_manifest(stacks_dir)
    report = Report(stacks_dir)
    conflicts: list[Diagnostic] = []
    writes: dict[str, str] = {}
    for relative, text in files.items():
        path = stacks_dir / relative
        digest = _digest(text.encode())
        current = _file_digest(path)
        if current == digest:
            report.unchanged.append(relative)
            continue
        if current is not None and manifest.get(relative) != current and not force:
            conflicts.append(
                Diagnostic(
                    display_path(path),
                    1,
                    1,
                    "edited by hand since df-gen wrote it (or not written by df-gen); not overwritten",
                    "move your change into the descriptors or pipeline code, or re-run with --force",
                )
            )
            continue
        (report.updated if current is not None else report.created).append(relative)
        writes[relative] = text
    rendered_stacks = {relative.split("/", 1)[0] for relative in files}
    removals: list[str] = []
    deployed = {stack: _deployed(Path(env_dir), stack)
                for stack in {r.split("/", 1)[0] for r in manifest} - rendered_stacks} if prune else {}
    for stack, where in sorted(deployed.items()):
        if where:
            conflicts.append(Diagnostic(
                display_path(stacks_dir / stack), 0, 0,
                f"not pruned: df-gen applied this stack and has not destroyed it ({', '.join(where)}); "
                "its files are the only way to reach its resources",
                f"destroy it first: df-gen destroy {display_path(Path(env_dir))} --stack {stack} "
                "(with --sandbox for the sandbox), then prune"))
    for relative in sorted(set(manifest) - set(files)):
        stack = relative.split("/", 1)[0]
        if deployed.get(stack):
            report.orphaned.setdefault(stack, []).append(relative)
        elif stack in rendered_stacks or prune:
            if _file_digest(stacks_dir / relative) not in (manifest[relative], None) and not force:
                conflicts.append(
                    Diagnostic(
                        display_path(stacks_dir / relative),
                        1,
                        1,
                        "no longer generated but edited by hand; not deleted",
                        "delete it yourself, or re-run with --force",
                    )
                )
                continue
            removals.append(relative)
        else:
            report.orphaned.setdefault(stack, []).append(relative)
    report.deleted.extend(removals)
    known = set(files) | set(manifest)
    for stack in sorted(rendered_stacks | set(report.orphaned)):
        report.unknown.extend(path for path in stack_dir_files(stacks_dir, stack) if path not in known)
    if conflicts and not check:
        raise DfGenError(diagnostics=conflicts)
    if check:
        report.conflicts = conflicts
        if not report.changed and manifest == {r: _digest(t.encode()) for r, t in files.items()}:
            _remember(env_dir, since, descriptors, files)
        return report
    for relative in [*writes, *removals]:
        _guard(stacks_dir, relative)
    for relative, text in writes.items():
        _write(stacks_dir / relative, text.encode())
    for relative in removals:
        target = stacks_dir / relative
        try:
            if target.exists():
                target.unlink()
            _remove_empty_parents(target.parent, stacks_dir)
        except OSError as exc:
            raise _write_error(target, exc, "delete") from None
    new_manifest = {relative: _digest(text.encode()) for relative, text in files.items()}
    for files_of_orphan in report.orphaned.values():
        for relative in files_of_orphan:
            new_manifest[relative] = manifest[relative]
    _write_manifest(stacks_dir, new_manifest)
    if not report.orphaned and not report.unknown:
        _remember(env_dir, since, descriptors, files)
    return report


def _deployed(env_dir: Path, stack: str) -> list[str]:
    """Where df-gen's own records say ``stack`` was applied and not destroyed since.

    A successful apply records the stack in ``.df-gen/<mode>/fingerprints.json`` and a
    destroy removes it; a sandbox state file that still lists resources counts too. These
    are local records: a stack applied from another machine is not known here.
    """
    found = []
    for records in sorted((env_dir / ".df-gen").glob("*/fingerprints.json")):
        try:
            stacks = json.loads(records.read_text()).get("stacks", {})
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(stacks, dict) and stack in stacks:
            found.append(f"recorded in {display_path(records)}")
    state = env_dir / ".df-gen" / "sandbox" / "state" / f"{stack}.tfstate"
    try:
        resources = json.loads(state.read_text()).get("resources") if state.is_file() else None
    except (OSError, ValueError, AttributeError):
        resources = None
    if resources:
        found.append(f"{display_path(state)} lists {len(resources)} resources")
    return found


def _remember(env_dir: Path, since: int, descriptors: Descriptors, files: dict[str, str]) -> None:
    """Record that ``stacks/`` answers these inputs, so that the next no-op render and
    ``--check`` are decided from the record (generator/cache.py)."""
    cache.record_render(env_dir, since, descriptors.pipelines_dir, summary(descriptors),
                        {relative: _digest(text.encode()) for relative, text in files.items()})


def summary(descriptors: Descriptors) -> dict[str, int]:
    """The counts ``validate`` prints."""
    return {"environments": 1, "datasources": len(descriptors.datasources), "pipelines": len(descriptors.pipelines)}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _file_digest(path: Path) -> str | None:
    try:
        return _digest(path.read_bytes())
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DfGenError(f"{display_path(path)}: a directory is in the way of a generated file") from None


def _read_manifest(stacks_dir: Path) -> dict[str, str]:
    path = stacks_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text())
        files = {str(k): str(v) for k, v in dict(document["files"]).items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DfGenError(
            f"{display_path(path)}: not a df-gen manifest; delete it to let df-gen adopt "
            "unchanged files (edited files will then be reported)"
        ) from None
    for entry in sorted(files):
        problem = relative_entry_problem(entry)
        if problem:  # --prune would delete it: never touch a path outside stacks/
            raise DfGenError(diagnostics=[Diagnostic(
                display_path(path), 0, 0, f"entry '{entry}' {problem}; df-gen touches nothing outside stacks/",
                "remove the entry from the manifest (git log shows who added it)")])
    return files


def _guard(stacks_dir: Path, relative: str) -> Path:
    """``stacks/<relative>``, refused when a link makes it leave ``stacks/``."""
    target = stacks_dir / relative
    problem = outside_problem(stacks_dir, target, f"{display_path(stacks_dir)}")
    if problem:
        raise DfGenError(diagnostics=[Diagnostic(display_path(target), 0, 0, problem)])
    return target


def _write_manifest(stacks_dir: Path, files: dict[str, str]) -> None:
    document = {
        "about": "Written by df-gen render: the hash of every generated file, to detect hand edits.",
        "generator": f"df-gen {__version__}",
        "files": dict(sorted(files.items())),
    }
    text = json.dumps(document, indent=2) + "\n"
    path = stacks_dir / MANIFEST
    if _file_digest(path) != _digest(text.encode()):
        _write(path, text.encode())


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise _write_error(path, exc, "write") from None


def _write_error(path: Path, exc: OSError, verb: str) -> DfGenError:
    """One line naming the file df-gen could not write or delete, and why."""
    reason = exc.strerror or str(exc)
    return DfGenError(diagnostics=[Diagnostic(display_path(path), 0, 0, f"cannot {verb} this file: {reason}",
                                              "check the permissions of stacks/ (and chattr/immutable flags)")])


def stack_dir_files(stacks_dir: Path, stack: str) -> list[str]:
    """Every file of a stack's directory (relative to ``stacks/``) that Terraform would read.

    Left out: dot files and directories (Terraform's ``.terraform/`` and lock file,
    df-gen's temporary files) and df-gen's own sandbox override, which exists only during
    a sandbox command.
    """
    directory = stacks_dir / stack
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if any(part.startswith(".") for part in parts) or path.name == OVERRIDE_NAME or not path.is_file():
            continue
        found.append(path.relative_to(stacks_dir).as_posix())
    return found


def _remove_empty_parents(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
