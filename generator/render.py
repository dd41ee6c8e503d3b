"""``df-gen render``: write each stack's Terraform root under ``ENV_DIR/stacks/``.

Output is deterministic (same descriptors, same bytes) and written atomically. A manifest,
``stacks/.df-gen-manifest.json``, records the hash of every file df-gen wrote, so that:

- a no-op render writes nothing (modification times stay);
- a generated file edited by hand is never overwritten (``--force`` overwrites);
- a stack whose descriptor was removed is retired: rewritten into ``removed`` blocks that
  release its resources (:mod:`generator.retire`); ``--prune`` deletes it once released;
- ``--check`` writes nothing and lists every file that would change, appear or go.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__, cache, retire, workers
from generator.errors import DfGenError, Diagnostic
from generator.fsutil import atomic_write, outside_problem, relative_entry_problem, within
from generator.generate import STACK_FILES, generate, render_files
from generator.loader import display_path
from generator.model import Model, build
from generator.validate import Descriptors, validate

MANIFEST = cache.record.MANIFEST
__all__ = ["MANIFEST", "STACK_FILES", "Report", "load_model", "render", "render_files", "stack_dir_files"]


@dataclass
class Report:
    """What a render did (or, with --check, would do), by path relative to ``stacks/``."""

    stacks_dir: Path
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    orphaned: dict[str, list[str]] = field(default_factory=dict)
    """Stacks without a descriptor that cannot be retired (no ``main.tf``), with their files."""
    retired: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Stacks without a descriptor, rendered as releases (generator.retire): what each releases."""
    conflicts: list[Diagnostic] = field(default_factory=list)
    """Generated files edited by hand (with --check; otherwise they stop the render)."""
    unknown: list[str] = field(default_factory=list)
    """Files in a stack's directory that df-gen did not write (they are part of the stack)."""
    descriptors: Descriptors | None = field(default=None, repr=False, compare=False)
    model: Model | None = field(default=None, repr=False, compare=False)
    """What the render validated and built: the runner uses both, so a run validates once."""

    @property
    def changed(self) -> bool:
        """True when the stacks on disk differ from the descriptors."""
        return bool(self.created or self.updated or self.deleted or self.orphaned or self.conflicts
                    or self.unknown)


def load_model(env_dir: Path) -> Model:
    """Validate ``env_dir`` and build its model."""
    return build(validate(env_dir))


def render(env_dir: Path, *, check: bool = False, force: bool = False, prune: bool = False,
           model: bool = True) -> Report:
    """Bring ``env_dir/stacks`` up to date with the descriptors (or, with ``check``, compare).

    A stack whose descriptor is gone is retired (:mod:`generator.retire`): rewritten from its
    own files into ``removed`` blocks. With ``prune`` a retired stack whose release df-gen has
    seen applied is deleted; one that may still hold resources is kept and reported (exit 1
    once everything else is written).

    ``model``: build every stack and keep the model in the report (the runner uses it);
    without, only the stacks whose inputs changed are built and rendered (generator.generate).
    """
    since = cache.now()
    clock = cache.fs_clock(Path(env_dir))  # before stacks/ is looked at: what the record trusts (generator.cache)
    descriptors = validate(env_dir)
    generated = generate(descriptors, model=model)
    files, digests = generated.texts, generated.digests
    stacks_dir = Path(env_dir) / "stacks"
    manifest = _read_manifest(stacks_dir, digests)
    report = Report(stacks_dir, descriptors=descriptors, model=generated.model)
    conflicts: list[Diagnostic] = []
    refused: list[Diagnostic] = []
    pruned: set[str] = set()
    for stack in sorted({r.split("/", 1)[0] for r in manifest} - {r.split("/", 1)[0] for r in digests}):
        orphan = retire.read_orphan(stacks_dir / stack)
        if prune:
            why = retire.prune_refusal(Path(env_dir), stack, orphan.retired if orphan else None)
            if why is None:
                pruned.add(stack)
                continue
            refused.append(Diagnostic(
                display_path(stacks_dir / stack), 0, 0,
                f"not pruned: {why}; its files are the only way to reach its resources",
                f"release them: df-gen apply {display_path(Path(env_dir))} (with --sandbox for the sandbox; "
                "--destroy-removed destroys them instead), then prune"))
        retired = retire.retired_files(stacks_dir, stack) if orphan else None
        if orphan is None or retired is None:
            continue  # no main.tf: nothing says what it held; reported as orphaned below
        for relative in sorted(retired):  # copied from disk: a hand edit would be adopted unseen
            current = _file_digest(stacks_dir / relative)
            if current == _digest(retired[relative].encode()) and current != manifest.get(relative) and not force:
                conflicts.append(_edited(stacks_dir / relative))
        files.update(retired)
        digests.update({relative: _digest(text.encode()) for relative, text in retired.items()})
        report.retired[stack] = orphan.addresses
    writes: dict[str, str] = {}
    present: dict[str, bool] = {}  # stack -> whether its directory exists (a cold render: none does)
    for relative, digest in digests.items():
        if relative in generated.verified:  # from the stack cache: stacks/ holds it as recorded
            report.unchanged.append(relative)
            continue
        path = os.path.join(stacks_dir, relative)  # a str: Path objects cost more than the compare
        stack = relative.split("/", 1)[0]
        if stack not in present:
            present[stack] = os.path.lexists(os.path.join(stacks_dir, stack))
        current = _file_digest(path) if present[stack] else None
        if current == digest:
            report.unchanged.append(relative)
            continue
        if current is not None and manifest.get(relative) != current and not force:
            conflicts.append(_edited(Path(path)))
            continue
        (report.updated if current is not None else report.created).append(relative)
        writes[relative] = files[relative]
    rendered_stacks = {relative.split("/", 1)[0] for relative in digests}
    removals: list[str] = []
    for relative in sorted(set(manifest) - set(digests)):
        stack = relative.split("/", 1)[0]
        if stack in rendered_stacks or stack in pruned:
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
    known = set(digests) | set(manifest)
    listings = cache.Listings(Path(env_dir), clock)  # a stack whose directories did not change holds what was recorded
    for stack in sorted(rendered_stacks | set(report.orphaned)):
        found = listings.files(stack)  # None: the manifest's files only, every one of them known
        if found is not None:
            report.unknown.extend(_in_path_order(path for path in found if path not in known))
    if conflicts and not check:
        raise DfGenError(diagnostics=conflicts)
    if check:
        report.conflicts = conflicts + refused
        if not report.changed and manifest == digests:
            _remember(env_dir, since, descriptors, digests, generated.entries, listings)
        return report
    # A stack directory that did not exist holds no link: its new files need no guard.
    _guard_all(stacks_dir, [*(r for r in writes if present[r.split("/", 1)[0]]), *removals])
    _write_all(stacks_dir, writes)
    for relative in removals:
        target = stacks_dir / relative
        try:
            if target.exists():
                target.unlink()
            _remove_empty_parents(target.parent, stacks_dir)
        except OSError as exc:
            raise _write_error(target, exc, "delete") from None
    new_manifest = dict(digests)
    for files_of_orphan in report.orphaned.values():
        for relative in files_of_orphan:
            new_manifest[relative] = manifest[relative]
    _write_manifest(stacks_dir, new_manifest)
    if refused:  # everything else is written; what was asked and not done still fails the command
        raise DfGenError(diagnostics=refused)
    if not report.orphaned and not report.unknown:
        touched = {relative.split("/", 1)[0] for relative in [*writes, *removals]}
        _remember(env_dir, since, descriptors, digests, generated.entries, listings, touched)
    return report


def _edited(path: Path) -> Diagnostic:
    return Diagnostic(display_path(path), 1, 1,
                      "edited by hand since df-gen wrote it (or not written by df-gen); not overwritten",
                      "move your change into the descriptors or pipeline code, or re-run with --force")


def _remember(env_dir: Path, since: int, descriptors: Descriptors, digests: dict[str, str],
              checked: Mapping[str, cache.Entry], listings: cache.Listings, touched: Iterable[str] = ()) -> None:
    """Record that ``stacks/`` answers these inputs, so that the next no-op render and
    ``--check`` are decided from the record (generator/cache/). Called only when render
    found no file it did not write in any rendered stack's directory; the directories of
    the stacks it did not write (``touched``: those it did) are recorded as it found them."""
    written = set(touched)
    dirs = {stack: found for stack, found in listings.dirs.items() if stack not in written}
    cache.record_render(env_dir, since, descriptors.pipelines_dir, summary(descriptors), digests, checked, dirs,
                        listings.clock)


def summary(descriptors: Descriptors) -> dict[str, int]:
    """The counts ``validate`` prints."""
    return {"environments": 1, "datasources": len(descriptors.datasources), "pipelines": len(descriptors.pipelines)}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _file_digest(path: Path | str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return _digest(handle.read())
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DfGenError(f"{display_path(Path(path))}: a directory is in the way of a generated file") from None
    except NotADirectoryError:  # a file where one of its directories goes
        blocker = next((parent for parent in Path(path).parents if parent.is_file()), Path(path).parent)
        raise DfGenError(f"{display_path(blocker)}: a file is in the way of the generated directory; "
                         "move it aside") from None


def _read_manifest(stacks_dir: Path, generated: Mapping[str, str] | None = None) -> dict[str, str]:
    """The manifest's entries; each one checked to stay inside ``stacks/``, but for those
    df-gen generates this run (``generated``)."""
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
    for entry in sorted(set(files) - set(generated or ())):
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


def _guard_all(stacks_dir: Path, relatives: list[str]) -> None:
    """:func:`_guard` of every path, each directory walked once: a cold render writes ten
    files per directory. A path is inside ``stacks/`` when its directory is and it is not a
    link; a link is checked as :func:`_guard` checks it."""
    directories: dict[str, bool] = {}
    for relative in relatives:
        directory, _, _ = relative.rpartition("/")
        if directory not in directories:
            directories[directory] = within(stacks_dir, stacks_dir / directory) if directory else True
        target = os.path.join(stacks_dir, relative)
        if not directories[directory] or os.path.islink(target):
            _guard(stacks_dir, relative)


def _write_all(stacks_dir: Path, writes: dict[str, str]) -> None:
    """Write each file (relative to ``stacks/``): a stack's files in one process, the stacks
    shared among worker processes when there are many (:mod:`generator.workers`; a cold
    render writes 11,000 files, in half the time on two cores)."""
    by_stack: dict[str, list[tuple[str, str]]] = {}
    for relative, text in writes.items():
        by_stack.setdefault(relative.split("/", 1)[0], []).append((relative, text))

    def write_stack(files: list[tuple[str, str]]) -> None:
        for relative, text in files:
            _write(os.path.join(stacks_dir, relative), text.encode())

    workers.ordered_map(write_stack, list(by_stack.values()))


def _write_manifest(stacks_dir: Path, files: dict[str, str]) -> None:
    text = manifest_text(files)
    path = stacks_dir / MANIFEST
    if _file_digest(path) != _digest(text.encode()):
        _write(path, text.encode())


def manifest_text(files: Mapping[str, str]) -> str:
    """The manifest's text: ``json.dumps(document, indent=2)`` and a newline, written out
    here (with an indent, ``json`` encodes in Python: a fortieth of a one-change render for
    11,500 files; each string is still encoded by ``json``'s own C function)."""
    quote = json.encoder.encode_basestring_ascii  # what json.dumps uses with ensure_ascii
    entries = ",\n".join(f"    {quote(relative)}: {quote(digest)}" for relative, digest in sorted(files.items()))
    about = "Written by df-gen render: the hash of every generated file, to detect hand edits."
    body = "{\n" + entries + "\n  }" if entries else "{}"
    return f'{{\n  "about": {quote(about)},\n  "generator": {quote(f"df-gen {__version__}")},\n  "files": {body}\n}}\n'


def _write(path: Path | str, data: bytes) -> None:
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise _write_error(Path(path), exc, "write") from None


def _write_error(path: Path, exc: OSError, verb: str) -> DfGenError:
    """One line naming the file df-gen could not write or delete, and why."""
    reason = exc.strerror or str(exc)
    return DfGenError(diagnostics=[Diagnostic(display_path(path), 0, 0, f"cannot {verb} this file: {reason}",
                                              "check the permissions of stacks/ (and chattr/immutable flags)")])


def stack_dir_files(stacks_dir: Path, stack: str) -> list[str]:
    """Every file of a stack's directory (relative to ``stacks/``) that Terraform would read,
    in path order (:func:`generator.cache.inputs.stack_listing` says which)."""
    return _in_path_order(cache.stack_listing(stacks_dir, stack)[0])


def _in_path_order(relatives: Iterable[str]) -> list[str]:
    return sorted(relatives, key=lambda relative: relative.split("/"))  # as paths sort


def _remove_empty_parents(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
