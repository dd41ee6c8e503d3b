"""The schema pre-check (generator/validate/fastcheck.py) says "valid" exactly when jsonschema
finds no error: over every descriptor the tests and the demo hold, and over thousands of
mutations of them (a key dropped or added, a value of another type, shape or size)."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.errors import DfGenError
from generator.loader import parse
from generator.validate import fastcheck
from generator.validate.schema import validator

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"Environment": "environment", "DataSource": "datasource", "Pipeline": "pipeline"}


def descriptors() -> list[tuple[str, str, Any]]:
    """(name, kind, data) of every YAML descriptor in the tests' data and the demo."""
    found = []
    for path in sorted([*(ROOT / "tests" / "data").rglob("*.yaml"), *(ROOT / "environments").rglob("*.yaml")]):
        try:
            data = parse(path, path.read_bytes()).data  # as validate reads it (dates stay strings)
        except DfGenError:
            continue
        if isinstance(data, dict) and data.get("apiVersion") == "dfgen/v1" and data.get("kind") in KINDS:
            found.append((str(path.relative_to(ROOT)), KINDS[data["kind"]], data))
    return found


DESCRIPTORS = descriptors()


def jsonschema_valid(kind: str, data: Any) -> bool:
    return next(iter(validator(kind).iter_errors(data)), None) is None


def test_every_descriptor_kind_compiles() -> None:
    assert all(fastcheck.checker(kind) is not None for kind in KINDS.values())


def test_the_corpus_has_valid_and_invalid_files_of_every_kind() -> None:
    answers = {(kind, jsonschema_valid(kind, data)) for _, kind, data in DESCRIPTORS}
    assert answers == {(kind, valid) for kind in KINDS.values() for valid in (True, False)}


@pytest.mark.parametrize(("name", "kind", "data"), DESCRIPTORS, ids=[name for name, _, _ in DESCRIPTORS])
def test_the_same_answer_as_jsonschema_on_every_descriptor(name: str, kind: str, data: Any) -> None:
    assert fastcheck.is_valid(kind, data) == jsonschema_valid(kind, data)


ODD_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.0, 1.5, 10**12, "", "x", "UPPER case!", "a" * 300,
                         "roles/owner", [], ["a", "a"], [1, 2], {}, {"x": 1}]


def _places(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _places(value, (*path, index))


def _mutant(data: Any, rng: random.Random) -> Any:
    """``data`` with one random change at a random place."""
    data = copy.deepcopy(data)
    path = rng.choice(list(_places(data)))
    if not path:
        return data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    value = parent[last]
    choice = rng.randrange(6)
    if choice == 0 and isinstance(parent, dict):
        del parent[last]  # a key dropped (maybe a required one)
    elif choice == 1 and isinstance(parent, dict):
        parent[rng.choice(["unknown", "x_extra", "Bad Key", str(last) + "2"])] = copy.deepcopy(value)
    elif choice == 2 and isinstance(value, list) and value:
        value.append(copy.deepcopy(value[0]))  # a duplicate item
    elif choice == 3 and isinstance(value, list):
        value.clear()
    elif choice == 4 and isinstance(value, str):
        parent[last] = rng.choice([value.upper(), value + "-", "-" + value, value * 20, "", value.replace("-", "_")])
    else:
        parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    return data


@pytest.mark.parametrize("kind", sorted(KINDS.values()))
def test_the_same_answer_as_jsonschema_on_mutations(kind: str) -> None:
    rng = random.Random(f"fastcheck-{kind}")
    sources = [data for _, k, data in DESCRIPTORS if k == kind and jsonschema_valid(k, data)]
    answers = {True: 0, False: 0}
    for _ in range(1500):
        mutant = _mutant(rng.choice(sources), rng)
        if rng.random() < 0.3:
            mutant = _mutant(mutant, rng)  # two changes
        expected = jsonschema_valid(kind, mutant)
        assert fastcheck.is_valid(kind, mutant) == expected, mutant
        answers[expected] += 1
    assert min(answers.values()) > 100, answers  # both answers were exercised


@pytest.mark.parametrize(("schema", "value", "valid"), [
    ({"enum": [1]}, True, False),  # a boolean is not a number
    ({"const": 1}, 1.0, True),  # 1 is 1.0
    ({"type": "integer"}, 2.0, True),
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [{"a": 1}, {"a": 1.0}], False),
    ({"pattern": "^a"}, 5, True),  # pattern applies to strings only
    ({"minimum": 3}, "2", True),
    ({"required": ["a"]}, [], True),  # required applies to objects only
    ({"oneOf": [{"type": "string"}, {"pattern": "^a"}]}, "abc", False),
    ({"not": {"enum": ["x"]}}, "x", False),
    ({"propertyNames": {"maxLength": 2}}, {"abc": 1}, False),
    ({"additionalProperties": {"type": "string"}, "properties": {"n": {"type": "integer"}}}, {"n": 1, "m": "x"}, True),
    ({"additionalProperties": False, "properties": {"n": {}}}, {"m": 1}, False),
])
def test_keywords_follow_jsonschema(schema: dict[str, Any], value: Any, valid: bool) -> None:
    import jsonschema

    check = fastcheck._Compiler({}).compile(schema, "test")
    assert check(value) is valid
    assert jsonschema.Draft202012Validator(schema).is_valid(value) is valid


def test_a_keyword_it_does_not_know_leaves_the_kind_to_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(fastcheck.Unsupported):
        fastcheck._Compiler({}).compile({"type": "string", "format": "email"}, "test")
    with pytest.raises(fastcheck.Unsupported):
        fastcheck._Compiler({}).compile({"$ref": "other.schema.json#/x"}, "test")
    fastcheck.checker.cache_clear()
    monkeypatch.setattr(fastcheck, "_SIMPLE", {k: v for k, v in fastcheck._SIMPLE.items() if k != "pattern"})
    try:
        assert fastcheck.is_valid("pipeline", {}) is None
    finally:
        fastcheck.checker.cache_clear()
