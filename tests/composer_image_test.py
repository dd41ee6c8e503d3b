"""Cloud Composer 3 images. One rule for image versions, shared by the environment schema
(``composer.image_version``) and the environment module (``var.composer.image_version``).

Composer 3 names an image ``composer-3-airflow-x.y.z-build.t``; the Airflow part may also be
an alias, a major or major.minor version, that Composer resolves to its latest build
(https://cloud.google.com/composer/docs/composer-versioning-overview and the ``imageVersion``
field of the Composer API, https://cloud.google.com/composer/docs/reference/rest/v1/projects.locations.environments).
Composer 3 offers Airflow 2 and Airflow 3 builds, and the retail DAG is tested on both (see
``pipelines_retail_test``), so both majors are accepted and nothing else.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from tfsupport import ROOT, Sandbox, require_sandbox

from generator.errors import DfGenError
from generator.validate import validate

SCHEMA = ROOT / "generator" / "schemas" / "environment.schema.json"
VARIABLES = ROOT / "modules" / "environment" / "variables.tf"
BASE = ROOT / "tests" / "data" / "descriptors" / "base"

ACCEPTED = (
    "composer-3-airflow-2",
    "composer-3-airflow-2.10",
    "composer-3-airflow-2.10.5",
    "composer-3-airflow-2.10.5-build.15",
    "composer-3-airflow-3",
    "composer-3-airflow-3.1.7",
    "composer-3-airflow-3.1.7-build.10",
)
REFUSED = (
    "composer-2.9.7-airflow-2.9.3",  # Composer 2
    "composer-3-airflow-1.10.15",  # no Airflow 1 in Composer 3
    "composer-3-airflow-4.0.0",  # not an Airflow the DAG is tested on
    "composer-3-airflow-3.1-build.2",  # a build belongs to a full version
    "composer-3-airflow-3.1.7-build",
    "composer-latest-airflow-3.1.7",
    "composer-3-airflow-3.1.7 ",
)


def schema_pattern() -> str:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return str(schema["properties"]["composer"]["properties"]["image_version"]["pattern"])


def module_pattern() -> str:
    """The regex of the module's image_version validation, HCL string escapes undone."""
    text = VARIABLES.read_text(encoding="utf-8")
    found = re.findall(r'can\(regex\("((?:[^"\\]|\\.)*)",\s*var\.composer\.image_version\)\)', text)
    assert len(found) == 1, "one image_version validation expected in variables.tf"
    return re.sub(r"\\(.)", r"\1", found[0])


def test_module_and_schema_share_one_image_rule() -> None:
    assert module_pattern() == schema_pattern()


def test_the_rule_separates_the_examples() -> None:
    # Guards the examples themselves, so the checks below test the rule and not typos.
    pattern = re.compile(schema_pattern())
    assert all(pattern.search(image) for image in ACCEPTED)
    assert not any(pattern.search(image) for image in REFUSED)


def _environment(tmp_path: Path, image: str) -> Path:
    env_dir = tmp_path / "env"
    shutil.copytree(BASE, env_dir)
    descriptor = env_dir / "environment.yaml"
    data = yaml.safe_load(descriptor.read_text(encoding="utf-8"))
    data["composer"]["image_version"] = image
    descriptor.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return env_dir


@pytest.mark.parametrize("image", ACCEPTED)
def test_validate_accepts(image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_environment(tmp_path, image))
    validate(Path("."))


@pytest.mark.parametrize("image", REFUSED)
def test_validate_refuses(image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_environment(tmp_path, image))
    with pytest.raises(DfGenError) as raised:
        validate(Path("."))
    (line,) = raised.value.lines()
    assert line.startswith("environment.yaml:") and "composer.image_version" in line, line


@pytest.mark.slow
def test_module_accepts_and_refuses_the_same_images(tmp_path: Path) -> None:
    require_sandbox()
    tf = Sandbox.example(ROOT / "modules" / "environment", "minimal", tmp_path)
    tf.init()
    main_tf = tf.workdir / "main.tf"
    original = main_tf.read_text(encoding="utf-8")
    anchor = 'service_account_id = "df-demo-composer"'
    assert anchor in original
    for image in (*ACCEPTED, *REFUSED):
        main_tf.write_text(
            original.replace(anchor, f"{anchor}\n    image_version = {json.dumps(image)}", 1),
            encoding="utf-8",
        )
        result = tf.run("validate", "-no-color")
        if image in ACCEPTED:
            assert result.code == 0, f"{image}:\n{result.text[-2000:]}"
        else:
            assert result.code != 0, image
            assert "composer.image_version must be a Cloud Composer 3 image" in result.text, image


def test_demo_keeps_the_google_provider_of_its_image() -> None:
    # Composer preinstalls apache-airflow-providers-google in every image, at the version its
    # build was tested with (https://cloud.google.com/composer/docs/versions-packages).
    # Listing it in pypi_packages makes Composer reinstall and re-resolve it against the
    # image's other packages on every update, for nothing.
    demo = yaml.safe_load((ROOT / "environments" / "demo" / "environment.yaml").read_text())
    packages = demo["composer"].get("pypi_packages") or {}
    assert not [name for name in packages if name.lower().startswith("apache-airflow")]
