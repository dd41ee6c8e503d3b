"""Conformance: one small Terraform root per sandbox rule, run with real Terraform.

Every folder under ``tests/conformance/`` with an ``expect.yaml`` is a case (adding a folder
adds a case):

- ``main.tf``: the configuration of step 1 (the folder's top-level ``*.tf`` files);
- ``seed.json`` (optional): what exists before the run (the sandbox README's seed format);
- ``step2/main.tf`` (optional): replaces the configuration after a successful apply, then
  ``plan``;
- ``expect.yaml``::

      apply: ok                      # or {error: "substring of Terraform's output"}
      plan2: replace                 # optional, with step2: replace | update | no-op
      apply2: ok                     # optional, with step2: apply it (ok or {error: ...})
      plan3: create                  # optional, after apply2: create | replace | update | no-op
      destroy: ok                    # optional: ok (the default after a successful apply)
                                     # or {error: "substring"}

A case whose apply succeeds must then plan clean (``plan -detailed-exitcode`` exits 0)
before step 2 and destroy as expected. Cases run concurrently (Terraform mostly waits on
its provider processes), a few at a time; each test reports its own case.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from tfsupport import Result, Sandbox, require_sandbox

CASES_DIR = Path(__file__).resolve().parent / "conformance"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "expect.yaml").is_file()) if CASES_DIR.is_dir() else []
EXPECT_KEYS = {"apply", "plan2", "apply2", "plan3", "destroy"}
PLAN_WORDS = {
    "create": "will be created",
    "replace": "must be replaced",
    "update": "will be updated in-place",
}
WORKERS = 4

_pool: dict[str, Any] = {}


def _squash(text: str) -> str:
    return " ".join(text.split())


def read_expect(case: Path) -> dict[str, Any]:
    """The case's expect.yaml, checked for shape."""
    expect = yaml.safe_load((case / "expect.yaml").read_text(encoding="utf-8")) or {}
    unknown = set(expect) - EXPECT_KEYS
    assert not unknown, f"{case.name}/expect.yaml: unknown keys {sorted(unknown)}"
    for step in ("apply", "apply2", "destroy"):
        value = expect.get(step, "ok")
        assert value == "ok" or (isinstance(value, dict) and set(value) == {"error"}), (
            f"{case.name}/expect.yaml: {step} must be ok or {{error: ...}}"
        )
    for step in ("plan2", "plan3"):
        assert expect.get(step) in (None, "no-op", *PLAN_WORDS), f"{case.name}/expect.yaml: bad {step}"
    assert ("plan2" in expect or "apply2" in expect) == (case / "step2" / "main.tf").is_file(), (
        f"{case.name}: step2/main.tf goes with plan2 or apply2"
    )
    assert "plan3" not in expect or "apply2" in expect, f"{case.name}: plan3 needs apply2"
    return expect


def _plan_problem(step: str, kind: str, result: Result) -> str | None:
    """Why a ``plan -detailed-exitcode`` result is not of ``kind``, or None."""
    if kind == "no-op":
        return None if result.code == 0 else f"{step} plans changes (exit {result.code}):\n{result.tail()}"
    if result.code != 2 or PLAN_WORDS[kind] not in result.text:
        return f"{step} does not plan {kind!r} (exit {result.code}):\n{result.tail()}"
    if kind == "update" and PLAN_WORDS["replace"] in result.text:
        return f"{step} plans a replacement, expected an update:\n{result.tail()}"
    return None


def _check(step: str, expected: Any, result: Result) -> str | None:
    """Why ``result`` does not match ``expected`` (ok or {error}), or None."""
    if expected == "ok":
        return None if result.code == 0 else f"{step} failed (exit {result.code}):\n{result.tail()}"
    wanted = _squash(expected["error"])
    if result.code == 0:
        return f"{step} succeeded, expected an error containing {wanted!r}"
    if wanted not in result.text:
        return f"{step} failed without {wanted!r}:\n{result.tail()}"
    return None


def run_case(case: Path, work: Path) -> list[str]:
    """Run one case in ``work``; return what went wrong (empty: the case passed)."""
    expect = read_expect(case)
    root = work / "root"
    root.mkdir(parents=True)
    for tf in case.glob("*.tf"):
        shutil.copy(tf, root / tf.name)
    if (case / "seed.json").is_file():
        (work / "cloud").mkdir()
        shutil.copy(case / "seed.json", work / "cloud" / "seed.json")
    sandbox = Sandbox(root, work)
    # dev_overrides load the sandbox provider without init (Terraform 1.15).
    applied = sandbox.run("apply", "-auto-approve", "-input=false", "-no-color")
    problem = _check("apply", expect.get("apply", "ok"), applied)
    if problem or applied.code != 0:
        return [problem] if problem else []
    second = sandbox.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
    if second.code != 0:
        return [f"the plan after apply is not clean (exit {second.code}):\n{second.tail()}"]
    problems: list[str | None] = []
    if (case / "step2" / "main.tf").is_file():
        for tf in root.glob("*.tf"):
            tf.unlink()
        shutil.copy(case / "step2" / "main.tf", root / "main.tf")
    if "plan2" in expect:
        changed = sandbox.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
        problems.append(_plan_problem("step 2", expect["plan2"], changed))
    if "apply2" in expect:
        applied = sandbox.run("apply", "-auto-approve", "-input=false", "-no-color")
        problems.append(_check("apply of step 2", expect["apply2"], applied))
        if "plan3" in expect:
            after = sandbox.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
            problems.append(_plan_problem("the plan after step 2", expect["plan3"], after))
    destroyed = sandbox.run("destroy", "-auto-approve", "-input=false", "-no-color")
    problems.append(_check("destroy", expect.get("destroy", "ok"), destroyed))
    return [p for p in problems if p]


def _futures(request: pytest.FixtureRequest, tmp_root: Path) -> dict[str, Future[list[str]]]:
    """Start every selected case once per session; the tests wait for their own.

    A pytest-xdist worker collects every test but runs only those the controller hands it.
    With ``--dist loadgroup`` the cases (one ``xdist_group``) all go to one worker, which
    starts them all as a single process does; with another distribution a worker cannot
    know which cases are its own, so each test starts only its case (none is run twice)."""
    if "futures" not in _pool:
        grouped = not hasattr(request.config, "workerinput") or request.config.getoption("dist") == "loadgroup"
        selected = [
            item.callspec.params["case"]
            for item in request.session.items
            if hasattr(item, "callspec") and item.originalname == "test_conformance_case"
        ] if grouped else []
        _pool["futures"] = {case.name: _executor().submit(run_case, case, tmp_root / case.name) for case in selected}
    futures: dict[str, Future[list[str]]] = _pool["futures"]
    case = request.node.callspec.params["case"]
    if case.name not in futures:
        futures[case.name] = _executor().submit(run_case, case, tmp_root / case.name)
    return futures


def _executor() -> ThreadPoolExecutor:
    if _pool.get("executor") is None:
        _pool["executor"] = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="conformance")
    executor: ThreadPoolExecutor = _pool["executor"]
    return executor


@pytest.fixture(scope="module", autouse=True)
def _pool_ends_with_the_module() -> Iterator[None]:
    """No idle thread of the cases' pool outlives this module in the test process: a
    pytest-xdist worker runs other modules next, and df-gen's forked map stays serial beside
    any other thread (generator.workers). The cases' results stay with their futures."""
    yield
    executor = _pool.pop("executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


def test_every_case_is_well_formed() -> None:
    assert CASES, "no conformance cases found"
    for case in CASES:
        assert (case / "main.tf").is_file(), f"{case.name} has no main.tf"
        read_expect(case)


@pytest.mark.slow
@pytest.mark.xdist_group("conformance")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conformance_case(case: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    require_sandbox()
    futures = _futures(request, tmp_path_factory.mktemp("conformance"))
    problems = futures[case.name].result()
    assert problems == [], "\n".join(problems)
