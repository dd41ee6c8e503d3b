"""Tests of modules/environment: static checks (fmt, contract, schema, security rules) and, in
the slow lane, the full sandbox cycle of both examples. Shared helpers live in ``tfsupport``;
checkov runs over every module in ``checkov_test``.
"""

from __future__ import annotations

import re

import pytest
from tfsupport import (
    ROOT,
    ModuleContractChecks,
    Sandbox,
    fmt_problems,
    module_tf_text,
    require_sandbox,
    resources,
    tf_blocks,
)

MODULE = ROOT / "modules" / "environment"
LAYERS = ("landing", "processing", "curated", "exposure", "orchestration")

# The Airflow Variables the contract promises to DAGs (docs/contract: modules/environment).
CONTRACT_ENV_VARS = {
    *(f"AIRFLOW_VAR_DF_{layer.upper()}_PROJECT" for layer in LAYERS),
    "AIRFLOW_VAR_DF_REGION",
    "AIRFLOW_VAR_DF_LOCATION",
    "AIRFLOW_VAR_DF_LOAD_SA",
    "AIRFLOW_VAR_DF_TRANSFORMATION_SA",
    "AIRFLOW_VAR_DF_ORCHESTRATION_SA",
}


# ------------------------------------------------------------------------ static checks


class TestModuleContract(ModuleContractChecks):
    """versions.tf, fmt, the provider schema and the module's interface (see tfsupport)."""

    module = MODULE
    beta = True  # google_project_service_identity provisions the primary service agents
    variables = {
        "projects",
        "parent",
        "billing_account",
        "region",
        "location",
        "network",
        "shared_vpc",
        "composer",
        "service_accounts",
        "kms",
        "vpc_sc",
        "policy_taxonomy",
        "pipeline_service_agents",
        "logging",
        "monitoring",
        "principals",
        "shared_buckets",
        "shared_datasets",
        "labels",
    }
    outputs = {
        "projects",
        "service_accounts",
        "composer",
        "kms_keys",
        "service_agents",
        "policy_tags",
        "network",
        "shared_buckets",
        "shared_datasets",
    }


def test_fmt_check_catches_badly_formatted_files(tmp_path):
    # Guards TestModuleContract's fmt check: fmt_problems really checks instead of passing
    # vacuously (it also asserts that the exit code, 3, agrees with the list).
    (tmp_path / "bad.tf").write_text('locals {\n  a = 1\n  bbb = "x"\n}\n', encoding="utf-8")
    assert "bad.tf" in fmt_problems(tmp_path)


def test_no_primitive_roles_public_members_keys_providers_or_authoritative_iam():
    # variables.tf is left out: its validations name the forbidden roles to reject them.
    text = module_tf_text(MODULE, skip=("variables.tf",))
    assert not re.search(r'"roles/(owner|editor|viewer)"', text)
    assert not re.search(r"\ball(Authenticated)?Users\b", text)
    assert "google_service_account_key" not in text
    # google-beta only where GA lacks the type: the primary service agents' identities.
    assert "google-beta" not in module_tf_text(MODULE, skip=("variables.tf", "agents.tf", "versions.tf"))
    beta = [k for k, b in resources(MODULE / "agents.tf").items() if "provider" in b.attributes]
    assert beta == ["google_project_service_identity.this"]
    assert not re.search(r'^\s*provider\s+"', text, re.MULTILINE)
    # Adopted projects only get additive grants: no *_iam_binding / *_iam_policy at all.
    assert not re.search(r'resource\s+"google_[a-z_]+_iam_(binding|policy)"', text)
    # Data sources allowed: project numbers of adopted projects, and the two agents Google
    # creates when asked for them (agents.tf).
    assert sorted(re.findall(r'^data\s+"([a-z_]+)"', text, re.MULTILINE)) == [
        "google_bigquery_default_service_account",
        "google_project",
        "google_storage_project_service_account",
    ]


def test_apis_are_never_disabled_on_destroy_and_lineage_is_on():
    projects = resources(MODULE / "projects.tf")
    (service,) = [b for k, b in projects.items() if k.startswith("google_project_service")]
    assert service.attributes["disable_on_destroy"] == "false"
    assert '"datalineage.googleapis.com"' in (MODULE / "main.tf").read_text(encoding="utf-8")
    composer = resources(MODULE / "composer.tf")["google_composer_environment.this"]
    (config,) = [b for b in composer.blocks if b.type == "config"]
    (software,) = [b for b in config.blocks if b.type == "software_config"]
    (lineage,) = [b for b in software.blocks if b.type == "cloud_data_lineage_integration"]
    assert lineage.attributes["enabled"] == "var.composer.lineage"


def test_firewall_denies_by_default_and_allows_only_internal_traffic():
    # Composer 3 runs no VMs in the project: no SSH rule (issue 11, item 11).
    network = resources(MODULE / "network.tf")
    rules = {k: b for k, b in network.items() if k.startswith("google_compute_firewall")}
    assert set(rules) == {
        "google_compute_firewall.deny_all_ingress",
        "google_compute_firewall.allow_internal",
    }
    deny = rules["google_compute_firewall.deny_all_ingress"]
    assert deny.attributes["priority"] == "65534"
    assert [b.type for b in deny.blocks if b.type in ("allow", "deny")] == ["deny"]
    subnet = network["google_compute_subnetwork.this"]
    assert subnet.attributes["private_ip_google_access"] == "true"
    assert subnet.attributes["send_secondary_ip_range_if_empty"] == "true"
    assert any(b.type == "log_config" for b in subnet.blocks)


def test_default_compute_service_account_is_deprivileged_in_created_projects():
    # Issue 11, item 6: auto_create_network = false enables Compute, whose default service
    # account gets Editor; the module removes that grant.
    accounts = resources(MODULE / "projects.tf")["google_project_default_service_accounts.this"]
    assert accounts.attributes["for_each"] == "local.created_projects"
    assert accounts.attributes["action"] == '"DEPRIVILEGE"'
    assert accounts.attributes["restore_policy"] == '"NONE"'


def test_perimeter_membership_comes_after_the_rest_and_an_ingress_rule():
    # Issue 11, item 9: an enforced perimeter refuses calls from outside it as soon as a
    # project joins, so joining waits for every other resource and the ingress rule.
    vpc_sc = resources(MODULE / "vpc_sc.tf")
    enforced, dry_run = (vpc_sc[k].attributes["depends_on"] for k in (
        "google_access_context_manager_service_perimeter_resource.enforced",
        "google_access_context_manager_service_perimeter_dry_run_resource.dry_run"))
    assert enforced == dry_run
    after = enforced
    declared = {
        key for f in sorted(MODULE.glob("*.tf")) if f.name != "vpc_sc.tf" for key in resources(f)
        if key.split(".")[0] not in ("data",)
    }
    # What is left out is reached through the resources listed (projects, accounts, keys,
    # network, taxonomy, channels).
    listed = {k for k in declared if k in after}
    assert {
        "google_composer_environment.this",
        "google_project_iam_member.personas",
        "google_service_account_iam_member.impersonation",
        "google_bigquery_dataset.shared",
        "google_storage_bucket.shared",
        "google_logging_project_sink.this",
    } <= listed
    for policy in ("google_access_context_manager_service_perimeter_ingress_policy.this",
                   "google_access_context_manager_service_perimeter_dry_run_ingress_policy.this"):
        assert policy in after


def test_alert_policies_are_one_resource_over_a_map_moved_from_their_old_addresses():
    blocks = tf_blocks(MODULE / "monitoring.tf")
    policies = [".".join(b.labels) for b in blocks
                if b.type == "resource" and b.labels[0] == "google_monitoring_alert_policy"]
    assert policies == ["google_monitoring_alert_policy.alerts"]
    moves = {b.attributes["from"]: b.attributes["to"] for b in blocks if b.type == "moved"}
    keys = ("failed_dag_runs", "composer_health", "dead_letters", "data_quality_failures")
    assert moves == {f"google_monitoring_alert_policy.{k}[0]": f'google_monitoring_alert_policy.alerts["{k}"]'
                     for k in keys}
    # The keys the moved blocks name are the policies' keys.
    text = (MODULE / "monitoring.tf").read_text(encoding="utf-8")
    body = text[text.index("alert_policies = {"):text.index('resource "google_monitoring_alert_policy"')]
    assert re.findall(r"^    (\w+) = \{$", body, re.MULTILINE) == list(keys)


# Dataplex scan jobs that failed or did not pass (monitoring.tf cites the sources).
SCAN_FAILURE_FILTER = (
    'resource.type="dataplex.googleapis.com/DataScan" AND log_id("dataplex.googleapis.com/data_scan") AND '
    'jsonPayload.type="DATA_QUALITY" AND (jsonPayload.state="FAILED" OR '
    '(labels."dataplex.googleapis.com/data_scan_state"="SUCCEEDED" AND NOT jsonPayload.dataQuality.passed=true))'
)


def test_failed_scan_metric_filter_uses_the_fields_google_documents():
    # Google's sample query for a scan whose rules did not all pass, plus the DataScanEvent
    # fields (logs.proto) for a job that failed; the rule-result log is left out by log_id.
    text = (MODULE / "monitoring.tf").read_text(encoding="utf-8")
    start = text.index("data_quality_failure_filter = join(")
    body = text[start:text.index("data_quality_metric =", start)]
    parts = [p.encode().decode("unicode_escape") for p in re.findall(r'^\s+"(.*)",?$', body, re.MULTILINE)]
    clause = " AND ".join([*parts[:3], "".join(parts[3:])])
    assert clause == SCAN_FAILURE_FILTER
    metric = resources(MODULE / "monitoring.tf")["google_logging_metric.data_quality_failures"]
    assert metric.attributes["filter"] == "local.data_quality_failure_filter"


def test_composer_sets_every_contract_airflow_variable():
    text = (MODULE / "composer.tf").read_text(encoding="utf-8")
    assert set(re.findall(r"^\s+(AIRFLOW_VAR_DF_[A-Z_]+)\s+=", text, re.MULTILINE)) == CONTRACT_ENV_VARS


def test_buckets_are_private_uniform_and_datasets_keep_tables():
    bucket = resources(MODULE / "buckets.tf")["google_storage_bucket.shared"]
    assert bucket.attributes["uniform_bucket_level_access"] == "true"
    assert bucket.attributes["public_access_prevention"] == '"enforced"'
    assert bucket.attributes["force_destroy"] == "false"
    dataset = resources(MODULE / "datasets.tf")["google_bigquery_dataset.shared"]
    # Contents are dropped on destroy only where the caller says so (the logs dataset).
    assert dataset.attributes["delete_contents_on_destroy"] == "each.value.delete_contents_on_destroy"
    assert "delete_contents_on_destroy = optional(bool, false)" in (MODULE / "variables.tf").read_text()
    assert {b.labels[0] for b in dataset.blocks if b.type == "dynamic"} == {"default_encryption_configuration"}


def test_kms_keys_rotate_and_agents_are_provisioned_never_named_from_project_numbers():
    key = resources(MODULE / "kms.tf")["google_kms_crypto_key.keys"]
    assert key.attributes["rotation_period"] == "each.value[0].rotation_period"
    # A grant to an agent Google has not created fails; agents.tf provisions each one.
    text = module_tf_text(MODULE)
    for domain in ("gs-project-accounts", "bigquery-encryption", "gcp-sa-pubsub", "cloudcomposer-accounts"):
        assert f"@{domain}." not in text
    agents = (MODULE / "agents.tf").read_text(encoding="utf-8")
    assert "data.google_storage_project_service_account.this[k].member" in agents
    assert "data.google_bigquery_default_service_account.this[k].member" in agents
    # Composer 3 uses its key through the Composer and Cloud Storage agents only.
    kms = (MODULE / "kms.tf").read_text(encoding="utf-8")
    assert re.search(r'for a in \["composer", "storage"\] : a => local.service_agents\["orchestration"\]\[a\]', kms)


# ------------------------------------------------------------------------ sandbox cycle


@pytest.mark.slow
@pytest.mark.parametrize("example", ["minimal", "full"])
def test_example_sandbox_cycle(example, tmp_path):
    require_sandbox()
    # The cycle ends with destroy and an empty state; outputs and state are from after apply.
    outputs, state = Sandbox.example(MODULE, example, tmp_path).cycle()

    prefix = "df-demo" if example == "minimal" else "df-full"
    orch = f"{prefix}-orch"
    assert set(outputs["projects"]) == set(LAYERS)
    assert outputs["projects"]["orchestration"]["project_id"] == orch
    assert all(p["number"] for p in outputs["projects"].values())
    assert outputs["service_accounts"] == {
        "load": f"{prefix}-load@{prefix}-landing.iam.gserviceaccount.com",
        "transformation": f"{prefix}-transformation@{prefix}-processing.iam.gserviceaccount.com",
        "orchestration": f"{prefix}-orchestration@{orch}.iam.gserviceaccount.com",
    }
    composer = outputs["composer"]
    assert composer["name"] == f"{prefix}-composer"
    assert composer["service_account"] == f"{prefix}-composer@{orch}.iam.gserviceaccount.com"
    assert composer["dag_bucket"] and "/" not in composer["dag_bucket"]
    assert composer["dag_prefix"] == "dags"

    (env,) = [r for r in state if r["type"] == "google_composer_environment"]
    software = env["values"]["config"][0]["software_config"][0]
    variables = software["env_variables"]
    assert CONTRACT_ENV_VARS <= set(variables)
    assert variables["AIRFLOW_VAR_DF_LOAD_SA"] == outputs["service_accounts"]["load"]
    assert variables["AIRFLOW_VAR_DF_CURATED_PROJECT"] == f"{prefix}-curated"
    assert software["cloud_data_lineage_integration"][0]["enabled"] is True
    assert env["values"]["config"][0]["enable_private_environment"] is True

    types = {r["type"] for r in state}
    deprivileged = {r["values"]["project"] for r in state if r["type"] == "google_project_default_service_accounts"}
    assert deprivileged == created_projects(state)
    assert not any(t.endswith(("_iam_binding", "_iam_policy")) for t in types)
    created = {r["values"]["project_id"] for r in state if r["type"] == "google_project" and r["mode"] == "managed"}
    if example == "minimal":
        assert created == {f"{prefix}-{layer}" for layer in LAYERS[:4]} | {orch}
        assert "google_compute_router_nat" in types
        (subnet,) = outputs["network"]["subnets"].values()
        assert subnet.endswith(f"/projects/{orch}/regions/europe-west1/subnetworks/df-demo-composer")
        assert outputs["composer"]["airflow_uri"]
        # Nothing to watch beyond Composer: no metrics scope, no log-based metric.
        assert not types & {"google_monitoring_monitored_project", "google_logging_metric"}
    else:
        # The landing project is adopted: read, never created.
        assert created == {f"{prefix}-{layer}" for layer in LAYERS[1:4]} | {orch}
        assert set(outputs["kms_keys"]) == {"storage", "bigquery", "pubsub", "composer"}
        assert set(outputs["policy_tags"]) == {"high", "medium", "low"}
        (policy,) = [r["values"] for r in state if r["type"] == "google_bigquery_datapolicy_data_policy"]
        assert policy["policy_tag"] == outputs["policy_tags"]["high"]
        # Beside the taxonomy: same location (the example's region), same project.
        assert f"projects/{orch}/locations/{policy['location']}/taxonomies/" in policy["policy_tag"]
        assert policy["location"] == "europe-west1" and policy["name"].endswith("/dataPolicies/df_full_high_masking")
        masked = {r["values"]["member"] for r in state
                  if r["type"] == "google_bigquery_datapolicy_data_policy_iam_member"}
        assert masked == {"group:data-engineers@example.com", "group:analysts@example.com"}
        # The pipelines' Dataplex and DLP agents: provisioned where scans and inspections run
        # (the sandbox refuses a grant to an agent not provisioned), the DLP agents granted the
        # personal tag their inspections read.
        # service_agents gives every provisioned primary agent by layer: Pub/Sub everywhere,
        # Composer in orchestration, Dataplex and DLP where the pipelines need them.
        numbers = {layer: p["number"] for layer, p in outputs["projects"].items()}
        agents = outputs["service_agents"]
        domains = {"pubsub": "gcp-sa-pubsub", "composer": "cloudcomposer-accounts",
                   "dataplex": "gcp-sa-dataplex", "dlp": "dlp-api"}
        expected = {layer: {"pubsub"} for layer in LAYERS}
        expected["orchestration"].add("composer")
        expected["curated"].add("dataplex")
        expected["landing"].add("dlp")
        expected["processing"].add("dlp")
        assert agents == {layer: {a: f"service-{numbers[layer]}@{domains[a]}.iam.gserviceaccount.com" for a in names}
                          for layer, names in expected.items()}
        identities = {(r["values"]["project"], r["values"]["service"]) for r in state
                      if r["type"] == "google_project_service_identity"}
        assert {("df-full-curated", "dataplex.googleapis.com"), ("df-full-landing", "dlp.googleapis.com"),
                ("df-full-processing", "dlp.googleapis.com")} <= identities
        tag_readers = {r["values"]["member"] for r in state
                       if r["type"] == "google_data_catalog_policy_tag_iam_member"
                       and r["values"]["policy_tag"] == outputs["policy_tags"]["high"]}
        assert {f"serviceAccount:{agents[layer]['dlp']}" for layer in ("landing", "processing")} <= tag_readers
        assert set(outputs["shared_buckets"]) == {"audit", "staging"}
        assert outputs["shared_datasets"]["reference"] == {
            "project": f"{prefix}-curated",
            "dataset_id": "df_full_reference",
        }
        assert outputs["network"]["network"] == (
            "https://www.googleapis.com/compute/v1/projects/df-net-host/global/networks/shared-vpc"
        )
        assert env["values"]["config"][0]["encryption_config"][0]["kms_key_name"] == (outputs["kms_keys"]["composer"])
        # Composer 3 on a Shared VPC: only the Composer agent uses the host subnet.
        subnet_users = [r["values"]["member"] for r in state if r["type"] == "google_compute_subnetwork_iam_member"]
        assert len(subnet_users) == 1 and "@cloudcomposer-accounts." in subnet_users[0]
        # Audit configs stay off the adopted landing project.
        audited = {r["values"]["project"] for r in state if r["type"] == "google_project_iam_audit_config"}
        assert audited == {f"{prefix}-{layer}" for layer in LAYERS[1:4]} | {orch}
        (ingress,) = [r for r in state
                      if r["type"] == "google_access_context_manager_service_perimeter_dry_run_ingress_policy"]
        identities = ingress["values"]["ingress_from"][0]["identities"]
        assert identities == ["serviceAccount:terraform@df-seed.iam.gserviceaccount.com",
                              f"serviceAccount:{composer['service_account']}"]
        sinks = [r for r in state if r["type"] == "google_logging_project_sink"]
        assert len(sinks) == len(LAYERS)
        # Alerts on dead letters and failed data-quality scans: policies and channels in the
        # orchestration project, metrics from the layer projects in its metrics scope.
        scope = {r["values"]["name"] for r in state if r["type"] == "google_monitoring_monitored_project"}
        assert scope == {f"{prefix}-landing", f"{prefix}-curated"}
        metrics = [r["values"] for r in state if r["type"] == "google_logging_metric"]
        assert {m["project"] for m in metrics} == {f"{prefix}-landing", f"{prefix}-curated"}
        assert all(m["filter"] == SCAN_FAILURE_FILTER for m in metrics)
        policies = {r["values"]["display_name"]: r["values"] for r in state
                    if r["type"] == "google_monitoring_alert_policy"}
        # Composer's health alert also fires when the metric stops arriving (absence condition).
        health = policies["Composer df-full-composer: environment unhealthy"]
        kinds = [[k for k in ("condition_threshold", "condition_absent") if c[k]] for c in health["conditions"]]
        assert kinds == [["condition_threshold"], ["condition_absent"]]
        assert health["conditions"][0]["condition_threshold"][0]["aggregations"][0]["cross_series_reducer"] is None
        dead = policies["Data Foundation: messages in dead-letter subscriptions"]
        quality = policies["Data Foundation: failed data-quality scans"]
        assert {dead["project"], quality["project"]} == {orch}
        dead_filter = dead["conditions"][0]["condition_threshold"][0]["filter"]
        assert 'resource.labels.subscription_id = one_of("sales-orders-dead-letter")' in dead_filter
        assert "pubsub.googleapis.com/subscription/num_undelivered_messages" in dead_filter
        assert quality["conditions"][0]["condition_threshold"][0]["filter"] == (
            'metric.type = "logging.googleapis.com/user/df-data-quality-failures"'
        )
        assert dead["notification_channels"] and dead["notification_channels"] == quality["notification_channels"]
        # The security persona reads the logs the sinks write to the audit bucket.
        bucket_grants = {(r["values"]["bucket"], r["values"]["role"], r["values"]["member"])
                         for r in state if r["type"] == "google_storage_bucket_iam_member"}
        assert ("df-full-audit-logs", "roles/storage.objectViewer", "group:security@example.com") in bucket_grants
        assert ("df-full-audit-logs", "roles/storage.objectCreator") in {g[:2] for g in bucket_grants}
        assert variables["AIRFLOW_VAR_DF_TEAM"] == "data-platform"


def created_projects(state: list[dict]) -> set[str]:
    return {r["values"]["project_id"] for r in state if r["type"] == "google_project" and r["mode"] == "managed"}


# Each case edits the minimal example's main.tf (old -> new) and names the error Terraform
# must stop with: variable validations (at validate) and preconditions (at plan).
BAD_INPUTS = {
    "environment_size": (
        'service_account_id = "df-demo-composer"',
        'service_account_id = "df-demo-composer"\n    environment_size = "HUGE"',
        "composer.environment_size must be ENVIRONMENT_SIZE_SMALL",
    ),
    "composer_2_image": (
        'service_account_id = "df-demo-composer"',
        'service_account_id = "df-demo-composer"\n    image_version = "composer-2.9.7-airflow-2.9.3"',
        "must be a Cloud Composer 3 image with Airflow 2 or 3",
    ),
    "missing_layer": (
        'exposure      = { project_id = "df-demo-exposure" }',
        "",
        "projects must have exactly the keys landing, processing, curated, exposure",
    ),
    "public_member": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n  principals = { analysts = ["allUsers"] }',
        "principals entries must be IAM members",
    ),
    "primitive_role": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n  persona_roles = { analysts = { exposure = ["roles/editor"] } }',
        "primitive roles (owner, editor, viewer) are not allowed",
    ),
    "slow_key_rotation": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n  kms = { storage = { key_ring = "r", '
        'location = "eu", key_name = "k", rotation_period = "31536000s" } }',
        "between 86400s (1 day) and 7776000s (90 days)",
    ),
    "network_and_shared_vpc": (
        'billing_account = "012345-6789AB-CDEF01"',
        'billing_account = "012345-6789AB-CDEF01"\n'
        '  shared_vpc = { host_project = "h-project", network = "n", subnet = "s" }',
        "Set exactly one of network (local VPC) or shared_vpc.",
    ),
}


@pytest.mark.slow
def test_bad_inputs_are_rejected_with_clear_messages(tmp_path):
    require_sandbox()
    tf = Sandbox.example(MODULE, "minimal", tmp_path)
    tf.init()
    main_tf = tf.workdir / "main.tf"
    original = main_tf.read_text(encoding="utf-8")
    for case, (old, new, message) in BAD_INPUTS.items():
        assert old in original, case
        main_tf.write_text(original.replace(old, new, 1), encoding="utf-8")
        result = tf.run("validate", "-no-color")
        if result.code == 0:  # preconditions are only checked when planning
            result = tf.plan()
        assert result.code != 0 and message in result.text, f"{case}:\n{result.text[-2000:]}"
