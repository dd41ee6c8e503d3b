"""Whether a descriptor is valid against its JSON Schema, answered without jsonschema.

Most descriptors are valid, and for them jsonschema's work (and its import, 0.1 s) buys
nothing: no error, no message. :func:`is_valid` compiles each descriptor schema once into
nested Python checks of the keywords df-gen's schemas use, and answers yes or no; only a
file it says no to goes through jsonschema (:mod:`generator.validate.schema`), whose errors
the messages explain. Draft 2020-12 semantics, as jsonschema applies them:

- ``type`` ("integer": an int, or a float with no fraction; a bool is neither number);
- ``enum`` and ``const`` compare as JSON does (``true`` is not ``1``; ``1`` is ``1.0``);
- ``properties``, ``additionalProperties``, ``required``, ``propertyNames``,
  ``minProperties``, ``maxProperties`` apply to objects only; ``items``, ``minItems``,
  ``maxItems``, ``uniqueItems`` to arrays only; ``pattern`` (``re.search``) and
  ``maxLength`` to strings only; ``minimum`` and ``maximum`` to numbers only;
- ``oneOf`` (exactly one), ``not``; ``$ref`` to ``defs.schema.json#/$defs/NAME`` or
  ``#/$defs/NAME``, checked beside the node's other keywords;
- annotations (``description``, ``default``, ``title``, ``$comment``, ...) check nothing.

A schema using any other keyword does not compile: every file of that kind then goes
through jsonschema (never a wrong yes). ``fastcheck_test`` holds the two to the same
answer over every descriptor the tests have and thousands of mutations of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from generator.resources import SCHEMAS_DIR

Check = Callable[[Any], bool]

_ANNOTATIONS = {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples",
                "deprecated", "readOnly", "writeOnly"}
_DEFS = "defs.schema.json#/$defs/"


class Unsupported(Exception):
    """The schema uses a keyword (or a reference) this module does not check."""


@cache
def checker(kind: str) -> Check | None:
    """The compiled check of one descriptor kind, or None when its schema does not compile."""
    documents = {path.name: json.loads(path.read_text()) for path in SCHEMAS_DIR.glob("*.schema.json")}
    try:
        return _Compiler(documents).compile(documents[f"{kind}.schema.json"], f"{kind}.schema.json")
    except Unsupported:
        return None


def is_valid(kind: str, data: Any) -> bool | None:
    """True when ``data`` is valid against the kind's schema, False when not, None when the
    schema does not compile here (ask jsonschema)."""
    check = checker(kind)
    return None if check is None else check(data)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: a boolean equals only a boolean; 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return bool(a == b) and (_is_number(a) == _is_number(b))


def _unique(items: list[Any]) -> bool:
    return all(not _equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


class _Compiler:
    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.refs: dict[tuple[str, str], Check] = {}

    def ref(self, ref: str, document: str) -> Check:
        if ref.startswith(_DEFS):
            document, name = "defs.schema.json", ref.removeprefix(_DEFS)
        elif ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
        else:
            raise Unsupported(ref)
        key = (document, name)
        if key not in self.refs:
            slot: list[Check] = []
            self.refs[key] = lambda value: slot[0](value)  # a cycle reaches the target through the slot
            try:
                target = self.documents[document]["$defs"][name]
            except KeyError:
                raise Unsupported(ref) from None
            slot.append(self.compile(target, document))
        return self.refs[key]

    def compile(self, schema: Any, document: str) -> Check:
        if schema is True or schema is False:
            return _constant(schema)
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        checks: list[Check] = []
        object_checks: list[Check] = []
        for keyword, argument in schema.items():
            if keyword in _ANNOTATIONS or keyword in ("properties", "additionalProperties"):
                continue
            if keyword in _SIMPLE:
                checks.append(_SIMPLE[keyword](argument))
            elif keyword in _OBJECT:
                object_checks.append(_OBJECT[keyword](argument))
            elif keyword == "$ref":
                checks.append(self.ref(argument, document))
            elif keyword == "oneOf":
                checks.append(_one_of([self.compile(sub, document) for sub in argument]))
            elif keyword == "not":
                checks.append(_negation(self.compile(argument, document)))
            elif keyword == "items":
                checks.append(_items(self.compile(argument, document)))
            elif keyword == "propertyNames":
                object_checks.append(_property_names(self.compile(argument, document)))
            else:
                raise Unsupported(keyword)
        if "properties" in schema or "additionalProperties" in schema:
            object_checks.append(self._properties(schema, document))
        if object_checks:
            checks.append(_on_objects(object_checks))
        return checks[0] if len(checks) == 1 else _all(checks)

    def _properties(self, schema: dict[str, Any], document: str) -> Check:
        properties = {name: self.compile(sub, document) for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        others = None if extra is True else self.compile(extra, document)

        def check(value: dict[str, Any]) -> bool:
            for name, item in value.items():
                sub = properties.get(name)
                if sub is not None:
                    if not sub(item):
                        return False
                elif others is not None and not others(item):
                    return False
            return True

        return check


# --- the checks, one factory per keyword -------------------------------------------------------


def _constant(answer: bool) -> Check:
    return lambda value: answer


def _all(checks: list[Check]) -> Check:
    tests = tuple(checks)
    return lambda value: all(test(value) for test in tests)


def _type(argument: str | list[str]) -> Check:
    tests = [_TYPES[name] for name in (argument if isinstance(argument, list) else [argument])]
    return lambda value: any(test(value) for test in tests)


def _enum(options: list[Any]) -> Check:
    return lambda value: any(_equal(value, option) for option in options)


def _const(const: Any) -> Check:
    return lambda value: _equal(value, const)


def _pattern(pattern: str) -> Check:
    search = re.compile(pattern).search
    return lambda value: not isinstance(value, str) or search(value) is not None


def _max_length(n: int) -> Check:
    return lambda value: not isinstance(value, str) or len(value) <= n


def _minimum(n: float) -> Check:
    return lambda value: not _is_number(value) or value >= n


def _maximum(n: float) -> Check:
    return lambda value: not _is_number(value) or value <= n


def _min_items(n: int) -> Check:
    return lambda value: not isinstance(value, list) or len(value) >= n


def _max_items(n: int) -> Check:
    return lambda value: not isinstance(value, list) or len(value) <= n


def _unique_items(on: bool) -> Check:
    return lambda value: not on or not isinstance(value, list) or _unique(value)


def _required(names: list[str]) -> Check:
    return lambda value: all(name in value for name in names)


def _min_properties(n: int) -> Check:
    return lambda value: len(value) >= n


def _max_properties(n: int) -> Check:
    return lambda value: len(value) <= n


def _one_of(subs: list[Check]) -> Check:
    return lambda value: sum(1 for sub in subs if sub(value)) == 1


def _negation(sub: Check) -> Check:
    return lambda value: not sub(value)


def _items(sub: Check) -> Check:
    return lambda value: not isinstance(value, list) or all(sub(item) for item in value)


def _property_names(sub: Check) -> Check:
    return lambda value: all(sub(name) for name in value)


def _on_objects(checks: list[Check]) -> Check:
    tests = tuple(checks)
    return lambda value: not isinstance(value, dict) or all(test(value) for test in tests)


_SIMPLE: dict[str, Callable[[Any], Check]] = {
    "type": _type, "enum": _enum, "const": _const, "pattern": _pattern, "maxLength": _max_length,
    "minimum": _minimum, "maximum": _maximum, "minItems": _min_items, "maxItems": _max_items,
    "uniqueItems": _unique_items,
}
"""Keywords checked on the value itself (each ignores values of the types it does not apply to)."""

_OBJECT: dict[str, Callable[[Any], Check]] = {
    "required": _required, "minProperties": _min_properties, "maxProperties": _max_properties,
}
"""Keywords that apply to objects only (:func:`_on_objects` skips the rest)."""
