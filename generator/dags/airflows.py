"""Find an Airflow interpreter whose version matches the environment's Composer image."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.errors import DfGenError

# Environment variables naming Airflow interpreters; DF_GEN_AIRFLOW_PYTHON may hold several
# paths separated by os.pathsep. The numbered ones are what `make test` sets.
ENV_VARIABLES = ("DF_GEN_AIRFLOW_PYTHON", "DF_GEN_AIRFLOW2_PYTHON", "DF_GEN_AIRFLOW3_PYTHON")
_IMAGE = re.compile(r"^composer-3-airflow-(\d+)(?:\.(\d+))?")
_VERSION_SCRIPT = "import importlib.metadata as m; print(m.version('apache-airflow'))"


@dataclass(frozen=True)
class Airflow:
    """One Airflow installation: its interpreter and version."""

    python: str
    version: str

    @property
    def major_minor(self) -> tuple[int, int]:
        """(major, minor) of the version."""
        numbers = [int(n) for n in re.findall(r"\d+", self.version)[:2]]
        return numbers[0], numbers[1] if len(numbers) > 1 else 0


def wanted(image_version: str) -> tuple[int, int | None]:
    """(major, minor) of Airflow in a Composer image; minor is None for an alias such as
    ``composer-3-airflow-2``, which Composer resolves to its newest Airflow 2 release."""
    match = _IMAGE.match(image_version)
    if not match:
        raise DfGenError(f"composer image {image_version!r} does not name an Airflow version")
    return int(match.group(1)), int(match.group(2)) if match.group(2) is not None else None


def candidates(options: Iterable[str], environ: Mapping[str, str]) -> list[str]:
    """Interpreters to consider: --airflow-python first, then the environment variables."""
    found = list(options)
    for variable in ENV_VARIABLES:
        found += [p for p in environ.get(variable, "").split(os.pathsep) if p]
    return list(dict.fromkeys(found))


def version_of(python: str) -> str | None:
    """The apache-airflow version installed for ``python``, or None when there is none."""
    if not Path(python).is_file():
        return None
    try:
        done = subprocess.run([python, "-c", _VERSION_SCRIPT], capture_output=True, text=True,
                              timeout=60, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def select(image_version: str, pythons: Iterable[str]) -> Airflow:
    """The interpreter whose Airflow matches the image (the newest, for an alias)."""
    major, minor = wanted(image_version)
    seen: list[str] = []
    matching: list[Airflow] = []
    for python in pythons:
        version = version_of(python)
        seen.append(f"{python} ({version or 'no Airflow'})")
        if version is None:
            continue
        airflow = Airflow(python, version)
        have_major, have_minor = airflow.major_minor
        if have_major == major and (minor is None or have_minor == minor):
            matching.append(airflow)
    if not matching:
        want = f"{major}.{minor}" if minor is not None else f"{major}.x"
        tried = ", ".join(seen) if seen else "none given"
        raise DfGenError(
            f"no Airflow {want} interpreter for composer image {image_version} (tried: {tried}); "
            f"pass --airflow-python PATH or set DF_GEN_AIRFLOW_PYTHON"
        )
    return max(matching, key=lambda a: a.major_minor)
