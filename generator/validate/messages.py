"""Schema errors in words: which key, what was expected, what was found, what was meant."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a file is schema-checked (a warm render may check none)
    from jsonschema.exceptions import ValidationError

from generator.errors import Diagnostic
from generator.loader import Document


def kind_name(kind: str) -> str:
    return {"environment": "Environment", "datasource": "DataSource", "pipeline": "Pipeline"}[kind]


def dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def explain(error: ValidationError, doc: Document) -> Iterator[Diagnostic]:
    path = tuple(error.absolute_path)
    where = dotted(path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator_name = error.validator
    if validator_name in ("oneOf", "anyOf") and error.context:
        yield from _explain_choice(error, doc)
        return
    if validator_name == "additionalProperties" and isinstance(error.instance, dict):
        known = list(schema.get("properties", {}))
        for extra in sorted(set(error.instance) - set(known)):
            close = difflib.get_close_matches(extra, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(known)}"
            yield doc.error((*path, extra), f"{dotted((*path, extra))}: unknown key '{extra}'",
                            key=True, hint=hint)
        if not schema.get("properties"):
            for extra in sorted(error.instance):
                yield doc.error((*path, extra), f"{dotted((*path, extra))}: invalid key", key=True)
        return
    if validator_name == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else "?"
        message = f"{where}: missing required key '{missing}'" if path else f"missing required key '{missing}'"
        yield doc.error(path, message, key=bool(path))
        return
    if error.validator == "propertyNames" or (
        len(error.relative_schema_path) > 1 and "propertyNames" in error.relative_schema_path
    ):
        name = error.instance
        target = (*path, name) if isinstance(name, str) else path
        described = _describe(error)
        yield doc.error(target, f"{dotted(target)}: invalid key '{name}'{described}", key=True)
        return
    value = error.instance
    if validator_name == "type":
        expected = schema.get("type")
        message = f"expected {_type_words(expected)}, got {_json_type(value)} {_short(value)}".rstrip()
    elif validator_name == "const":
        message = f"expected {schema.get('const')!r}, got {_short(value)}"
    elif validator_name == "enum":
        allowed = ", ".join(str(v) for v in schema.get("enum", []))
        message = f"{_short(value)} is not one of: {allowed}"
    elif validator_name in ("pattern", "not"):
        message = f"{_short(value)} is invalid{_describe(error)}"
    else:
        message = error.message
    yield doc.error(path, f"{where}: {message}")


def _explain_choice(error: ValidationError, doc: Document) -> Iterator[Diagnostic]:
    """For oneOf/anyOf, report the branch the user evidently meant."""
    instance = error.instance
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    if isinstance(instance, dict):
        for index, subs in branches.items():
            branch_schema = error.schema[error.validator][index]
            required = set(branch_schema.get("required", []))
            if required and required <= set(instance) and len(instance) == len(required):
                for sub in subs:
                    yield from explain(sub, doc)
                return
    path = tuple(error.absolute_path)
    options: list[str] = []
    for branch in error.schema[error.validator]:
        options.extend(branch.get("required", []))
    if isinstance(instance, dict) and options:
        allowed = " or ".join(f"'{o}'" for o in options)
        yield doc.error(path, f"{dotted(path)}: expected exactly one of {allowed}")
        return
    from jsonschema.exceptions import best_match

    best = best_match(error.context or [])
    yield from explain(best, doc)


def _describe(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "not" and error.parent is not None:
        schema = error.parent.schema if isinstance(error.parent.schema, dict) else schema
    if "enum" in schema:
        return f" (expected one of: {', '.join(str(v) for v in schema['enum'])})"
    description = schema.get("description")
    return f" ({description.rstrip('.')})" if description else ""


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    words = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "an integer", "number": "a number", "boolean": "true or false"}
    return " or ".join(words.get(str(n), str(n)) for n in names)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return {int: "integer", float: "number", str: "string"}.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return ""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"
