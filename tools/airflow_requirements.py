#!/usr/bin/env python3
"""Write the pinned requirements of the Airflow test environments (``tests/airflow*-requirements.txt``).

The tests load the rendered DAGs into the DagBag of each Airflow version that df-gen's
Composer images run: ``make test`` installs one venv per file below with
``pip install --no-deps -r FILE``, so the file is the whole environment, package by package.

Each file is produced the way Airflow's constraints files are: pip resolves the closure once
and the result is frozen. What is resolved is deliberately small:

1. ``apache-airflow==VERSION`` alone (no extras), its own dependency closure;
2. ``apache-airflow-providers-google`` at the version Composer preinstalls with that Airflow,
   installed with ``--no-deps``: the provider declares some seventy dependencies (the Vertex
   AI SDK, Ray, Google Ads, ...) that the operators of ``pipelines/retail`` never import;
3. the provider's own requirements, with the provider's version specifiers, for the packages
   that the import path of those operators needs (``IMPORT_PATH``; found by importing the
   operators until nothing was missing, and checked by the DagBag tests).

Then ``pip freeze``. Re-run after changing a version or the DAG's operators:

    python3 tools/airflow_requirements.py airflow2 airflow3

PyPI must be reachable; each environment takes a few minutes. Run it with the Python that
``make test`` uses (Composer 3 runs Python 3.11).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Environment:
    """One Airflow test environment: the versions Composer ships, and where they come from."""

    name: str
    airflow: str
    google: str
    source: str

    @property
    def output(self) -> Path:
        return ROOT / "tests" / f"{self.name}-requirements.txt"


ENVIRONMENTS = {
    env.name: env
    for env in (
        Environment(
            name="airflow2",
            airflow="2.10.5",
            google="18.0.0",
            source=(
                "Composer release notes, October 22, 2025: apache-airflow-providers-google "
                "upgraded to 18.0.0 in the Airflow 2.10.5 builds of Composer 3 "
                "(https://cloud.google.com/composer/docs/release-notes)"
            ),
        ),
        Environment(
            name="airflow3",
            airflow="3.1.7",
            google="20.0.0",
            source=(
                "Composer release notes, March 17, 2026: apache-airflow-providers-google "
                "upgraded to 20.0.0 in Airflow 3.1.7 builds of Composer 3, from "
                "composer-3-airflow-3.1.7-build.1 "
                "(https://cloud.google.com/composer/docs/release-notes)"
            ),
        ),
    )
}

# Requirements of the google provider that importing the retail DAG's provider modules
# needs (the GCS hook, the BigQuery insert-job and check operators, the Dataplex data-quality
# scan operator, the GCS prefix sensor, the GCS to BigQuery transfer): their client
# libraries, the OpenLineage helpers the BigQuery operators import (Dataproc), the secrets
# backend the GCS hook imports (Secret Manager), pandas-gbq.
IMPORT_PATH = (
    "apache-airflow-providers-common-compat",
    "apache-airflow-providers-common-sql",
    "gcloud-aio-auth",
    "gcloud-aio-bigquery",
    "gcloud-aio-storage",
    "google-api-core",
    "google-api-python-client",
    "google-auth",
    "google-auth-httplib2",
    "google-cloud-bigquery",
    "google-cloud-dataplex",
    "google-cloud-dataproc",
    "google-cloud-secret-manager",
    "google-cloud-storage",
    "pandas-gbq",
)

# Run inside the temporary venv (packaging comes with Airflow): print the provider's
# requirement for each name in IMPORT_PATH, with its specifiers; fail on a name it lacks.
_PROVIDER_REQUIREMENTS = """
import importlib.metadata, sys
from packaging.requirements import Requirement
wanted = {}
for line in importlib.metadata.requires("apache-airflow-providers-google") or []:
    req = Requirement(line)
    if req.marker is None or req.marker.evaluate({"extra": ""}):
        req.marker = None
        wanted[req.name.lower()] = str(req)
missing = [name for name in sys.argv[1:] if name not in wanted]
if missing:
    sys.exit(f"the google provider does not require {missing}")
print("\\n".join(wanted[name] for name in sys.argv[1:]))
"""


def run(python: Path, *args: str) -> str:
    """Run the temporary venv's interpreter; return its standard output."""
    done = subprocess.run([str(python), *args], check=True, capture_output=True, text=True)
    return done.stdout


def resolve(env: Environment, workdir: Path) -> str:
    """Install the trimmed closure into a fresh venv and return ``pip freeze``, sorted."""
    venv = workdir / env.name
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = ("-m", "pip", "--disable-pip-version-check")
    run(python, *pip, "install", "--quiet", "--upgrade", "pip")
    run(python, *pip, "install", "--quiet", f"apache-airflow=={env.airflow}")
    provider = f"apache-airflow-providers-google=={env.google}"
    run(python, *pip, "install", "--quiet", "--no-deps", provider)
    wanted = run(python, "-c", _PROVIDER_REQUIREMENTS, *IMPORT_PATH).splitlines()
    # Airflow stays pinned while the provider's requirements resolve around it.
    run(python, *pip, "install", "--quiet", f"apache-airflow=={env.airflow}", *wanted)
    frozen = run(python, *pip, "freeze").splitlines()
    return "\n".join(sorted(frozen, key=str.lower)) + "\n"


def header(env: Environment) -> str:
    """The comment heading a requirements file: what it is, who writes it, the sources."""
    text = (
        f"Airflow {env.airflow} with apache-airflow-providers-google {env.google}, pinned, for "
        "the DagBag tests of the rendered DAGs. Written by tools/airflow_requirements.py (how "
        "it resolves and trims is explained there); make test installs it with pip --no-deps "
        f"into .venv-{env.name}. Provider version: {env.source}."
    )
    return "".join(f"# {line}\n" for line in textwrap.wrap(text, width=88, break_on_hyphens=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(ENVIRONMENTS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.names:
            env = ENVIRONMENTS[name]
            env.output.write_text(header(env) + resolve(env, Path(tmp)), encoding="utf-8")
            print(f"wrote {env.output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
