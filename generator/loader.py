"""Load YAML descriptors safely, keeping the file, line and column of every node.

The YAML traps are handled here, once: only safe tags, duplicate keys rejected, dates kept
as strings, and nothing a file can contain (alias bombs, deep nesting, huge files, bad
UTF-8, binary data, symlink loops, a directory instead of a file) makes loading hang, use
unbounded memory or raise anything but :class:`DfGenError`.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from generator.errors import DfGenError, Diagnostic
from generator.fsutil import display_path, mode_problem

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Descriptors are small; anything larger is a mistake, not a descriptor."""

MAX_NODES = 200_000
"""Bound on values built from one file, so aliases cannot expand exponentially."""

MAX_DEPTH = 64
"""Bound on nesting; descriptors need a handful of levels."""

JsonPath = tuple[str | int, ...]

try:  # libyaml is an order of magnitude faster; fall back to pure Python.
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader whose timestamps stay strings (``2024-01-01`` is a date only to YAML)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of a node, each short scalar's resolved once per process: libyaml calls
        back into Python's regular-expression resolver for every scalar, and descriptors
        repeat their keys and values (a thousand pipelines: 70,000 scalars). Without path
        resolvers (none are registered) the tag depends on these arguments only."""
        if kind is not yaml.ScalarNode or len(value) > 256:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_RESOLVED) < 100_000:
                _RESOLVED[key] = tag
        return tag


_RESOLVED: dict[tuple[str, Any], str] = {}


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()  # type: ignore[attr-defined]
}

_SCALARS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_ALLOWED_TAGS = _SCALARS | {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass(frozen=True)
class Document:
    """A loaded YAML file: its data and where each value and key came from."""

    path: Path
    display: str
    data: Any
    positions: Mapping[JsonPath, tuple[int, int]] = field(repr=False)
    key_positions: Mapping[JsonPath, tuple[int, int]] = field(repr=False)
    """Both read only through :meth:`where`: a document from validate's cache decodes them
    when an error first needs one (generator.cache.documents)."""

    def where(self, path: JsonPath, *, key: bool = False) -> tuple[int, int]:
        """Line and column of the value at ``path`` (or of its key), else of its parent."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while probe not in table and probe:
            probe = probe[:-1]
            table = self.positions
        return table.get(probe, (1, 1))

    def error(self, path: JsonPath, message: str, *, key: bool = False, hint: str = "") -> Diagnostic:
        """A diagnostic pointing at ``path`` in this document."""
        line, col = self.where(path, key=key)
        return Diagnostic(self.display, line, col, message, hint)


def load(path: Path) -> Document:
    """Read and parse one YAML file, or raise :class:`DfGenError` with the place of the fault."""
    return parse(path, read(path))


def read(path: Path) -> bytes:
    """The bytes of one descriptor file (refused: a directory, a FIFO, a file too large to
    be a descriptor), or :class:`DfGenError`.

    One ``stat``, one ``open`` and one ``read`` per file (validate reads every descriptor of
    a thousand-pipeline environment on each change): the mode is checked before opening, so
    a FIFO or device is never opened, and ``O_NONBLOCK`` keeps one swapped in since from
    blocking the open."""
    try:
        info = os.stat(path)
        problem = mode_problem(info.st_mode)
        if problem:
            message = "is a directory, expected a YAML file" if stat.S_ISDIR(info.st_mode) else problem
            raise DfGenError(diagnostics=[Diagnostic(display_path(path), 0, 0, message)])
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            # Read the size the file has, plus a byte (a read of the limit allocates 2 MiB for
            # each small descriptor); one that grew since the stat is read on up to the limit.
            raw = os.read(handle, min(info.st_size, MAX_FILE_BYTES) + 1)
            while info.st_size < len(raw) <= MAX_FILE_BYTES:
                more = os.read(handle, MAX_FILE_BYTES + 1 - len(raw))
                if not more:
                    break
                raw += more
        finally:
            os.close(handle)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DfGenError(diagnostics=[Diagnostic(display_path(path), 0, 0, f"cannot read file: {reason}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        raise DfGenError(
            diagnostics=[Diagnostic(display_path(path), 1, 1, f"file is larger than {limit} MiB; not a descriptor")]
        )
    return raw


def parse(path: Path, raw: bytes) -> Document:
    """Parse the bytes ``raw`` read from ``path`` (see :func:`read`)."""
    display = display_path(path)
    text = _decode(raw, display)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise DfGenError(diagnostics=[_syntax_error(exc, text, display)]) from None
    except yaml.YAMLError as exc:
        raise DfGenError(diagnostics=[Diagnostic(display, 1, 1, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise DfGenError(
            diagnostics=[Diagnostic(display, 1, 1, "YAML nesting is too deep to be a descriptor")]
        ) from None
    builder = _Builder(display)
    data = builder.build(node, (), 0) if node is not None else None
    return Document(path, display, data, builder.positions, builder.key_positions)


def _decode(raw: bytes, display: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise DfGenError(
            diagnostics=[Diagnostic(display, line, col, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x})")]
        ) from None
    match = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if match:
        prefix = text[: match.start()]
        line = prefix.count("\n") + 1
        col = match.start() - (prefix.rfind("\n") + 1) + 1
        char = f"U+{ord(match.group()):04X}"
        raise DfGenError(
            diagnostics=[Diagnostic(display, line, col, f"control character {char}: binary data, not YAML")]
        )
    return text


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, display: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    shown = []
    for number in range(max(1, line - 2), min(len(lines), line + 1) + 1):
        marker = ">" if number == line else " "
        text_line = lines[number - 1]
        if len(text_line) > 100:
            text_line = text_line[:100] + "..."
        shown.append(f"{marker}{number:>4} | {text_line}")
    context = "\n".join(shown)
    message = f"YAML syntax: {problem}"
    if context:
        message += "\n" + context
    return Diagnostic(display, line, col, message)


class _Builder:
    """Turns composed nodes into plain data, recording positions and enforcing limits."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.count = 0
        self.positions: dict[JsonPath, tuple[int, int]] = {}
        self.key_positions: dict[JsonPath, tuple[int, int]] = {}

    def _fail(self, node: yaml.Node, message: str) -> DfGenError:
        mark = node.start_mark
        return DfGenError(diagnostics=[Diagnostic(self.display, mark.line + 1, mark.column + 1, message)])

    def build(self, node: yaml.Node, path: JsonPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._fail(node, f"more than {MAX_NODES} values (an alias bomb?)")
        if depth > MAX_DEPTH:
            raise self._fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in _ALLOWED_TAGS:
            raise self._fail(node, f"unsupported YAML tag {node.tag}")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if len(node.value) > 64 * 1024:
            raise self._fail(node, "value is longer than 64 KiB")
        return _construct_scalar_value(node)

    def _mapping(self, node: yaml.MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self._fail(key_node, "YAML merge keys (<<) are not supported; write the keys out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, "mapping keys must be plain strings")
            key = str(_construct_scalar_value(key_node))
            if key in result:
                first_line, _ = self.key_positions[(*path, key)]
                raise self._fail(key_node, f"duplicate key '{key}' (first defined on line {first_line})")
            self.key_positions[(*path, key)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result


def _construct_scalar_value(node: yaml.Node) -> Any:
    """Construct one scalar with SafeLoader's rules (bool, int, float, null, str)."""
    if node.tag == _STR:  # most values: SafeConstructor returns a string scalar's value as it is
        return node.value
    constructor = _SCALAR_CONSTRUCTOR.yaml_constructors.get(node.tag)
    if constructor is None:
        return node.value
    return constructor(_SCALAR_CONSTRUCTOR, node)


_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"


def json_file(path: Path) -> Any:
    """The parsed JSON of a file (a table schema), read once per version of the file: the
    pipelines of one code directory share their schemas, and validate, the model and the
    access check all read them. Read-only to callers. Raises what reading and ``json.loads``
    raise (OSError, UnicodeDecodeError, ValueError)."""
    info = path.stat()
    return _json_version(path, info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=1024)
def _json_version(path: Path, _mtime_ns: int, _size: int) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
