"""generator.hcl: Python values printed as HCL, laid out as ``terraform fmt`` lays them out."""

from __future__ import annotations

import pytest
from tfsupport import fmt_problems

from generator import hcl


@pytest.mark.parametrize(("value", "printed"), [
    (None, "null"),
    (True, "true"),
    (False, "false"),
    (3, "3"),
    (2.5, "2.5"),
    ("plain", '"plain"'),
    ('a "quoted" \\ path', '"a \\"quoted\\" \\\\ path"'),
    ("line\nbreak", '"line\\nbreak"'),
    ("café", '"café"'),  # UTF-8 stays as it is
    (hcl.Raw("data.terraform_remote_state.environment.outputs"), "data.terraform_remote_state.environment.outputs"),
    ([], "[]"),
    ({}, "{}"),
    (["a", 1, None], '["a", 1, null]'),
])
def test_scalars_and_short_lists(value: object, printed: str) -> None:
    assert hcl.value(value) == printed


def test_template_sequences_are_escaped_unless_asked_not_to() -> None:
    # In Terraform configuration "${" and "%{" start templates; a value must not.
    assert hcl.string("${var.x} and %{if}") == '"$${var.x} and %%{if}"'
    # The CLI configuration (terraform.rc) is HCL 1: no templates, so no escaping.
    assert hcl.string("/home/${USER}/cache", template=False) == '"/home/${USER}/cache"'


@pytest.mark.parametrize(("name", "printed"), [
    ("location", "location"),
    ("df_pipeline", "df_pipeline"),
    ("with-dash", "with-dash"),
    ("9starts_with_digit", '"9starts_with_digit"'),
    ("has space", '"has space"'),
    ("roles/bigquery.dataViewer", '"roles/bigquery.dataViewer"'),
])
def test_keys_are_bare_only_when_identifiers(name: str, printed: str) -> None:
    assert hcl.key(name) == printed


def test_equals_signs_align_within_runs_that_a_multi_line_value_ends() -> None:
    text = hcl.attributes({"a": 1, "longer_name": "x", "block": {"k": "v"}, "b": True, "cc": None}, 2)
    assert text == (
        "  a           = 1\n"
        '  longer_name = "x"\n'
        "  block = {\n"
        '    k = "v"\n'
        "  }\n"
        "  b  = true\n"
        "  cc = null\n"
    )


def test_long_lists_break_one_item_per_line_with_trailing_commas() -> None:
    items = [f"europe-west{n}-with-a-long-suffix" for n in range(4)]
    assert hcl.value(items, indent=2) == "[\n" + "".join(f'    "{i}",\n' for i in items) + "  ]"
    short = ["europe-west1", "europe-west4"]
    assert hcl.value(short, indent=2) == '["europe-west1", "europe-west4"]'


def test_nested_mappings_indent_relative_to_their_attribute() -> None:
    assert hcl.value({"labels": {"team": "data"}, "names": ["a"]}, indent=4) == (
        "{\n"
        "      labels = {\n"
        '        team = "data"\n'
        "      }\n"
        '      names = ["a"]\n'
        "    }"
    )


def test_values_hcl_cannot_hold_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot print set as HCL"):
        hcl.value({1, 2})


def test_terraform_fmt_leaves_the_printed_layout_as_it_is(tmp_path) -> None:
    values = {
        "name": "df-acme-lnd",
        "labels": {"team": "data", "df_pipeline": "store-daily", "9-quoted": "key"},
        "regions": [f"europe-west{n}-with-a-long-suffix" for n in range(4)],
        "enabled": True,
        "nothing": None,
        "size": 10,
        "nested": {"rules": [{"column": "id", "non_null": True}], "threshold": 0.5},
        "reference": hcl.Raw("data.terraform_remote_state.environment.outputs.project_ids"),
        "template_like": "${not.interpolated}",
    }
    (tmp_path / "main.tf").write_text("locals {\n" + hcl.attributes(values, 2) + "}\n", encoding="utf-8")
    assert fmt_problems(tmp_path) == ""


def test_removed_blocks_are_fmt_clean_and_refuse_instance_keys(tmp_path) -> None:
    text = hcl.removed_block("module.pipeline") + "\n" + hcl.removed_block("google_storage_bucket.b", destroy=True)
    assert "from = module.pipeline\n" in text and "destroy = false" in text and "destroy = true" in text
    (tmp_path / "main.tf").write_text(text)
    assert fmt_problems(tmp_path) == ""
    with pytest.raises(ValueError, match="without instance keys"):
        hcl.removed_block('module.pipeline.google_bigquery_table.tables["x"]')
