"""``df-gen dags check``: every rendered DAG loaded into a matching Airflow's DagBag.

The DAG folder Composer would hold is laid out in a temporary directory from the rendered
pipeline stacks (each stack's ``files`` upload map: object name -> file in the stack), then
``probe.py`` loads each DAG file in the chosen Airflow interpreter. Problems are reported
at the rendered file in ``stacks/`` (what Terraform uploads).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.dags.airflows import Airflow, candidates, select
from generator.errors import DfGenError
from generator.loader import display_path
from generator.model import Model, Stack
from generator.resources import data_dir

# Composer's DAG processor stops and retries files that take longer; Google's advice for
# Composer is to keep top-level DAG code fast (see "Cloud Composer: write DAGs",
# https://cloud.google.com/composer/docs/composer-3/write-dags). df-gen's bar: 2 s.
PARSE_LIMIT_SECONDS = 2.0
_PROBE = Path(__file__).with_name("probe.py")
_UPLOAD = re.compile(r'^"\$\{path\.module\}/(.+)"$')


@dataclass(frozen=True)
class Problem:
    """One finding: where (rendered file, line), what kind, and the message."""

    path: str
    line: int
    kind: str
    message: str

    def format(self) -> str:
        """``path:line:col: error: message`` (line 0: the file as a whole)."""
        where = f"{self.path}:{self.line}:1" if self.line else self.path
        return f"{where}: error: {self.message}"


@dataclass(frozen=True)
class DagFile:
    """The result for one uploaded DAG file of one pipeline stack."""

    stack: str
    path: str
    dags: tuple[str, ...]
    parse_seconds: float | None
    variables: tuple[str, ...]
    problems: tuple[Problem, ...] = field(default=())


@dataclass(frozen=True)
class CheckResult:
    """What ``dags check`` found, with the Airflow it used."""

    airflow: Airflow
    image_version: str
    files: tuple[DagFile, ...]

    @property
    def problems(self) -> list[Problem]:
        """Every problem of every file."""
        return [p for f in self.files for p in f.problems]

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document (README, "dags check")."""
        return {
            "ok": not self.problems,
            "image_version": self.image_version,
            "airflow": {"version": self.airflow.version, "python": self.airflow.python},
            "parse_limit_seconds": PARSE_LIMIT_SECONDS,
            "files": [
                {
                    "stack": f.stack,
                    "path": f.path,
                    "dags": list(f.dags),
                    "parse_seconds": f.parse_seconds,
                    "variables": list(f.variables),
                    "problems": [
                        {"kind": p.kind, "path": p.path, "line": p.line, "message": p.message}
                        for p in f.problems
                    ],
                }
                for f in self.files
            ],
        }


def image_version(model: Model) -> str:
    """The environment's Composer image, or the environment module's default."""
    composer = model.stack("environment").arguments.get("composer", {})
    if composer.get("image_version"):
        return str(composer["image_version"])
    text = (data_dir("modules") / "environment" / "variables.tf").read_text(encoding="utf-8")
    match = re.search(r'image_version\s*=\s*optional\(string,\s*"([^"]+)"\)', text)
    if not match:
        raise DfGenError("modules/environment/variables.tf: no default composer image_version")
    return match.group(1)


def environment_variables(model: Model) -> dict[str, str]:
    """Airflow Variables the environment sets on Composer, by upper-case name.

    The environment module's own AIRFLOW_VAR_DF_* (modules/environment/composer.tf, whose
    values are only known once applied: stand-ins here) and the descriptor's
    composer.env_variables that start with AIRFLOW_VAR_ (values as written).
    """
    text = (data_dir("modules") / "environment" / "composer.tf").read_text(encoding="utf-8")
    names = re.findall(r"^\s+AIRFLOW_VAR_([A-Z0-9_]+)\s+=", text, flags=re.M)
    found = {name: f"df-gen-check-{name.lower()}" for name in names}
    composer = model.stack("environment").arguments.get("composer", {})
    for key, value in dict(composer.get("env_variables") or {}).items():
        if key.startswith("AIRFLOW_VAR_"):
            found.setdefault(key[len("AIRFLOW_VAR_"):].upper(), str(value))
    return found


def uploads(stack: Stack) -> dict[str, str]:
    """A pipeline stack's upload map: object name in the DAG folder -> file in the stack."""
    found = {}
    for name, source in dict(stack.arguments.get("files", {})).items():
        match = _UPLOAD.match(getattr(source, "expression", ""))
        if match:
            found[str(name)] = match.group(1)
    return found


def check(model: Model, pythons: Iterable[str], environ: Mapping[str, str] | None = None,
          stacks: Iterable[str] = ()) -> CheckResult:
    """Check every rendered DAG of the environment (or of the named pipeline stacks)."""
    environ = os.environ if environ is None else environ
    image = image_version(model)
    airflow = select(image, candidates(pythons, environ))
    stacks_dir = model.env_dir / "stacks"
    wanted = set(stacks)
    pipeline_stacks = [s for s in model.stacks if s.kind == "pipeline" and (not wanted or s.name in wanted)]
    variables = environment_variables(model)
    results: list[DagFile] = []
    with tempfile.TemporaryDirectory(prefix="df-gen-dags-") as temp:
        folder = Path(temp) / "dags"
        folder.mkdir()
        dag_files: dict[str, tuple[Stack, str]] = {}
        missing: dict[str, list[Problem]] = {}
        for stack in pipeline_stacks:
            for name, local in uploads(stack).items():
                source = stacks_dir / stack.name / local
                if not source.is_file():
                    missing.setdefault(stack.name, []).append(Problem(
                        display_path(source), 0, "missing_file",
                        f"{stack.name} uploads {name} from {local}, which does not exist "
                        "(run df-gen render)"))
                    continue
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                if name.endswith(".py") and "/" not in name:
                    dag_files[name] = (stack, local)
        probed = _probe(airflow, folder, sorted(dag_files), variables, Path(temp)) if dag_files else []
        for record in probed:
            stack, local = dag_files[record["file"]]
            results.append(_dag_file(stack, display_path(stacks_dir / stack.name / local), record,
                                     missing.pop(stack.name, [])))
        for name, problems in sorted(missing.items()):
            results.append(DagFile(name, problems[0].path, (), None, (), tuple(problems)))
    return CheckResult(airflow, image, tuple(results))


def _dag_file(stack: Stack, path: str, record: dict[str, Any], extra: list[Problem]) -> DagFile:
    problems = list(extra)
    for error in record["import_errors"]:
        problems.append(Problem(path, error["line"], "import_error", f"DAG import error: {error['message']}"))
    for error in record["cycles"]:
        problems.append(Problem(path, error["line"], "cycle", error["message"]))
    for name in record["missing_variables"]:
        problems.append(Problem(path, 0, "missing_variable",
                                f"reads Airflow Variable {name!r}, which the environment does not set "
                                f"(composer.env_variables AIRFLOW_VAR_{name.upper()} or a default)"))
    for name in record["missing_files"]:
        problems.append(Problem(path, 0, "missing_file",
                                f"references {name}, which is not in the DAG folder "
                                f"(the files the stack uploads)"))
    seconds = record["parse_seconds"]
    if seconds is not None and seconds > PARSE_LIMIT_SECONDS:
        problems.append(Problem(path, 0, "slow_parse",
                                f"parsing took {seconds:.2f} s after a warm-up import, over the "
                                f"{PARSE_LIMIT_SECONDS:g} s limit (move work out of top-level code)"))
    return DagFile(stack.name, path, tuple(record["dags"]), seconds, tuple(record["variables"]),
                   tuple(problems))


def _probe(airflow: Airflow, folder: Path, files: list[str], variables: dict[str, str],
           temp: Path) -> list[dict[str, Any]]:
    """Run probe.py in the Airflow interpreter; return its per-file records."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        # A throw-away Airflow home: nothing is written to ~/airflow, no database is used.
        "AIRFLOW_HOME": str(temp / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    request = json.dumps({"folder": str(folder), "files": files, "variables": variables,
                          "parse_limit": PARSE_LIMIT_SECONDS})
    try:
        done = subprocess.run([airflow.python, str(_PROBE)], input=request, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DfGenError(f"{airflow.python}: loading the DAGs took over 600 s") from exc
    lines = done.stdout.strip().splitlines()
    try:
        document = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        document = {}
    if "files" not in document:
        detail = (document.get("fatal") or done.stderr or "no output").strip().splitlines()
        raise DfGenError(f"{airflow.python}: the DAG check failed to run: {detail[-1] if detail else ''}")
    return list(document["files"])
