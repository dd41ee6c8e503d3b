"""Property: whatever a descriptor holds, validate returns or raises DfGenError, never a crash."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.errors import DfGenError
from generator.validate import validate

BASE = Path(__file__).parent / "data" / "descriptors" / "base"
FILES = ["environment.yaml", "datasources/sales.yaml", "pipelines/sales-daily.yaml"]
LINE = re.compile(r"^\S+(:\d+:\d+)?: error: .+")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False),
    st.text(max_size=40), st.sampled_from(["", "roles/owner", "allUsers", "EU", "2024-01-01", "-"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(data: Any, path: tuple, action: str, value: Any) -> Any:
    if not path:
        return value if action == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[f"x{len(parent)}"] = value
    else:
        parent[last] = value
    return data


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(FILES),
    choice=st.integers(min_value=0, max_value=10_000),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=values,
    garble=st.one_of(st.none(), st.tuples(st.integers(0, 2000), st.binary(min_size=1, max_size=8))),
)
def test_validate_never_crashes(target, choice, action, value, garble):
    with tempfile.TemporaryDirectory() as tmp:
        env = Path(tmp) / "env"
        shutil.copytree(BASE, env)
        path = env / target
        data = yaml.safe_load(path.read_text())
        paths = _paths(data)
        data = _mutate(data, paths[choice % len(paths)], action, value)
        raw = yaml.safe_dump(data, allow_unicode=True).encode()
        if garble is not None:
            offset, junk = garble
            offset %= len(raw) + 1
            raw = raw[:offset] + junk + raw[offset:]
        path.write_bytes(raw)
        first = _outcome(env)
        if first[0] == "errors":
            assert first[1]
            for line in first[1]:
                assert LINE.match(line), line
        # Again, now from the per-file cache (.df-gen/cache/documents.log): whatever the file
        # holds, what it parsed to survives the cache, positions and errors included.
        assert _outcome(env) == first


def _outcome(env: Path) -> Any:
    """The diagnostics validate raises, or every document it returns with its positions."""
    try:
        descriptors = validate(env)
    except DfGenError as exc:
        return "errors", exc.lines()
    return "valid", [(doc.display, doc.data, doc.positions, doc.key_positions) for doc in descriptors.documents()]
