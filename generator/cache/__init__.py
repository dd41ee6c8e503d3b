"""Skip work whose inputs did not change: the record of the last good validate and render.

``ENV_DIR/.df-gen/cache/inputs.marshal`` (git-ignored with the rest of ``.df-gen/``) records,
after a validate or render that succeeded, every file the result depended on, each with its
``stat`` (modification time, size, inode) and content hash:

- the descriptors (``environment.yaml``, ``datasources/*``, ``pipelines/*``);
- every file under the pipeline code directory (``pipelines_dir``: DAG templates, SQL,
  schemas, task lists);
- df-gen itself: its code, JSON Schemas, templates and modules (its version string never
  changes, so its files are hashed), and the Python version;
- after a render, every generated file under ``stacks/`` and the manifest, with the hash
  df-gen wrote, and the ``stat`` of each directory of the stacks (adding, removing or
  renaming a file changes its directory's: a stack whose directories are as recorded is not
  listed again, one whose directories changed is, and a file dropped in is reported).

The next ``validate``, ``render`` or ``render --check`` first compares that record with the
disk, importing nothing heavy (no YAML, JSON Schema, Jinja or SQL parser): when every file
is as recorded, the answer is the recorded one. A file whose ``stat`` differs is hashed, so
a touched but unchanged file still hits; any added, removed or changed file misses and the
full command runs (and records again if it succeeds). Like git's index, a file modified
within :data:`RACY_NS` of the record being written is trusted by its hash only, because
file times are coarser than the clock; a file modified while the command ran is not
trusted at all, since the result may predate the change.

The record is written atomically; one that cannot be read, or of another format version,
is a miss and is rewritten. Deleting ``.df-gen/cache`` changes nothing but time.

The package: :mod:`.inputs` (the files a result depends on, their digests),
:mod:`.record` (the record and the questions the commands ask), :mod:`.store` (a file of
entries, each decoded when asked for, in Python's ``marshal`` format), :mod:`.documents` (the
per-file cache of parses and schema errors, in a store), :mod:`.stacks` (per stack, the hash of
each file it rendered, by the hash of its inputs: generator.generate).
"""

from __future__ import annotations

from generator.cache.documents import DOCUMENTS, Documents
from generator.cache.inputs import (
    OVERRIDE_NAME,
    TREE_HASH_LIMIT,
    digest,
    input_files,
    stack_listing,
    tool_digest,
    tree_digest,
)
from generator.cache.record import (
    FORMAT,
    RACY_NS,
    RECORD,
    Entry,
    Listings,
    fs_clock,
    now,
    record_render,
    record_validate,
    rendered,
    validated,
)

__all__ = [
    "DOCUMENTS", "FORMAT", "OVERRIDE_NAME", "RACY_NS", "RECORD", "TREE_HASH_LIMIT", "Documents", "Entry", "Listings",
    "digest", "fs_clock", "input_files", "now", "record_render", "record_validate", "rendered",
    "stack_listing", "tool_digest", "tree_digest", "validated",
]
