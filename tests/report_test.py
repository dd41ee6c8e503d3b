"""The change report (--report FILE.md|FILE.json): counts, losses with why, schema, Markdown size."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from demosupport import ALL

from generator import report
from generator.cli import cli

TABLE = 'module.pipeline.google_bigquery_table.tables["curated-orders"]'
PLAN = {"resource_changes": [
    {"address": TABLE, "mode": "managed", "type": "google_bigquery_table",
     "action_reason": "replace_because_cannot_update",
     "change": {"actions": ["delete", "create"], "replace_paths": [["schema"]]}},
    {"address": 'module.pipeline.google_storage_bucket_object.files["a"]', "mode": "managed",
     "type": "google_storage_bucket_object", "change": {"actions": ["update"]}},
    {"address": "module.pipeline.google_pubsub_topic.t", "mode": "managed", "type": "google_pubsub_topic",
     "change": {"actions": ["no-op"], "importing": {"id": "projects/p/topics/t"}}},
]}


def applied_then_pipelines_changed(demo: Path, fake) -> None:
    fake()
    assert CliRunner().invoke(cli, ["apply", str(demo), "--auto-approve"]).exit_code == 0
    with open(demo.parent.parent / "modules" / "pipeline" / "tables.tf", "a") as fh:
        fh.write("\n# a change to the pipeline module\n")


def test_report_files_follow_the_schema_and_name_every_loss(demo: Path, fake, tmp_path: Path) -> None:
    applied_then_pipelines_changed(demo, fake)
    fake({("pipeline-store-daily", "show"): [(0, json.dumps(PLAN))]})
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    result = CliRunner().invoke(cli, ["plan", str(demo), "--report", str(out_json), "--report", str(out_md)])
    assert result.exit_code == 0, result.output
    document = json.loads(out_json.read_text())
    jsonschema.validate(document, report.schema())
    jsonschema.Draft202012Validator.check_schema(report.schema())
    assert [s["name"] for s in document["stacks"]] == ALL
    store = next(s for s in document["stacks"] if s["name"] == "pipeline-store-daily")
    assert store["changes"] == {"add": 1, "change": 1, "replace": 1, "destroy": 1, "import": 1, "forget": 0}
    assert store["resource_types"] == {
        "google_bigquery_table": {"add": 1, "change": 0, "replace": 1, "destroy": 1, "import": 0, "forget": 0},
        "google_pubsub_topic": {"add": 0, "change": 0, "replace": 0, "destroy": 0, "import": 1, "forget": 0},
        "google_storage_bucket_object": {"add": 0, "change": 1, "replace": 0, "destroy": 0, "import": 0, "forget": 0},
    }
    assert store["destructive"] == [{
        "address": TABLE, "type": "google_bigquery_table", "action": "replace",
        "reason": "replaced: schema cannot be updated in place; a google_bigquery_table holds data or identity "
                  "that is lost with it"}]
    assert store["log"].endswith(".df-gen/gcp/logs/pipeline-store-daily.log")
    assert store["plan_file"].endswith(".df-gen/gcp/plans/pipeline-store-daily.tfplan")
    # The other pipeline adds one bucket (the fake's default plan); the rest is unchanged.
    assert document["summary"]["changes"] == {"add": 2, "change": 1, "replace": 1, "destroy": 1, "import": 1,
                                              "forget": 0}
    assert document["summary"]["destructive"] == 1
    assert document["summary"]["statuses"] == {"skipped": 3, "changes": 2}

    markdown = out_md.read_text()
    table_at = markdown.index("| stack | status | add | change | replace | destroy | import | forget | data loss |")
    assert table_at < markdown.index("<details>")
    assert "| pipeline-store-daily | 🟡 changes | 1 | 1 | 1 | 1 | 1 | 0 | 1 |" in markdown
    assert f"**replace** `{TABLE}`: replaced: schema cannot be updated in place" in markdown
    assert "2 to add, 1 to change, 1 to destroy (1 replaced), 1 to import" in markdown
    assert "| environment | ⚪ skipped | – | – | – | – | – | – |  |" in markdown

    # plan --json gains the same counts, per stack and per type.
    fake({("pipeline-store-daily", "show"): [(0, json.dumps(PLAN))]})
    result = CliRunner().invoke(cli, ["plan", str(demo), "--json"])
    entry = next(s for s in json.loads(result.stdout)["stacks"] if s["name"] == "pipeline-store-daily")
    assert entry["changes"] == store["changes"] and entry["resource_types"] == store["resource_types"]


def test_apply_report_keeps_the_counts_of_the_saved_plan(demo: Path, fake, tmp_path: Path) -> None:
    applied_then_pipelines_changed(demo, fake)
    fake({("pipeline-store-daily", "show"): [(0, json.dumps(PLAN))]})
    assert CliRunner().invoke(cli, ["plan", str(demo)]).exit_code == 0
    out = tmp_path / "apply.json"
    result = CliRunner().invoke(cli, ["apply", str(demo), "--auto-approve", "--allow-destroy", "--report", str(out)])
    assert result.exit_code == 0, result.output
    document = report.load(out)
    store = next(s for s in document["stacks"] if s["name"] == "pipeline-store-daily")
    assert (store["status"], store["note"]) == ("applied", "applied the saved plan")
    assert store["changes"]["replace"] == 1 and store["destructive"][0]["action"] == "replace"
    assert store["plan_file"] is None  # apply spends the saved plan


@pytest.mark.parametrize("name", ["report.txt", "report", "report.yaml"])
def test_report_suffix_other_than_md_or_json_is_a_usage_error(demo: Path, name: str) -> None:
    result = CliRunner().invoke(cli, ["plan", str(demo), "--report", name])
    assert result.exit_code == 2
    assert f"Invalid value for '--report': {name}: the suffix picks the format: .md or .json" in result.output


def big_document(stacks: int, losses: int) -> dict:
    counts = {"add": 1, "change": 0, "replace": 1, "destroy": 1, "import": 0, "forget": 0}
    return {
        "version": 1, "command": "plan", "mode": "gcp", "environment": "environments/big",
        "selection": {"stacks": [], "only": False, "all": True, "changed_since": None},
        "summary": {"stacks": stacks, "statuses": {"changes": stacks}, "changes": counts,
                    "destructive": stacks * losses,
                    "schema_changes": 0, "has_changes": True, "failed": 0},
        "stacks": [{
            "name": f"pipeline-p{i:04d}", "kind": "pipeline", "status": "changes", "note": None, "changes": counts,
            "resource_types": {"google_bigquery_table": counts},
            "destructive": [{"address": f'module.pipeline.google_bigquery_table.tables["t{j}"]',
                             "type": "google_bigquery_table", "action": "replace", "reason": "replaced: schema "
                             "cannot be updated in place"} for j in range(losses)],
            "schema_changes": [], "retired": None, "error": None, "log": f"logs/p{i}.log", "plan_file": None,
        } for i in range(stacks)],
    }


@pytest.mark.parametrize("stacks, losses", [(3, 2), (60, 40), (2500, 1)])
def test_markdown_stays_under_the_comment_limit_with_a_note(stacks: int, losses: int) -> None:
    document = big_document(stacks, losses)
    jsonschema.validate(document, report.schema())
    footer = "<!-- marker -->"
    text = report.to_markdown(document, footer=footer)
    assert len(text) <= report.GITHUB_COMMENT_LIMIT and len(text.encode()) <= report.GITHUB_COMMENT_LIMIT
    assert text.rstrip().endswith(footer)
    assert text.index("| stack | status |") < text.find("<details>") or "<details>" not in text
    if stacks == 3:
        assert "truncated" not in text and text.count("<details>") == 3
    else:
        assert "Report truncated:" in text and "65,536 characters" in text
        kept = text.count("<details>")
        assert kept < stacks and f"the details of {stacks - kept} stack(s) are left out" in text
    if stacks == 60:
        assert all(f"| pipeline-p{i:04d} |" in text for i in range(stacks))  # the whole table survives


def test_load_refuses_what_is_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"version": 1}')
    with pytest.raises(Exception, match=r"x.json: not a df-gen report \(\(top\): 'command' is a required property\)"):
        report.load(path)
