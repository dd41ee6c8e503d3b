"""Who may do what: the grants the model computes (generator/access.py) and what the rendered
environment stack plans from them in the sandbox (issue 11 items 2, 4, 5 and 10).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from demosupport import copy_sources
from tfsupport import require_sandbox

from generator import runner
from generator.render import load_model, render
from generator.runner.session import session

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "environments" / "demo"
ENGINEERS = "group:data-engineers@acme.example"


def copy_demo(base: Path, edit: dict[str, Any] | None = None) -> Path:
    """The demo's descriptors, modules and pipeline code under ``base``; ``edit`` is merged
    into environment.yaml at the top level."""

    env_dir = copy_sources(base, modules=True)
    if edit:
        path = env_dir / "environment.yaml"
        data = yaml.safe_load(path.read_text())
        data.update(edit)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    render(env_dir)
    return env_dir


def environment_arguments(env_dir: Path) -> dict[str, Any]:
    return dict(load_model(env_dir).stack("environment").arguments)


# ------------------------------------------------------------------ the model (fast)


def test_demo_access_is_least_privilege_by_default(tmp_path: Path) -> None:
    args = environment_arguments(copy_demo(tmp_path, {"access": {}}))
    roles = args["persona_roles"]
    # Item 4: analysts read exposure only.
    assert roles["analysts"] == {"exposure": ["roles/bigquery.dataViewer", "roles/bigquery.jobUser"]}
    # Item 5: no raw landing files for data engineers, no human impersonation.
    assert "roles/storage.objectViewer" not in roles["data_engineers"]["landing"]
    assert args["impersonators"] == {"load": ["composer"], "transformation": ["composer"],
                                     "orchestration": ["composer"]}
    # Item 10: security queries the logs.
    assert "roles/bigquery.jobUser" in roles["security"]["orchestration"]
    logs = args["shared_datasets"]["logs"]
    assert logs["iam"] == {"roles/bigquery.dataViewer": ["group:security@acme.example"]}
    assert logs["delete_contents_on_destroy"] is True and logs["expiration_days"] == 365
    # Every task account gets its grants from the model, none from module defaults.
    assert {t: sa["roles"] for t, sa in args["service_accounts"].items()} == {
        "load": {"landing": ["roles/bigquery.jobUser"]},
        "transformation": {"processing": ["roles/bigquery.jobUser"]},
        "orchestration": {"orchestration": ["roles/bigquery.jobUser"]},
    }


def test_access_choices_come_from_the_descriptor(tmp_path: Path) -> None:
    access = {
        "analysts_read_curated": True,
        "data_engineers_read_landing_files": True,
        "impersonation": {"transformation": [ENGINEERS]},
    }
    args = environment_arguments(copy_demo(tmp_path, {"access": access}))
    roles = args["persona_roles"]
    assert roles["analysts"]["curated"] == ["roles/bigquery.dataViewer"]
    assert "roles/storage.objectViewer" in roles["data_engineers"]["landing"]
    assert args["impersonators"]["transformation"] == ["composer", ENGINEERS]
    assert args["impersonators"]["load"] == ["composer"]


def test_transformation_account_reads_the_tags_of_the_tables_it_merges(tmp_path: Path) -> None:
    # Item 2: the demo's curated MERGE reads columns tagged high and medium; nothing is
    # tagged low, so no task reads low.
    tags = environment_arguments(copy_demo(tmp_path))["policy_taxonomy"]["tags"]
    assert tags["high"]["readers"] == ["security", "group:pii-readers@acme.example", "transformation"]
    assert tags["medium"]["readers"] == ["security", "transformation"]
    assert tags["low"]["readers"] == ["security"]


def test_security_reads_the_logs_in_a_storage_sink_too(tmp_path: Path) -> None:
    # Item 10: the security persona reads the exported logs wherever the sink writes them.
    logging = {"data_access_audit": ["bigquery.googleapis.com"], "sink": {"destination": "storage"}}
    args = environment_arguments(copy_demo(tmp_path, {"logging": logging}))
    assert args["shared_buckets"]["logs"]["iam"] == {"roles/storage.objectViewer": ["group:security@acme.example"]}
    assert "logs" not in args.get("shared_datasets", {})
    assert args["logging"]["sink"]["shared_bucket"] == "logs"


def test_no_log_readers_without_a_security_persona(tmp_path: Path) -> None:
    logging = {"sink": {"destination": "storage"}}
    principals = {"data_engineers": [ENGINEERS]}
    args = environment_arguments(copy_demo(tmp_path, {"logging": logging, "principals": principals}))
    assert "iam" not in args["shared_buckets"]["logs"]


def test_masked_tags_get_a_data_policy_and_masked_readers(tmp_path: Path) -> None:
    # Item 8: the demo masks high with SHA256 and medium with the default masking value.
    # Data engineers and analysts read tables but are readers of neither tag: they see
    # masked values. Security reads every tag in full; low is not masked.
    tags = environment_arguments(copy_demo(tmp_path))["policy_taxonomy"]["tags"]
    assert tags["high"]["masking"] == {
        "data_policy_id": "acme_demo_high_masking",
        "predefined_expression": "SHA256",
        "masked_readers": ["data_engineers", "analysts"],
    }
    assert tags["medium"]["masking"]["predefined_expression"] == "DEFAULT_MASKING_VALUE"
    assert tags["medium"]["masking"]["data_policy_id"] == "acme_demo_medium_masking"
    assert "masking" not in tags["low"]


def test_a_persona_that_reads_a_tag_in_full_is_not_its_masked_reader(tmp_path: Path) -> None:
    policy_tags = yaml.safe_load((DEMO / "environment.yaml").read_text())["policy_tags"]
    policy_tags["tags"]["high"]["readers"].append(ENGINEERS)
    policy_tags["tags"]["medium"]["readers"] = ["group:analysts@acme.example"]
    tags = environment_arguments(copy_demo(tmp_path, {"policy_tags": policy_tags}))["policy_taxonomy"]["tags"]
    assert tags["high"]["masking"]["masked_readers"] == ["analysts"]
    assert tags["medium"]["masking"]["masked_readers"] == ["data_engineers"]


def test_alerts_watch_every_dead_letter_subscription_and_quality_layer(tmp_path: Path) -> None:
    # Item 10: the environment's alerts cover the data sources' dead letters and the
    # pipelines' data-quality scans, named as the data source and pipeline stacks name them.
    env_dir = copy_demo(tmp_path)
    model = load_model(env_dir)
    monitoring = dict(model.stack("environment").arguments)["monitoring"]
    topics = dict(model.stack("datasource-ecommerce").arguments)["topics"]
    assert monitoring["dead_letter_subscriptions"] == [topics["orders"]["dead_letter_name"]]
    scans = dict(model.stack("pipeline-ecommerce-hourly").arguments)["data_quality"]
    assert monitoring["data_quality_layers"] == sorted({s["layer"] for s in scans.values()}) == ["curated"]


def test_alerts_beyond_composer_can_be_switched_off(tmp_path: Path) -> None:
    off = {"notification_emails": ["data-platform@acme.example"], "dead_letters": False,
           "data_quality_failures": False}
    monitoring = environment_arguments(copy_demo(tmp_path, {"monitoring": off}))["monitoring"]
    assert "dead_letter_subscriptions" not in monitoring and "data_quality_layers" not in monitoring


def test_personas_without_members_get_no_roles(tmp_path: Path) -> None:
    # No data engineers, so nobody may impersonate either (validate refuses it).
    args = environment_arguments(copy_demo(tmp_path, {"principals": {"security": ["group:sec@acme.example"]},
                                                      "access": {}}))
    assert set(args["persona_roles"]) == {"security"}


# ------------------------------------------------------------------ the plan (slow)


def plan_json(env_dir: Path, stack: str) -> dict[str, Any]:
    """``show -json`` of the stack's saved sandbox plan."""
    options = runner.RunOptions(env_dir, sandbox=True, quiet=True)
    with session(options, "plan") as (run, _):
        return dict(run.tf.show(run.model.stack(stack), run.ws.plan_file(stack)))


def planned(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Address -> planned values of every resource the plan creates or updates."""
    return {
        rc["address"]: rc["change"]["after"] or {}
        for rc in plan["resource_changes"]
        if rc["mode"] == "managed" and set(rc["change"]["actions"]) & {"create", "update"}
    }


@pytest.mark.slow
def test_planned_environment_grants(tmp_path: Path) -> None:
    require_sandbox()
    env_dir = copy_demo(tmp_path)
    report = runner.plan(runner.RunOptions(env_dir, sandbox=True, stacks=("environment",), only=True, quiet=True))
    assert [r.status for r in report.results] == ["changes"], report.summary_lines()
    after = planned(plan_json(env_dir, "environment"))
    grants = {(v.get("dataset_id") or v.get("project") or "", v.get("role"), v.get("member"))
              for a, v in after.items() if "_iam_member." in a}
    roles = {g[1] for g in grants}
    assert "roles/iam.serviceAccountUser" not in roles
    assert ("acme-demo-cur", "roles/bigquery.dataViewer", "group:analysts@acme.example") not in grants
    assert ("acme-demo-lnd", "roles/storage.objectViewer", ENGINEERS) not in grants
    assert ("acme_demo_logs", "roles/bigquery.dataViewer", "group:security@acme.example") in grants
    assert ("acme-demo-orc", "roles/bigquery.jobUser", "group:security@acme.example") in grants

    m = "module.environment."
    grant = f"{m}google_service_account_iam_member.impersonation["
    impersonation = {a.split("[", 1)[1] for a in after if a.startswith(grant)}
    assert impersonation == {
        '"load/roles/iam.serviceAccountTokenCreator/composer"]',
        '"transformation/roles/iam.serviceAccountTokenCreator/composer"]',
        '"orchestration/roles/iam.serviceAccountTokenCreator/composer"]',
        f'"orchestration/roles/iam.serviceAccountTokenCreator/{ENGINEERS}"]',
    }
    readers = f"{m}google_data_catalog_policy_tag_iam_member.readers"
    for tag in ("high", "medium"):
        assert after[f'{readers}["{tag}/transformation"]']["role"] == "roles/datacatalog.categoryFineGrainedReader"
    assert f'{readers}["low/transformation"]' not in after

    # Item 8: one data masking policy per masked tag, beside the taxonomy; Masked Reader on it.
    policies = {a: v for a, v in after.items() if a.startswith(f"{m}google_bigquery_datapolicy_data_policy.")}
    assert {a.rsplit("[", 1)[1] for a in policies} == {'"high"]', '"medium"]'}
    high = policies[f'{m}google_bigquery_datapolicy_data_policy.masking["high"]']
    assert (high["project"], high["location"]) == ("acme-demo-orc", "eu")
    assert high["data_policy_type"] == "DATA_MASKING_POLICY"
    assert high["data_masking_policy"] == [{"predefined_expression": "SHA256", "routine": None}]
    masked = {(v["data_policy_id"], v["member"]) for a, v in after.items()
              if a.startswith(f"{m}google_bigquery_datapolicy_data_policy_iam_member.")}
    assert masked == {(f"acme_demo_{tag}_masking", member) for tag in ("high", "medium")
                      for member in (ENGINEERS, "group:analysts@acme.example")}
    assert {v["role"] for a, v in after.items() if "datapolicy_data_policy_iam_member" in a} == {
        "roles/bigquerydatapolicy.maskedReader"}

    logs = after[f'{m}google_bigquery_dataset.shared["logs"]']
    assert logs["delete_contents_on_destroy"] is True
    assert logs["default_table_expiration_ms"] == logs["default_partition_expiration_ms"] == 365 * 86_400_000
