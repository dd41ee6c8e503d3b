"""``df-gen access``: every task against what it needs, every persona against the tags.

Tasks: each need (``needs.py``) is met by a grant of the task's account (Composer's, for
impersonation) whose role includes the permission, on the resource or a parent. A data
source's stack grants the task accounts roles for that data source's pipelines: a pipeline
does not rely on another data source's grants (it would break when that data source
changes), so those count as missing, and the report says where they come from.

Personas: what each persona's members can read, directly (table read on the dataset or
project) or through a view it can query (authorized on its sources, or the persona reads
them). Policy tags are enforced on whoever queries, also through an authorized view: a
tagged column is read raw by a fine-grained reader of its tag, masked by a masked reader,
and otherwise denied. Problems (exit 1):

- ``untagged-copy``: the persona reads raw, in a column without a tag, values computed from
  a tagged column whose tag does not list it (found by the column lineage);
- ``view-exposes-tag``: a view the persona can query has a column computed from a tagged
  column whose tag does not list the persona (views carry no tags: it sees masked values or
  its query fails);
- ``direct-tagged-read``: the persona reads a table with a tagged column whose tag does not
  list it, through a grant outside the environment's persona roles (a data source or
  shared dataset's IAM), e.g. analysts given ``dataViewer`` on curated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.analysis import grants as access_model
from generator.analysis import roles
from generator.analysis.grants import AccessModel, Grant, Identity, Table
from generator.analysis.inventory import Inventory, PipelineTask
from generator.analysis.needs import Need, task_needs


@dataclass(frozen=True)
class Problem:
    """One thing that would fail or leak, with where and what is missing."""

    kind: str
    message: str
    resource: str
    column: str = ""
    missing_role: str = ""
    pipeline: str = ""
    task: str = ""
    persona: str = ""
    stack: str = ""
    """The stack that makes the grant a ``direct-tagged-read`` goes through."""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) or None for k in ("kind", "pipeline", "task", "persona", "resource", "column",
                                                       "missing_role", "message")}


@dataclass(frozen=True)
class NeedResult:
    need: Need
    granted_by: Grant | None
    other_scope: Grant | None = None


@dataclass(frozen=True)
class TaskResult:
    item: PipelineTask
    member: str
    results: tuple[NeedResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.granted_by for r in self.results)


@dataclass(frozen=True)
class Reach:
    """What one persona reads of one table or view."""

    table: str
    via: str
    """``direct``, or ``view`` (the table is a view the persona queries)."""
    raw: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    untagged: int = 0


@dataclass(frozen=True)
class PersonaResult:
    persona: str
    members: tuple[str, ...]
    reach: tuple[Reach, ...]


@dataclass(frozen=True)
class AccessReport:
    tasks: tuple[TaskResult, ...]
    personas: tuple[PersonaResult, ...]
    problems: tuple[Problem, ...]
    undeclared: tuple[str, ...] = ()
    tables: Mapping[str, Table] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(access: AccessModel, inventory: Inventory, prefix: str) -> AccessReport:
    """Tasks and personas of one environment against its access model."""
    problems: list[Problem] = []
    task_results = []
    for item in inventory.tasks:
        identity = access.identities[f"task:{item.task.identity}"]
        results = []
        for need in task_needs(item, prefix, access.projects, access.tables):
            who = access.identities["composer"] if need.actor == "composer" else identity
            result = _meet(access, who, need, f"datasource:{item.datasource}")
            results.append(result)
            if result.granted_by is None:
                problems.append(_task_problem(item, who, need, result))
        task_results.append(TaskResult(item, identity.members[0], tuple(results)))
    origins = _origins(inventory)
    persona_results = []
    view_sources = {fqn: {t for t, _ in analysis.reads} for fqn, analysis in inventory.views.items()}
    for _key, identity in sorted(access.identities.items()):
        if identity.kind == "persona":
            persona_results.append(_persona(access, identity, origins, view_sources, problems))
    return AccessReport(tuple(task_results), tuple(persona_results), tuple(problems), inventory.undeclared,
                        access.tables)


def _meet(access: AccessModel, who: Identity, need: Need, scope: str) -> NeedResult:
    held = [g for g in access.held(who, need.resource) if roles.grants_permission(g.role, need.permission)]
    own = [g for g in held if not g.scope or g.scope == scope]
    if own:
        return NeedResult(need, own[0])
    return NeedResult(need, None, held[0] if held else None)


def _task_problem(item: PipelineTask, who: Identity, need: Need, result: NeedResult) -> Problem:
    role = roles.LEAST_ROLE.get(need.permission, need.permission)
    actor = "Composer's account" if need.actor == "composer" else f"the {item.task.identity} account"
    where = f" (column {need.column})" if need.column else ""
    message = (f"{item.pipeline}: task {item.task.id} {need.why}{where}, but {actor} ({who.members[0]}) "
               f"lacks {need.permission} on {need.resource}: missing {role}")
    if result.other_scope is not None:
        message += (f" (granted only for data source '{result.other_scope.scope.split(':', 1)[1]}' by "
                    f"stack {result.other_scope.stack})")
    return Problem("task-missing-role", message, need.resource, need.column, role, item.pipeline, item.task.id)


Origins = Mapping[tuple[str, str], frozenset[tuple[str, str]]]


def _origins(inventory: Inventory) -> dict[tuple[str, str], frozenset[tuple[str, str]]]:
    """Every column (table, column) computed from a tagged stored column -> those tagged
    columns, through every task's DML and every view, transitively (a column absent: none).

    Walked forward from each tagged column over "feeds" edges, so that a cycle (a task that
    writes back a table another task fills from it) gives every column on it the same origins."""
    feeds: dict[tuple[str, str], set[tuple[str, str]]] = {}
    lineages = [(item.analysis.target, item.analysis.lineage) for item in inventory.tasks
                if item.analysis is not None and item.analysis.target]
    lineages += [(fqn, analysis.lineage) for fqn, analysis in inventory.views.items()]
    for target, lineage in lineages:
        for column, sources in lineage.items():
            for source in sources:
                feeds.setdefault(source, set()).add((target, column))
    found: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for tagged in [(fqn, column) for fqn, table in inventory.tables.items() for column in table.tags]:
        reached, todo = {tagged}, [tagged]
        while todo:
            node = todo.pop()
            found.setdefault(node, set()).add(tagged)
            for fed in feeds.get(node, ()):
                if fed not in reached:
                    reached.add(fed)
                    todo.append(fed)
    return {node: frozenset(tags) for node, tags in found.items()}


def _persona(access: AccessModel, persona: Identity, origins: Origins, view_sources: Mapping[str, set[str]],
             problems: list[Problem]) -> PersonaResult:
    name = persona.key.split(":", 1)[1]

    def level(tag: str) -> str:
        if access.held(persona, f"policyTags/{tag}"):
            return "raw"
        if access.held(persona, f"dataPolicies/{tag}"):
            return "masked"
        return "denied"

    def reads(table: Table) -> list[Grant]:
        return [g for g in access.held(persona, table.resource)
                if roles.grants_permission(g.role, "bigquery.tables.getData")]

    reach = []
    for fqn, table in sorted(access.tables.items()):
        grants_read = reads(table)
        if not grants_read:
            continue
        if table.view_sql:
            blocked = _view_blocked(access, table, view_sources.get(fqn, set()), reads)
            if blocked:
                continue  # the view fails for the persona on a source it may not read
        raw: list[str] = []
        masked: list[str] = []
        denied: list[str] = []
        untagged = 0
        for column in table.columns:
            tags = {access.tables[t].tags[c]: (t, c) for t, c in origins.get((fqn, column), frozenset())}
            own = table.tags.get(column)
            if not tags:
                untagged += 1
                continue
            levels = {tag: level(tag) for tag in tags}
            worst = "denied" if "denied" in levels.values() else "masked" if "masked" in levels.values() else "raw"
            {"raw": raw, "masked": masked, "denied": denied}[worst].append(column)
            for tag, lvl in sorted(levels.items()):
                if lvl == "raw":
                    continue
                source_table, source_column = tags[tag]
                if table.view_sql:
                    problems.append(Problem(
                        "view-exposes-tag",
                        f"{name} can query view {fqn}, whose column {column} is computed from "
                        f"{source_table}.{source_column} (tag {tag}), and tag {tag} does not list {name}: "
                        f"views carry no policy tags, so {name} "
                        f"{'sees masked values' if lvl == 'masked' else 'gets an access error'}; missing "
                        f"{access_model.FINE_GRAINED_READER} on {tag} (or leave the column out of the view)",
                        f"policyTags/{tag}", f"{fqn}.{column}", access_model.FINE_GRAINED_READER, persona=name))
                elif own is None:
                    problems.append(Problem(
                        "untagged-copy",
                        f"{name} reads {fqn}.{column} raw: it has no policy tag but is computed from "
                        f"{source_table}.{source_column} (tag {tag}), which does not list {name}",
                        table.resource, f"{fqn}.{column}", access_model.FINE_GRAINED_READER, persona=name))
        if (denied or masked) and not table.view_sql and not any(_designed(g) for g in grants_read):
            grant = grants_read[0]
            for column in [*denied, *masked]:
                problems.append(Problem(
                    "direct-tagged-read",
                    f"{name} reads table {fqn} directly ({grant.role} on {grant.resource}, granted by stack "
                    f"{grant.stack}, outside the environment's persona roles), and its column {column} is "
                    f"tagged {table.tags.get(column)}, which does not list {name}: missing "
                    f"{access_model.FINE_GRAINED_READER} on {table.tags.get(column)}, or read through an "
                    f"authorized view",
                    table.resource, f"{fqn}.{column}", access_model.FINE_GRAINED_READER, persona=name,
                    stack=grant.stack))
        reach.append(Reach(fqn, "view" if table.view_sql else "direct", tuple(raw), tuple(masked), tuple(denied),
                           untagged))
    return PersonaResult(name, persona.members, tuple(reach))


def _designed(grant: Grant) -> bool:
    """A persona grant the environment's persona roles make (project level)."""
    return grant.stack == "environment" and grant.resource.count("/") == 1


def _view_blocked(access: AccessModel, view: Table, sources: set[str], reads: Any) -> bool:
    """Whether querying the view fails for the persona: a source (``sources``, the tables its
    SQL reads) it may not read itself and that the view is not authorized on."""
    for fqn in sources:
        source = access.tables.get(fqn)
        if source is None:
            continue
        if source.dataset in view.authorized_on:
            continue
        if not reads(source):
            return True
    return False
