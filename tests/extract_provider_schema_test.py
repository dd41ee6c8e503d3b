"""The provider schema extractor (tools/extract_provider_schema.py) and its committed output.

Fast tests read the committed generator/sandbox/schema/google.json and run the extractor on
hand-written fixtures in tests/data/extract_provider_schema/ (no network). The slow test
regenerates the JSON from the real package and compares bytes.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google.json"
BETA_SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google-beta.json"
FIXTURE = Path(__file__).parent / "data" / "extract_provider_schema" / "package"
FIXTURE_TYPES = ["--only", "--types", "google_example_widget,data.google_example_widget"]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "extract_provider_schema", ROOT / "tools" / "extract_provider_schema.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def _res(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["resource_schemas"][name]["block"]


# ---------------------------------------------------------------------------------------
# The committed JSON
# ---------------------------------------------------------------------------------------

# Issue 3's list; google_logging_project_settings only exists as a data source in 8.7.0.
ISSUE_RESOURCES = """
google_project google_project_service google_project_iam_member google_project_iam_binding
google_project_iam_audit_config google_service_account google_service_account_iam_member
google_compute_network google_compute_subnetwork google_compute_firewall google_compute_router
google_compute_router_nat google_compute_shared_vpc_service_project
google_composer_environment google_kms_key_ring google_kms_crypto_key
google_kms_crypto_key_iam_member google_access_context_manager_service_perimeter_resource
google_data_catalog_taxonomy google_data_catalog_policy_tag google_storage_bucket
google_storage_bucket_iam_member google_storage_bucket_object google_pubsub_topic
google_pubsub_subscription google_pubsub_topic_iam_member google_bigquery_dataset
google_bigquery_dataset_iam_member google_bigquery_dataset_access google_bigquery_table
google_data_loss_prevention_inspect_template google_dataplex_datascan
google_logging_project_sink google_monitoring_alert_policy
google_monitoring_notification_channel
""".split()
ISSUE_DATA_SOURCES = """
google_project google_client_config google_storage_project_service_account
google_bigquery_default_service_account google_logging_project_settings
""".split()


def test_header(doc):
    assert doc["format_version"] == 1
    assert doc["provider_version"] == "8.7.0"
    assert doc["source"] == "cdktn-provider-google==21.1.0"
    assert set(doc) == {"format_version", "provider_version", "source", "provider",
                        "resource_schemas", "data_source_schemas"}


def test_issue_and_default_types_present(doc):
    resources = set(doc["resource_schemas"])
    data = set(doc["data_source_schemas"])
    assert set(ISSUE_RESOURCES) <= resources
    assert set(ISSUE_DATA_SOURCES) <= data
    assert set(tool.DEFAULT_RESOURCES) == resources
    assert set(tool.DEFAULT_DATA_SOURCES) == data


def _used_types(directory: Path) -> set[tuple[str, str, str]]:
    """``(provider, kind, type)`` of every google resource and data block under ``directory``;
    provider is ``google-beta`` where the block says ``provider = google-beta[.alias]``."""
    sys.path.insert(0, str(ROOT / "tools"))
    import tfdoc  # tools/ is not a package

    used: set[tuple[str, str, str]] = set()
    for tf in directory.rglob("*.tf"):
        if ".terraform" in tf.parts:
            continue
        for block in tfdoc.parse_body(tf.read_text(encoding="utf-8")).blocks:
            if block.type in ("resource", "data") and block.labels[0].startswith("google_"):
                provider = block.attributes.get("provider", "google").strip().split(".")[0]
                used.add((provider, block.type, block.labels[0]))
    return used


def test_bundled_modules_only_use_types_in_schema(doc):
    schemas = {"google": doc, "google-beta": json.loads(BETA_SCHEMA.read_text(encoding="utf-8"))}
    missing = sorted(
        f"{provider} {kind} {name}" for provider, kind, name in _used_types(ROOT / "modules")
        if name not in schemas[provider][
            "resource_schemas" if kind == "resource" else "data_source_schemas"]
    )
    assert missing == []


def test_used_types_sees_the_provider_of_each_block(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "google_project_service_identity" "a" {\n'
        "  provider = google-beta.west\n"
        '  service  = "pubsub.googleapis.com"\n'
        "}\n"
        'resource "google_pubsub_topic" "t" {\n  name = "t"\n}\n'
        'data "google_project" "p" {}\n',
        encoding="utf-8",
    )
    assert _used_types(tmp_path) == {
        ("google-beta", "resource", "google_project_service_identity"),
        ("google", "resource", "google_pubsub_topic"),
        ("google", "data", "google_project"),
    }


def test_committed_beta_json():
    """google-beta.json holds exactly the beta types df-gen takes from google-beta 8.7.0."""
    text = BETA_SCHEMA.read_text(encoding="utf-8")
    beta = json.loads(text)
    assert tool.dumps(beta) == text
    assert beta["provider_version"] == "8.7.0"
    assert beta["source"] == "cdktn-provider-google-beta==21.1.0"
    assert set(beta["resource_schemas"]) == set(tool.BETA_RESOURCES)
    assert set(beta["data_source_schemas"]) == set(tool.BETA_DATA_SOURCES)
    identity = beta["resource_schemas"]["google_project_service_identity"]["block"]["attributes"]
    assert identity["service"] == {"type": "string", "required": True}
    assert identity["email"] == {"type": "string", "computed": True}
    assert identity["member"] == {"type": "string", "computed": True}
    assert identity["project"] == {"type": "string", "optional": True, "computed": True}
    # The beta provider block has the google provider's arguments (same generator, same major).
    assert set(beta["provider"]["block"]["attributes"]) >= {"project", "region",
                                                            "impersonate_service_account"}


def test_json_is_canonical_and_compact():
    text = SCHEMA.read_text(encoding="utf-8")
    assert tool.dumps(json.loads(text)) == text
    assert text.count("\n") == 1
    assert len(text.encode()) < 1_000_000


CTY_PRIMITIVES = {"string", "number", "bool", "dynamic"}


def _check_type(cty: Any, where: str) -> None:
    if isinstance(cty, str):
        assert cty in CTY_PRIMITIVES, where
        return
    assert isinstance(cty, list) and len(cty) == 2, where
    if cty[0] == "object":
        assert isinstance(cty[1], dict) and cty[1], where
        for name, sub in cty[1].items():
            _check_type(sub, f"{where}.{name}")
    else:
        assert cty[0] in ("list", "set", "map"), where
        _check_type(cty[1], where)


def _check_block(block: dict[str, Any], where: str) -> int:
    assert set(block) == {"attributes", "block_types"}, where
    count = 0
    for name, attr in block["attributes"].items():
        _check_type(attr["type"], f"{where}.{name}")
        flags = {k for k in attr if k != "type"}
        assert flags in ({"required"}, {"optional"}, {"computed"}, {"optional", "computed"},
                         {"computed", "sensitive"}, {"optional", "sensitive"},
                         {"required", "sensitive"}, {"optional", "computed", "sensitive"}), where
        assert all(attr[f] is True for f in flags), where
        count += 1
    for name, bt in block["block_types"].items():
        assert set(bt) == {"nesting_mode", "min_items", "max_items", "block"}, where
        assert bt["nesting_mode"] in ("list", "set", "single"), where
        assert bt["min_items"] in (0, 1) and bt["max_items"] in (0, 1), where
        count += _check_block(bt["block"], f"{where}.{name}")
    return count


def test_every_block_has_the_contract_shape(doc):
    total = _check_block(doc["provider"]["block"], "provider")
    for section in ("resource_schemas", "data_source_schemas"):
        for name, schema in doc[section].items():
            assert set(schema) == {"version", "block"}
            assert schema["version"] == 0
            total += _check_block(schema["block"], name)
            # SDKv2 adds "id" to every resource and data source.
            assert schema["block"]["attributes"]["id"]["computed"] is True
    assert total > 1500  # attributes walked: the whole document was checked


def test_storage_bucket(doc):
    bucket = _res(doc, "google_storage_bucket")
    attrs = bucket["attributes"]
    assert attrs["name"] == {"type": "string", "required": True}
    assert attrs["location"] == {"type": "string", "required": True}
    assert attrs["url"] == {"type": "string", "computed": True}
    assert attrs["self_link"] == {"type": "string", "computed": True}
    assert attrs["labels"] == {"type": ["map", "string"], "optional": True}
    assert attrs["project"] == {"type": "string", "optional": True, "computed": True}
    assert attrs["uniform_bucket_level_access"] == {
        "type": "bool", "optional": True, "computed": True}
    rule = bucket["block_types"]["lifecycle_rule"]
    assert (rule["nesting_mode"], rule["min_items"], rule["max_items"]) == ("list", 0, 0)
    action = rule["block"]["block_types"]["action"]
    condition = rule["block"]["block_types"]["condition"]
    assert (action["nesting_mode"], action["min_items"], action["max_items"]) == ("set", 1, 1)
    assert action["block"]["attributes"]["type"] == {"type": "string", "required": True}
    assert condition["block"]["attributes"]["age"] == {"type": "number", "optional": True}
    assert condition["block"]["attributes"]["matches_prefix"]["type"] == ["list", "string"]
    versioning = bucket["block_types"]["versioning"]
    assert (versioning["nesting_mode"], versioning["max_items"]) == ("list", 1)
    assert bucket["block_types"]["timeouts"]["nesting_mode"] == "single"
    assert set(bucket["block_types"]["timeouts"]["block"]["attributes"]) == {
        "create", "read", "update"}


def test_service_account(doc):
    attrs = _res(doc, "google_service_account")["attributes"]
    assert attrs["account_id"] == {"type": "string", "required": True}
    assert attrs["email"] == {"type": "string", "computed": True}
    assert attrs["member"] == {"type": "string", "computed": True}
    assert attrs["display_name"] == {"type": "string", "optional": True}


def test_composer_environment_config_has_computed_attributes(doc):
    env = _res(doc, "google_composer_environment")
    config = env["block_types"]["config"]
    assert (config["nesting_mode"], config["max_items"]) == ("list", 1)
    attrs = config["block"]["attributes"]
    assert attrs["dag_gcs_prefix"] == {"type": "string", "computed": True}
    assert attrs["airflow_uri"] == {"type": "string", "computed": True}
    software = config["block"]["block_types"]["software_config"]["block"]["attributes"]
    assert software["image_version"] == {"type": "string", "optional": True, "computed": True}
    assert software["pypi_packages"] == {"type": ["map", "string"], "optional": True}


def test_bigquery_table(doc):
    attrs = _res(doc, "google_bigquery_table")["attributes"]
    assert attrs["schema"]["type"] == "string" and attrs["schema"]["optional"] is True
    assert attrs["deletion_protection"] == {"type": "bool", "optional": True}
    assert attrs["dataset_id"] == {"type": "string", "required": True}
    assert attrs["num_rows"] == {"type": "number", "computed": True}


def test_kms_crypto_key_computed_object_list(doc):
    attrs = _res(doc, "google_kms_crypto_key")["attributes"]
    assert attrs["primary"] == {
        "type": ["list", ["object", {"name": "string", "state": "string"}]], "computed": True}
    assert attrs["key_ring"] == {"type": "string", "required": True}


def test_data_sources(doc):
    project = doc["data_source_schemas"]["google_project"]["block"]["attributes"]
    assert project["project_id"] == {"type": "string", "optional": True}
    assert project["number"] == {"type": "string", "computed": True}
    client = doc["data_source_schemas"]["google_client_config"]["block"]["attributes"]
    assert client["access_token"] == {"type": "string", "computed": True, "sensitive": True}


def test_provider_block(doc):
    block = doc["provider"]["block"]
    attrs = block["attributes"]
    for name in ("project", "region", "zone", "impersonate_service_account", "credentials",
                 "access_token", "billing_project", "request_timeout"):
        assert attrs[name] == {"type": "string", "optional": True}, name
    assert attrs["user_project_override"] == {"type": "bool", "optional": True}
    assert attrs["default_labels"] == {"type": ["map", "string"], "optional": True}
    assert "alias" not in attrs
    batching = block["block_types"]["batching"]
    assert (batching["nesting_mode"], batching["max_items"]) == ("list", 1)
    assert batching["block"]["attributes"]["send_after"] == {"type": "string", "optional": True}


# ---------------------------------------------------------------------------------------
# The extractor on hand-written fixtures
# ---------------------------------------------------------------------------------------

_S, _N, _B = "string", "number", "bool"


def _block(attributes: dict[str, Any], block_types: dict[str, Any] | None = None):
    return {"attributes": attributes, "block_types": block_types or {}}


def _nested(mode: str, min_items: int, max_items: int, block: dict[str, Any]):
    return {"nesting_mode": mode, "min_items": min_items, "max_items": max_items, "block": block}


EXPECTED_FIXTURE = {
    "format_version": 1,
    "provider_version": "9.9.9",
    "source": "cdktn-provider-google==0.0.1-fixture",
    "provider": {"block": _block(
        {"project": {"type": _S, "optional": True},
         "scopes": {"type": ["list", _S], "optional": True}},
        {"batching": _nested("list", 0, 1, _block(
            {"enable_batching": {"type": _B, "optional": True}})),
         "external_credentials": _nested("list", 0, 1, _block(
             {"audience": {"type": _S, "required": True}}))},
    )},
    "resource_schemas": {"google_example_widget": {"version": 0, "block": _block(
        {
            "effective_labels": {"type": ["map", _S], "computed": True},
            "id": {"type": _S, "optional": True, "computed": True},
            "labels": {"type": ["map", _S], "optional": True},
            "name": {"type": _S, "required": True},
            "project": {"type": _S, "optional": True, "computed": True},
            "replicas": {"type": ["list", ["object", {"location": _S, "ready": _B}]],
                         "computed": True},
            "self_link": {"type": _S, "computed": True},
            "tags": {"type": ["set", _S], "optional": True},
            "zones": {"type": ["set", ["object", {"name": _S, "ports": ["list", _N]}]],
                      "computed": True},
        },
        {
            "rule": _nested("list", 0, 0, _block(
                {"action": {"type": _S, "required": True}},
                {"condition": _nested("set", 1, 1, _block(
                    {"age": {"type": _N, "optional": True}}))},
            )),
            "settings": _nested("list", 1, 1, _block({
                "effective_tier": {"type": _S, "computed": True},
                "sizes": {"type": ["list", _N], "optional": True},
                "tier": {"type": _S, "required": True},
            })),
            "timeouts": _nested("single", 0, 0, _block(
                {"create": {"type": _S, "optional": True}})),
        },
    )}},
    "data_source_schemas": {"google_example_widget": {"version": 0, "block": _block({
        "name": {"type": _S, "required": True},
        "settings": {"type": ["list", ["object", {"tier": _S}]], "computed": True},
    })}},
}


def _extract(path: Path) -> dict[str, Any]:
    package = tool.Package(path, ["example-widget", "data-google-example-widget", "provider"])
    return tool.extract(package, ["google_example_widget"], ["google_example_widget"])


def test_extract_fixture_package_dir():
    assert _extract(FIXTURE) == EXPECTED_FIXTURE


def _wheel_from(package_dir: Path, dest: Path) -> Path:
    """A wheel laid out like the real one: the npm package tarball under _jsii/."""
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tar:
        tar.add(package_dir, arcname="package")
    wheel = dest / "cdktn_provider_google-0.0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as whl:
        whl.writestr("cdktn_provider_google/_jsii/provider-google@0.0.1.jsii.tgz",
                     tgz.getvalue())
    return wheel


def test_extract_from_wheel_and_wheel_dir(tmp_path):
    wheel = _wheel_from(FIXTURE, tmp_path)
    assert _extract(wheel) == EXPECTED_FIXTURE
    assert _extract(tmp_path) == EXPECTED_FIXTURE


def test_cli_writes_canonical_json(tmp_path, capsys):
    out = tmp_path / "schema" / "google.json"
    assert tool.main(["--wheel", str(FIXTURE), "--out", str(out), *FIXTURE_TYPES]) == 0
    assert out.read_text(encoding="utf-8") == tool.dumps(EXPECTED_FIXTURE)
    assert capsys.readouterr().err == (
        f"wrote {out}: 1 resources, 1 data sources, provider 9.9.9\n")


def test_cli_unknown_type_fails(tmp_path, capsys):
    out = tmp_path / "google.json"
    args = ["--wheel", str(FIXTURE), "--out", str(out), "--only", "--types", "google_nothing"]
    assert tool.main(args) == 1
    assert capsys.readouterr().err == (
        "error: resource google_nothing (lib/nothing/): not in the package\n")
    assert not out.exists()


def test_jsii_disagreement_is_an_error_unless_lenient(tmp_path, capsys):
    package = tmp_path / "package"
    shutil.copytree(FIXTURE, package)
    jsii = json.loads((package / ".jsii").read_text(encoding="utf-8"))
    config = jsii["types"]["@cdktn/provider-google.exampleWidget.ExampleWidgetConfig"]
    for prop in config["properties"]:
        if prop["name"] == "project":
            del prop["optional"]
    (package / ".jsii").write_text(json.dumps(jsii), encoding="utf-8")
    out = tmp_path / "google.json"
    args = ["--wheel", str(package), "--out", str(out), *FIXTURE_TYPES]
    assert tool.main(args) == 1
    assert capsys.readouterr().err == (
        "warning: resource google_example_widget (lib/example-widget/): "
        "project: required False but jsii True\n"
        "error: 1 consistency problem(s); see warnings above\n")
    assert tool.main([*args, "--lenient"]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == EXPECTED_FIXTURE


def test_generator_version_mismatch_is_reported(tmp_path, capsys):
    package = tmp_path / "package"
    shutil.copytree(FIXTURE, package)
    module = package / "lib" / "example-widget" / "index.js"
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace("providerVersion: '9.9.9'", "providerVersion: '1.0.0'"),
                      encoding="utf-8")
    args = ["--wheel", str(package), "--out", str(tmp_path / "google.json"), *FIXTURE_TYPES]
    assert tool.main(args) == 1
    assert capsys.readouterr().err == (
        "warning: resource google_example_widget (lib/example-widget/): "
        "generated from provider ['1.0.0'], package says 9.9.9\n"
        "error: 1 consistency problem(s); see warnings above\n")


def test_parse_rejects_unknown_getter():
    text = tool.Package(FIXTURE, []).module_text("example-widget")
    broken = text.replace("this.getStringAttribute('self_link')",
                          "this.getMysteryAttribute('self_link')")
    builder = tool.BlockBuilder(tool.parse_module(broken), "fixture")
    top = builder.module.top("TerraformResource")
    with pytest.raises(tool.ExtractError, match="self_link: unknown getter getMysteryAttribute"):
        builder.block(top, top.hcl)


def test_split_types_and_lib_dir():
    assert tool.split_types(["google_a,data.google_b", " google_c ", "data:google_d"]) == (
        {"google_a", "google_c"}, {"google_b", "google_d"})
    assert tool.lib_dir("resource", "google_storage_bucket") == "storage-bucket"
    assert tool.lib_dir("data", "google_project") == "data-google-project"
    beta = tool.FLAVORS["google-beta"]
    assert tool.lib_dir("resource", "google_project_service_identity", beta) == (
        "google-project-service-identity")
    assert tool.lib_dir("data", "google_project", beta) == "data-google-project"


def _beta_fixture(tmp_path: Path) -> Path:
    """The fixture package laid out as the google-beta package is: resource directories keep
    "google-", the package is generated from hashicorp/google-beta."""
    package = tmp_path / "package"
    shutil.copytree(FIXTURE, package)
    (package / "lib" / "example-widget").rename(package / "lib" / "google-example-widget")
    meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    meta["name"] = "@cdktn/provider-google-beta"
    meta["cdktn"]["provider"]["name"] = "example.invalid/hashicorp/google-beta"
    (package / "package.json").write_text(json.dumps(meta), encoding="utf-8")
    return package


def test_cli_extracts_the_beta_flavor(tmp_path, capsys):
    package = _beta_fixture(tmp_path)
    out = tmp_path / "google-beta.json"
    args = ["--wheel", str(package), "--out", str(out), *FIXTURE_TYPES]
    assert tool.main(["--provider", "google-beta", *args]) == 0
    expected = dict(EXPECTED_FIXTURE, source="cdktn-provider-google-beta==0.0.1-fixture")
    assert json.loads(out.read_text(encoding="utf-8")) == expected
    capsys.readouterr()
    # Read as google, the same package is refused: wrong provider, and wrong directory names.
    assert tool.main(args) == 1
    assert capsys.readouterr().err == (
        "error: package is generated from 'example.invalid/hashicorp/google-beta', not google\n")


def test_beta_wheel_is_found_by_its_own_name(tmp_path):
    package = _beta_fixture(tmp_path)
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tar:
        tar.add(package, arcname="package")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "cdktn_provider_google_beta-0.0.1-py3-none-any.whl", "w") as whl:
        whl.writestr("cdktn_provider_google_beta/_jsii/provider-google-beta@0.0.1.jsii.tgz",
                     tgz.getvalue())
    beta = tool.FLAVORS["google-beta"]
    found = tool.Package(wheels, ["google-example-widget", "provider"], beta)
    assert found.path.name == "cdktn_provider_google_beta-0.0.1-py3-none-any.whl"
    # A directory with only a beta wheel holds no google wheel.
    with pytest.raises(tool.ExtractError, match="expected one cdktn_provider_google-"):
        tool.Package(wheels, [])


# ---------------------------------------------------------------------------------------
# The real package (network or a local wheel)
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_committed_json_matches_real_package(tmp_path):
    """Regenerate from the real wheel and compare bytes with the committed JSON.

    Uses DF_GEN_PROVIDER_WHEEL (a wheel or a directory holding it) when set; otherwise
    ``pip download`` (served from pip's cache when possible); skipped when neither works.
    """
    wheel = os.environ.get("DF_GEN_PROVIDER_WHEEL")
    if wheel is None:
        try:
            tool.download(tmp_path, tool.PACKAGE_VERSION)
        except (subprocess.CalledProcessError, StopIteration):
            pytest.skip("cdktn-provider-google is not reachable through pip")
        wheel = str(tmp_path)
    out = tmp_path / "google.json"
    assert tool.main(["--wheel", wheel, "--out", str(out)]) == 0
    assert out.read_bytes() == SCHEMA.read_bytes()


@pytest.mark.slow
def test_committed_beta_json_matches_real_package(tmp_path):
    """As above for google-beta.json (DF_GEN_PROVIDER_BETA_WHEEL or ``pip download``)."""
    beta = tool.FLAVORS["google-beta"]
    wheel = os.environ.get("DF_GEN_PROVIDER_BETA_WHEEL")
    if wheel is None:
        try:
            tool.download(tmp_path, beta.version, beta)
        except (subprocess.CalledProcessError, StopIteration):
            pytest.skip("cdktn-provider-google-beta is not reachable through pip")
        wheel = str(tmp_path)
    out = tmp_path / "google-beta.json"
    assert tool.main(["--provider", "google-beta", "--wheel", wheel, "--out", str(out)]) == 0
    assert out.read_bytes() == BETA_SCHEMA.read_bytes()
