"""Schema changes: a model of the google provider's ``resourceBigQueryTableSchemaIsChangeable``.

:func:`classify_schema_change` lists every change between two schemas with its kind
(:data:`COMPATIBLE`, :data:`LOSSY_IN_PLACE`, :data:`INCOMPATIBLE`); :func:`forces_replacement`
is the provider's yes/no answer. The source read is named in :mod:`generator.bqtable`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

COMPATIBLE = "compatible"
LOSSY_IN_PLACE = "lossy_in_place"
INCOMPATIBLE = "incompatible"


@dataclass(frozen=True)
class SchemaChange:
    """One column change: ``compatible`` (in place), ``lossy_in_place`` (a top-level column
    dropped in place: its data is deleted) or ``incompatible`` (the provider replaces the table)."""

    kind: str
    column: tuple[str, ...]
    reason: str

    @property
    def replaces(self) -> bool:
        """True when this change makes the provider replace the table."""
        return self.kind == INCOMPATIBLE

    @property
    def column_name(self) -> str:
        """The dotted column path (``address.city``)."""
        return ".".join(self.column)


class SchemaShapeError(ValueError):
    """A schema entry without a name: the provider's CustomizeDiff fails with this message."""


def type_equal(old: str, new: str) -> bool:
    """The provider's ``bigQueryTableTypeEq``: case-insensitive, INTEGER=INT64, FLOAT=FLOAT64,
    BOOLEAN=BOOL. RECORD and STRUCT are *not* equal there, nor NUMERIC and DECIMAL."""
    a, b = old.upper(), new.upper()
    return a == b or any(a in pair and b in pair for pair in _ALIASES)


_ALIASES = (("INTEGER", "INT64"), ("FLOAT", "FLOAT64"), ("BOOLEAN", "BOOL"))


def _mode(value: Any) -> str:
    """``bigQueryTableNormalizeMode``: absent means NULLABLE; upper-cased."""
    return "NULLABLE" if value is None else str(value).upper()


def _mode_forces_new(old: str, new: str) -> bool:
    """``bigQueryTableModeIsForceNew``: every mode change but REQUIRED -> NULLABLE."""
    return old != new and not (old == "REQUIRED" and new == "NULLABLE")


def classify_schema_change(old: Any, new: Any, *, external: bool = False) -> tuple[SchemaChange, ...]:
    """Every difference between two parsed schemas (lists of field objects), with its kind.

    ``external`` is true for tables with ``external_data_configuration``, where the provider
    never drops a column in place. Raises :class:`SchemaShapeError` for a field without a
    name, as the provider's plan does.
    """
    out: list[SchemaChange] = []
    if not isinstance(old, list) or not isinstance(new, list):
        if old != new:
            out.append(SchemaChange(INCOMPATIBLE, (), "the schema is not a list of fields on both sides"))
        return tuple(out)
    _compare_lists(old, new, (), True, external, out)
    return tuple(out)


def _by_name(items: list[Any]) -> dict[str, Any]:
    """``bigQueryArrayToMapIndexedByName`` (a later duplicate wins), after its name check."""
    mapped: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or "name" not in item:
            raise SchemaShapeError(f"No name in schema {item!r}")
        mapped[str(item["name"])] = item
    return mapped


def _compare_lists(old: list[Any], new: list[Any], parent: tuple[str, ...], top: bool, external: bool,
                   out: list[SchemaChange]) -> None:
    old_map, new_map = _by_name(old), _by_name(new)
    added = [name for name in new_map if name not in old_map]
    for name in added:
        # The provider tests the mode text exactly: "REQUIRED", not "required".
        if new_map[name].get("mode") == "REQUIRED":
            out.append(SchemaChange(INCOMPATIBLE, (*parent, name),
                                    "new REQUIRED column: existing rows have no value for it"))
        else:
            out.append(SchemaChange(COMPATIBLE, (*parent, name), f"new {_mode(new_map[name].get('mode'))} column"))
    dropped: list[str] = []
    same_name = 0
    for name, old_field in old_map.items():
        if name not in new_map:
            if not top:
                out.append(SchemaChange(INCOMPATIBLE, (*parent, name), "nested field removed or renamed"))
            elif external:
                out.append(SchemaChange(INCOMPATIBLE, (name,), "column dropped from an external table"))
            else:
                dropped.append(name)
            continue
        sub: list[SchemaChange] = []
        _compare_field(old_field, new_map[name], (*parent, name), external, sub)
        out.extend(sub)
        if top and not any(c.replaces for c in sub):
            same_name += 1
    if not dropped:
        return
    # The provider drops top-level columns in place unless columns are also added (it
    # cannot tell a rename from a drop and an add): newColumns = len(new) - sameNameColumns.
    new_columns = len(new) - same_name
    replaced_anyway = any(c.replaces for c in out)
    for name in dropped:
        if new_columns and not replaced_anyway:
            also = ", ".join(added) or "duplicate names"
            out.append(SchemaChange(INCOMPATIBLE, (name,),
                                    f"column dropped while column(s) {also} are added (a rename?): "
                                    "the provider does not drop columns in place together with additions"))
        else:
            out.append(SchemaChange(LOSSY_IN_PLACE, (name,), "column dropped in place: its data is deleted"))


def _compare_field(old: dict[str, Any], new: Any, column: tuple[str, ...], external: bool,
                   out: list[SchemaChange]) -> None:
    if not isinstance(new, dict):
        out.append(SchemaChange(INCOMPATIBLE, column, "field is no longer an object"))
        return
    keys = set(old) | set(new)
    if "foreignTypeDefinition" in keys:  # the server may rewrite type and fields then
        keys -= {"type", "fields"}
    for key in sorted(keys):
        before, after = old.get(key), new.get(key)
        if key == "name":
            continue  # matched by name
        if key == "type":
            if before is None or after is None:
                continue  # invalid; the provider does not replace for it
            if not type_equal(str(before), str(after)):
                out.append(SchemaChange(INCOMPATIBLE, column, f"type changed from {before} to {after}"))
        elif key == "mode":
            a, b = _mode(before), _mode(after)
            if _mode_forces_new(a, b):
                out.append(SchemaChange(INCOMPATIBLE, column, f"mode changed from {a} to {b}"))
            elif a != b:
                out.append(SchemaChange(COMPATIBLE, column, f"mode relaxed from {a} to {b}"))
        elif key == "fields":
            if isinstance(before, list):
                if isinstance(after, list):
                    _compare_lists(before, after, column, False, external, out)
                else:
                    out.append(SchemaChange(INCOMPATIBLE, column, "nested fields removed"))
            elif before != after:
                out.append(SchemaChange(INCOMPATIBLE, column, "nested fields added to a column that had none"))
        elif key == "description":
            if (before or "") != (after or ""):
                out.append(SchemaChange(COMPATIBLE, column, "description changed"))
        elif key == "policyTags":
            if _policy_tags(before) != _policy_tags(after):
                out.append(SchemaChange(COMPATIBLE, column, "policy tags changed"))
        elif not _json_equal(key, before, after):
            out.append(SchemaChange(COMPATIBLE, column, f"{key} changed"))


def _policy_tags(value: Any) -> Any:
    """``bigQueryTableNormalizePolicyTags``: {} and {"names": []} mean none."""
    if isinstance(value, dict) and (not value or value.get("names") == []):
        return None
    return value


def parse_schema(text: Any) -> Any:
    """The provider's reading of a ``schema`` string: ``"null"`` is ``[]``; bad JSON is None."""
    if not isinstance(text, str):
        return None
    if text == "null":
        text = "[]"
    try:
        return json.loads(text)
    except ValueError:
        return None


def schemas_equivalent(old_text: Any, new_text: Any) -> bool:
    """The provider's ``bigQueryTableSchemaDiffSuppress``: no diff at all when true.

    Fields are compared by name in any order, types through :func:`type_equal`, an absent
    mode equals NULLABLE, an absent description equals "", empty policy tags equal none, and
    an unset collation accepts whatever the server has.
    """
    return _json_equal("schema", parse_schema(old_text), parse_schema(new_text))


def _scalar_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _json_equal(key: str, a: Any, b: Any) -> bool:
    """``jsonCompareWithMapKeyOverride`` with ``bigQueryTableMapKeyOverride``."""
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        if key in ("schema", "fields"):
            if not all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in [*a, *b]):
                return False
            a, b = sorted(a, key=lambda x: x["name"]), sorted(b, key=lambda x: x["name"])
        return all(_json_equal(str(i), x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)))
    if isinstance(a, dict):
        if not isinstance(b, dict):
            return False
        keys = set(a) | set(b)
        if "foreignTypeDefinition" in keys:
            keys -= {"type", "fields"}
        for sub in keys:
            if _override_equal(sub, a, b):
                continue
            if sub not in a or sub not in b or not _json_equal(sub, a[sub], b[sub]):
                return False
        return True
    if isinstance(a, (str, int, float, bool)) or a is None:
        return _scalar_equal(a, b)
    return False


def _override_equal(key: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    before, after = a.get(key), b.get(key)
    if key == "mode":
        return _mode(before) == _mode(after)
    if key == "description":
        return before in (None, "") and after in (None, "")
    if key == "type":
        return before is not None and after is not None and type_equal(str(before), str(after))
    if key == "collation":
        return after is None or (before in (None, "") and after in (None, ""))
    if key == "policyTags":
        return _policy_tags(before) is None and _policy_tags(after) is None
    if key == "dataGovernanceTagsInfo":
        return _governance(before) is None and _governance(after) is None
    return False


def _governance(value: Any) -> Any:
    if isinstance(value, dict) and (not value or value.get("dataGovernanceTags") == {}):
        return None
    return value


def forces_replacement(old_text: Any, new_text: Any, *, external: bool = False) -> bool:
    """Whether the provider's ``schema`` CustomizeDiff marks the table for replacement.

    ``old_text`` and ``new_text`` are the ``schema`` strings of state and plan. No diff (the
    suppress function) or equal JSON means no; otherwise any incompatible change means yes.
    """
    if schemas_equivalent(old_text, new_text):
        return False
    old, new = parse_schema(old_text), parse_schema(new_text)
    if old == new:
        return False
    if old is None or new is None:
        return True  # the provider compares unreadable JSON as nil: not changeable
    return any(change.replaces for change in classify_schema_change(old, new, external=external))
