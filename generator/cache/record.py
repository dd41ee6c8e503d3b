"""The record of the last good validate and render (``.df-gen/cache/inputs.marshal``)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from generator.cache.inputs import DirStat, digest, input_files, stack_listing
from generator.cache.store import decode_blob, write_blob

FORMAT = 1
"""Bumped when the record's shape changes; another format is a miss."""

RECORD = Path(".df-gen") / "cache" / "inputs.marshal"
STAMP = "inputs record"
"""The record's stamp in its file (generator.cache.store; its format and Python are inside it)."""
MANIFEST = ".df-gen-manifest.json"
"""The render manifest's name in ``stacks/`` (generator.render; renames reads it too)."""
RACY_NS = 1_000_000_000
"""A file modified this close to the record's writing is checked by hash, not ``stat``."""

Entry = list[Any]
"""``[mtime_ns, size, inode, digest or None]``; a None digest never matches."""


def now() -> int:
    """The clock, taken before a command reads its inputs (see :func:`record_validate`)."""
    return time.time_ns()


# --- the record ------------------------------------------------------------------------------


def _entry(path: str, known: str | None = None, since: int | None = None,
           previous: Entry | None = None, trusted: int = 0) -> Entry | None:
    """The stat and hash of ``path`` (``known``: its hash, already computed); None if absent.
    A file modified at or after ``since`` gets no hash: what was read may predate it. When
    ``previous`` (an earlier entry) has the same ``stat`` and was recorded before
    ``trusted``, its hash is kept without reading the file (as :func:`_matches` trusts it)."""
    try:
        st = os.stat(path)
        if known is None and isinstance(previous, list) and len(previous) == 4 and previous[3] is not None \
                and previous[0] < trusted and previous[:3] == [st.st_mtime_ns, st.st_size, st.st_ino]:
            known = str(previous[3])
        if known is None:
            with open(path, "rb") as stream:
                known = digest(stream.read())
    except OSError:
        return None
    # File times come from a clock coarser than time_ns(): allow for it.
    if since is not None and st.st_mtime_ns >= since - 50_000_000:
        known = None
    return [st.st_mtime_ns, st.st_size, st.st_ino, known]


def _entries(paths: Iterable[str], since: int | None = None, known: Mapping[str, str] | None = None,
             previous: Mapping[str, Any] | None = None) -> dict[str, Entry] | None:
    """Each path's entry (None when one vanished). ``previous``: an earlier record, whose
    entries of files unchanged since are reused: only changed files are read."""
    entries: dict[str, Entry] = {}
    known = known or {}
    earlier: Mapping[str, Entry] = {}
    trusted = 0
    if previous:
        try:
            earlier = dict(previous["inputs"])
            trusted = int(previous["written"]) - RACY_NS
        except (KeyError, TypeError, ValueError):
            earlier, trusted = {}, 0
    for path in paths:
        entry = _entry(path, known.get(path), since, earlier.get(path), trusted)
        if entry is None:
            return None  # vanished while recording: record nothing
        entries[path] = entry
    return entries


def _matches(recorded: Mapping[str, Entry], paths: list[str], limit: int) -> bool | None:
    """True when every path is as recorded (None: yes, but some only by hash: refresh). A
    recorded ``stat`` is trusted alone for a file modified before ``limit``: a file
    modified in the clock's tick of its recording could change again unseen."""
    if len(paths) != len(recorded):
        return False
    refresh = False
    for path in paths:
        entry = recorded.get(path)
        if entry is None or entry[3] is None:
            return False
        try:
            st = os.stat(path)
        except OSError:
            return False
        if st.st_mtime_ns == entry[0] and st.st_size == entry[1] and st.st_ino == entry[2] and entry[0] < limit:
            continue
        if st.st_size != entry[1]:
            return False
        try:
            with open(path, "rb") as stream:
                if digest(stream.read()) != entry[3]:
                    return False
        except OSError:
            return False
        entry[:3] = [st.st_mtime_ns, st.st_size, st.st_ino]
        refresh = True
    return None if refresh else True


def dirs_unchanged(stacks_dir: Path | str, recorded: Any, limit: int) -> bool:
    """Whether each directory of ``recorded`` (relative -> :data:`DirStat`) still has its
    recorded ``stat``, a modification time before ``limit`` (:func:`_trusted_before`): one
    modified in the same tick of the filesystem's clock as the recording run's look could be
    modified again with the same time; one modified in an earlier tick cannot."""
    try:
        for relative, (mtime_ns, inode) in recorded.items():
            if mtime_ns >= limit:
                return False
            info = os.stat(f"{stacks_dir}/{relative}")
            if info.st_mtime_ns != mtime_ns or info.st_ino != inode:
                return False
    except (OSError, TypeError, ValueError, AttributeError):
        return False
    return bool(recorded)


def _path(env_dir: Path) -> Path:
    return Path(env_dir) / RECORD


_READ: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
"""The record this process last read, by path, with the ``stat`` it had: a render asks three
times (is everything up to date, which generated files are as recorded, what to keep) and
the record holds 13,000 files for 1,000 pipelines. Shared, not copied: a caller only ever
refreshes an entry's ``stat`` to the file's own after checking its hash (``_matches``), as
the record written next would hold it; writing the record forgets it here."""


def _read(env_dir: Path) -> dict[str, Any] | None:
    path = str(_path(env_dir))
    try:
        with open(path, "rb") as stream:
            st = os.fstat(stream.fileno())
            signature = (st.st_mtime_ns, st.st_size, st.st_ino)
            known = _READ.get(path)
            if known is not None and known[0] == signature:
                return known[1]
            record = decode_blob(stream.read(), STAMP)
    except OSError:
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("python") != sys.version:
        return None
    _READ.clear()  # one record at a time: a long-lived process (the tests) sees many
    _READ[path] = (signature, record)
    return record


def _write(env_dir: Path, record: dict[str, Any]) -> None:
    record["written"] = now()
    path = str(_path(env_dir))
    _READ.pop(path, None)
    try:
        write_blob(path, STAMP, record)
    except (OSError, ValueError):
        pass  # a cache that cannot be written costs time, never a result


def _inputs_match(env_dir: Path, record: dict[str, Any]) -> bool | None:
    if record.get("env") != os.path.realpath(env_dir):
        return False
    paths = input_files(env_dir, Path(record["pipelines_dir"]))
    return _matches(record["inputs"], paths, record["written"] - RACY_NS)


def _trusted_before(render: Mapping[str, Any]) -> int:
    """The time before which a generated file or stack directory modified is trusted by the
    ``stat`` the render record holds: before the filesystem's clock when the recording run
    began to look (``listed``, :func:`fs_clock`: exact whatever the filesystem's granularity),
    or :data:`RACY_NS` before that record was written, as git trusts its index (a render just
    after a cold one would otherwise hash every file that one wrote)."""
    return max(int(render.get("listed", 0)), int(render.get("written", 0)) - RACY_NS)


def generated(env_dir: Path) -> tuple[dict[str, Entry], int]:
    """Each generated file (absolute path) as the last recorded render left it, and the
    time before which a file's recorded ``stat`` is trusted (:func:`_trusted_before`);
    nothing when there is no such record."""
    record = _read(env_dir)
    try:
        if record is None or "render" not in record:
            return {}, 0
        return dict(record["render"]["files"]), _trusted_before(record["render"])
    except (KeyError, TypeError, ValueError):
        return {}, 0


def holding(path: str, expected: str, entry: Entry | None, limit: int) -> Entry | None:
    """The entry to record for ``path`` when it holds the bytes hashing to ``expected``, else
    None: decided by its ``stat`` when that is as recorded in ``entry`` and older than
    ``limit`` (:func:`generated`), else by hashing it."""
    try:
        st = os.stat(path)
        if isinstance(entry, list) and len(entry) == 4 and entry[3] == expected and entry[0] < limit \
                and entry[0] == st.st_mtime_ns and entry[1] == st.st_size and entry[2] == st.st_ino:
            return entry  # compared field by field: a render asks for 11,500 files
        with open(path, "rb") as stream:
            return [st.st_mtime_ns, st.st_size, st.st_ino, expected] if digest(stream.read()) == expected else None
    except OSError:
        return None


# --- the questions the commands ask ----------------------------------------------------------


def validated(env_dir: Path, access: bool = True) -> dict[str, int] | None:
    """The summary of the last good validate when no input changed since, else None.
    ``access``: the answer must include the access check (a render does not run it)."""
    record = _read(env_dir)
    try:
        if record is None or "summary" not in record or (access and record.get("access") is not True):
            return None
        match = _inputs_match(env_dir, record)
        if match is False:
            return None
        if match is None:
            _write(env_dir, record)
        return {str(k): int(v) for k, v in record["summary"].items()}
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None  # a damaged record is a miss; the full run rewrites it


def rendered(env_dir: Path) -> int | None:
    """The number of generated files when the last render left ``stacks/`` up to date and
    neither the inputs nor the stacks changed since (nothing to write, report or delete).
    A stack none of whose directories changed since the record holds the recorded files (a
    file added or removed changes its directory); the others are listed, and recorded for
    the next time when they hold what the record says."""
    record = _read(env_dir)
    try:
        if record is None or "render" not in record:
            return None
        clock = fs_clock(env_dir)  # before any stacks/ file is looked at
        inputs = _inputs_match(env_dir, record)
        if inputs is False:
            return None
        render = record["render"]
        listings = Listings(env_dir, clock)
        paths = list(render["files"])
        walked = {stack: files for stack in render["stacks"] if (files := listings.walked(stack)) is not None}
        if walked:
            prefix = len(listings.stacks_dir) + 1
            paths = [path for path in paths if path[prefix:].split(os.sep, 1)[0] not in walked]
            paths.extend(os.path.join(listings.stacks_dir, relative) for files in walked.values() for relative in files)
        stacks = _matches(render["files"], paths, _trusted_before(render))
        if stacks is False:
            return None
        if inputs is None or stacks is None or walked:
            # every stack walked or checked now, every file's stat or hash checked now
            render["dirs"], render["listed"], render["written"] = listings.dirs, listings.clock, now()
            _write(env_dir, record)
        return int(render["count"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


CLOCK = Path(".df-gen") / "cache" / "clock"
"""An empty file whose modification time :func:`fs_clock` sets and reads."""


def fs_clock(env_dir: Path) -> int:
    """The filesystem's time now, in its own granularity (0 when it cannot be read): the
    modification time it gives :data:`CLOCK` when touched. A directory modified before it
    cannot be modified again with its recorded time, whatever the filesystem's granularity
    (a second on some, a few milliseconds on ext4); git's index makes the same use of its own
    file's time."""
    path = Path(env_dir) / CLOCK
    try:
        try:
            os.utime(path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


class Listings:
    """What each stack's directory holds: the files the record lists for it when none of its
    directories changed since (:func:`dirs_unchanged`), else the files a walk finds
    (:func:`generator.cache.inputs.stack_listing`). Render asks for every stack it renders
    (a file df-gen did not write is reported); listing 5,000 directories took a tenth of a
    one-change render over 1,000 pipelines, a ``stat`` of each a quarter of that."""

    def __init__(self, env_dir: Path, clock: int) -> None:
        self.stacks_dir = os.path.join(os.path.abspath(env_dir), "stacks")
        self.clock = clock
        """The filesystem's time before this run looked at ``stacks/`` (:func:`fs_clock`):
        the next record's ``listed``."""
        record = _read(env_dir) or {}
        try:
            self._recorded: dict[str, Any] = dict(record["render"]["dirs"])
            self._files: dict[str, Any] = dict(record["render"]["files"])
            self._limit = _trusted_before(record["render"])
            manifest = os.path.join(self.stacks_dir, MANIFEST)
            self.manifest_kept = _matches({manifest: self._files[manifest]}, [manifest], self._limit) is True
            """Whether the manifest is as recorded: it lists exactly the recorded files."""
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            self._recorded, self._files, self._limit, self.manifest_kept = {}, {}, 0, False
        self._by_stack: dict[str, list[str]] | None = None
        self.dirs: dict[str, dict[str, DirStat]] = {}
        """Each stack asked for -> its directories' ``stat``, as recorded or walked: the next
        record's (:func:`record_render`)."""

    def walked(self, stack: str) -> list[str] | None:
        """The files a walk of ``stack``'s directory finds (relative to ``stacks/``), or None
        when none of its directories changed since the record: it holds the recorded files."""
        recorded: Any = self._recorded.get(stack)
        if dirs_unchanged(self.stacks_dir, recorded, self._limit):
            self.dirs[stack] = recorded
            return None
        files, self.dirs[stack] = stack_listing(self.stacks_dir, stack)
        return files

    def files(self, stack: str) -> list[str] | None:
        """The files of ``stack``'s directory, relative to ``stacks/``; None when none of its
        directories changed since the record and neither did the manifest: it holds exactly
        the files the manifest lists for it (finding them took a tenth of the time saved)."""
        walked = self.walked(stack)
        if walked is not None:
            return walked
        if self.manifest_kept:
            return None
        if self._by_stack is None:
            self._by_stack = {}
            prefix = len(self.stacks_dir) + 1
            for path in self._files:
                if not isinstance(path, str):
                    continue  # a damaged record: its files do not match the disk either
                relative = path[prefix:].replace(os.sep, "/")
                self._by_stack.setdefault(relative.split("/", 1)[0], []).append(relative)
        return self._by_stack.get(stack, [])


def record_validate(env_dir: Path, since: int, pipelines_dir: Path, summary: Mapping[str, int],
                    access: bool) -> None:
    """Record a validate that succeeded (``access``: with the access check); ``since``:
    :func:`now` before it read anything."""
    previous = _read(env_dir) or {}
    inputs = _entries(input_files(env_dir, pipelines_dir), since, previous=previous)
    if inputs is None:
        return
    same = previous.get("inputs") == inputs
    record: dict[str, Any] = {
        "format": FORMAT, "python": sys.version, "env": os.path.realpath(env_dir),
        "pipelines_dir": os.path.abspath(pipelines_dir), "inputs": inputs, "summary": dict(summary),
        "access": access or (same and previous.get("access") is True),
    }
    if same and "render" in previous:
        record["render"] = previous["render"]  # the stacks still answer these inputs
    _write(env_dir, record)


def record_render(env_dir: Path, since: int, pipelines_dir: Path, summary: Mapping[str, int],
                  files: Mapping[str, str], checked: Mapping[str, Entry] | None = None,
                  dirs: Mapping[str, Mapping[str, DirStat]] | None = None, listed: int = 0) -> None:
    """Record a render that left ``stacks/`` up to date: ``files`` maps each generated file
    (relative to ``stacks/``) to the hash of what it holds, and render found no other file
    in the stacks' directories. ``checked``: the entries of the files this run found as
    recorded and did not write (:func:`holding`), not read again. ``dirs``: the directories
    of the stacks it did not write, as :class:`Listings` found them before it wrote (a file
    dropped into a stack since changed one: the next render lists that stack); ``listed``:
    the filesystem's time before it looked (:attr:`Listings.clock`)."""
    previous = _read(env_dir) or {}
    inputs = _entries(input_files(env_dir, pipelines_dir), since, previous=previous)
    stacks_dir = os.path.join(os.path.abspath(env_dir), "stacks")
    stacks = sorted({relative.split("/", 1)[0] for relative in files})
    known = {f"{stacks_dir}/{relative}": value for relative, value in files.items()}  # as os.path.join, faster
    paths = [os.path.join(stacks_dir, MANIFEST), *known]
    if inputs is None:
        return
    checked = checked or {}
    generated = _entries([path for path in paths if path not in checked], known=known)
    if generated is None:
        return
    if checked:
        generated = {path: generated.get(path) or checked[path] for path in paths}
    _write(env_dir, {
        "format": FORMAT, "python": sys.version, "env": os.path.realpath(env_dir),
        "pipelines_dir": os.path.abspath(pipelines_dir), "inputs": inputs, "summary": dict(summary),
        # render runs no access check: a validate's earlier one still holds for the same inputs
        "access": previous.get("inputs") == inputs and previous.get("access") is True,
        "render": {"stacks": stacks, "files": generated, "count": len(files), "listed": listed, "written": now(),
                   "dirs": {stack: dict(found) for stack, found in (dirs or {}).items() if stack in stacks}},
    })
