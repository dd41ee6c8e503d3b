"""What one BigQuery statement reads and writes, column by column, resolved with sqlglot.

The statement is parsed with sqlglot's BigQuery dialect, qualified against the known
table schemas (``qualify``: every column gets its table, ``*`` is expanded) and walked scope
by scope (sqlglot's scope module, which its ``lineage`` is built on):

- ``reads``: every column of a stored table the statement references where BigQuery reads
  it (projections, joins, filters, grouping, window clauses; a whole-row reference reads
  every column). BigQuery checks fine-grained read on these for a query and for DML, and
  not on columns that a DML statement only assigns
  (https://cloud.google.com/bigquery/docs/column-level-security-writes);
- ``writes``: the target table of a MERGE/INSERT/UPDATE/DELETE and the columns assigned;
- ``lineage``: for every output column (of a query or view) or assigned column (of DML),
  the stored columns its value is computed from.

Each statement is qualified against the schemas of the tables it names only; ``cache.py``
keeps results per statement across runs, keyed by the text and those schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Column = tuple[str, str]
"""(``project.dataset.table``, column name)."""


class SqlError(Exception):
    """The statement cannot be analysed: ``line``, ``col`` and why."""

    def __init__(self, line: int, col: int, why: str) -> None:
        super().__init__(why)
        self.line, self.col, self.why = line, col, why


@dataclass(frozen=True)
class Analysis:
    """What one statement reads, writes and derives."""

    kind: str
    """``query`` or the DML verb (``merge``, ``insert``, ``update``, ``delete``)."""
    reads: frozenset[Column]
    tables: frozenset[str]
    """Every stored table referenced (read for a query; read or written for DML)."""
    target: str | None = None
    writes: frozenset[str] = frozenset()
    lineage: Mapping[str, frozenset[Column]] = field(default_factory=dict)
    """Output or assigned column -> the stored columns its value comes from."""
    unknown: frozenset[str] = frozenset()
    """Tables the statement references that no schema describes."""


Schema = Mapping[str, Mapping[str, Mapping[str, Mapping[str, str]]]]
"""project -> dataset -> table -> column -> type."""


def analyse(text: str, schema: Schema) -> Analysis:
    """Analyse one statement; raise :class:`SqlError` when it cannot be parsed or resolved."""
    tree = parse(text)
    return analyse_tree(tree, subschema(schema, referenced(tree)))


def preload() -> None:
    """Import sqlglot, the BigQuery dialect and the optimizer parts :func:`analyse_tree` uses,
    now: worker processes forked next (:mod:`generator.workers`) inherit them, where each
    would import them itself (about 0.12 s here, two processes at once slowing each other)."""
    import sqlglot
    from sqlglot.optimizer import qualify, scope  # noqa: F401

    sqlglot.Dialect.get_or_raise("bigquery")


def parse(text: str) -> Any:
    """The one statement of ``text`` as a sqlglot tree."""
    import sqlglot  # lazy: commands that analyse no SQL (or find it cached) do not pay for the import
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(text, read="bigquery") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        reason = str(first.get("description") or exc).splitlines()[0]
        raise SqlError(int(first.get("line") or 1), int(first.get("col") or 1), f"not BigQuery SQL: {reason}") from None
    except TokenError as exc:
        raise SqlError(1, 1, f"not BigQuery SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise SqlError(1, 1, f"expected one statement, found {len(statements)}")
    return statements[0]


def referenced(tree: Any) -> frozenset[str]:
    """Every ``project.dataset.table`` the statement names: the only schemas its analysis
    depends on (a CTE or alias has no dataset)."""
    from sqlglot import exp

    return frozenset(name for name in (table_name(t) for t in tree.find_all(exp.Table)) if name.count(".") == 2)


def subschema(schema: Schema, names: frozenset[str]) -> dict[str, Any]:
    """The part of ``schema`` that describes ``names``. Qualifying against it, not the whole
    environment's schema, keeps each statement's cost independent of the environment's size
    (sqlglot normalises every table of the schema it is given)."""
    out: dict[str, Any] = {}
    for name in names:
        project, dataset, table = name.split(".")
        columns = schema.get(project, {}).get(dataset, {}).get(table)
        if columns is not None:
            out.setdefault(project, {}).setdefault(dataset, {})[table] = dict(columns)
    return out


def analyse_tree(tree: Any, schema: dict[str, Any]) -> Analysis:
    """Analyse a parsed statement against the schemas of the tables it names."""
    from sqlglot import exp

    if isinstance(tree, exp.Query):
        return _query(tree, schema)
    if isinstance(tree, exp.Merge):
        return _merge(tree, schema)
    if isinstance(tree, exp.Insert | exp.Update | exp.Delete):
        return _dml(tree, schema)
    raise SqlError(1, 1, f"df-gen analyses queries and DML, not {tree.key.upper()} statements")


def table_name(table: Any) -> str:
    """``project.dataset.table`` of a sqlglot table."""
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)


def _known(schema: dict[str, Any], name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 3 and parts[2] in schema.get(parts[0], {}).get(parts[1], {})


def _qualified(query: Any, schema: dict[str, Any]) -> Any:
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify

    try:
        return qualify(query.copy(), schema=schema, dialect="bigquery", validate_qualify_columns=True)
    except OptimizeError as exc:
        raise SqlError(1, 1, f"cannot resolve the columns: {exc}") from None


class _Walker:
    """Column dependencies of every scope of one qualified query."""

    def __init__(self, root: Any, schema_columns: dict[str, list[str]]) -> None:
        from sqlglot.optimizer.scope import build_scope

        self.schema_columns = schema_columns
        self.root = build_scope(root)
        self.reads: set[Column] = set()
        self.tables: set[str] = set()
        self._outputs: dict[int, dict[str, frozenset[Column]]] = {}
        if self.root is not None:
            self._visit(self.root)

    def outputs(self, scope: Any = None) -> dict[str, frozenset[Column]]:
        """Output column -> stored columns of ``scope`` (the root by default)."""
        scope = scope or self.root
        if scope is None:
            return {}
        key = id(scope)
        if key not in self._outputs:
            self._outputs[key] = self._compute_outputs(scope)
        return self._outputs[key]

    def _visit(self, scope: Any) -> None:
        from sqlglot import exp

        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                self.tables.add(table_name(source))
        for column in scope.columns:
            self.reads |= self._stored(scope, column)
        for child in [*scope.cte_scopes, *scope.derived_table_scopes, *scope.subquery_scopes,
                      *scope.set_operation_scopes, *scope.udtf_scopes]:
            self._visit(child)

    def _stored(self, scope: Any, column: Any) -> frozenset[Column]:
        """The stored columns a column reference of ``scope`` stands for."""
        from sqlglot import exp

        alias = column.table
        name = column.name
        if not alias and name in scope.sources:  # a whole-row reference, e.g. TO_JSON_STRING(t)
            alias, name = name, "*"
        source = scope.sources.get(alias)
        if isinstance(source, exp.Table):
            table = table_name(source)
            if name == "*":
                return frozenset((table, c) for c in self._table_columns(source))
            return frozenset({(table, name)})
        if source is not None and hasattr(source, "expression"):  # a CTE or derived table scope
            outputs = self.outputs(source)
            if name == "*":
                return frozenset().union(*outputs.values()) if outputs else frozenset()
            return outputs.get(name, frozenset())
        return frozenset()

    def _table_columns(self, table: Any) -> list[str]:
        return list(self.schema_columns.get(table_name(table), []))

    def _compute_outputs(self, scope: Any) -> dict[str, frozenset[Column]]:
        from sqlglot import exp

        if scope.set_operation_scopes:  # a set operation: columns by position
            left, right = scope.set_operation_scopes[0], scope.set_operation_scopes[1]
            lo, ro = list(self.outputs(left).items()), list(self.outputs(right).values())
            return {name: deps | (ro[i] if i < len(ro) else frozenset()) for i, (name, deps) in enumerate(lo)}
        outputs: dict[str, frozenset[Column]] = {}
        for projection in scope.expression.selects:
            deps: set[Column] = set()
            for column in projection.find_all(exp.Column):
                deps |= self._stored(scope, column)
            outputs[projection.alias_or_name] = frozenset(deps)
        return outputs


def _walker(query: Any, schema: dict[str, Any]) -> _Walker:
    return _Walker(query, {
        f"{p}.{d}.{t}": list(cols) for p, ds in schema.items() for d, ts in ds.items() for t, cols in ts.items()
    })


def _query(tree: Any, schema: dict[str, Any]) -> Analysis:
    walker = _walker(_qualified(tree, schema), schema)
    return Analysis(
        kind="query",
        reads=frozenset(walker.reads),
        tables=frozenset(walker.tables),
        lineage=walker.outputs(),
        unknown=frozenset(t for t in walker.tables if not _known(schema, t)),
    )


def _merge(tree: Any, schema: dict[str, Any]) -> Analysis:
    """MERGE target USING source ON ... WHEN ...: the source query is analysed as a query;
    target columns referenced in ON, WHEN conditions and assigned values are read."""
    from sqlglot import exp

    target = tree.this
    target_name = table_name(target)
    target_alias = target.alias_or_name
    using = tree.args["using"]
    reads: set[Column] = set()
    tables = {target_name}
    source_outputs: dict[str, frozenset[Column]] = {}
    if isinstance(using, exp.Subquery):
        inner = _query(using.this, schema)
        reads |= inner.reads
        tables |= inner.tables
        source_outputs = dict(inner.lineage)
        source_alias = using.alias_or_name
    elif isinstance(using, exp.Table):
        source_alias = using.alias_or_name
        name = table_name(using)
        tables.add(name)
        columns = schema_columns(schema, name)
        source_outputs = {c: frozenset({(name, c)}) for c in columns}
    else:
        raise SqlError(1, 1, "MERGE ... USING must name a table or a subquery")
    target_columns = set(schema_columns(schema, target_name))

    def refs(node: Any) -> set[Column]:
        found: set[Column] = set()
        for column in node.find_all(exp.Column):
            if column.table == target_alias or (not column.table and column.name in target_columns
                                                and column.name not in source_outputs):
                found.add((target_name, column.name))
            elif column.table == source_alias or not column.table:
                found |= source_outputs.get(column.name, frozenset())
        return found

    reads |= refs(tree.args["on"])
    writes: set[str] = set()
    lineage: dict[str, set[Column]] = {}
    whens = tree.args.get("whens")
    for when in (whens.expressions if whens is not None else []):
        if when.args.get("condition") is not None:
            reads |= refs(when.args["condition"])
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            for assignment in then.expressions:
                column = assignment.this.name
                writes.add(column)
                value = refs(assignment.expression)
                reads |= {c for c in value if c[0] == target_name}
                lineage.setdefault(column, set()).update(value)
        elif isinstance(then, exp.Insert):
            columns = [c.name for c in then.this.expressions] if isinstance(then.this, exp.Tuple) else []
            values = then.expression.expressions if isinstance(then.expression, exp.Tuple) else []
            for column, value in zip(columns, values, strict=False):
                writes.add(column)
                lineage.setdefault(column, set()).update(refs(value))
    return Analysis(
        kind="merge",
        reads=frozenset(reads),
        tables=frozenset(tables),
        target=target_name,
        writes=frozenset(writes),
        lineage={k: frozenset(v) for k, v in sorted(lineage.items())},
        unknown=frozenset(t for t in tables if not _known(schema, t)),
    )


def _dml(tree: Any, schema: dict[str, Any]) -> Analysis:
    """INSERT ... SELECT, UPDATE and DELETE: the target, and what any query in them reads."""
    from sqlglot import exp

    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    target_name = table_name(target)
    reads: set[Column] = set()
    tables = {target_name}
    lineage: dict[str, frozenset[Column]] = {}
    writes: set[str] = set()
    if isinstance(tree, exp.Insert):
        columns = [c.name for c in tree.this.expressions] if isinstance(tree.this, exp.Schema) else \
            schema_columns(schema, target_name)
        writes = set(columns)
        query = tree.expression
        if isinstance(query, exp.Query):
            inner = _query(query, schema)
            reads |= inner.reads
            tables |= inner.tables
            lineage = dict(zip(columns, inner.lineage.values(), strict=False))
    else:
        # UPDATE/DELETE scan the target's referenced columns (and any subquery's).
        for column in tree.find_all(exp.Column):
            reads.add((target_name, column.name))
        if isinstance(tree, exp.Update):
            writes = {a.this.name for a in tree.expressions}
    return Analysis(
        kind=tree.key, reads=frozenset(reads), tables=frozenset(tables), target=target_name,
        writes=frozenset(writes), lineage=lineage,
        unknown=frozenset(t for t in tables if not _known(schema, t)),
    )


def schema_columns(schema: Mapping[str, Any], name: str) -> list[str]:
    """The columns of ``project.dataset.table`` in ``schema`` ([] when unknown)."""
    parts = name.split(".")
    if len(parts) != 3:
        return []
    return list(schema.get(parts[0], {}).get(parts[1], {}).get(parts[2], {}))
