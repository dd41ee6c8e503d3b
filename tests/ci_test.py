"""df-gen ci: generated workflows (actionlint, GitLab CI and Cloud Build schemas), hand edits, comments."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from demosupport import copy_demo
from gitchanges_test import git, init_repo

from generator.ci.comment import MARKER
from generator.ci.plankey import plan_key
from generator.cli import cli

BIN = Path(sys.executable).parent
FILES = {
    "github": [".github/workflows/df-gen-apply.yml", ".github/workflows/df-gen-drift.yml",
               ".github/workflows/df-gen-pull-request.yml"],
    "gitlab": [".gitlab-ci.yml"],
    "cloudbuild": ["cloudbuild/df-gen-apply.yaml", "cloudbuild/df-gen-drift.yaml",
                   "cloudbuild/df-gen-pull-request.yaml"],
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_demo(tmp_path)
    shutil.copytree(tmp_path / "environments" / "demo", tmp_path / "environments" / "prod",
                    ignore=shutil.ignore_patterns(".df-gen"))
    init_repo(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {BIN}: pip install -e '.[dev]'")
    return str(path)


@pytest.mark.slow  # runs each CI system's own checker (actionlint, check-jsonschema): the slow lane
@pytest.mark.parametrize("provider", sorted(FILES))
def test_generated_files_pass_the_ci_systems_checks(repo: Path, provider: str) -> None:
    result = run("ci", "environments/demo", "environments/prod", "--provider", provider)
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.output.splitlines()[:-1]] == FILES[provider]
    paths = [str(repo / name) for name in FILES[provider]]
    if provider == "github":
        checked = subprocess.run([tool("actionlint"), "-no-color", *paths], capture_output=True, text=True)
    else:
        schema = {"gitlab": "vendor.gitlab-ci", "cloudbuild": "vendor.cloudbuild"}[provider]
        checked = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, *paths],
                                 capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = "\n".join(Path(p).read_text() for p in paths)
    for env in ("environments/demo", "environments/prod"):
        assert f"df-gen validate {env}" in text and f"df-gen render {env} --check" in text
        assert f"df-gen plan {env} --all --detailed-exitcode" in text  # drift
    assert "--changed-since" in text and "df-gen ci plan-key" in text
    assert "terraform@acme-seed-prj.iam.gserviceaccount.com" in text
    assert "credentials_json" not in text and "private_key" not in text  # keyless
    if provider == "github":
        assert "df-gen ci comment --provider github" in text and "id-token: write" in text
        assert "group: df-gen-environments-prod" in text and "environment: prod" in text
    if provider == "gitlab":
        assert "resource_group: df-gen-environments-demo" in text and "when: manual" in text
        assert "GCP_ID_TOKEN" in text
    if provider == "cloudbuild":
        assert "secretManager" in text and "$$key" in text and "${_BASE_BRANCH}" in text


def test_hand_edited_workflow_is_never_overwritten(repo: Path) -> None:
    assert run("ci", "environments/demo", "--provider", "gitlab").exit_code == 0
    again = run("ci", "environments/demo", "--provider", "gitlab")
    assert again.exit_code == 0 and again.output.endswith("0 created, 0 updated, 1 unchanged\n")
    path = repo / ".gitlab-ci.yml"
    path.write_text(path.read_text() + "# our own job\n")
    result = run("ci", "environments/demo", "environments/prod", "--provider", "gitlab")
    assert result.exit_code == 1
    assert result.output == (".gitlab-ci.yml:1:1: error: edited by hand since df-gen wrote it (or not written by "
                             "df-gen); not overwritten (hint: keep your edit, or re-run df-gen ci with --force)\n")
    assert path.read_text().endswith("# our own job\n")
    assert run("ci", "environments/demo", "--provider", "gitlab", "--check").exit_code == 1
    forced = run("ci", "environments/demo", "environments/prod", "--provider", "gitlab", "--force")
    assert forced.exit_code == 0 and "plan:environments-prod" in path.read_text()
    assert run("ci", "environments/demo", "environments/prod", "--provider", "gitlab", "--check").exit_code == 0


def test_ci_outside_a_repository_and_outside_environment_are_one_line(repo: Path, tmp_path_factory) -> None:
    outside = copy_demo(tmp_path_factory.mktemp("outside"))
    result = run("ci", str(outside), "--provider", "github")
    assert result.exit_code == 1
    assert result.output == (f"error: ci: the environment directory {outside} is outside the git repository "
                             f"{repo.resolve()}\n")


def test_plan_key_follows_the_committed_environment_and_modules(repo: Path) -> None:
    env = repo / "environments" / "demo"
    first = plan_key(env)
    assert first == plan_key(env) and len(first) == 20
    (repo / "environments" / "prod" / "extra.txt").write_text("other environment\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "prod only")
    assert plan_key(env) == first
    module = next((repo / "modules" / "pipeline").glob("*.tf"))
    module.write_text(module.read_text() + "\n# changed\n")
    git(repo, "commit", "-qam", "module")
    assert plan_key(env) != first
    assert run("ci", "plan-key", "environments/demo").output.strip() == plan_key(env)


# ------------------------------------------------------------------ the comment, against a local server


class Forge:
    """A tiny GitHub/GitLab: the comment endpoints df-gen uses, in memory, on 127.0.0.1."""

    def __init__(self, token: str, preexisting: int) -> None:
        self.token = token
        self.comments: dict[int, str] = {i: f"someone else's comment {i}" for i in range(1, preexisting + 1)}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()


def handler(forge: Forge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _auth_ok(self) -> bool:
            return (self.headers.get("Authorization") == f"Bearer {forge.token}"
                    or self.headers.get("PRIVATE-TOKEN") == forge.token)

        def _answer(self, code: int, document: Any) -> None:
            data = json.dumps(document).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            path, _, query = self.path.partition("?")
            with forge.lock:
                forge.requests.append((method, path))
            if not self._auth_ok():
                return self._answer(401, {"message": "Bad credentials"})
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length)) if length else {}
            listing = path in ("/repos/acme/infra/issues/7/comments", "/projects/42/merge_requests/7/notes")
            with forge.lock:
                if method == "GET" and listing:
                    page = int(dict(p.split("=") for p in query.split("&"))["page"])
                    items = sorted(forge.comments.items())[(page - 1) * 100: page * 100]
                    return self._answer(200, [{"id": i, "body": b} for i, b in items])
                if method == "POST" and listing:
                    new = max(forge.comments, default=0) + 1
                    forge.comments[new] = payload["body"]
                    return self._answer(201, {"id": new, "body": payload["body"]})
                ident = path.rsplit("/", 1)[-1]
                if method in ("PATCH", "PUT") and ident.isdigit() and int(ident) in forge.comments:
                    forge.comments[int(ident)] = payload["body"]
                    return self._answer(200, {"id": int(ident), "body": payload["body"]})
            return self._answer(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def do_PUT(self) -> None:
            self._route("PUT")

    return Handler


@pytest.fixture
def forge() -> Iterator[tuple[Forge, str]]:
    state = Forge("t0ken", preexisting=130)  # the marker comment lands on the second page
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def report_file(tmp_path: Path, add: int) -> Path:
    counts = {"add": add, "change": 0, "replace": 0, "destroy": 0, "import": 0, "forget": 0}
    document = {
        "version": 1, "command": "plan", "mode": "gcp", "environment": "environments/dev",
        "selection": {"stacks": [], "only": False, "all": False, "changed_since": "abc123"},
        "summary": {"stacks": 1, "statuses": {"changes": 1}, "changes": counts, "destructive": 0,
                    "schema_changes": 0, "has_changes": True, "failed": 0},
        "stacks": [{"name": "pipeline-x", "kind": "pipeline", "status": "changes", "note": None, "changes": counts,
                    "resource_types": {"google_bigquery_table": counts}, "destructive": [], "schema_changes": [],
                    "error": None, "log": None, "plan_file": None}],
    }
    path = tmp_path / f"report-{add}.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("provider, env", [
    ("github", {"GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "acme/infra"}),
    ("gitlab", {"DF_GEN_GITLAB_TOKEN": "t0ken", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7"}),
])
def test_second_push_updates_the_one_comment(forge: tuple[Forge, str], tmp_path: Path, provider: str,
                                             env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    state, url = forge
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH", "DF_GEN_GITLAB_TOKEN", "CI_PROJECT_ID",
                 "CI_MERGE_REQUEST_IID", "GITHUB_API_URL", "CI_API_V4_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if provider == "github":
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 7}}))
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    args = ["ci", "comment", "--provider", provider, "--api-url", url, "--run-url", "https://ci.example/run/1"]
    first = run(*args, "--report", str(report_file(tmp_path, 3)))
    assert first.exit_code == 0, first.output
    assert first.output == "created comment 131\n"
    second = run(*args, "--report", str(report_file(tmp_path, 5)))
    assert second.output == "updated comment 131\n", second.output
    ours = [body for body in state.comments.values() if MARKER.format("environments/dev") in body]
    assert len(ours) == 1 and len(state.comments) == 131
    assert "5 to add" in ours[0] and "3 to add" not in ours[0] and "https://ci.example/run/1" in ours[0]
    edit = "PATCH" if provider == "github" else "PUT"
    assert [m for m, _ in state.requests].count(edit) == 1 and [m for m, _ in state.requests].count("POST") == 1

    monkeypatch.setenv(next(n for n in env if "TOKEN" in n), "wrong")
    refused = run(*args, "--report", str(report_file(tmp_path, 5)))
    assert refused.exit_code == 1 and refused.output.startswith(f"error: ci comment: GET {url}/")
    assert "HTTP 401" in refused.output and len(refused.output.splitlines()) == 1


# ------------------------------------------------------------------ end to end (real Terraform, sandbox)


def _pr_steps(repo: Path) -> dict[str, str]:
    import yaml

    workflow = yaml.safe_load((repo / ".github/workflows/df-gen-pull-request.yml").read_text())
    steps = workflow["jobs"]["plan-environments-demo"]["steps"]
    return {step["name"]: step["run"] for step in steps if "run" in step and "name" in step}


@pytest.mark.slow
def test_pull_request_commands_report_exactly_the_changed_stacks(applied_demo: Path, forge: tuple[Forge, str],
                                                                 tmp_path_factory: pytest.TempPathFactory,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # One environment, the demo, applied to the sandbox (tests/conftest.py); its records and
    # the sandbox under .df-gen/ stay out of git.
    repo = applied_demo.parent.parent
    init_repo(repo)
    monkeypatch.chdir(repo)
    assert run("ci", "environments/demo", "--provider", "github").exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "ci")
    base = git(repo, "rev-parse", "HEAD")

    # The head commit: one SQL file and one table schema (a new nullable column) of the retail code.
    sql = repo / "pipelines" / "retail" / "sql" / "orders.sql.j2"
    sql.write_text(sql.read_text() + "\n-- reviewed\n")
    schema_path = repo / "pipelines" / "retail" / "schemas" / "curated" / "customers.json"
    columns = json.loads(schema_path.read_text())
    columns.append({"name": "loyalty_tier", "type": "STRING", "mode": "NULLABLE", "description": "Tier"})
    schema_path.write_text(json.dumps(columns, indent=2) + "\n")
    CliRunner().invoke(cli, ["render", "environments/demo"])
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "head")
    touched_stacks = {p.split("/")[3] for p in git(repo, "diff", "--name-only", base, "HEAD").splitlines()
                      if p.startswith("environments/demo/stacks/") and p.count("/") > 3}
    assert touched_stacks and "environment" not in touched_stacks

    # The workflow's own commands, df-gen being this checkout, plan against the sandbox.
    shim = tmp_path_factory.mktemp("bin")
    (shim / "df-gen").write_text(f"#!/bin/sh\nexec {sys.executable} -c 'from generator.cli import main; main()' "
                                 "\"$@\"\n")
    (shim / "df-gen").chmod(0o755)
    state, url = forge
    steps = _pr_steps(repo)
    event = repo.parent / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    shell_env = {**dict(__import__("os").environ), "PATH": f"{shim}:{__import__('os').environ['PATH']}",
                 "PYTHONPATH": str(Path(__file__).resolve().parent.parent), "BASE": base,
                 "GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_API_URL": url,
                 "GITHUB_EVENT_PATH": str(event), "RUN_URL": "https://ci.example/run/1"}

    def step(name: str, sandbox: bool = False) -> subprocess.CompletedProcess[str]:
        script = steps[name]
        if sandbox:
            script = script.replace(" --changed-since", " --sandbox --changed-since")
        return subprocess.run(["bash", "-ceu", script], cwd=repo, env=shell_env, capture_output=True, text=True,
                              timeout=1200)

    done = step("Validate and check the rendered stacks")
    assert done.returncode == 0, done.stderr
    # The DAG check, its Airflow install replaced by the pinned test venv of the demo's image.
    airflow2 = __import__("os").environ.get("DF_GEN_AIRFLOW2_PYTHON")
    if airflow2:
        name = "Check the DAGs in the environment's Airflow (when pipeline code changed)"
        steps[name] = "\n".join(
            line.replace("/tmp/airflow-environments-demo/bin/python", airflow2) for line in steps[name].splitlines()
            if "python3 -m venv" not in line and "pip install" not in line) + "\n"
        done = step(name)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "environments/demo/stacks/pipeline-store-daily/dag.py: store-daily: ok" in done.stdout
    done = step("Plan the changed stacks", sandbox=True)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads((repo / "df-gen-reports" / "environments-demo.json").read_text())
    assert {s["name"] for s in document["stacks"]} == touched_stacks
    assert all(s["status"] == "changes" for s in document["stacks"]), document["stacks"]
    assert document["selection"]["changed_since"] == base
    for _ in range(2):  # two pushes: one comment, updated
        done = step("Post or update the plan comment")
        assert done.returncode == 0, done.stderr
    ours = [b for b in state.comments.values() if MARKER.format("environments/demo") in b]
    assert len(ours) == 1 and all(f"| {name} |" in ours[0] for name in touched_stacks)
    assert [m for m, _ in state.requests].count("POST") == 1


@pytest.mark.slow  # runs each CI system's own checker: the slow lane
@pytest.mark.parametrize("provider", sorted(FILES))
def test_promotion_chain_and_dag_checks_pass_the_ci_systems_checks(repo: Path, provider: str) -> None:
    result = run("ci", "environments/demo", "environments/prod", "--provider", provider, "--promote", "demo,prod")
    assert result.exit_code == 0, result.output
    names = [line.split()[1] for line in result.output.splitlines()[:-1]]
    extra = ["cloudbuild/df-gen-apply-environments-prod.yaml"] if provider == "cloudbuild" else []
    assert names == sorted(FILES[provider] + extra)
    paths = [str(repo / name) for name in names]
    if provider == "github":
        checked = subprocess.run([tool("actionlint"), "-no-color", *paths], capture_output=True, text=True)
    else:
        schema = {"gitlab": "vendor.gitlab-ci", "cloudbuild": "vendor.cloudbuild"}[provider]
        checked = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, *paths],
                                 capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    files = {name: (repo / name).read_text() for name in names}
    text = "\n".join(files.values())
    # Pull requests: the DAG check in the Airflow of the demo's Composer image, when pipeline code changed.
    for env in ("environments/demo", "environments/prod"):
        assert f"df-gen dags check {env} --airflow-python /tmp/airflow-{env.replace('/', '-')}/bin/python" in text
        assert "git diff --quiet" in text and f"'{env}/stacks/pipeline-*'" in text
    assert '"apache-airflow==2.10.5" apache-airflow-providers-google --constraint' in text
    # Merge: the changed DAGs run in demo only, and prod waits for demo.
    assert text.count("df-gen dags run environments/demo --pipeline") == 1
    assert "df-gen dags run environments/prod" not in text
    if provider == "github":
        apply = yaml.safe_load(files[".github/workflows/df-gen-apply.yml"])["jobs"]
        assert apply["apply-environments-prod"]["needs"] == "apply-environments-demo"
        assert "needs" not in apply["apply-environments-demo"]
        assert apply["apply-environments-prod"]["environment"] == "prod"
        last = apply["apply-environments-demo"]["steps"][-1]
        assert "df-gen dags run" in last["run"] and last["name"].endswith("before prod")
    if provider == "gitlab":
        document = yaml.safe_load(files[".gitlab-ci.yml"])
        assert document["apply:environments-prod"]["needs"] == ["apply:environments-demo"]
        assert "df-gen dags run" in document["apply:environments-demo"]["script"][-1]
    if provider == "cloudbuild":
        first = yaml.safe_load(files["cloudbuild/df-gen-apply.yaml"])["steps"]
        second = yaml.safe_load(files["cloudbuild/df-gen-apply-environments-prod.yaml"])["steps"]
        assert [s["id"] for s in first][-2:] == ["dags-run-environments-demo", "promote-environments-prod"]
        assert "gcloud builds triggers run df-gen-apply-environments-prod" in first[-1]["args"][-1]
        assert "apply-environments-prod" in [s["id"] for s in second]
        assert not any(s["id"].startswith("apply-environments-prod") for s in first)


def test_promote_names_known_environments(repo: Path) -> None:
    result = run("ci", "environments/demo", "environments/prod", "--provider", "github", "--promote", "demo,staging")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: ci: --promote names 'staging', which is not one of the environments (demo, prod)"]
    result = run("ci", "environments/demo", "--provider", "github", "--promote", "demo")
    assert result.exit_code == 1
    assert "at least two environments" in result.stderr
