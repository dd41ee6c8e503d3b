"""Terraform values on the wire (msgpack ``DynamicValue``) and their Python form.

Terraform encodes values with cty's msgpack encoding: objects and maps are msgpack maps,
lists, sets and tuples are arrays, null is nil, and an unknown value ("known after apply")
is msgpack extension type 0 (a *refined* unknown, which Terraform >= 1.6 may send, is
extension type 12). In Python a value is plain JSON-like data with :data:`UNKNOWN` standing
for unknowns; sets are lists.

:func:`normalize` shapes a value to a schema block so that every attribute and nested block
is present (Terraform requires the full object shape back from the provider).
"""

from __future__ import annotations

import json
from typing import Any

import msgpack

_EXT_UNKNOWN = 0
_EXT_REFINED_UNKNOWN = 12


class _Unknown:
    """The one unknown value ("known after apply")."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def _ext_hook(code: int, data: bytes) -> Any:
    if code in (_EXT_UNKNOWN, _EXT_REFINED_UNKNOWN):
        return UNKNOWN
    return msgpack.ExtType(code, data)


def _default(obj: Any) -> Any:
    if obj is UNKNOWN:
        return msgpack.ExtType(_EXT_UNKNOWN, b"\x00")
    raise TypeError(f"cannot encode {type(obj).__name__} for Terraform")


def decode(data: bytes) -> Any:
    """Decode a msgpack ``DynamicValue`` into Python values (unknowns as :data:`UNKNOWN`)."""
    if not data:
        return None
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)


def encode(value: Any) -> bytes:
    """Encode Python values as a msgpack ``DynamicValue``."""
    return msgpack.packb(value, default=_default, use_bin_type=True)


def decode_json(data: bytes) -> Any:
    """Decode a JSON ``DynamicValue`` (Terraform sends JSON only for raw state)."""
    return json.loads(data) if data else None


def is_known(value: Any) -> bool:
    """True when ``value`` contains no unknown anywhere."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


# ------------------------------------------------------------------ shaping to a schema


def empty_block_value(nesting: str) -> Any:
    """The value of an absent nested block: null for ``single``, empty otherwise."""
    if nesting in ("single", "group"):
        return None
    if nesting == "map":
        return {}
    return []


def normalize(block: dict[str, Any], value: Any) -> Any:
    """Return ``value`` with exactly the attributes and blocks of ``block``.

    Missing attributes become null, missing nested blocks empty (or null for single
    nesting), unknown attributes/blocks are dropped. Unknown and null objects stay as they
    are.
    """
    if value is None or value is UNKNOWN:
        return value
    out: dict[str, Any] = {}
    for name in block.get("attributes", {}):
        out[name] = value.get(name)
    for name, nested in block.get("block_types", {}).items():
        mode = nested.get("nesting_mode", "list")
        inner = nested["block"]
        item = value.get(name)
        if item is UNKNOWN:
            out[name] = UNKNOWN
        elif item is None:
            out[name] = empty_block_value(mode)
        elif mode in ("single", "group"):
            out[name] = normalize(inner, item)
        elif mode == "map":
            out[name] = {k: normalize(inner, v) for k, v in item.items()}
        else:
            out[name] = [normalize(inner, v) for v in item]
    return out
