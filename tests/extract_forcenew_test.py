"""The ForceNew extractor (tools/extract_forcenew.py) and its committed output.

Fast tests run the extractor on hand-written Go files in the provider's shapes under
tests/data/extract_forcenew/ (never the network), as a plain directory and as a git
snapshot, and check the committed generator/sandbox/schema/google_forcenew.json against the
served schema. The slow test regenerates the committed file from a local copy of the
provider source when ``DF_GEN_PROVIDER_SOURCE`` names one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.tfsupport import load_tool

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "generator" / "sandbox" / "schema" / "google.json"
DATA = ROOT / "generator" / "sandbox" / "schema" / "google_forcenew.json"
FIXTURE = Path(__file__).parent / "data" / "extract_forcenew"

tool = load_tool("extract_forcenew")


def _run(tmp_path: Path, source: Path, schema: Path = FIXTURE / "schema.json") -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out.json"
    code = tool.main(["--source", str(source), "--schema", str(schema), "--out", str(out)])
    return code, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


# ------------------------------------------------------------------ the fixture


def test_fixture_top_level_nested_block_helper_and_generic_iam(tmp_path: Path) -> None:
    code, doc = _run(tmp_path, FIXTURE / "provider")
    assert code == 0
    assert doc["unresolved"] == []
    got = {t: e["force_new"] for t, e in doc["resources"].items()}
    assert got == {
        # MMv1 shape: top-level flags, a ForceNew block nested in a non-ForceNew block.
        "google_pubsub_subscription": [
            "enable_message_ordering",
            "name",
            "project",
            "push_config.no_wrapper",
            "push_config.no_wrapper.write_metadata",
            "topic",
        ],
        # Generic IAM: the base schema's role/member/condition merged with the parent's.
        "google_pubsub_subscription_iam_member": [
            "condition",
            "condition.expression",
            "condition.title",
            "member",
            "project",
            "role",
            "subscription",
        ],
        # Handwritten: Elem from a helper function, a ForceNew block, a package variable.
        "google_storage_bucket": [
            "custom_placement_config.data_locations",
            "hierarchical_namespace",
            "hierarchical_namespace.enabled",
            "location",
            "name",
        ],
        # Schema from a shared function; "project" added afterwards is not served here.
        "google_logging_project_sink": ["name"],
    }
    iam = doc["resources"]["google_pubsub_subscription_iam_member"]
    assert iam["generic"] == ["tpgiamresource.ResourceIamMember"]
    assert iam["declared_in"] == [
        "google/services/pubsub/iam_pubsub_subscription.go",
        "google/tpgiamresource/resource_iam_member.go",
    ]
    assert iam["origin"] == "Handwritten"
    sub = doc["resources"]["google_pubsub_subscription"]
    # The data source of the same name and the _test.go registration were not taken.
    assert (sub["origin"], sub["registered_in"]) == ("MMv1", "google/services/pubsub/resource_pubsub_subscription.go")
    assert doc["distance"] == {
        "summary": "the snapshot is the development head before 7.46.0; the served schema 8.7.0 is newer",
        "types_missing_in_source": [],
        "attributes_only_in_source": {
            "google_logging_project_sink": ["project"],
            "google_storage_bucket": ["versioning", "versioning.enabled"],
        },
        "attributes_only_in_served": {"google_pubsub_subscription": ["labels"]},
        "force_new_not_served": {"google_logging_project_sink": ["project"]},
        "counts": {
            "types": 4,
            "force_new_paths": 19,
            "attributes_only_in_source": 3,
            "attributes_only_in_served": 1,
        },
    }
    assert doc["provider_source"] == {
        "repository": "hashicorp/terraform-provider-google",
        "changelog_head": "7.46.0 (Unreleased)",
        "version_go": "dev7",
        "version": "7.46.0-dev",
    }
    # Deterministic, compact, one line.
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert text == tool.dumps(doc) and text.count("\n") == 1


def _git(repo: Path, *args: str, date: str | None = None) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com")
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def test_git_snapshot_records_commit_release_and_major_branch(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(FIXTURE / "provider", work)
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "Release 7.45.0", date="2026-08-18T11:00:00-07:00")
    _git(work, "tag", "v7.45.0")
    # A release tagged later on another branch is not part of the snapshot's past.
    _git(work, "checkout", "-qb", "release-9")
    _git(work, "commit", "-q", "--allow-empty", "-m", "Release 9.0.0", date="2027-01-01T00:00:00Z")
    _git(work, "tag", "v9.0.0")
    _git(work, "checkout", "-q", "main")
    merge = "Merge feature branch major release 8.0.0 (#1)"
    _git(work, "commit", "-q", "--allow-empty", "-m", merge, date="2026-08-20T14:00:00-07:00")
    _git(work, "commit", "-q", "--allow-empty", "-m", "docs: upgrade guide", date="2026-08-21T10:00:00-07:00")
    head = _git(work, "rev-parse", "HEAD").strip()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(tmp_path / "bare")], check=True)
    code, doc = _run(tmp_path, tmp_path / "bare")
    assert code == 0
    assert doc["provider_source"] == {
        "repository": "hashicorp/terraform-provider-google",
        "commit": head,
        "commit_date": "2026-08-21T10:00:00-07:00",
        "latest_release_tag": "v7.45.0",
        "merged_major_release_branch": "8.0.0",
        "changelog_head": "7.46.0 (Unreleased)",
        "version_go": "dev7",
        "version": "8.0.0-dev",
    }
    assert doc["distance"]["summary"] == (
        "the snapshot is the development head before 8.0.0; the served schema 8.7.0 is 7 minor release(s) newer"
    )
    # The same files give the same flags whether read from git or from a directory.
    _, plain = _run(tmp_path, FIXTURE / "provider")
    assert doc["resources"] == plain["resources"]


def test_schema_changes_inside_control_flow_are_reported_not_trusted(tmp_path: Path, capsys: Any) -> None:
    source = tmp_path / "provider"
    shutil.copytree(FIXTURE / "provider", source)
    sink = source / "google" / "services" / "logging" / "resource_logging_project_sink.go"
    text = sink.read_text(encoding="utf-8").replace(
        "\treturn schm\n", '\tif deprecated {\n\t\tschm.Schema["destination"].ForceNew = true\n\t}\n\treturn schm\n'
    )
    sink.write_text(text, encoding="utf-8")
    line = text.splitlines().index("\tif deprecated {") + 1
    code, doc = _run(tmp_path, source)
    assert code == 1
    where = f"google/services/logging/resource_logging_project_sink.go:{line}"
    assert doc["unresolved"] == [f"{where} (in ResourceLoggingProjectSink)"]
    assert f"warning: unresolved: {where}" in capsys.readouterr().err


def test_served_type_missing_from_the_source_fails(tmp_path: Path, capsys: Any) -> None:
    schema = json.loads((FIXTURE / "schema.json").read_text(encoding="utf-8"))
    schema["resource_schemas"]["google_pubsub_snapshot"] = {"version": 0, "block": {"attributes": {}}}
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    code, doc = _run(tmp_path, FIXTURE / "provider", tmp_path / "schema.json")
    assert code == 1
    assert doc["distance"]["types_missing_in_source"] == ["google_pubsub_snapshot"]
    assert "types not found: ['google_pubsub_snapshot']" in capsys.readouterr().err


def test_go_tokens_semicolons_and_raw_strings() -> None:
    goreader = load_tool("goreader")
    toks = goreader.tokenize('x := `a "b"\n{c}`\nf(1) /* c\n */ y := "}" // z\n')
    assert [t.text for t in toks] == ["x", ":=", '`a "b"\n{c}`', ";", "f", "(", "1", ")", ";", "y", ":=", '"}"', ";"]


# ------------------------------------------------------------------ the committed data


def _served() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def _resolves(block: dict[str, Any], dotted: str) -> bool:
    """Whether ``a.b.c`` names an attribute or block of the served schema block."""
    head, _, rest = dotted.partition(".")
    if head in block.get("block_types", {}):
        return not rest or _resolves(block["block_types"][head]["block"], rest)
    if head in block.get("attributes", {}):
        cty = block["attributes"][head]["type"]
        while rest and isinstance(cty, list) and cty[0] in ("list", "set", "map"):
            cty = cty[1]
        if not rest:
            return True
        if isinstance(cty, list) and cty[0] == "object":
            return _resolves({"attributes": {k: {"type": v} for k, v in cty[1].items()}}, rest)
    return False


def test_committed_data_covers_every_served_type_with_served_paths() -> None:
    served, data = _served(), _data()
    assert sorted(data["resources"]) == sorted(served["resource_schemas"])
    bad = [
        f"{t}: {p}"
        for t, entry in data["resources"].items()
        for p in entry["force_new"]
        if not _resolves(served["resource_schemas"][t]["block"], p)
    ]
    assert bad == []
    assert data["unresolved"] == [] and data["distance"]["types_missing_in_source"] == []
    assert data["served_schema"]["provider_version"] == served["provider_version"] == "8.7.0"
    assert data["distance"]["counts"]["types"] == len(data["resources"])
    assert data["distance"]["counts"]["force_new_paths"] == sum(len(e["force_new"]) for e in data["resources"].values())
    assert DATA.read_text(encoding="utf-8") == tool.dumps(data)  # deterministic form


def test_committed_beta_data_covers_the_served_beta_types() -> None:
    served = json.loads(SCHEMA.with_name("google-beta.json").read_text(encoding="utf-8"))
    beta = json.loads(DATA.with_name("google-beta_forcenew.json").read_text(encoding="utf-8"))
    assert sorted(beta["resources"]) == sorted(served["resource_schemas"])
    assert beta["provider_source"]["repository"] == "hashicorp/terraform-provider-google-beta"
    assert beta["unresolved"] == [] and beta["distance"]["types_missing_in_source"] == []
    for t, entry in beta["resources"].items():
        assert all(_resolves(served["resource_schemas"][t]["block"], p) for p in entry["force_new"])


def test_committed_data_records_the_snapshot() -> None:
    source = _data()["provider_source"]
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert re.fullmatch(r"v\d+\.\d+\.\d+", source["latest_release_tag"])
    assert source["version"] and source["changelog_head"]
    assert "8.7.0" in _data()["distance"]["summary"]


def test_committed_data_holds_the_flags_the_sandbox_was_missing() -> None:
    resources = _data()["resources"]
    # The example: in-place in the old hand-written table, ForceNew in the provider.
    assert "enable_message_ordering" in resources["google_pubsub_subscription"]["force_new"]
    # Generic IAM members: role, member and the whole condition come from tpgiamresource.
    member = resources["google_project_iam_member"]
    assert {"role", "member", "condition", "condition.expression", "project"} <= set(member["force_new"])
    assert member["generic"] == ["tpgiamresource.ResourceIamMember"]
    # Nested flags inside blocks.
    assert "time_partitioning.field" in resources["google_bigquery_table"]["force_new"]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("DF_GEN_PROVIDER_SOURCE"), reason="DF_GEN_PROVIDER_SOURCE not set")
def test_committed_json_matches_the_provider_source(tmp_path: Path) -> None:
    source = Path(os.environ["DF_GEN_PROVIDER_SOURCE"])
    rev = _data()["provider_source"]["commit"]
    out = tmp_path / "out.json"
    assert tool.main(["--source", str(source), "--rev", rev, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == DATA.read_text(encoding="utf-8")
