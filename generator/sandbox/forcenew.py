"""Which attribute changes make the google provider replace a resource (its ForceNew flags).

The flags come from the provider's Go source, extracted by ``tools/extract_forcenew.py``
into ``schema/google_forcenew.json`` (google-beta's into ``google-beta_forcenew.json``; see
``schema/README.md``): for every served resource
type, the attribute paths marked ``ForceNew: true``, ``a.b`` being attribute ``b`` inside
nested block ``a``.

:func:`requires_replace` returns the paths Terraform's plugin protocol expects in
``PlanResourceChange.requires_replace``, mirroring how the provider's SDK (terraform-plugin-sdk
v2, ``schema.schemaMap.diff`` and ``hcl2shim.RequiresReplace``) reports them:

* a top-level or single-block attribute: ``["name"]``, ``["block", "attr"]``;
* inside a list block, one path per element index whose value changed:
  ``["block", 0, "attr"]`` (an added or removed element counts when the attribute is set);
* inside a set block, elements cannot be addressed, so the set itself: ``["block"]``, when an
  element that was added or removed sets one of the ForceNew attributes;
* an attribute that is computed and left unset (planned null) keeps its prior value in the
  provider, so it is no replacement (``schemaMap.diffString``: removed + Computed = no diff).

Replacements a provider decides in ``CustomizeDiff`` are not in those flags;
:func:`customize_diff` models the one the bundled modules meet (a BigQuery table's schema).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from generator import bqtable

_SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
# google first; google-beta adds the types only it serves.
DATA = (_SCHEMA_DIR / "google_forcenew.json", _SCHEMA_DIR / "google-beta_forcenew.json")

Path_ = list[str | int]


@dataclass
class _Node:
    """One attribute of a type's ForceNew tree."""

    force_new: bool = False
    children: dict[str, _Node] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _trees(paths: tuple[Path, ...] = DATA) -> dict[str, _Node]:
    """Type -> ForceNew tree, from the committed JSON files (read once per process)."""
    entries: dict[str, Any] = {}
    for path in paths:
        for type_name, entry in json.loads(path.read_text(encoding="utf-8"))["resources"].items():
            entries.setdefault(type_name, entry)
    trees: dict[str, _Node] = {}
    for type_name, entry in entries.items():
        root = _Node()
        for dotted in entry["force_new"]:
            node = root
            for part in dotted.split("."):
                node = node.children.setdefault(part, _Node())
            node.force_new = True
        trees[type_name] = root
    return trees


def force_new_paths(type_name: str, path: tuple[Path, ...] = DATA) -> list[str]:
    """The dotted ForceNew paths of ``type_name`` (empty for an unknown type)."""
    out: list[str] = []

    def collect(node: _Node, prefix: str) -> None:
        for name, child in sorted(node.children.items()):
            if child.force_new:
                out.append(prefix + name)
            collect(child, f"{prefix}{name}.")

    root = _trees(path).get(type_name)
    if root is not None:
        collect(root, "")
    return out


def requires_replace(
    type_name: str, block: dict[str, Any], prior: Any, planned: Any, path: tuple[Path, ...] = DATA
) -> list[Path_]:
    """Attribute paths whose change from ``prior`` to ``planned`` forces a replacement."""
    root = _trees(path).get(type_name)
    if root is None or prior is None or planned is None:
        return []
    out: list[Path_] = []
    _block(root, block, prior, planned, [], out)
    return out


def _block(tree: _Node, block: dict[str, Any], prior: Any, planned: Any, at: Path_, out: list[Path_]) -> None:
    prior = prior if isinstance(prior, dict) else {}
    planned = planned if isinstance(planned, dict) else {}
    attrs = block.get("attributes", {})
    nested = block.get("block_types", {})
    for name, node in sorted(tree.children.items()):
        old, new = prior.get(name), planned.get(name)
        if name in nested:
            inner, mode = nested[name].get("block", {}), nested[name].get("nesting_mode", "list")
        elif name in attrs:
            inner, mode = _object_block(attrs[name].get("type"))
            if node.force_new:
                if new is None and attrs[name].get("computed"):
                    continue  # unset computed: the provider keeps the prior value
                if not _same(old, new, mode == "set"):
                    out.append([*at, name])
                continue
        else:
            continue
        if node.force_new and not _same(old, new, mode == "set"):
            out.append([*at, name])
            continue
        if not node.children:
            continue
        if mode in ("single", "group"):
            _block(node, inner, old, new, [*at, name], out)
        elif mode == "list":
            olds, news = _items(old), _items(new)
            for i in range(max(len(olds), len(news))):
                _block(
                    node,
                    inner,
                    olds[i] if i < len(olds) else None,
                    news[i] if i < len(news) else None,
                    [*at, name, i],
                    out,
                )
        elif mode == "set" and _set_forces_new(node, inner, _items(old), _items(new)):
            out.append([*at, name])


def _object_block(cty: Any) -> tuple[dict[str, Any], str]:
    """A block-like view of an object-typed attribute: ``(block, nesting mode)``."""
    mode = "single"
    if isinstance(cty, list) and len(cty) == 2 and cty[0] in ("list", "set", "map"):
        mode, cty = cty[0], cty[1]
    if isinstance(cty, list) and len(cty) == 2 and cty[0] == "object":
        return {"attributes": {k: {"type": v} for k, v in cty[1].items()}}, mode
    return {}, mode


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _set_forces_new(tree: _Node, block: dict[str, Any], olds: list[Any], news: list[Any]) -> bool:
    """True when an element only in one of the sets carries a ForceNew value."""
    changed = [e for e in olds if e not in news] + [e for e in news if e not in olds]
    for element in changed:
        found: list[Path_] = []
        _block(tree, block, None, element, [], found)
        _block(tree, block, element, None, [], found)
        if found:
            return True
    return False


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _same(old: Any, new: Any, as_set: bool) -> bool:
    """Equal as the provider's diff sees it: empty values are equal, sets ignore order."""
    if _empty(old) and _empty(new):
        return True
    if as_set and isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(e in new for e in old) and all(e in old for e in new)
    return bool(old == new)


def customize_diff(type_name: str, prior: dict[str, Any], planned: dict[str, Any]) -> list[Path_]:
    """The google provider's ``schema`` DiffSuppressFunc and CustomizeDiff of
    ``google_bigquery_table`` (google/services/bigquery/resource_bigquery_table.go;
    modelled in :mod:`generator.bqtable`): an equivalent schema keeps the prior text (no
    change), and a change the provider cannot make in place requires replacement."""
    if type_name != "google_bigquery_table":
        return []
    old, new = prior.get("schema"), planned.get("schema")
    if not isinstance(old, str) or not isinstance(new, str) or old == new:
        return []
    if bqtable.schemas_equivalent(old, new):
        planned["schema"] = old
        return []
    external = bool(planned.get("external_data_configuration"))
    try:
        return [["schema"]] if bqtable.forces_replacement(old, new, external=external) else []
    except bqtable.SchemaShapeError:
        return [["schema"]]  # the provider's plan fails here; apply-time rules name the field
