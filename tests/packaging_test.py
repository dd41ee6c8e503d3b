"""A wheel built from the repository works outside it: schemas, templates and modules ship."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One wheel for the module's tests: on one pytest-xdist worker under --dist loadgroup.
pytestmark = pytest.mark.xdist_group("wheel")


# What the build reads (setup.cfg: the packages, their data, README.md as the description).
SOURCES = ("pyproject.toml", "setup.cfg", "README.md", "generator", "templates", "modules")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of the repository's sources: setuptools builds in the source tree
    (build/, df_gen.egg-info), so building in the repository itself would write there, and two
    pytest-xdist workers building at once would share those directories."""
    source = tmp_path_factory.mktemp("wheel-source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".terraform*", "*.egg-info"))
        else:
            shutil.copyfile(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
        check=True, capture_output=True, text=True,
    )
    return next(out.glob("df_gen-*.whl"))


@pytest.mark.slow
def test_wheel_schemas_equal_the_repository(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for schema in sorted((ROOT / "generator" / "schemas").glob("*.json")):
            member = f"generator/schemas/{schema.name}"
            assert member in names
            assert archive.read(member) == schema.read_bytes()
        for shipped in ("templates", "modules"):
            for path in sorted((ROOT / shipped).rglob("*")):
                if path.is_file() and ".terraform" not in path.parts and "__pycache__" not in path.parts:
                    member = f"generator/_data/{shipped}/{path.relative_to(ROOT / shipped).as_posix()}"
                    assert member in names, member


@pytest.mark.slow
def test_wheel_ships_every_python_module(wheel):
    """Every module of the package is in the wheel (setup.cfg lists packages one by one)."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for module in sorted((ROOT / "generator").rglob("*.py")):
        member = module.relative_to(ROOT).as_posix()
        assert member in names, f"{member} is missing from the wheel: add its package to setup.cfg"


@pytest.mark.slow
def test_installed_wheel_scaffolds_and_validates_outside_the_repository(wheel, tmp_path):
    # A bare venv that sees this venv's dependencies but not the editable df-gen install.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
    )
    python = venv / "bin" / "python"
    run = [str(python), "-c", "from generator.cli import main; main()"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # a checkout on it would be imported first
    where = subprocess.run([str(python), "-c", "import generator; print(generator.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env)
    assert where.stdout.startswith(str(site))
    new = subprocess.run([*run, "new", "environments/dev"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert new.returncode == 0, new.stderr
    valid = subprocess.run([*run, "validate", "environments/dev"], cwd=tmp_path, capture_output=True, text=True,
                           env=env)
    assert valid.stdout == "environments/dev: valid (1 environment, 1 data source, 1 pipeline)\n", valid.stderr
    modeline = (tmp_path / "environments/dev/environment.yaml").read_text().splitlines()[0]
    assert modeline.endswith("generator/schemas/environment.schema.json")
    schema = tmp_path / "environments" / "dev" / modeline.split("$schema=")[1]
    assert schema.resolve().is_file()
