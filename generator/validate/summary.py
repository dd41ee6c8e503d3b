"""A pipeline's part of the rules across files, computed once per change of its inputs.

The rules across files must see every pipeline, but each pipeline's part of them depends on
that pipeline, its data source, the environment and its code directory only: its labels
counted after the merges, its DAG moving files out of a landing bucket under retention, its
tagged columns' masking, and the generated names it claims. ``summary_once`` keeps that part
in validate's per-file cache (generator.cache.documents), keyed by those inputs; the names
of every pipeline are then merged (generator.collisions) on every run, so a collision that a
changed file makes, or that a change elsewhere undoes, is found as a cold run finds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from generator import cache as run_cache
from generator import naming
from generator.cache.documents import recorded_diagnostics
from generator.collisions import ClaimRecord, pipeline_claims
from generator.errors import Diagnostic
from generator.loader import Document, display_path
from generator.masking import pipeline_rule_problems
from generator.validate.descriptors import Descriptors
from generator.validate.messages import dotted
from generator.validate.pipeline import RunInputs


@dataclass(frozen=True)
class Summary:
    """A pipeline's diagnostics from the rules across files, and the names it claims."""

    diagnostics: list[Diagnostic]
    claims: list[ClaimRecord]


def summary(d: Descriptors, key: str, clean: dict[str, set[str]]) -> Summary:
    """The part of the rules across files that pipeline ``key`` (schema-valid) takes."""
    source = d.pipelines[key].data["datasource"]
    diagnostics = [*pipeline_labels(d, key, clean), *_landing_retention(d, key, clean), *pipeline_rule_problems(d, key)]
    return Summary(diagnostics, pipeline_claims(d, key) if source in clean["datasource"] else [])


def summary_once(d: Descriptors, key: str, clean: dict[str, set[str]], cached: run_cache.Documents,
                 inputs: RunInputs) -> Summary:
    """:func:`summary`, from the per-file cache when none of its inputs changed: the bytes of
    the pipeline, its data source (or that there is none) and the environment, its code
    directory (``tree_digest``), where the directories are and the working directory
    (messages show paths relative to it)."""
    doc = d.pipelines[key]
    source = doc.data["datasource"]
    code_dir, tree = inputs.code(doc.data["code"])
    mine = cached.digests.get(doc.path)
    environment = cached.digests.get(d.environment.path)
    theirs = cached.digests.get(d.datasources[source].path) if source in d.datasources else "missing"
    if not (mine and environment and theirs):
        return summary(d, key, clean)
    parts = ["pipeline-summary", mine, doc.display, environment, source, theirs, *inputs.places, code_dir, tree]
    entry = cached.lookup(parts)
    diagnostics = recorded_diagnostics(entry)
    try:
        if diagnostics is not None:
            return Summary([Diagnostic(*diagnostic) for diagnostic in diagnostics],
                           [(str(noun), str(name), str(owner), tuple(path), bool(on_key), str(scope))
                            for noun, name, owner, path, on_key, scope in entry["claims"]])
    except (KeyError, TypeError, ValueError):
        pass  # not recorded, or damaged: computed again
    found = summary(d, key, clean)
    cached.store(parts, {"diagnostics": [[x.path, x.line, x.col, x.message, x.hint] for x in found.diagnostics],
                         "claims": [[*claim[:3], list(claim[3]), *claim[4:]] for claim in found.claims]})
    return found


def too_many_labels(doc: Document, path: tuple[Any, ...], kind: str,
                    *parts: tuple[str, set[str]]) -> Iterator[Diagnostic]:
    """More than Google's labels on one resource, once merged from ``parts`` and the module's."""
    merged = set(naming.MODULE_LABELS[kind]).union(*(keys for _, keys in parts))
    if len(merged) > naming.MAX_LABELS:
        counts = ", ".join(f"{len(keys)} from {what}" for what, keys in parts if keys)
        yield doc.error(path, f"{dotted(path)}: {len(merged)} labels after merging ({counts}, "
                              f"{len(naming.MODULE_LABELS[kind])} added by the {kind} module); "
                              f"Google Cloud allows at most {naming.MAX_LABELS} per resource", key=True)


def pipeline_labels(d: Descriptors, key: str, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    """At most 64 labels on the pipeline's resources (with its data source's and the environment's)."""
    doc = d.pipelines[key]
    source = doc.data["datasource"]
    source_labels = set(d.datasources[source].data.get("labels", {})) if source in clean["datasource"] else set()
    yield from too_many_labels(doc, ("labels",), "pipeline",
                               ("the environment", set(d.environment.data.get("labels", {}))),
                               ("the data source", source_labels), ("the pipeline", set(doc.data.get("labels", {}))))


def _landing_retention(d: Descriptors, key: str, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    """No retention policy on a landing bucket whose files the pipeline's DAG moves away.

    Cloud Storage refuses to delete (so to move) an object younger than its bucket's
    retention period: https://cloud.google.com/storage/docs/bucket-lock#retention-policy.
    A DAG moves landing files when its template uses the archive bucket.
    """
    source = d.pipelines[key].data["datasource"]
    if source not in clean["datasource"]:
        return
    doc = d.datasources[source]
    if not doc.data.get("buckets", {}).get("landing", {}).get("retention_days"):
        return
    template = d.pipelines_dir / d.pipelines[key].data["code"] / "dag.py.j2"
    if _uses_archive_bucket(template):
        yield doc.error(("buckets", "landing", "retention_days"),
                        f"buckets.landing.retention_days: pipeline '{key}' moves landing files to the archive "
                        f"bucket ({display_path(template)} uses buckets.archive), which Cloud Storage refuses "
                        "while a retention policy holds them",
                        hint="keep landing files with a lifecycle rule, and put retention on the archive bucket")


@cache
def _uses_archive_bucket(template: Path) -> bool:
    """True when the DAG template reads ``buckets.archive`` (or ``buckets["archive"]``)."""
    import jinja2
    from jinja2 import nodes

    try:
        tree = jinja2.Environment().parse(template.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
        return False  # a missing or broken template is reported when it renders
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attr: Any
        if isinstance(node, nodes.Getattr):
            target, attr = node.node, node.attr
        else:
            assert isinstance(node, nodes.Getitem)
            target, attr = node.node, getattr(node.arg, "value", None)
        if isinstance(target, nodes.Name) and target.name == "buckets" and attr == "archive":
            return True
    return False
