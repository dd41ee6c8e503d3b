#!/usr/bin/env python3
"""Extract the google provider's ForceNew attributes for the types the sandbox serves.

Reads the Go source of ``hashicorp/terraform-provider-google`` (a checkout or a bare git
directory) and writes, for every managed resource type in the served schema
(``generator/sandbox/schema/google.json``), every attribute path the provider marks
``ForceNew: true``, nested ones included (``a.b`` is attribute ``b`` inside block ``a``).

How types are found: the provider registers each type in an ``init()`` function with
``registry.Schema{Name: "google_x", Type: registry.SchemaTypeResource, Schema: F()}
.Register()`` (``google/registry/registry.go``); IAM types use
``registry.SchemaTypeIAMResource`` and a generic builder from ``google/tpgiamresource``
(``ResourceIamMember(parentSchema, ...)`` merges ``IamMemberBaseSchema`` with the parent's
schema). The tool reads those registrations and evaluates the ``Schema`` expression with
:mod:`goreader`, following helper functions, package variables, ``MergeSchemas`` and
post-construction assignments, so Magic Modules, handwritten and IAM types are all read the
same way.

Usage::

    python tools/extract_forcenew.py --source /path/to/terraform-provider-google \\
        --out generator/sandbox/schema/google_forcenew.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import goreader

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google.json"
# Attributes Terraform's SDK adds to every resource, absent from the Go schema maps.
SDK_IMPLICIT = {"id", "timeouts"}
_REGISTRATION = re.compile(r"registry\.Schema\s*\{")
_RESOURCE_TYPES = {"SchemaTypeResource", "SchemaTypeIAMResource"}


class ExtractError(Exception):
    """Something the tool cannot read; the message says what and where."""


# ------------------------------------------------------------------ source access


class Source:
    """Files of the provider repository: a plain directory or a (bare) git directory."""

    def __init__(self, path: Path, rev: str = "HEAD") -> None:
        self.path = path
        self.rev = rev
        self.git = (path / "HEAD").is_file() and (path / "objects").is_dir() or (path / ".git").exists()
        self._files: dict[str, list[str]] | None = None
        self._cache: dict[str, str] = {}
        self._batch: subprocess.Popen[bytes] | None = None

    def _git(self, *args: str) -> str:
        git_dir = self.path if (self.path / "objects").is_dir() else self.path / ".git"
        done = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ExtractError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def files(self) -> dict[str, list[str]]:
        """Directory -> file names, for every file of the tree."""
        if self._files is None:
            if self.git:
                names = self._git("ls-tree", "-r", "--name-only", self.rev).splitlines()
            else:
                names = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()]
            index: dict[str, list[str]] = defaultdict(list)
            for name in names:
                directory, _, base = name.rpartition("/")
                index[directory].append(base)
            self._files = dict(index)
        return self._files

    def exists(self, path: str) -> bool:
        directory, _, base = path.rpartition("/")
        return base in self.files().get(directory, [])

    def read(self, path: str) -> str:
        if path not in self._cache:
            if not self.git:
                self._cache[path] = (self.path / path).read_text(encoding="utf-8")
            else:
                self._cache[path] = self._cat(path)
        return self._cache[path]

    def _cat(self, path: str) -> str:
        if self._batch is None:
            git_dir = self.path if (self.path / "objects").is_dir() else self.path / ".git"
            self._batch = subprocess.Popen(
                ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._batch.stdin is not None and self._batch.stdout is not None
        self._batch.stdin.write(f"{self.rev}:{path}\n".encode())
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().decode().split()
        if len(header) < 3 or header[1] != "blob":
            raise ExtractError(f"{path}: not in {self.rev}")
        data = self._batch.stdout.read(int(header[2]) + 1)[:-1]
        return data.decode("utf-8")

    def grep(self, fixed: str, under: str) -> list[str]:
        """Non-test ``.go`` files under ``under`` whose text contains ``fixed``."""
        if self.git:
            out = self._git("grep", "-l", "-F", fixed, self.rev, "--", f"{under}/*.go")
            found = [line.split(":", 1)[1] for line in out.splitlines()]
        else:
            found = [
                f"{d}/{n}"
                for d, names in self.files().items()
                if d == under or d.startswith(under + "/")
                for n in names
                if n.endswith(".go") and fixed in self.read(f"{d}/{n}")
            ]
        return sorted(f for f in found if not f.endswith("_test.go"))

    def close(self) -> None:
        if self._batch is not None:
            assert self._batch.stdin is not None
            self._batch.stdin.close()
            self._batch.wait()
            self._batch = None


def _merge_schemas(args: list[Any]) -> Any:
    """``tpgresource.MergeSchemas(a, b, ...)``: a new map, later keys winning."""
    out = goreader.GoMap()
    for arg in args:
        for item in arg if isinstance(arg, list) else [arg]:
            if not isinstance(item, dict):
                return goreader.Opaque("MergeSchemas of an unknown map")
            out.update(item)
    return out


def program(source: Source) -> goreader.Program:
    """A :class:`goreader.Program` over ``source``'s Go files."""

    def list_dir(directory: str) -> list[str]:
        return source.files().get(directory, [])

    return goreader.Program(
        list_dir, source.read, {"tpgresource.MergeSchemas": _merge_schemas}, module_path(source)
    )


def module_path(source: Source) -> str:
    """The Go module path of the repository (``go.mod``): google or google-beta."""
    if source.exists("go.mod"):
        m = re.search(r"^module\s+(\S+)", source.read("go.mod"), re.M)
        if m:
            return m.group(1)
    return goreader.MODULE_PREFIX.rstrip("/")


# ------------------------------------------------------------------ registrations


@dataclass(frozen=True)
class Registration:
    """One ``registry.Schema{...}.Register()`` of a managed resource type."""

    name: str
    file: str
    node: goreader.Node


def registrations(source: Source, wanted: set[str]) -> dict[str, Registration]:
    """Registrations of the ``wanted`` resource types, found in ``google/`` (``google-beta/``
    in the beta provider)."""
    out: dict[str, Registration] = {}
    root = "google-beta" if "google-beta/registry" in source.files() else "google"
    for path in source.grep("registry.Schema{", root):
        text = source.read(path)
        for m in _REGISTRATION.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            toks = goreader.tokenize(text[m.start() :].split(".Register()", 1)[0])
            node = goreader.Parser(toks, path).primary()
            fields = {k[1]: v for k, v in node[2] if k is not None and k[0] == "ident"}
            name_node, type_node = fields.get("Name"), fields.get("Type")
            if name_node is None or name_node[0] != "lit" or type_node is None:
                continue
            if type_node[0] != "sel" or type_node[2] not in _RESOURCE_TYPES or name_node[1] not in wanted:
                continue
            if name_node[1] in out:
                raise ExtractError(f"{path}:{line}: {name_node[1]} registered twice")
            out[name_node[1]] = Registration(name_node[1], path, fields["Schema"])
    return out


# ------------------------------------------------------------------ schema walk


@dataclass
class Walk:
    """Every attribute path of one resource, its ForceNew paths and what could not be read."""

    paths: set[str]
    force_new: dict[str, str]  # path -> file that declares it
    unresolved: list[str]


def walk_resource(resource: Any, where: str) -> Walk:
    """Attribute paths and ForceNew paths of an evaluated ``*schema.Resource``."""
    out = Walk(set(), {}, [])
    _walk(resource, "", where, out)
    return out


def _walk(resource: Any, prefix: str, where: str, out: Walk) -> None:
    if not isinstance(resource, goreader.Struct) or resource.typ != "schema.Resource":
        out.unresolved.append(f"{where}: {prefix or 'resource'} is not a *schema.Resource ({_what(resource)})")
        return
    schema = resource.get("Schema")
    if not isinstance(schema, dict):
        out.unresolved.append(f"{where}: schema of {prefix or 'resource'} not readable ({_what(schema)})")
        return
    for name, attr in schema.items():
        path = f"{prefix}{name}"
        if not isinstance(attr, goreader.Struct):
            out.unresolved.append(f"{where}: {path} is not a *schema.Schema ({_what(attr)})")
            continue
        out.paths.add(path)
        _force_new(attr, path, out)
        if not attr.has("Elem"):
            continue
        elem = attr.get("Elem")
        if isinstance(elem, goreader.Struct) and elem.typ == "schema.Resource":
            _walk(elem, path + ".", where, out)
        elif isinstance(elem, goreader.Struct) and elem.typ == "schema.Schema":
            _force_new(elem, path, out)  # ForceNew on the elements: any change of the list
        else:
            out.unresolved.append(f"{where}: Elem of {path} not readable ({_what(elem)})")


def _force_new(attr: goreader.Struct, path: str, out: Walk) -> None:
    value = attr.get("ForceNew")
    if value is True:
        out.force_new.setdefault(path, attr.file)
    elif value not in (None, False):
        out.unresolved.append(f"{attr.file}: ForceNew of {path} is not a constant ({_what(value)})")


def _what(value: Any) -> str:
    if isinstance(value, goreader.Opaque):
        return value.what
    if isinstance(value, goreader.Struct):
        return value.typ
    return type(value).__name__


def served_paths(block: dict[str, Any], prefix: str = "") -> set[str]:
    """Attribute paths of a served schema block, nested blocks and object attributes too."""
    out: set[str] = set()
    for name, attr in block.get("attributes", {}).items():
        out.add(prefix + name)
        out |= _object_paths(attr.get("type"), f"{prefix}{name}.")
    for name, nested in block.get("block_types", {}).items():
        out.add(prefix + name)
        out |= served_paths(nested.get("block", {}), f"{prefix}{name}.")
    return out


def _object_paths(cty: Any, prefix: str) -> set[str]:
    if isinstance(cty, list) and len(cty) == 2 and cty[0] in ("list", "set", "map"):
        return _object_paths(cty[1], prefix)
    if isinstance(cty, list) and len(cty) == 2 and cty[0] == "object":
        out: set[str] = set()
        for name, inner in cty[1].items():
            out.add(prefix + name)
            out |= _object_paths(inner, f"{prefix}{name}.")
        return out
    return set()


# ------------------------------------------------------------------ version facts


def version_facts(source: Source) -> dict[str, Any]:
    """Commit, release tag, CHANGELOG head and version of the snapshot."""
    facts: dict[str, Any] = {"repository": module_path(source).removeprefix("github.com/")}
    if source.exists("CHANGELOG.md"):
        m = re.search(r"^## (\d+\.\d+\.\d+)(.*)$", source.read("CHANGELOG.md"), re.M)
        if m:
            facts["changelog_head"] = (m.group(1) + m.group(2)).strip()
    if source.exists("version/version.go"):
        m = re.search(r'ProviderVersion\s*=\s*"([^"]*)"', source.read("version/version.go"))
        if m:
            facts["version_go"] = m.group(1)
    major = None
    if source.git:
        facts["commit"] = source._git("rev-parse", source.rev).strip()
        facts["commit_date"] = source._git("show", "-s", "--format=%cI", source.rev).strip()
        tag, tag_date = latest_release(source, facts["commit_date"])
        facts["latest_release_tag"] = tag
        # Release tags sit on release branches, not on main: "since" is the tag's date.
        subjects = source._git("log", "--format=%s", f"--since={tag_date}", source.rev) if tag else ""
        m = re.search(r"[Mm]erge feature branch major release (\d+\.\d+\.\d+)", subjects)
        if m:
            major = m.group(1)
            facts["merged_major_release_branch"] = major
    head = str(facts.get("changelog_head", ""))
    if major:
        facts["version"] = f"{major}-dev"
    elif "Unreleased" in head:
        facts["version"] = head.split()[0] + "-dev"
    else:
        facts["version"] = head.split()[0] if head else "unknown"
    return facts


def latest_release(source: Source, before: str) -> tuple[str, str]:
    """The highest ``vX.Y.Z`` tag created no later than ``before`` (ISO date), and its date."""
    out = source._git("for-each-ref", "refs/tags", "--format=%(refname:short) %(creatordate:iso-strict)")
    best: tuple[tuple[int, ...], str, str] | None = None
    for line in out.splitlines():
        name, _, date = line.partition(" ")
        if not re.fullmatch(r"v\d+\.\d+\.\d+", name) or _utc(date) > _utc(before):
            continue
        key = _version_key(name)
        if best is None or key > best[0]:
            best = (key, name, date)
    return (best[1], best[2]) if best else ("", "")


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version.split("-")[0])[:3])


def distance_summary(snapshot: str, served: str) -> str:
    """One sentence: which of the two versions is newer and by how much."""
    a, b = _version_key(snapshot), _version_key(served)
    if snapshot.endswith("-dev"):
        base = f"the snapshot is the development head before {snapshot[:-4]}"
    else:
        base = f"the snapshot is {snapshot}"
    if a[:1] == b[:1] and a < b:
        return f"{base}; the served schema {served} is {b[1] - a[1]} minor release(s) newer"
    if a < b:
        return f"{base}; the served schema {served} is newer"
    if a == b:
        return f"{base}; same version as the served schema {served}"
    return f"{base}; newer than the served schema {served}"


# ------------------------------------------------------------------ extraction


def _header_type(text: str) -> str:
    m = re.search(r"AUTO GENERATED CODE\s*\*\*\*\s*Type:\s*(\w+)", text[:2000])
    return m.group(1) if m else "Handwritten"


def extract(source: Source, served: dict[str, Any]) -> dict[str, Any]:
    """The document written to ``google_forcenew.json``."""
    schemas = served.get("resource_schemas", {})
    wanted = set(schemas)
    regs = registrations(source, wanted)
    missing = sorted(wanted - set(regs))
    prog = program(source)
    resources: dict[str, Any] = {}
    only_source: dict[str, list[str]] = {}
    only_served: dict[str, list[str]] = {}
    not_served: dict[str, list[str]] = {}
    unresolved: list[str] = []
    for name in sorted(regs):
        reg = regs[name]
        env = goreader.Env(prog, prog.file(reg.file))
        prog.called = []
        walked = walk_resource(prog.eval(reg.node, env), f"{reg.file} ({name})")
        unresolved += walked.unresolved
        want = {p for p in served_paths(schemas[name]["block"]) if p.split(".", 1)[0] not in SDK_IMPLICIT}
        have = walked.paths
        if have - want:
            only_source[name] = sorted(have - want)
        if want - have:
            only_served[name] = sorted(want - have)
        dropped = sorted(p for p in walked.force_new if p not in want)
        if dropped:
            not_served[name] = dropped
        entry: dict[str, Any] = {
            "force_new": sorted(p for p in walked.force_new if p in want),
            "registered_in": reg.file,
            "origin": _header_type(source.read(reg.file)),
            "declared_in": sorted({f for p, f in walked.force_new.items() if p in want}),
        }
        generic = sorted({c for c in prog.called if c.startswith("tpgiamresource.ResourceIam")})
        if generic:
            entry["generic"] = generic
        resources[name] = entry
    unresolved += prog.skipped
    facts = version_facts(source)
    served_version = str(served.get("provider_version", "unknown"))
    return {
        "format_version": 1,
        "provider_source": facts,
        "served_schema": {"provider_version": served_version, "source": served.get("source")},
        "distance": {
            "summary": distance_summary(str(facts["version"]), served_version),
            "types_missing_in_source": missing,
            "attributes_only_in_source": only_source,
            "attributes_only_in_served": only_served,
            "force_new_not_served": not_served,
            "counts": {
                "types": len(resources),
                "force_new_paths": sum(len(r["force_new"]) for r in resources.values()),
                "attributes_only_in_source": sum(len(v) for v in only_source.values()),
                "attributes_only_in_served": sum(len(v) for v in only_served.values()),
            },
        },
        "unresolved": sorted(set(unresolved)),
        "resources": resources,
    }


def dumps(doc: dict[str, Any]) -> str:
    """Compact, deterministic JSON text (sorted keys, one line, trailing newline)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    """Command line: ``--source DIR [--rev REV] [--schema JSON] --out FILE``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="provider checkout or bare git dir")
    parser.add_argument("--rev", default="HEAD", help="git revision to read (git sources only)")
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA, help="served schema JSON")
    parser.add_argument("--out", type=Path, required=True, help="output JSON ('-' for stdout)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    source = Source(args.source, args.rev)
    try:
        doc = extract(source, json.loads(args.schema.read_text(encoding="utf-8")))
    except (ExtractError, goreader.GoSyntaxError) as exc:
        print(f"extract_forcenew: error: {exc}", file=sys.stderr)
        return 1
    finally:
        source.close()
    text = dumps(doc)
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        tmp = args.out.with_name(args.out.name + f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, args.out)
    for problem in doc["unresolved"]:
        print(f"extract_forcenew: warning: unresolved: {problem}", file=sys.stderr)
    if doc["distance"]["types_missing_in_source"]:
        missing = doc["distance"]["types_missing_in_source"]
        print(f"extract_forcenew: error: types not found: {missing}", file=sys.stderr)
        return 1
    return 1 if doc["unresolved"] else 0


if __name__ == "__main__":
    sys.exit(main())
