"""``df-gen lineage``: column lineage across the pipelines, landing -> curated -> exposure.

Edges come from the SQL of every declared task (a DML target column from the columns its
value is computed from) and of every view (an output column from its source columns),
as analysed by ``sql.py``. Tagged columns carry their tag.

The JSON document::

    {"columns": [{"id": "project.dataset.table.column", "table": "project.dataset.table",
                  "column", "layer", "pipeline", "kind": "table" | "view", "tag": str | null,
                  "tagged_sources": [tags of the tagged columns it is computed from]}],
     "edges": [{"from": column id, "to": column id, "via": "pipeline:task" | "view"}]}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.analysis import check as access_check
from generator.analysis import inventory as inventory_module
from generator.analysis.inventory import Inventory


@dataclass(frozen=True)
class Lineage:
    columns: tuple[dict[str, Any], ...]
    edges: tuple[dict[str, str], ...]


def lineage_of(env_dir: Path) -> Lineage:
    """Validate ``env_dir``, build its model and trace its columns."""
    from generator.model import build as build_model
    from generator.validate import validate

    descriptors = validate(env_dir)
    return trace(inventory_module.build(descriptors, build_model(descriptors)))


def trace(inventory: Inventory) -> Lineage:
    """Every column and every edge of the environment's lineage."""
    edges = []
    for item in inventory.tasks:
        analysis = item.analysis
        if analysis is None or not analysis.target:
            continue
        for column, sources in sorted(analysis.lineage.items()):
            via = f"{item.pipeline}:{item.task.id}"
            edges += [{"from": f"{t}.{c}", "to": f"{analysis.target}.{column}", "via": via} for t, c in sorted(sources)]
    for fqn, analysis in sorted(inventory.views.items()):
        for column, sources in analysis.lineage.items():
            edges += [{"from": f"{t}.{c}", "to": f"{fqn}.{column}", "via": "view"} for t, c in sorted(sources)]
    origins = access_check._origins(inventory)
    tables = inventory.tables
    columns = []
    for fqn, table in sorted(tables.items(), key=lambda i: (_rank(i[1].layer), i[0])):
        for column in table.columns:
            columns.append({
                "id": f"{fqn}.{column}", "table": fqn, "column": column, "layer": table.layer,
                "pipeline": table.pipeline, "kind": "view" if table.view_sql else "table",
                "tag": table.tags.get(column),
                "tagged_sources": sorted({tables[t].tags[c] for t, c in origins.get((fqn, column), ())
                                          if (t, c) != (fqn, column)}),
            })
    unique = {(e["from"], e["to"], e["via"]): e for e in edges}
    return Lineage(tuple(columns), tuple(unique[k] for k in sorted(unique)))


def _rank(layer: str) -> int:
    return ("landing", "processing", "curated", "exposure").index(layer) if layer in (
        "landing", "processing", "curated", "exposure") else 9


def format_lineage(lineage: Lineage, fmt: str) -> str:
    """Mermaid (default), DOT or JSON."""
    if fmt == "json":
        return json.dumps({"columns": list(lineage.columns), "edges": list(lineage.edges)}, indent=2) + "\n"
    used = {e["from"] for e in lineage.edges} | {e["to"] for e in lineage.edges}
    by_table: dict[str, list[dict[str, Any]]] = {}
    for column in lineage.columns:
        if column["id"] in used:
            by_table.setdefault(column["table"], []).append(column)

    def label(column: dict[str, Any]) -> str:
        marks = column["tag"] or ",".join(column["tagged_sources"])
        return f"{column['column']} [{marks}]" if marks else column["column"]

    if fmt == "dot":
        lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box];"]
        for index, (table, columns) in enumerate(by_table.items()):
            lines.append(f'  subgraph "cluster_{index}" {{')
            lines.append(f'    label="{table}";')
            for column in columns:
                style = ', style=filled, fillcolor="#f8d7da"' if column["tag"] or column["tagged_sources"] else ""
                lines.append(f'    "{column["id"]}" [label="{label(column)}"{style}];')
            lines.append("  }")
        lines += [f'  "{e["from"]}" -> "{e["to"]}";' for e in lineage.edges]
        return "\n".join(lines) + "\n}\n"
    ids = {column["id"]: f"c{n}" for n, column in enumerate(c for cs in by_table.values() for c in cs)}
    lines = ["flowchart LR"]
    for table, columns in by_table.items():
        lines.append(f'  subgraph {_mermaid_id(table)}["{table}"]')
        for column in columns:
            lines.append(f'    {ids[column["id"]]}["{label(column)}"]')
        lines.append("  end")
    lines += [f"  {ids[e['from']]} --> {ids[e['to']]}" for e in lineage.edges]
    tagged = [ids[c["id"]] for cs in by_table.values() for c in cs if c["tag"] or c["tagged_sources"]]
    if tagged:
        lines.append("  classDef tagged fill:#f8d7da,stroke:#842029")
        lines.append(f"  class {','.join(tagged)} tagged")
    return "\n".join(lines) + "\n"


def _mermaid_id(table: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", table)
