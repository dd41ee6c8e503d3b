"""The files of every stack, modelled and rendered again only where an input changed.

``generate(descriptors)`` returns each generated file's hash (and the text of those it
rendered). A *unit* is what one descriptor renders (generator.cache.stacks). Its key is a
hash of everything that can change its files:

- every unit: df-gen's own code, templates and modules (``tool_digest``), Jinja's version,
  the environment directory's real path (the state prefix defaults to its name) and
  ``environment.yaml``;
- a data source: its descriptor and its pipelines' (it grants their service agents the
  entries of its datasets their scans and DLP write, ``access.datasource_agent_grants``);
- a pipeline: its descriptor, its data source's and its code directory (``tree_digest``: the
  DAG template, SQL, schemas and tasks; a pipeline's code files are inside it,
  generator.fsutil); never another pipeline's;
- the environment: every descriptor, and the policy tags each pipeline's tasks read (it
  grants them). Those reads are cached per pipeline too, keyed by the pipeline's key, every
  stored table's columns and tags (a task may read another pipeline's table) and the SQL
  analyser's version.

A unit whose key is recorded and whose files are in ``stacks/`` as recorded is not built
again; every other unit is modelled and rendered. A unit whose stacks name an input its key
does not hash (``Stack.inputs``) is not recorded at all: a model change that makes a stack
read another file cannot leave a stale entry behind, it only costs time until the key
covers it. With ``model=True`` (the runner needs every :class:`Stack`) everything is built,
as :func:`generator.model.build` does.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from generator import cache, hcl, lifecycle_blocks
from generator.cache.record import Entry, generated, holding
from generator.cache.stacks import Reads, Stacks, encoded
from generator.jinja import environment
from generator.jinja import render as render_template
from generator.model import Model, Stack, build
from generator.resources import data_dir
from generator.validate import Descriptors

STACK_FILES = ("versions.tf", "backend.tf", "providers.tf", "main.tf", "outputs.tf")


@dataclass
class Generated:
    """Every generated file of an environment, by path relative to ``stacks/``."""

    digests: dict[str, str]
    """Each file's hash, in the model's order (environment, data sources, pipelines)."""
    texts: dict[str, str] = field(default_factory=dict)
    """The files rendered this run (the others were found in ``stacks/`` as recorded)."""
    verified: set[str] = field(default_factory=set)
    """Files of units taken from the cache: ``stacks/`` holds them as recorded."""
    entries: dict[str, Entry] = field(default_factory=dict)
    """The record's entry of each verified file, by absolute path (generator.cache.record)."""
    model: Model | None = None
    """Every stack, when asked for (``model=True``)."""


def render_files(model: Model) -> dict[str, str]:
    """Every generated file, keyed by its path relative to ``stacks/``, in a stable order."""
    return _render(model.stacks, model.env_dir.resolve())


@functools.cache
def _stack_environment() -> jinja2.Environment:
    """The environment of df-gen's stack templates (made once: templates compile once)."""
    jinja = environment(data_dir("templates") / "stack", reload=False)
    jinja.filters["hcl"] = hcl.value
    jinja.filters["hcl_attributes"] = lambda mapping, indent: hcl.attributes(mapping, indent)
    return jinja


def _render(stacks: Iterable[Stack], root: Path, relative: dict[Path, str] | None = None) -> dict[str, str]:
    """The files of ``stacks`` (``root``: the environment directory, resolved). ``relative``:
    the descriptors' paths relative to ``root`` found so far in this run, completed here
    (every stack names environment.yaml, every pipeline its data source's: resolving them
    for each of 1,000 stacks took a tenth of a cold render's time)."""
    jinja = _stack_environment()
    files: dict[str, str] = {}
    relative = {} if relative is None else relative
    for stack in stacks:
        inputs = []
        for path in stack.inputs:
            if path.suffix in (".yaml", ".yml"):
                if path not in relative:
                    relative[path] = _relative(path, root)
                inputs.append(relative[path])
        context = {
            "stack": stack,
            "body": {"source": stack.source, **stack.arguments},
            "inputs": inputs,
        }
        for name in STACK_FILES:
            files[f"{stack.name}/{name}"] = render_template(jinja, f"{name}.j2", context)
        for name, text in sorted(stack.files.items()):
            files[f"{stack.name}/{name}"] = text
        if stack.lifecycle:
            files[f"{stack.name}/{lifecycle_blocks.FILE}"] = lifecycle_blocks.render(
                stack.lifecycle, "Generated by df-gen: state moves, imports and releases of this stack "
                "(README, \"Changing schemas safely\").")
    return files


def _relative(path: Path, start: Path) -> str:
    try:
        return path.resolve().relative_to(start).as_posix()
    except ValueError:
        return os.path.relpath(path.resolve(), start)


def generate(descriptors: Descriptors, *, model: bool = False) -> Generated:
    """Every generated file's hash; with ``model``, the whole model built and rendered."""
    if model:
        built = build(descriptors)
        texts = render_files(built)
        return Generated({r: cache.digest(t.encode()) for r, t in texts.items()}, texts, model=built)
    return _Incremental(descriptors).run()


def _analysis_version() -> str:
    """The SQL analyser's version (its code and sqlglot's): the view checks' (imported late)."""
    from generator.analysis.cache import code_version

    return code_version()


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class _Incremental:
    """One incremental generation: the keys, the cache, the units built again."""

    def __init__(self, descriptors: Descriptors) -> None:
        self.d = descriptors
        self.env_dir = Path(descriptors.env_dir)
        self.root = self.env_dir.resolve()
        self.cache = Stacks(self.env_dir)
        self.stacks_dir = os.path.join(os.path.abspath(self.env_dir), "stacks")
        self.on_disk, self.limit = generated(self.env_dir)
        self._ctx: Any = None
        self._docs: dict[Path, str] = {}
        self.relative: dict[Path, str] = {}  # descriptor -> its path relative to root (_render)
        self.entries: dict[str, Entry] = {}
        self.covered: dict[str, tuple[set[Path], set[Path]]] = {}
        """Per unit, the descriptors and code directories its key hashes (:meth:`covers`)."""

    # --- keys -------------------------------------------------------------------------------

    def doc(self, path: Path) -> str:
        """The hash of a descriptor's bytes as validate read them."""
        if path not in self._docs:
            known = self.d.digests.get(path)
            if known is None:
                try:
                    known = cache.digest(path.read_bytes())
                except OSError:
                    known = "unreadable"
            self._docs[path] = known
        return self._docs[path]

    def base(self) -> str:
        # jinja2's own attribute: importlib.metadata alone took a fortieth of a one-change render
        return _hash("df-gen stacks", cache.tool_digest(), jinja2.__version__, os.path.realpath(self.env_dir),
                     self.doc(self.d.environment.path))

    def pipeline_keys(self, base: str) -> dict[str, str]:
        trees: dict[Path, str] = {}
        keys: dict[str, str] = {}
        for key in sorted(self.d.pipelines):
            doc = self.d.pipelines[key]
            source = doc.data["datasource"]
            code_dir = self.d.pipelines_dir / doc.data["code"]
            if code_dir not in trees:
                trees[code_dir] = cache.tree_digest(code_dir)
            source_path = self.d.datasources[source].path
            keys[key] = _hash(base, "pipeline", key, self.doc(doc.path), self.doc(source_path),
                              str(code_dir), trees[code_dir])
            self.covered[f"pipeline:{key}"] = ({self.d.environment.path, source_path, doc.path}, {code_dir})
        return keys

    def source_keys(self, base: str) -> dict[str, str]:
        """A data source's key: its descriptor and its pipelines' (they decide what it grants their
        agents; its files name them)."""
        keys: dict[str, str] = {}
        for key, doc in sorted(self.d.datasources.items()):
            pipelines = [self.d.pipelines[p].path for p in self.d.pipelines_of.get(key, [])]
            keys[key] = _hash(base, "datasource", key, self.doc(doc.path),
                              *(f"{path.name}:{self.doc(path)}" for path in pipelines))
            self.covered[f"datasource:{key}"] = ({self.d.environment.path, doc.path, *pipelines}, set())
        return keys

    def covers(self, unit: str, stacks: Iterable[Stack]) -> bool:
        """Whether ``unit``'s key hashes every input its stacks name (a stack that reads
        something else must not be cached: it is built on every render instead)."""
        documents, code_dirs = self.covered.get(unit, (set(), set()))
        return all(path in documents or any(path.is_relative_to(code) for code in code_dirs)
                   for stack in stacks for path in stack.inputs)

    # --- the run ----------------------------------------------------------------------------

    @property
    def ctx(self) -> Any:
        """The model's context, made only when some unit is built."""
        if self._ctx is None:
            from generator.model.context import Context

            self._ctx = Context(self.d)
        return self._ctx

    def cached(self, unit: str, key: str) -> dict[str, str] | None:
        """The unit's recorded files when its key matches and ``stacks/`` holds them as recorded.

        Paths joined by f-string, not ``os.path.join``: a one-change render over 1,000
        pipelines asks for 11,500 files."""
        files = self.cache.files(unit, key)
        if files is None:
            return None
        entries: dict[str, Entry] = {}
        on_disk, limit, prefix = self.on_disk, self.limit, self.stacks_dir + "/"
        for relative, value in files.items():
            path = prefix + relative  # relative paths use "/", as on every system df-gen runs on
            entry = holding(path, value, on_disk.get(path), limit)
            if entry is None:
                return None
            entries[path] = entry
        self.entries.update(entries)
        return files

    def run(self) -> Generated:
        from generator.model.datasource import datasource_stack, renamed
        from generator.model.environment import environment_stack

        base = self.base()
        result = Generated({})
        units: dict[str, dict[str, str]] = {}  # unit -> its files' hashes
        built: dict[str, tuple[Stack, ...]] = {}
        reads: dict[str, Reads] = {}
        rendered: dict[str, dict[str, str]] = {}  # unit -> its files' texts, when rendered already
        pipeline_keys = self.pipeline_keys(base)
        stale = []
        for key, unit_key in pipeline_keys.items():
            files = self.cached(f"pipeline:{key}", unit_key)
            if files is None:
                self.trust_views(f"pipeline:{key}")
                stale.append(key)
            else:
                units[f"pipeline:{key}"] = files
        for key, (stack, texts) in zip(stale, self.pipelines(stale), strict=True):
            built[f"pipeline:{key}"] = (stack,)
            rendered[f"pipeline:{key}"] = texts
        reads_key = self.reads_key() if pipeline_keys else ""
        missing: list[str] = []
        for key in pipeline_keys:
            known, value = self.cache.reads(f"pipeline:{key}", _hash(pipeline_keys[key], reads_key))
            if known and f"pipeline:{key}" not in built:
                reads[key] = value
            else:
                missing.append(key)
        if missing:
            from generator.analysis.inventory import task_tag_reads

            reads.update(task_tag_reads(self.d, {k: self.stack_files(k, built, units) for k in missing},
                                        self.ctx.analyser, keys=missing))
        env_key = _hash(base, "environment", *(self.doc(doc.path) for doc in self.d.documents()),
                        json.dumps({k: encoded(v) for k, v in sorted(reads.items())}, sort_keys=True))
        self.covered["environment"] = ({doc.path for doc in self.d.documents()}, set())
        env_files = self.cached("environment", env_key)
        if env_files is None:
            built["environment"] = (environment_stack(self.ctx, reads),)
        else:
            units["environment"] = env_files
        source_keys = self.source_keys(base)
        for key, unit_key in source_keys.items():
            files = self.cached(f"datasource:{key}", unit_key)
            if files is None:
                built[f"datasource:{key}"] = renamed(self.ctx, datasource_stack(self.ctx, key,
                                                                               self.d.datasources[key].data))
            else:
                units[f"datasource:{key}"] = files
        unit_keys = {"environment": env_key, **{f"datasource:{k}": v for k, v in source_keys.items()},
                     **{f"pipeline:{k}": v for k, v in pipeline_keys.items()}}
        order = list(unit_keys)  # the model's order: environment, data sources, pipelines
        for unit in order:
            if unit in built:
                texts = rendered[unit] if unit in rendered else _render(built[unit], self.root, self.relative)
                result.texts.update(texts)
                files = {r: cache.digest(t.encode()) for r, t in texts.items()}
            else:
                files = units[unit]
                result.verified.update(files)
            result.digests.update(files)
            if unit in built and not self.covers(unit, built[unit]):
                self.cache.forget(unit)  # not recorded: built again next time
                continue
            kind, _, key = unit.partition(":")
            self.cache.put(unit, unit_keys[unit], files,
                           (_hash(unit_keys[unit], reads_key), reads[key]) if kind == "pipeline" else None)
        if built and self.cache.analysis != (version := _analysis_version()):
            # The recorded views were checked by this analyser only when every unit was built now.
            self.cache.analysis = version if len(built) == len(order) else ""
        self.cache.save()
        result.entries = self.entries  # exactly the verified files': cached() keeps those of its hits
        return result

    def pipelines(self, keys: list[str]) -> list[tuple[Stack, dict[str, str]]]:
        """Each pipeline's stack and its files' texts, built and rendered in worker processes
        when there are many (:func:`generator.model.pipeline_stacks`; the model's context, the
        stack templates and the views ``trust_views`` marked are ready before they fork)."""
        if not keys:
            return []
        from generator.model import pipeline_stacks

        ctx, root, jinja, relative = self.ctx, self.root, _stack_environment(), self.relative
        for name in STACK_FILES:
            jinja.get_template(f"{name}.j2")
        built = []
        for stack, texts in pipeline_stacks(ctx, keys, lambda stack: _render((stack,), root, relative)):
            assert texts is not None  # printed for every stack
            built.append((stack, texts))
        return built

    def trust_views(self, unit: str) -> None:
        """Tell the view check which view texts the unit's last render checked already, so
        that an unchanged view is not parsed again (nor sqlglot imported for it)."""
        if self.cache.analysis != _analysis_version():
            return  # checked by another analyser (or sqlglot)
        for relative, value in (self.cache.files(unit, None) or {}).items():
            if relative.split("/", 1)[-1].startswith("views/"):
                self.ctx.analyser.checked_views.add(value.removeprefix("sha256:"))

    def stack_files(self, key: str, built: Mapping[str, tuple[Stack, ...]],
                    units: Mapping[str, Mapping[str, str]]) -> Mapping[str, str]:
        """A pipeline's rendered code (its stack's files): from the stack built this run, else
        from ``stacks/`` (the unit's files are there as recorded)."""
        unit = f"pipeline:{key}"
        if unit in built:
            return built[unit][0].files
        from generator.naming import stack_name

        name = stack_name("pipeline", key)
        prefix = f"{name}/"
        found: dict[str, str] = {}
        for relative in units[unit]:
            if relative.startswith(prefix):
                with open(os.path.join(self.stacks_dir, relative), encoding="utf-8") as stream:
                    found[relative.removeprefix(prefix)] = stream.read()
        return found

    def reads_key(self) -> str:
        """What the tasks' reads depend on besides their pipeline: every stored table's
        columns and tags, and the analysing code."""
        from generator.analysis.inventory import stored_tables

        tables = {fqn: [list(t.columns.items()), sorted(t.tags.items())] for fqn, t in stored_tables(self.d).items()}
        return _hash("reads", _analysis_version(), json.dumps(tables, sort_keys=True))
