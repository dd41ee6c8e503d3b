"""The runner: order, blocking, saved plans, change detection, guard, lock, sandbox overrides.

Fast tests drive the runner with a fake engine (each "terraform" call is a tiny Python
process whose output and exit code the test chooses). Slow tests run the embedded
Terraform against the sandbox on a copy of the demo environment.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from demosupport import ALL, ROOT, copy_demo, opts, statuses

from generator import runner
from generator.cli import DfGenGroup
from generator.cli_run import apply_command, destroy_command, output_command, plan_command
from generator.engine import Engine, TerraformEngine
from generator.errors import DfGenError
from generator.loader import display_path
from generator.overrides import OVERRIDE_NAME
from generator.render import MANIFEST, load_model, render
from generator.runner import session as runner_session
from generator.runner import terraform as runner_terraform
from generator.runner.orphans import orphan_stack
from generator.status import PLAN_STATUSES


def stack_tree(env_dir: Path) -> dict[str, bytes]:
    """Every file under stacks/ (what git would see)."""
    stacks = env_dir / "stacks"
    return {p.relative_to(stacks).as_posix(): p.read_bytes() for p in sorted(stacks.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ fake engine


class FakeEngine:
    """Stands in for Terraform: answers each command as the test says, records the calls.

    ``script[(stack, command)]`` is a list of ``(exit_code, output)``; each call takes the
    next one, the last one repeats. Unscripted commands succeed with plausible output.
    """

    name = "fake"
    path = "fake-terraform"

    def verify(self) -> None:
        """The stand-in is what the test says it is."""

    def __init__(self, script: dict[tuple[str, str], list[tuple[int, str]]] | None = None,
                 on_call: Callable[[str, list[str], Path], None] | None = None) -> None:
        self.script = script or {}
        self.on_call = on_call
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0

    def destroy_args(self, *extra: str) -> list[str]:
        return ["destroy", "-auto-approve", "-input=false", *extra]

    def popen(self, args: list[str], cwd: Any = None, env: Any = None, inherit_stdio: bool = False) -> Any:
        stack = Path(cwd).name
        command = args[0]
        with self.lock:
            self.calls.append((stack, command))
        if self.on_call:
            self.on_call(stack, list(args), Path(cwd))
        code, out = self._answer(stack, command)
        if command == "show" and code == 0:  # Terraform's plan JSON always carries its format version
            out = json.dumps({"format_version": "1.2", **json.loads(out)})
            Path(args[-1]).write_text(out)  # the plan file holds the plan shown
        if command == "apply" and "-json" in args and code == 0 and "change_summary" not in out:
            # What Terraform prints after applying the plan file it was given.
            out += apply_summary(json.loads(Path(args[-1]).read_text()))
        if command == "plan" and code in (0, 2):
            planfile = next(a.split("=", 1)[1] for a in args if a.startswith("-out="))
            Path(planfile).write_text("fake plan")
        return _Proc(self, code, out)

    def run(self, args: list[str], cwd: Any = None, env: Any = None, stream: Any = None) -> tuple[int, str, str]:
        proc = self.popen(args, cwd, env)
        out, err = proc._real.communicate()
        proc.wait()
        for line in out.decode().splitlines():
            stream("stdout", line)
        return proc.returncode, out.decode(), err.decode()

    def _answer(self, stack: str, command: str) -> tuple[int, str]:
        queue = self.script.get((stack, command))
        if queue:
            return queue.pop(0) if len(queue) > 1 else queue[0]
        defaults = {
            "plan": (2, "Plan: 1 to add, 0 to change, 0 to destroy.\n"),
            "show": (0, json.dumps({"resource_changes": [
                {"address": f"google_storage_bucket.{stack}", "mode": "managed",
                 "type": "google_storage_bucket", "change": {"actions": ["create"]}}]})),
            "output": (0, json.dumps({"name": {"value": stack, "type": "string", "sensitive": False}})),
            "state": (0, f"google_storage_bucket.{stack}\n"),
        }
        return defaults.get(command, (0, ""))

    def commands(self, stack: str) -> list[str]:
        return [c for s, c in self.calls if s == stack]


def apply_summary(plan: dict[str, Any], **counts: int) -> str:
    """The ``change_summary`` line ``apply -json`` prints after applying ``plan`` (or ``counts``)."""
    totals = {"add": 0, "change": 0, "import": 0, "remove": 0}
    for item in plan.get("resource_changes", []):
        if item.get("mode", "managed") != "managed":
            continue
        actions = set(item["change"]["actions"])
        totals["add"] += "create" in actions
        totals["change"] += "update" in actions
        totals["remove"] += "delete" in actions
        totals["import"] += bool(item["change"].get("importing"))
    totals.update(counts)
    message = {"@level": "info", "@message": "Apply complete! Resources: {add} added, {change} changed, "
               "{remove} destroyed.".format(**totals), "type": "change_summary",
               "changes": {**totals, "operation": "apply"}}
    return json.dumps(message) + "\n"


class _Proc:
    """A finished process with the scripted output (read through real pipes)."""

    def __init__(self, engine: FakeEngine, code: int, out: str) -> None:
        with engine.lock:
            engine.running += 1
            engine.max_running = max(engine.max_running, engine.running)
        self._engine = engine
        self._real = subprocess.Popen(
            # -I -S: an interpreter without site-packages starts in a third of the time.
            [sys.executable, "-I", "-S", "-c",
             f"import sys, time; time.sleep(0.05); sys.stdout.write({out!r}); sys.exit({code})"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.stdout = self._real.stdout
        self.stderr = self._real.stderr

    @property
    def returncode(self) -> int | None:
        return self._real.returncode

    def wait(self) -> int:
        code = self._real.wait()
        with self._engine.lock:
            if self._engine.running:
                self._engine.running -= 1
        return code

    def send_signal(self, sig: int) -> None:
        self._real.send_signal(sig)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeEngine]]:
    """Install a fake engine; returns a factory taking the script."""
    holder: dict[str, FakeEngine] = {}

    def install(script: dict[tuple[str, str], list[tuple[int, str]]] | None = None,
                on_call: Callable[[str, list[str], Path], None] | None = None) -> FakeEngine:
        holder["engine"] = FakeEngine(script, on_call)
        return holder["engine"]

    def resolve(*args: Any, **kwargs: Any) -> FakeEngine:
        assert isinstance(holder["engine"], TerraformEngine)  # the runner gets only what it may use
        return holder["engine"]

    monkeypatch.setattr(runner_session, "resolve_engine", resolve)
    monkeypatch.setenv(runner_terraform.ENV_RETRY_BACKOFF, "0")
    yield install


def _protocol_members(protocol: type) -> dict[str, inspect.Signature | None]:
    """The members a Protocol declares: methods with their signatures, attributes with None."""
    members: dict[str, inspect.Signature | None] = dict.fromkeys(protocol.__annotations__)
    for name, value in vars(protocol).items():
        if inspect.isfunction(value) and not name.startswith("_"):
            members[name] = inspect.signature(value)
    return members


def _conformance_problems(candidate: type, protocol: type) -> list[str]:
    """Why ``candidate`` is not a ``protocol`` (members and call signatures), empty when it is."""
    problems = []
    for name, signature in _protocol_members(protocol).items():
        if not hasattr(candidate, name) and name not in getattr(candidate, "__annotations__", {}) \
                and name not in getattr(candidate, "__dataclass_fields__", {}):
            problems.append(f"no {name}")
        elif signature is not None:
            theirs = inspect.signature(getattr(candidate, name))
            positional = [p.name for p in signature.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
            try:  # every call the runner may make must bind: positional, then by keyword
                theirs.bind(*positional)
                theirs.bind(positional[0], **{p: None for p in positional[1:]})
            except TypeError as exc:
                problems.append(f"{name}{theirs}: {exc}")
    return problems


@pytest.mark.parametrize("candidate", [FakeEngine, Engine], ids=["fake", "real"])
def test_fake_and_real_engines_are_terraform_engines(candidate: type) -> None:
    assert _conformance_problems(candidate, TerraformEngine) == []


def test_an_engine_without_a_member_the_runner_uses_is_refused() -> None:
    class Partial:
        name = path = "partial"

        def verify(self) -> None: ...

        def popen(self, args: list[str]) -> Any: ...  # no cwd or env

        def run(self, args: list[str], cwd: Any = None, env: Any = None, stream: Any = None) -> Any: ...

    assert not isinstance(Partial(), TerraformEngine)  # destroy_args is missing
    problems = _conformance_problems(Partial, TerraformEngine)
    assert problems[0].startswith("popen(") and problems[0].endswith("too many positional arguments")
    assert problems[1:] == ["no destroy_args"]


# ------------------------------------------------------------------ selection and errors


def test_select_stacks_with_dependencies_only_and_reverse(demo: Path) -> None:
    model = load_model(demo)
    assert runner.select_stacks(model, [], False) == ALL
    assert runner.select_stacks(model, ["pipeline-store-daily"], False) == [
        "environment", "datasource-store", "pipeline-store-daily"]
    assert runner.select_stacks(model, ["pipeline-store-daily"], True) == ["pipeline-store-daily"]
    # destroy: a stack goes with the stacks that need it
    assert runner.select_stacks(model, ["datasource-store"], False, reverse=True) == [
        "datasource-store", "pipeline-store-daily"]
    with pytest.raises(DfGenError, match="no stack named nope"):
        runner.select_stacks(model, ["nope"], False)


# ------------------------------------------------------------------ runs with a fake engine


def test_apply_in_order_records_fingerprints_then_plan_skips_without_terraform(demo: Path, fake) -> None:
    engine = fake()
    report = runner.apply(opts(demo, auto_approve=True))
    assert statuses(report) == {name: "applied" for name in ALL}
    order = [(s, c) for s, c in engine.calls if c == "apply"]
    applied = [s for s, _ in order]
    assert applied[0] == "environment"
    for pipeline, source in (("pipeline-store-daily", "datasource-store"),
                             ("pipeline-ecommerce-hourly", "datasource-ecommerce")):
        assert applied.index(source) < applied.index(pipeline)
        # a dependant starts only after its upstream recorded its outputs
        first_call = engine.calls.index((pipeline, "init"))
        assert engine.calls.index((source, "output")) < first_call
    records = json.loads((demo / ".df-gen" / "gcp" / "fingerprints.json").read_text())
    assert sorted(records["stacks"]) == sorted(ALL)

    engine = fake()
    report = runner.plan(opts(demo))
    assert statuses(report) == {name: "skipped" for name in ALL}
    assert engine.calls == []
    report = runner.plan(opts(demo, all_stacks=True))
    assert statuses(report) == {name: "changes" for name in ALL}  # the fake always has changes


def test_failed_stack_blocks_its_dependants_not_its_siblings(demo: Path, fake) -> None:
    error = "Planning failed.\n\nError: bucket name taken\n\n  with google_storage_bucket.landing,\n"
    fake({("datasource-store", "plan"): [(1, error)]})
    report = runner.apply(opts(demo, auto_approve=True))
    assert statuses(report) == {
        "environment": "applied", "datasource-ecommerce": "applied", "datasource-store": "failed",
        "pipeline-ecommerce-hourly": "applied", "pipeline-store-daily": "blocked"}
    failed = next(r for r in report.results if r.name == "datasource-store")
    assert failed.command.startswith("terraform plan ") and failed.exit_code == 1
    assert failed.error[0] == "Error: bucket name taken"
    assert failed.log == demo.resolve() / ".df-gen" / "gcp" / "logs" / "datasource-store.log"
    assert "Error: bucket name taken" in failed.log.read_text()
    text = "\n".join(report.summary_lines())
    assert "$ terraform plan" in text and "(exit code 1)" in text and "| Error: bucket name taken" in text
    assert "not run: datasource-store did not succeed" in text


def test_transient_errors_are_retried_then_give_up(demo: Path, fake) -> None:
    engine = fake({("environment", "plan"): [(1, "Error: googleapi: Error 503: backendError\n"),
                                             (2, "Plan: 1 to add\n")]})
    report = runner.plan(opts(demo, stacks=("environment",)))
    assert statuses(report) == {"environment": "changes"}
    assert engine.commands("environment").count("plan") == 2

    engine = fake({("environment", "plan"): [(1, "Error: googleapi: Error 429: rateLimitExceeded\n")]})
    report = runner.plan(opts(demo, stacks=("environment",)))
    assert statuses(report) == {"environment": "failed"}
    assert engine.commands("environment").count("plan") == runner_terraform.MAX_ATTEMPTS

    engine = fake({("environment", "plan"): [(1, "Error: Invalid value\n")]})
    runner.plan(opts(demo, stacks=("environment",)))
    assert engine.commands("environment").count("plan") == 1


def test_failed_apply_spends_the_saved_plan_and_transient_apply_errors_replan(demo: Path, fake) -> None:
    engine = fake({("environment", "apply"): [(1, "Error: googleapi: Error 503: backendError\n"), (0, "")]})
    report = runner.apply(opts(demo, auto_approve=True, stacks=("environment",)))
    assert statuses(report) == {"environment": "applied"}
    assert engine.commands("environment") == ["init", "plan", "show", "apply", "plan", "show", "apply", "output"]

    fake({("environment", "apply"): [(1, "Error: Quota exhausted for good\n")]})
    report = runner.apply(opts(demo, auto_approve=True, all_stacks=True, stacks=("environment",)))
    assert statuses(report) == {"environment": "failed"}
    assert not (demo / ".df-gen" / "gcp" / "plans" / "environment.tfplan").exists()


def test_saved_plan_is_applied_when_current_and_replanned_when_inputs_changed(demo: Path, fake) -> None:
    engine = fake()
    runner.plan(opts(demo))
    engine = fake()
    report = runner.apply(opts(demo, auto_approve=True, stacks=("environment",)))
    assert engine.commands("environment") == ["apply", "output"]  # the saved plan, no new plan
    assert report.results[0].note == "applied the saved plan"

    # A module change after the plan: the pipelines' saved plans are stale.
    engine = fake()
    runner.plan(opts(demo))
    with open(demo.parent.parent / "modules" / "pipeline" / "main.tf", "a") as fh:
        fh.write("\n# changed after the plan\n")
    engine = fake()
    report = runner.apply(opts(demo, auto_approve=True))
    notes = {r.name: r.note for r in report.results}
    assert notes["pipeline-store-daily"] == "re-planned: inputs changed since the saved plan"
    assert notes["datasource-store"] == "applied the saved plan"
    assert "plan" in engine.commands("pipeline-store-daily")
    assert "plan" not in engine.commands("datasource-store")


def test_data_loss_guard_flags_and_refuses_without_allow_destroy(demo: Path, fake) -> None:
    replace = json.dumps({"resource_changes": [
        {"address": "module.pipeline.google_bigquery_table.tables[\"curated-orders\"]", "mode": "managed",
         "type": "google_bigquery_table", "change": {"actions": ["delete", "create"]}},
        {"address": "module.pipeline.google_storage_bucket_object.files[\"a\"]", "mode": "managed",
         "type": "google_storage_bucket_object", "change": {"actions": ["delete"]}}]})
    script = {("pipeline-store-daily", "show"): [(0, replace)]}
    fake()
    runner.apply(opts(demo, auto_approve=True))
    with open(demo.parent.parent / "modules" / "pipeline" / "tables.tf", "a") as fh:
        fh.write("\n# a change that (in this script) replaces a table\n")
    fake(dict(script))
    report = runner.plan(opts(demo))
    entry = next(s for s in report.plan_document()["stacks"] if s["name"] == "pipeline-store-daily")
    assert entry["destructive"] == ["module.pipeline.google_bigquery_table.tables[\"curated-orders\"]"]
    assert entry["changes"] == {"add": 1, "change": 0, "replace": 1, "destroy": 2, "import": 0, "forget": 0}
    assert "DATA LOSS" in "\n".join(report.summary_lines())

    engine = fake(dict(script))
    report = runner.apply(opts(demo, auto_approve=True))
    refused = next(r for r in report.results if r.name == "pipeline-store-daily")
    assert refused.status == "failed" and "--allow-destroy" in refused.note
    assert "apply" not in engine.commands("pipeline-store-daily")
    assert statuses(report)["pipeline-ecommerce-hourly"] == "applied"

    engine = fake(dict(script))
    report = runner.apply(opts(demo, auto_approve=True, allow_destroy=True))
    assert statuses(report)["pipeline-store-daily"] == "applied"


def test_apply_asks_once_and_refuses_without_a_terminal(demo: Path, fake) -> None:
    fake()
    with pytest.raises(DfGenError, match="needs a confirmation.*--auto-approve"):
        runner.apply(opts(demo))
    asked: list[runner.RunReport] = []
    engine = fake()
    with pytest.raises(DfGenError, match="apply cancelled"):
        runner.apply(opts(demo), confirm=lambda report: asked.append(report) or False)
    assert len(asked) == 1 and asked[0].command == "plan"
    assert all(c != "apply" for _, c in engine.calls)
    engine = fake()
    report = runner.apply(opts(demo), confirm=lambda report: asked.append(report) or True)
    assert len(asked) == 2 and statuses(report) == {name: "applied" for name in ALL}
    shown = {r.name: r.status for r in asked[1].results}
    assert shown["environment"] == "changes" and shown["datasource-store"] == "changes"
    # stacks reading the environment's outputs wait for its first apply, then get planned
    assert shown["datasource-ecommerce"] == shown["pipeline-store-daily"] == "blocked"
    assert all(engine.commands(name).count("plan") == 1 for name in ALL)  # nothing planned twice


def test_destroy_runs_backwards_and_a_second_destroy_succeeds(demo: Path, fake) -> None:
    fake()
    runner.apply(opts(demo, auto_approve=True))
    engine = fake()
    report = runner.destroy(opts(demo, auto_approve=True))
    assert statuses(report) == {name: "destroyed" for name in ALL}
    destroyed = [s for s, c in engine.calls if c == "destroy"]
    assert destroyed[-1] == "environment"
    assert destroyed.index("pipeline-store-daily") < destroyed.index("datasource-store")
    assert not json.loads((demo / ".df-gen" / "gcp" / "fingerprints.json").read_text())["stacks"]
    engine = fake({(name, "state"): [(0, "")] for name in ALL})
    report = runner.destroy(opts(demo, auto_approve=True))
    assert statuses(report) == {name: "skipped" for name in ALL}
    assert all(c != "destroy" for _, c in engine.calls)


def test_parallelism_bounds_concurrent_terraform(demo: Path, fake) -> None:
    engine = fake()
    runner.apply(opts(demo, parallelism=1, auto_approve=True))
    assert engine.max_running == 1
    shutil.rmtree(demo / ".df-gen")
    engine = fake()
    runner.apply(opts(demo, parallelism=4, auto_approve=True))
    assert engine.max_running == 2  # two data sources, then two pipelines, side by side


def test_out_of_date_stacks_are_refused(demo: Path, fake) -> None:
    fake()
    path = demo / "pipelines" / "store-daily.yaml"
    path.write_text(path.read_text().replace("retries: 2", "retries: 4").replace("retries: 3", "retries: 4"))
    with pytest.raises(DfGenError, match="stacks/ is out of date with the descriptors; run df-gen render"):
        runner.plan(opts(demo))


def test_stack_without_descriptor_or_main_tf_must_be_destroyed_before_other_runs(demo: Path, fake) -> None:
    # The hourly pipeline: without it the environment stays as it is (the daily one still
    # needs the same service agents and tag grants), so the other stacks are unchanged.
    fake()
    runner.apply(opts(demo, auto_approve=True))
    (demo / "pipelines" / "ecommerce-hourly.yaml").unlink()
    (demo / "stacks" / "pipeline-ecommerce-hourly" / "main.tf").unlink()  # nothing left to retire it from
    render(demo)  # reports the orphan, keeps its files
    with pytest.raises(DfGenError, match="descriptor was removed and that have no main.tf to release their "
                                         "resources from: pipeline-ecommerce-hourly; destroy them"):
        runner.plan(opts(demo))
    engine = fake()
    report = runner.destroy(opts(demo, auto_approve=True, stacks=("pipeline-ecommerce-hourly",)))
    assert statuses(report) == {"pipeline-ecommerce-hourly": "destroyed"}
    assert engine.commands("pipeline-ecommerce-hourly") == ["init", "state", "destroy"]
    render(demo, prune=True)
    assert statuses(runner.plan(opts(demo))) == {
        name: "skipped" for name in ALL if name != "pipeline-ecommerce-hourly"}


def test_orphaned_stacks_keep_their_dependency_order_and_prune_waits_for_destroy(demo: Path, fake) -> None:
    fake()
    runner.apply(opts(demo, auto_approve=True))
    (demo / "datasources" / "store.yaml").unlink()
    (demo / "pipelines" / "store-daily.yaml").unlink()
    render(demo)
    assert orphan_stack(demo / "stacks" / "pipeline-store-daily").needs == ("environment", "datasource-store")
    # Prune refuses: df-gen applied these stacks and has not released or destroyed them.
    with pytest.raises(DfGenError) as raised:
        render(demo, prune=True)
    records = display_path(demo / ".df-gen" / "gcp" / "fingerprints.json")
    assert raised.value.lines() == [
        f"{display_path(demo / 'stacks' / name)}: error: not pruned: df-gen applied this stack and has not "
        f"released or destroyed it ({records}); its files are the only way to reach its resources (hint: release "
        f"them: df-gen apply {display_path(demo)} (with --sandbox for the sandbox; --destroy-removed destroys them "
        "instead), then prune)"
        for name in ("datasource-store", "pipeline-store-daily")]
    assert (demo / "stacks" / "datasource-store" / "main.tf").is_file()
    # Destroying the data source takes its orphaned pipeline along, pipeline first.
    order: list[str] = []
    engine = fake(on_call=lambda stack, args, cwd: order.append(stack) if args[0] == "destroy" else None)
    report = runner.destroy(opts(demo, auto_approve=True, stacks=("datasource-store",), parallelism=4))
    assert statuses(report) == {"pipeline-store-daily": "destroyed", "datasource-store": "destroyed"}
    assert order == ["pipeline-store-daily", "datasource-store"]
    assert engine.commands("environment") == []
    pruned = render(demo, prune=True)
    assert "datasource-store/main.tf" in pruned.deleted and "pipeline-store-daily/main.tf" in pruned.deleted


def test_cleanup_after_a_killed_run_is_reported(demo: Path, fake, capsys: pytest.CaptureFixture[str]) -> None:
    stale = demo / "stacks" / "environment" / OVERRIDE_NAME
    stale.write_text("# left by a run that was killed\n")
    fake()
    runner.plan(opts(demo))
    assert not stale.exists()
    assert capsys.readouterr().err == f"{display_path(stale)}: removed, left behind by an interrupted or killed run\n"


def test_second_run_is_refused_while_the_lock_is_held(demo: Path, fake) -> None:
    fake()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\nfrom generator.lock import env_lock\n"
         f"with env_lock(Path({str(demo)!r})):\n    print('held', flush=True)\n    time.sleep(30)\n"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DfGenError, match=rf"another df-gen run \(pid {holder.pid}\) holds .*\.df-gen/lock"):
            runner.plan(opts(demo))
    finally:
        holder.kill()
        holder.wait()
    runner.plan(opts(demo))  # the lock went with its process


def test_sandbox_override_exists_only_during_the_run(demo: Path, fake) -> None:
    before = stack_tree(demo)
    seen: dict[str, str] = {}

    def look(stack: str, args: list[str], cwd: Path) -> None:
        path = cwd / OVERRIDE_NAME
        seen[stack] = path.read_text() if path.exists() else ""

    fake(on_call=look)
    runner.apply(opts(demo, sandbox=True, auto_approve=True))
    state = (demo / ".df-gen" / "sandbox" / "state").resolve()
    assert f'path = "{state}/environment.tfstate"' in seen["environment"]
    assert "impersonate_service_account = null" in seen["environment"]
    assert 'data "terraform_remote_state" "environment"' not in seen["environment"]
    assert 'data "terraform_remote_state" "environment"' in seen["pipeline-store-daily"]
    assert f'path = "{state}/pipeline-store-daily.tfstate"' in seen["pipeline-store-daily"]
    assert stack_tree(demo) == before  # nothing left behind, nothing changed

    # A crash left one behind: the next run (any mode) removes it before Terraform runs.
    (demo / "stacks" / "environment" / OVERRIDE_NAME).write_text("# stale\n")
    seen.clear()
    fake(on_call=look)
    runner.plan(opts(demo, all_stacks=True))
    assert seen["environment"] == ""
    assert stack_tree(demo) == before


def test_sandbox_and_gcp_runs_keep_separate_data(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    envs: dict[str, str] = {}

    class Spy(FakeEngine):
        def popen(self, args: list[str], cwd: Any = None, env: Any = None, inherit_stdio: bool = False) -> Any:
            envs[f"{Path(cwd).name}:{'sandbox' if 'DF_GEN_SANDBOX_DIR' in env else 'gcp'}"] = env["TF_DATA_DIR"]
            return super().popen(args, cwd, env)

    engine = Spy()
    monkeypatch.setattr(runner_session, "resolve_engine", lambda *a, **k: engine)
    runner.plan(opts(demo, stacks=("environment",)))
    runner.plan(opts(demo, stacks=("environment",), sandbox=True))
    base = demo.resolve() / ".df-gen"
    assert envs["environment:gcp"] == str(base / "gcp" / "tfdata" / "environment")
    assert envs["environment:sandbox"] == str(base / "sandbox" / "tfdata" / "environment")


# ------------------------------------------------------------------ CLI


@pytest.fixture
def cli() -> click.Group:
    group = DfGenGroup(name="df-gen")
    for command in (plan_command, apply_command, destroy_command, output_command):
        group.add_command(command)
    return group


def test_plan_json_document_and_detailed_exitcode(demo: Path, fake, cli: click.Group) -> None:
    fake()
    assert CliRunner().invoke(cli, ["apply", str(demo), "--auto-approve"]).exit_code == 0
    fake({("datasource-store", "plan"): [(1, "Error: nope\n")]})
    result = CliRunner().invoke(cli, ["plan", str(demo), "--json", "--all"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [s["name"] for s in document["stacks"]] == ALL
    for entry in document["stacks"]:
        assert set(entry) >= {"name", "kind", "status", "changes", "destructive"}
        assert entry["kind"] in ("environment", "datasource", "pipeline")
        assert entry["status"] in PLAN_STATUSES
        assert (entry["changes"] is None) == (entry["status"] in ("skipped", "blocked", "failed"))
    assert document["summary"] == {"skipped": 0, "no-changes": 0, "changes": 3, "blocked": 1, "failed": 1}
    failed = next(s for s in document["stacks"] if s["status"] == "failed")
    assert failed["error"]["lines"] == ["Error: nope"] and failed["error"]["log"].endswith("datasource-store.log")

    fake()
    result = CliRunner().invoke(cli, ["plan", str(demo), "--detailed-exitcode", "--stack", "environment", "--all"])
    assert result.exit_code == 2, result.output
    assert "environment" in result.stdout and "1 to add, 0 to change, 0 to destroy" in result.stdout


def test_stale_saved_plan_reports_what_was_applied(demo: Path, fake) -> None:
    """'Saved plan is stale': the summary shows the new plan Terraform applied, not the old one."""
    old = {"resource_changes": [
        {"address": f"google_storage_bucket.b{i}", "mode": "managed", "type": "google_storage_bucket",
         "change": {"actions": ["update"]}} for i in range(15)]}
    new = {"resource_changes": [
        {"address": "google_storage_bucket.b0", "mode": "managed", "type": "google_storage_bucket",
         "change": {"actions": ["update"]}}]}
    fake({("environment", "show"): [(0, json.dumps(old))]})
    report = runner.plan(opts(demo, stacks=("environment",), only=True))
    assert report.results[0].changes == {"add": 0, "change": 15, "replace": 0, "destroy": 0, "import": 0, "forget": 0}
    engine = fake({("environment", "apply"): [(1, "Error: Saved plan is stale\n"), (0, "Apply complete!\n")],
                   ("environment", "show"): [(0, json.dumps(new))]})
    report = runner.apply(opts(demo, stacks=("environment",), only=True, auto_approve=True))
    [result] = report.results
    assert (result.status, result.changes) == ("applied", {"add": 0, "change": 1, "replace": 0, "destroy": 0,
                                                           "import": 0, "forget": 0})
    assert result.note == "planned again and applied: the saved plan could not be applied as it was"
    assert engine.commands("environment").count("apply") == 2


def test_damaged_plan_record_is_planned_again(demo: Path, fake) -> None:
    fake()
    runner.plan(opts(demo, stacks=("environment",), only=True))
    meta = demo / ".df-gen" / "gcp" / "plans" / "environment.json"
    record = json.loads(meta.read_text())
    record["changes"] = None
    meta.write_text(json.dumps(record))
    engine = fake()
    report = runner.apply(opts(demo, stacks=("environment",), only=True, auto_approve=True))
    assert [(r.name, r.status) for r in report.results] == [("environment", "applied")]
    assert report.results[0].note == "re-planned: inputs changed since the saved plan"
    assert engine.commands("environment").count("plan") == 1


@pytest.mark.parametrize("damage", ['{"resources": {"google_project/x": {"ty', "[]"])
def test_damaged_sandbox_store_is_one_line(demo: Path, fake, cli: click.Group, damage: str) -> None:
    fake()
    store = demo / ".df-gen" / "sandbox" / "store.json"
    store.parent.mkdir(parents=True)
    store.write_text(damage)
    result = CliRunner().invoke(cli, ["plan", str(demo), "--sandbox"])
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {display_path(store)}: ")
    assert line.endswith(f"restore it from a copy, or delete {display_path(store.parent)} to start the sandbox "
                         "afresh")


@pytest.mark.parametrize("damage", ['{"resources": {"google_project/x": {"ty', "[]"])
def test_damaged_sandbox_store_is_one_line_in_the_passthrough(tmp_path: Path, cli: click.Group, damage: str) -> None:
    """df-gen terraform --sandbox checks the store as plan and apply do (no provider traceback)."""
    store = tmp_path / "box" / "store.json"
    store.parent.mkdir()
    store.write_text(damage)
    from generator.cli_terraform import terraform_command

    cli.add_command(terraform_command)
    result = CliRunner().invoke(cli, ["terraform", "--sandbox", "--sandbox-dir", str(store.parent), "--", "plan"])
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {display_path(store)}: ")
    assert line.endswith(f"restore it from a copy, or delete {display_path(store.parent)} to start the sandbox "
                         "afresh")


def test_cli_apply_without_terminal_refuses_and_output_prints_values(demo: Path, fake, cli: click.Group) -> None:
    fake()
    result = CliRunner().invoke(cli, ["apply", str(demo)])
    assert result.exit_code == 1
    assert "apply needs a confirmation: run it in a terminal, or pass --auto-approve" in result.output
    result = CliRunner().invoke(cli, ["apply", str(demo), "--auto-approve"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["output", str(demo)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f'{name}.name = "{name}"' for name in ALL]
    result = CliRunner().invoke(cli, ["output", str(demo), "--json", "--stack", "datasource-store", "--only"])
    assert json.loads(result.stdout) == {"datasource-store": {"name": "datasource-store"}}


def test_cli_apply_in_a_terminal_shows_the_plans_and_asks_once(demo: Path, fake, cli: click.Group,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import cli_run

    monkeypatch.setattr(cli_run, "_can_ask", lambda: True)
    engine = fake()
    result = CliRunner().invoke(cli, ["apply", str(demo)], input="n\n")
    assert result.exit_code == 1
    assert result.stdout.count("Apply the changes of 2 stack(s) (gcp)? [y/N]") == 1
    assert "apply cancelled; nothing was changed" in result.output
    assert all(c != "apply" for _, c in engine.calls)
    engine = fake()
    result = CliRunner().invoke(cli, ["apply", str(demo)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "apply (gcp): 5 stacks: 5 applied" in result.stdout
    result = CliRunner().invoke(cli, ["destroy", str(demo)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Destroy every resource of 5 stack(s) (gcp)" in result.stdout


# ------------------------------------------------------------------ real Terraform (slow)


def sandbox_store(env_dir: Path) -> dict[str, Any]:
    path = env_dir / ".df-gen" / "sandbox" / "store.json"
    return json.loads(path.read_text())["resources"] if path.exists() else {}


def state_addresses(env_dir: Path) -> dict[str, list[str]]:
    found = {}
    for path in sorted((env_dir / ".df-gen" / "sandbox" / "state").glob("*.tfstate")):
        state = json.loads(path.read_text())
        found[path.stem] = sorted(
            f"{r.get('module', '')}.{r['type']}.{r['name']}[{i.get('index_key', '')}]"
            for r in state.get("resources", []) if r["mode"] == "managed" for i in r["instances"])
    return found


@pytest.mark.slow
def test_a_file_added_by_hand_is_planned_not_skipped(applied_demo: Path) -> None:
    applied = applied_demo
    extra = applied / "stacks" / "datasource-store" / "extra.tf"
    extra.write_text('resource "google_storage_bucket" "extra" {\n  name     = "acme-demo-hand-added"\n'
                     '  project  = "acme-demo-lnd"\n  location = "EU"\n}\n')
    try:
        report = runner.plan(opts(applied, sandbox=True))
        # Its dependant is planned too (the upstream may change what it reads): no changes there.
        assert statuses(report) == {**{name: "skipped" for name in ALL}, "datasource-store": "changes",
                                    "pipeline-store-daily": "no-changes"}, report.summary_lines()
        [store] = [r for r in report.results if r.name == "datasource-store"]
        assert store.changes == {"add": 1, "change": 0, "replace": 0, "destroy": 0, "import": 0, "forget": 0}, \
            report.summary_lines()
    finally:
        extra.unlink()
    assert statuses(runner.plan(opts(applied, sandbox=True))) == {name: "skipped" for name in ALL}


@pytest.mark.slow
def test_sandbox_lifecycle_of_the_demo(applied_demo: Path, applied_demo_once: Path) -> None:
    env_dir = applied_demo  # a copy of the demo applied once per session (tests/conftest.py)
    tree = stack_tree(env_dir)
    assert not any(name.endswith((OVERRIDE_NAME, ".terraform.lock.hcl")) for name in tree)
    assert MANIFEST in tree

    started = time.monotonic()
    report = runner.plan(opts(env_dir, sandbox=True))
    assert statuses(report) == {name: "skipped" for name in ALL}
    assert time.monotonic() - started < 5

    report = runner.plan(opts(env_dir, sandbox=True, all_stacks=True))
    assert statuses(report) == {name: "no-changes" for name in ALL}, report.summary_lines()
    # The copy is a demo of its own: nothing it holds names the directory it was copied from.
    original = str(applied_demo_once.resolve())
    assert [p for p in env_dir.rglob("*") if p.is_file() and original.encode() in p.read_bytes()] == []

    outputs = runner.outputs_document(runner.output(opts(env_dir, sandbox=True)))
    assert sorted(outputs) == sorted(ALL)
    assert outputs["environment"]["projects"]["landing"]["project_id"] == "acme-demo-lnd"
    assert outputs["datasource-store"]["buckets"]["landing"] == "acme-demo-store-landing"

    # One pipeline code file changes: only the stacks rendered from it are planned.
    sql = env_dir.parent.parent / "pipelines" / "retail" / "sql" / "customers.sql.j2"
    sql.write_text(sql.read_text() + "\n-- reviewed\n")
    render(env_dir)
    report = runner.plan(opts(env_dir, sandbox=True))
    assert statuses(report) == {"environment": "skipped", "datasource-ecommerce": "skipped",
                                "datasource-store": "skipped", "pipeline-ecommerce-hourly": "changes",
                                "pipeline-store-daily": "changes"}, report.summary_lines()
    report = runner.apply(opts(env_dir, sandbox=True, auto_approve=True))
    assert {r.name: r.note for r in report.results}["pipeline-store-daily"] == "applied the saved plan"
    # apply ran with -json (Terraform's evidence); the log holds the human text.
    log = (env_dir / ".df-gen" / "sandbox" / "logs" / "pipeline-store-daily.log").read_text()
    assert "\nApply complete! Resources: 0 added, 1 changed, 0 destroyed.\n" in log, log
    assert '"@message"' not in log
    assert statuses(runner.plan(opts(env_dir, sandbox=True))) == {name: "skipped" for name in ALL}

    report = runner.destroy(opts(env_dir, sandbox=True, auto_approve=True))
    assert statuses(report) == {name: "destroyed" for name in ALL}, report.summary_lines()
    assert sandbox_store(env_dir) == {}
    report = runner.destroy(opts(env_dir, sandbox=True, auto_approve=True))
    assert statuses(report) == {name: "skipped" for name in ALL}, report.summary_lines()
    tree_after = stack_tree(env_dir)
    changed = {k for k in tree if tree_after.get(k) != tree[k]} | (set(tree_after) - set(tree))
    assert changed == {"pipeline-ecommerce-hourly/sql/customers.sql", "pipeline-store-daily/sql/customers.sql",
                       MANIFEST}  # the re-render, nothing from the runs


@pytest.mark.slow
def test_interrupt_stops_terraform_gracefully_and_exits_130(tmp_path: Path) -> None:
    env_dir = copy_demo(tmp_path)
    before = stack_tree(env_dir)
    script = ("from generator.cli import cli\nfrom generator.cli_run import apply_command\n"
              "cli.add_command(apply_command)\ncli(prog_name='df-gen')\n")
    env = dict(os.environ, DF_GEN_SANDBOX_APPLY_DELAY="1", NO_COLOR="1")
    # A new session: no terminal, so df-gen itself must pass the interrupt on to Terraform.
    proc = subprocess.Popen([sys.executable, "-c", script, "apply", str(env_dir), "--sandbox", "--auto-approve"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "environment: apply ..." in line:
            break
    # Interrupt once Terraform is creating resources: it then owns SIGINT. With a fixed
    # two-second sleep, on a loaded machine, Terraform applied the whole environment though
    # df-gen exited 130, and the apply below found no changes: most likely the interrupt
    # came while the embedded engine was still starting (generator/tfshim.py), before
    # Terraform's own handler existed, and was lost.
    log = env_dir / ".df-gen" / "sandbox" / "logs" / "environment.log"
    deadline = time.monotonic() + 240
    while not (log.is_file() and "Creating..." in log.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(seen)
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, "".join(seen) + err
    assert "interrupted" in err
    assert stack_tree(env_dir) == before  # override files removed
    # Terraform stopped gracefully: its state is consistent and the next apply finishes the job.
    report = runner.apply(opts(env_dir, sandbox=True, auto_approve=True))
    assert statuses(report) == {name: "applied" for name in ALL}, report.summary_lines()


@pytest.mark.slow
def test_sandbox_failure_blocks_dependants_and_parallel_matches_serial(tmp_path: Path, applied_demo: Path) -> None:
    # Serial run of a second copy: same stacks, same resources as the parallel fixture run.
    serial = copy_demo(tmp_path / "serial")
    report = runner.apply(opts(serial, sandbox=True, auto_approve=True, parallelism=1))
    assert statuses(report) == {name: "applied" for name in ALL}

    # A third copy where the store's landing bucket name is already taken (GCS names are
    # global): datasource-store fails, its pipeline is blocked, the siblings are applied.
    broken = copy_demo(tmp_path / "broken")
    from generator.sandbox.store import Store

    store = Store(broken / ".df-gen" / "sandbox")
    store.put("google_storage_bucket", "acme-demo-store-landing", {"name": "acme-demo-store-landing"})
    report = runner.apply(opts(broken, sandbox=True, auto_approve=True))
    assert statuses(report) == {
        "environment": "applied", "datasource-ecommerce": "applied", "datasource-store": "failed",
        "pipeline-ecommerce-hourly": "applied", "pipeline-store-daily": "blocked"}, report.summary_lines()
    failed = next(r for r in report.results if r.status == "failed")
    assert failed.command.startswith("terraform apply") and failed.exit_code == 1
    assert any("acme-demo-store-landing" in line and "already exists" in line for line in failed.error)
    assert failed.log and failed.log.is_file()
    assert not (broken / ".df-gen" / "sandbox" / "state" / "pipeline-store-daily.tfstate").exists()

    expected = state_addresses(serial)
    assert sorted(expected) == sorted(ALL)
    parallel = applied_demo  # applied once per session with --parallelism 4 (tests/conftest.py)
    assert state_addresses(parallel) == expected
    assert sorted(sandbox_store(parallel)) == sorted(sandbox_store(serial))
    assert os.path.exists(parallel / ".df-gen" / "sandbox" / "fingerprints.json")
