"""The stack graph: which stack needs which, and its Mermaid, DOT and JSON forms."""

from __future__ import annotations

import json

from generator.model import Model


def format_graph(model: Model, fmt: str) -> str:
    """The graph as ``mermaid``, ``dot`` or ``json`` text (ending with a newline)."""
    stacks = model.stacks
    if fmt == "json":
        document = {"stacks": [{"name": s.name, "kind": s.kind, "needs": list(s.needs)} for s in stacks]}
        return json.dumps(document, indent=2) + "\n"
    if fmt == "dot":
        lines = ["digraph stacks {", "  rankdir=LR;"]
        lines += [f'  "{s.name}" [shape=box, label="{s.name}\\n({s.kind})"];' for s in stacks]
        lines += [f'  "{need}" -> "{s.name}";' for s in stacks for need in s.needs]
        return "\n".join(lines) + "\n}\n"
    ids = {s.name: s.name.replace("-", "_") for s in stacks}
    lines = ["flowchart LR"]
    lines += [f'  {ids[s.name]}["{s.name}"]' for s in stacks]
    lines += [f"  {ids[need]} --> {ids[s.name]}" for s in stacks for need in s.needs]
    return "\n".join(lines) + "\n"
