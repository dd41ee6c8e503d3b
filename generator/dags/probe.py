"""Run inside an Airflow interpreter by ``df-gen dags check``: load DAG files, print JSON.

This file is executed as a script by the Airflow environment's own Python (never imported
by df-gen), so it uses only the standard library and Airflow. Input (stdin, JSON)::

    {"folder": "/tmp/.../dags", "files": ["store-daily.py"], "variables": {"DF_REGION": "..."},
     "parse_limit": 2.0}

Output (the last stdout line, JSON): ``{"airflow": "2.10.5", "files": [...]}`` with, per DAG
file, the DAG IDs, import errors (with the line in the file), cycles, Variables read and
those the environment does not set, files opened or referenced that do not exist, and the
parse time of a later load (the first one warms up Airflow's and the providers' imports,
as a long-running Composer DAG processor has them).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
from typing import Any

REQUEST = json.load(sys.stdin)
FOLDER = os.path.realpath(REQUEST["folder"])
VARIABLES: dict[str, str] = REQUEST["variables"]
CURRENT: dict[str, Any] = {}  # the record of the file being loaded, while one is


def _opened(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: note files under the DAG folder that a DAG file opens but do not exist."""
    if event != "open" or not CURRENT or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
    if any(flag in mode for flag in "wax+"):  # reads only: writes (e.g. byte code) create files
        return
    path = os.fsdecode(args[0])
    if not os.path.isabs(path):
        path = os.path.abspath(path)
    if path.endswith(".pyc"):  # the import system looks for byte code it may not find
        return
    if path.startswith(FOLDER + os.sep) and not os.path.exists(path):
        name = os.path.relpath(path, FOLDER)
        if name not in CURRENT["missing_files"]:
            CURRENT["missing_files"].append(name)


def _variable_get(key: str, *args: Any, **kwargs: Any) -> Any:
    """Variable.get as Composer answers it from AIRFLOW_VAR_* (no metadata database)."""
    if CURRENT and key not in CURRENT["variables"]:
        CURRENT["variables"].append(key)
    deserialize = kwargs.get("deserialize_json", args[1] if len(args) > 1 else False)
    if key.upper() in VARIABLES:  # Airflow reads AIRFLOW_VAR_<KEY upper-cased>
        value = VARIABLES[key.upper()]
        return json.loads(value) if deserialize else value
    for name in ("default_var", "default"):
        if name in kwargs:
            return kwargs[name]
    if args:
        return args[0]
    if CURRENT and key not in CURRENT["missing_variables"]:
        CURRENT["missing_variables"].append(key)
    # A stand-in value, so that the rest of the file is still checked.
    return {} if deserialize else f"unset-variable-{key}"


def _patch_variables() -> None:
    """Route Variable.get of Airflow 2 and of the Airflow 3 Task SDK through _variable_get."""
    import importlib

    for module, name in (("airflow.models.variable", "Variable"), ("airflow.sdk", "Variable")):
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        cls.get = staticmethod(_variable_get)


def _error_line(text: str, path: str) -> int:
    """The last line of ``path`` named in a traceback, or 0."""
    lines = re.findall(r'File "' + re.escape(path) + r'", line (\d+)', text)
    return int(lines[-1]) if lines else 0


def _missing_templates(dag: Any) -> list[str]:
    """Template files a task names (e.g. ``sql="x.sql"``) that its DAG cannot find."""
    import jinja2

    missing = []
    try:
        env = dag.get_template_env()
    except Exception:
        return []
    for task in dag.tasks:
        extensions = tuple(getattr(task, "template_ext", ()) or ())
        for field in getattr(task, "template_fields", ()) or ():
            value = getattr(task, field, None)
            if extensions and isinstance(value, str) and value.endswith(extensions):
                try:
                    env.get_template(value)
                except jinja2.TemplateNotFound:
                    missing.append(f"{value} (task {task.task_id}, field {field})")
    return missing


def _load(path: str) -> tuple[Any, float]:
    from airflow.models import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=path, include_examples=False, safe_mode=False)
    return bag, time.perf_counter() - started


def main() -> None:
    import airflow

    _patch_variables()
    sys.addaudithook(_opened)
    results = []
    for name in REQUEST["files"]:
        path = os.path.join(FOLDER, name)
        record: dict[str, Any] = {
            "file": name, "dags": [], "import_errors": [], "cycles": [],
            "variables": [], "missing_variables": [], "missing_files": [], "parse_seconds": None,
        }
        CURRENT.clear()
        CURRENT.update(record)
        try:
            bag, _ = _load(path)
        finally:
            record.update(CURRENT)
            CURRENT.clear()
        for text in bag.import_errors.values():
            text = str(text)
            last = [line for line in text.strip().splitlines() if line.strip()]
            message = last[-1].strip() if last else "import error"
            entry = {"line": _error_line(text, path), "message": message}
            (record["cycles"] if "Cycle detected" in text else record["import_errors"]).append(entry)
        record["dags"] = sorted(bag.dags)
        for dag_id in sorted(bag.dags):
            record["missing_files"] += _missing_templates(bag.dags[dag_id])
        if not bag.import_errors:
            # The best of up to three timed loads, so a busy machine's stall is not blamed
            # on the DAG; a DAG slow by itself (work or network calls at top level) is slow
            # in every one.
            timings: list[float] = []
            while len(timings) < 3 and (not timings or min(timings) > REQUEST["parse_limit"]):
                timings.append(_load(path)[1])
            record["parse_seconds"] = min(timings)
        results.append(record)
    print(json.dumps({"airflow": airflow.__version__, "files": results}))


if __name__ == "__main__":
    try:
        main()
    except Exception:
        print(json.dumps({"fatal": traceback.format_exc()}))
        sys.exit(3)
