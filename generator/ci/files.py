"""Write generated CI files the way render writes stacks: hand edits are never overwritten.

The manifest ``.df-gen-ci.json`` at the repository root records the hash of every file
df-gen wrote. A file whose content is neither the new one nor the recorded one was edited
by hand (or not written by df-gen) and is left alone, with a one-line error, unless
``force``. Hashes and the atomic write are render's own (:mod:`generator.render`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__
from generator.errors import DfGenError, Diagnostic
from generator.fsutil import atomic_write, outside_problem, relative_entry_problem
from generator.loader import display_path
from generator.render import _digest, _file_digest

MANIFEST = ".df-gen-ci.json"


@dataclass
class Written:
    """What a write did (or, with ``check``, would do), by path relative to the repository."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[Diagnostic] = field(default_factory=list)  # hand edits (reported with check)

    @property
    def changed(self) -> bool:
        """True when some file differs from what df-gen would write."""
        return bool(self.created or self.updated or self.conflicts)


def _manifest(root: Path) -> dict[str, str]:
    path = root / MANIFEST
    if not path.exists():
        return {}
    try:
        files = {str(k): str(v) for k, v in dict(json.loads(path.read_text())["files"]).items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DfGenError(f"{display_path(path)}: not a df-gen CI manifest; delete it to let df-gen adopt "
                         "unchanged files") from None
    return files


def write_files(root: Path, files: Mapping[str, str], *, force: bool = False, check: bool = False) -> Written:
    """Bring ``files`` (relative to ``root``) up to date; refuse to overwrite hand edits."""
    manifest = _manifest(root)
    written = Written()
    conflicts = []
    writes = {}
    for relative, text in sorted(files.items()):
        problem = relative_entry_problem(relative) or outside_problem(root, root / relative, "the repository")
        if problem:
            raise DfGenError(f"{relative}: {problem}")
        path = root / relative
        digest, current = _digest(text.encode()), _file_digest(path)
        if current == digest:
            written.unchanged.append(relative)
            continue
        if current is not None and manifest.get(relative) != current and not force:
            conflicts.append(Diagnostic(display_path(path), 1, 1,
                                        "edited by hand since df-gen wrote it (or not written by df-gen); "
                                        "not overwritten", "keep your edit, or re-run df-gen ci with --force"))
            continue
        (written.updated if current is not None else written.created).append(relative)
        writes[relative] = text
    if conflicts and not check:
        raise DfGenError(diagnostics=conflicts)
    if check:
        written.conflicts = conflicts
        return written
    for relative, text in writes.items():
        atomic_write(root / relative, text.encode())
    manifest.update({relative: _digest(text.encode()) for relative, text in files.items()
                     if relative in writes or relative in written.unchanged})
    document = {"about": "Written by df-gen ci: the hash of every generated CI file, to detect hand edits.",
                "generator": f"df-gen {__version__}", "files": dict(sorted(manifest.items()))}
    text = json.dumps(document, indent=2) + "\n"
    if _file_digest(root / MANIFEST) != _digest(text.encode()):
        atomic_write(root / MANIFEST, text.encode())
    return written
