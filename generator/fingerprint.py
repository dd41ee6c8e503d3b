"""Change detection: one fingerprint per stack, and the record of the last successful apply.

A stack's fingerprint is a sha256 over

- every file of its directory (the files the render manifest lists under
  ``stacks/<name>/`` and any other file there, dot files and df-gen's sandbox override
  left out), read from disk,
- the files of the module it calls, when the module is a local path (``*.tf`` and the
  files they read, without ``examples/``, READMEs and dot-directories); for a remote
  source the source string itself (a pinned ref changes the string),
- the outputs of the upstream stacks it reads (``terraform_remote_state``), as recorded
  after their last apply (the caller says which; see ``runner.reads_outputs_of``).

``ENV_DIR/.df-gen/<mode>/fingerprints.json`` keeps, per stack, the fingerprint and the
digest of the outputs after its last successful apply (a retired stack's entry says
``"released": true`` once its state was seen empty, see :mod:`generator.retire`). A stack whose fingerprint equals
the recorded one has nothing new to plan.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write, relative_entry_problem
from generator.model import Stack
from generator.render import MANIFEST, stack_dir_files

RECORD_VERSION = 1
_SKIP_DIRS = {"examples"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stack_files(stack_name: str, stacks_dir: Path) -> list[str]:
    """Every file of a stack (paths relative to ``stacks/``): the ones the render manifest
    lists (a deleted one counts as missing) and every other file in its directory, so that
    a file added by hand changes the fingerprint too."""
    try:
        files = json.loads((stacks_dir / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError):
        files = {}
    prefix = f"{stack_name}/"
    listed = {path for path in files if path.startswith(prefix) and relative_entry_problem(path) is None}
    return sorted(listed | set(stack_dir_files(stacks_dir, stack_name)))


def is_local_source(source: str) -> bool:
    """True for a module source that is a path (``./``, ``../`` or absolute)."""
    return source.startswith(("./", "../", "/"))


def module_files(module_dir: Path) -> list[Path]:
    """The files of a local module that shape its behaviour, in a stable order."""
    found = []
    for root, dirs, files in os.walk(module_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.startswith(".") or name.lower().endswith(".md"):
                continue
            found.append(Path(root) / name)
    return sorted(found)


def fingerprint(stack: Stack, stacks_dir: Path, upstream_outputs: Mapping[str, str | None]) -> str:
    """The fingerprint of ``stack`` given the recorded output digests of the upstreams it reads."""
    digest = hashlib.sha256()

    def add(*parts: str) -> None:
        digest.update(("\0".join(parts) + "\n").encode())

    for relative in stack_files(stack.name, stacks_dir):
        path = stacks_dir / relative
        add("file", relative, _sha(path.read_bytes()) if path.is_file() else "missing")
    if is_local_source(stack.source):
        module_dir = (stacks_dir / stack.name / stack.source).resolve()
        for path in module_files(module_dir):
            add("module", path.relative_to(module_dir).as_posix(), _sha(path.read_bytes()))
    else:
        add("source", stack.source)
    for name in sorted(upstream_outputs):
        add("upstream", name, upstream_outputs[name] or "none")
    return "sha256:" + digest.hexdigest()


def outputs_digest(outputs: Mapping[str, Any]) -> str:
    """A digest of ``output -json``'s values (types and sensitivity flags left out)."""
    values = {name: item.get("value") if isinstance(item, Mapping) else item
              for name, item in outputs.items()}
    return "sha256:" + _sha(json.dumps(values, sort_keys=True, separators=(",", ":")).encode())


class Records:
    """``fingerprints.json``: per stack, the fingerprint and output digest of its last apply.

    Thread-safe; every change is written at once, atomically, so that an interrupted run
    keeps what it finished.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stacks: dict[str, dict[str, Any]] = {}
        try:
            document = json.loads(path.read_text())
            if document.get("version") == RECORD_VERSION:
                self._stacks = {k: dict(v) for k, v in document.get("stacks", {}).items()}
        except (OSError, ValueError, AttributeError):
            pass  # no record (or a broken one): every stack counts as changed

    def fingerprint(self, name: str) -> str | None:
        """The fingerprint recorded for ``name`` after its last apply, if any."""
        with self._lock:
            return self._stacks.get(name, {}).get("fingerprint")

    def outputs(self, name: str) -> str | None:
        """The digest of ``name``'s outputs after its last apply, if any."""
        with self._lock:
            return self._stacks.get(name, {}).get("outputs")

    def record(self, name: str, fingerprint_value: str, outputs: str) -> None:
        """Remember a successful apply of ``name``."""
        with self._lock:
            self._stacks[name] = {"fingerprint": fingerprint_value, "outputs": outputs}
            self._write()

    def release(self, name: str, fingerprint_value: str) -> None:
        """Remember that retired stack ``name``'s state was seen empty with these files (after
        its release or destruction was applied, or by a plan that found nothing left); render
        --prune reads it (generator.retire.prune_refusal)."""
        with self._lock:
            self._stacks[name] = {"fingerprint": fingerprint_value, "outputs": "", "released": True}
            self._write()

    def clear(self, name: str) -> None:
        """Forget ``name`` (after a destroy)."""
        with self._lock:
            if self._stacks.pop(name, None) is not None:
                self._write()

    def _write(self) -> None:
        document = {"version": RECORD_VERSION, "stacks": dict(sorted(self._stacks.items()))}
        atomic_write(self.path, json.dumps(document, indent=2) + "\n")
