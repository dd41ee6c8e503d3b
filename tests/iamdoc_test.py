"""Tests of tools/iamdoc.py and tools/accessdoc.py: permission tables read from the modules'
code and from generator/access.py, and module READMEs that carry them fresh."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from tfsupport import ROOT, load_tool

from generator import access

iamdoc = load_tool("iamdoc")
accessdoc = load_tool("accessdoc")
tfdoc = load_tool("tfdoc")

MODULES = [ROOT / "modules" / m for m in ("environment", "datasource", "pipeline")]
GRANT_RESOURCE = re.compile(r'^resource "(google_\w+_iam_member|google_bigquery_dataset_access)" "(\w+)"', re.M)
ROLE = re.compile(r'"(roles/[^"$]+)"')


def _section(readme: str) -> str:
    return readme[readme.index(iamdoc.BEGIN) : readme.index(iamdoc.END)]


@pytest.mark.parametrize("module_dir", MODULES, ids=lambda p: p.name)
def test_module_readmes_are_up_to_date(module_dir: Path) -> None:
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    assert readme == iamdoc.wanted_readme(module_dir, readme), (
        f"run: python tools/iamdoc.py {module_dir.relative_to(ROOT)}"
    )


@pytest.mark.parametrize("module_dir", MODULES, ids=lambda p: p.name)
def test_every_grant_resource_and_role_literal_of_the_code_is_in_the_table(module_dir: Path) -> None:
    # Read the .tf text with plain regular expressions, independently of the tool's parser.
    # variables.tf is left out: its validations name the primitive roles they refuse.
    table = _section((module_dir / "README.md").read_text(encoding="utf-8"))
    for path in sorted(set(module_dir.glob("*.tf")) - {module_dir / "variables.tf"}):
        code = tfdoc.strip_comments(path.read_text(encoding="utf-8"))
        for rtype, name in GRANT_RESOURCE.findall(code):
            assert f"`{rtype}.{name}`" in table, f"{path.name}: {rtype}.{name} missing"
        for role in ROLE.findall(code):
            assert f"`{role}`" in table, f"{path.name}: {role} missing"


def test_datasource_table_rows_follow_the_grant_tables() -> None:
    rows = iamdoc.read_grants(ROOT / "modules" / "datasource")
    landing = {(g.who, g.role) for g in rows if g.on == "the landing bucket"}
    assert landing == {
        ("`local.external_keys`", "roles/storage.objectCreator"),
        ("`internal`", "roles/storage.objectAdmin"),
        ("`task:load`", "roles/storage.objectUser"),
    }
    inputs = [g for g in rows if g.role.startswith("input ")]
    assert [(g.role, g.on) for g in inputs] == [
        ("input `datasets[*].iam`", "the *layer* dataset"),
        ("input `service_agent_grants[*].role`", "the dataset each grant names"),
    ]


def test_grant_table_reads_object_lists_only() -> None:
    text = """[
      # a comment, then entries on one line each
      { bucket = "landing", role = "roles/a", who = local.external_keys },
      { bucket = "archive", role = "roles/b", who = ["internal", "task:load"] },
    ]"""
    assert iamdoc.grant_table(text) == [
        {"bucket": "landing", "role": "roles/a", "who": "local.external_keys"},
        {"bucket": "archive", "role": "roles/b", "who": ["internal", "task:load"]},
    ]
    assert iamdoc.grant_table('["roles/a", "roles/b"]') is None
    assert iamdoc.grant_table("{ for k, v in var.x : k => v }") is None
    assert iamdoc.grant_table('[{ role = "roles/a" }]') is None  # no who


def _copy(module: str, tmp_path: Path) -> Path:
    target = tmp_path / module
    shutil.copytree(ROOT / "modules" / module, target, ignore=shutil.ignore_patterns(".terraform*", "examples"))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "file", "old", "new", "role"),
    [
        # A new entry in a grant table.
        ("datasource", "iam.tf",
         '{ bucket = "archive", role = "roles/storage.objectViewer", who = ["task:transformation"] },',
         '{ bucket = "archive", role = "roles/storage.objectViewer", who = ["task:transformation"] },\n'
         '    { bucket = "archive", role = "roles/storage.legacyBucketReader", who = ["internal"] },',
         "roles/storage.legacyBucketReader"),
        # A role literal changed on a resource.
        ("environment", "composer.tf", '"roles/composer.worker"', '"roles/composer.admin"', "roles/composer.admin"),
        # A role added to an inline for_each.
        ("pipeline", "quality.tf", '"roles/dataplex.dataScanDataViewer"]',
         '"roles/dataplex.dataScanDataViewer", "roles/dataplex.viewer"]', "roles/dataplex.viewer"),
    ],
)
def test_a_role_changed_in_the_code_makes_the_readme_stale(tmp_path, capsys, module, file, old, new, role):
    module_dir = _copy(module, tmp_path)
    assert iamdoc.main(["--check", str(module_dir)]) == 0
    _edit(module_dir / file, old, new)
    assert iamdoc.main(["--check", str(module_dir)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert iamdoc.main([str(module_dir)]) == 0
    assert f"`{role}`" in _section((module_dir / "README.md").read_text(encoding="utf-8"))
    assert iamdoc.main(["--check", str(module_dir)]) == 0


def test_a_removed_grant_table_entry_leaves_the_table(tmp_path):
    module_dir = _copy("datasource", tmp_path)
    _edit(module_dir / "iam.tf",
          '    { bucket = "archive", role = "roles/storage.objectViewer", who = ["task:transformation"] },\n', "")
    assert iamdoc.main(["--check", str(module_dir)]) == 1
    iamdoc.main([str(module_dir)])
    rows = iamdoc.read_grants(module_dir)
    assert ("`task:transformation`", "roles/storage.objectViewer") not in {(g.who, g.role) for g in rows}


GRANT_FROM_INPUT = """
variable "grants" {
  type = map(object({ role = string, member = string }))
}

resource "google_project_iam_member" "x" {
  %s
  for_each = var.grants
  project  = "p"
  role     = each.value.role
  member   = each.value.member
}
"""


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ("", "no role found"),
        ('# iamdoc: roles = var.other\n  # iamdoc: who = "w"\n  # iamdoc: on = "o"', "var.other does not reach"),
        ("# iamdoc: roles = var.grants", 'add a "# iamdoc: who = ..." line'),
        ('# iamdoc: roles = local.x\n  # iamdoc: who = "w"\n  # iamdoc: on = "o"', "must name an input"),
    ],
)
def test_grants_the_tool_cannot_explain_are_errors(tmp_path, capsys, annotation, message):
    (tmp_path / "main.tf").write_text(GRANT_FROM_INPUT % annotation)
    (tmp_path / "README.md").write_text(f"# M\n\n{iamdoc.BEGIN}\n{iamdoc.END}\n")
    assert iamdoc.main(["--check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "google_project_iam_member.x" in err


def test_a_grant_from_a_named_input(tmp_path):
    annotation = '# iamdoc: roles = var.grants\n  # iamdoc: who = "each member"\n  # iamdoc: on = "project p"'
    (tmp_path / "main.tf").write_text(GRANT_FROM_INPUT % annotation)
    assert iamdoc.read_grants(tmp_path) == [
        iamdoc.Grant("each member", "input `grants`", "project p", "google_project_iam_member.x")
    ]


def test_a_readme_without_markers_is_an_error(tmp_path, capsys):
    (tmp_path / "main.tf").write_text("")
    (tmp_path / "README.md").write_text("# M\n")
    assert iamdoc.main(["--check", str(tmp_path)]) == 2
    assert "no <!-- BEGIN IAMDOC -->" in capsys.readouterr().err


# -------------------------------------------------------------------- the model's grants


def test_access_table_is_what_the_model_computes(monkeypatch):
    text = accessdoc.render()
    assert "| persona `analysts` |  |  |  | `roles/bigquery.dataViewer`<br>`roles/bigquery.jobUser` |  |" in text
    assert "- `access.analysts_read_curated`: `roles/bigquery.dataViewer` to `analysts` on curated." in text
    assert "- `storage`: `roles/storage.objectViewer` to the persona `security` on the logs bucket." in text
    # A role added to the model shows up, so the README goes stale.
    monkeypatch.setitem(access._ANALYSTS, "exposure", ["roles/bigquery.dataViewer", "roles/bigquery.jobUser",
                                                      "roles/bigquery.metadataViewer"])
    changed = accessdoc.render()
    assert "`roles/bigquery.metadataViewer`" in changed
    readme = (ROOT / "modules" / "environment" / "README.md").read_text(encoding="utf-8")
    assert iamdoc.refresh(readme, changed, iamdoc.ACCESS_BEGIN, iamdoc.ACCESS_END) != readme


def test_access_options_come_from_the_schema():
    assert accessdoc.options() == ["analysts_read_curated", "data_engineers_read_landing_files"]
