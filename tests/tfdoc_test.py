"""Tests of tools/tfdoc.py: the HCL reader, the tables it renders, and fresh module READMEs."""

from __future__ import annotations

from pathlib import Path

import pytest
from tfsupport import ROOT, load_tool

tfdoc = load_tool("tfdoc")

VARIABLES = """
# A comment with { an unbalanced brace
variable "buckets" {
  description = "Buckets keyed by role; \\"quoted\\" text."
  type = map(object({
    name    = string
    project = optional(string, "landing") # trailing comment }
    lifecycle = optional(object({
      delete_after_days = optional(number)
    }), {})
  }))
  validation {
    condition     = alltrue([for k in keys(var.buckets) : contains(["landing", "archive"], k)])
    error_message = "Keys must be landing or archive: not ${"{"} braces }."
  }
}

variable "name" {
  type        = string
  description = <<-EOT
    The data source key,
    used in labels.
  EOT
}

/* block comment: variable "ghost" { } */
variable "labels" {
  description = "Labels."
  type        = map(string)
  default     = {}
}

variable "template" {
  description = "Uses $${literal} and ${var.x}."
  type        = string
  default     = "a}b"
}
"""

OUTPUTS = """
output "buckets" {
  description = "Bucket names | by role."
  value       = { for k, b in google_storage_bucket.default : k => b.name }
  depends_on  = [google_storage_bucket_iam_member.default]
}
"""


def test_parse_body_reads_blocks_labels_and_attributes():
    root = tfdoc.parse_body(VARIABLES)
    assert [(b.type, b.labels) for b in root.blocks] == [
        ("variable", ["buckets"]),
        ("variable", ["name"]),
        ("variable", ["labels"]),
        ("variable", ["template"]),
    ]
    buckets = root.blocks[0]
    assert set(buckets.attributes) == {"description", "type"}
    assert [b.type for b in buckets.blocks] == ["validation"]
    assert buckets.blocks[0].attributes["error_message"].startswith('"Keys must')
    assert root.blocks[3].attributes["default"] == '"a}b"'


def test_nested_blocks_and_dynamic_labels():
    root = tfdoc.parse_body(
        'resource "google_storage_bucket" "b" {\n'
        '  name = "x"\n'
        '  dynamic "lifecycle_rule" {\n'
        "    for_each = [1]\n"
        "    content {\n"
        '      action { type = "Delete" }\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    resource = root.blocks[0]
    assert resource.labels == ["google_storage_bucket", "b"]
    dynamic = resource.blocks[0]
    assert (dynamic.type, dynamic.labels) == ("dynamic", ["lifecycle_rule"])
    content = dynamic.blocks[0]
    assert content.blocks[0].attributes == {"type": '"Delete"'}


def test_variables_with_optional_types_heredocs_and_defaults(tmp_path):
    (tmp_path / "variables.tf").write_text(VARIABLES)
    (tmp_path / "outputs.tf").write_text(OUTPUTS)
    variables, outputs = tfdoc.read_module(tmp_path)
    by_name = {v.name: v for v in variables}
    assert by_name["buckets"].description == 'Buckets keyed by role; "quoted" text.'
    assert by_name["buckets"].type == (
        'map(object({ name = string, project = optional(string, "landing"), '
        "lifecycle = optional(object({ delete_after_days = optional(number) }), {}) }))"
    )
    assert by_name["buckets"].required
    assert by_name["name"].description == "The data source key, used in labels."
    assert by_name["labels"].default == "{}"
    assert not by_name["labels"].required
    assert by_name["template"].description == "Uses $${literal} and ${var.x}."
    assert "ghost" not in by_name
    assert outputs == [tfdoc.Output("buckets", "Bucket names | by role.")]


def test_render_puts_required_first_and_escapes_cells():
    text = tfdoc.render(
        [
            tfdoc.Variable("zeta", "Optional.", "map(string)", "{}"),
            tfdoc.Variable("alpha", "Optional too.", "string", "null"),
            tfdoc.Variable("name", "Required.", "string", None),
        ],
        [tfdoc.Output("out", "A | pipe.")],
    )
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    assert rows == [
        "| `name` | Required. | <code>string</code> | yes |  |",
        "| `alpha` | Optional too. | <code>string</code> |  | <code>null</code> |",
        "| `zeta` | Optional. | <code>map(string)</code> |  | <code>{}</code> |",
        "| `out` | A \\| pipe. |",
    ]
    assert text.startswith(tfdoc.BEGIN) and text.endswith(tfdoc.END)


def test_refresh_replaces_only_the_marked_section():
    readme = f"# Title\n\nIntro.\n\n{tfdoc.BEGIN}\nold\n{tfdoc.END}\n\nTrailer.\n"
    assert tfdoc.refresh(readme, "NEW") == "# Title\n\nIntro.\n\nNEW\n\nTrailer.\n"
    assert tfdoc.refresh("# Title\n", "NEW") == "# Title\n\nNEW\n"


def test_check_mode_fails_when_stale_and_write_mode_fixes_it(tmp_path, capsys):
    (tmp_path / "variables.tf").write_text(VARIABLES)
    (tmp_path / "outputs.tf").write_text(OUTPUTS)
    (tmp_path / "README.md").write_text(f"# M\n\n{tfdoc.BEGIN}\n{tfdoc.END}\n")
    assert tfdoc.main(["--check", str(tmp_path)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert tfdoc.main([str(tmp_path)]) == 0
    assert tfdoc.main(["--check", str(tmp_path)]) == 0
    readme = (tmp_path / "README.md").read_text()
    assert "| `buckets` |" in readme and "| `labels` |" in readme
    # A new variable makes the README stale again.
    with (tmp_path / "variables.tf").open("a") as fh:
        fh.write('variable "extra" {\n  description = "New."\n  type = bool\n}\n')
    assert tfdoc.main(["--check", str(tmp_path)]) == 1


@pytest.mark.parametrize(
    "text",
    [
        'variable "x" {\n  description = "never closed\n}\n',
        'variable "x" {\n  type = string\n',
        'variable "x" {\n  default = [1, 2}\n}\n',
        "= 3\n",
    ],
)
def test_broken_hcl_raises(text):
    with pytest.raises(tfdoc.HclError):
        tfdoc.parse_body(text)


def test_broken_module_exits_2(tmp_path, capsys):
    (tmp_path / "variables.tf").write_text('variable "x" {\n')
    assert tfdoc.main(["--check", str(tmp_path)]) == 2
    assert "variables.tf" in capsys.readouterr().err


def _modules_with_tfdoc() -> list[Path]:
    return sorted(
        p.parent
        for p in (ROOT / "modules").glob("*/README.md")
        if tfdoc.BEGIN in p.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("module_dir", _modules_with_tfdoc(), ids=lambda p: p.name)
def test_module_readmes_are_up_to_date(module_dir):
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    wanted = tfdoc.refresh(readme, tfdoc.render(*tfdoc.read_module(module_dir)))
    assert readme == wanted, f"run: python tools/tfdoc.py {module_dir.relative_to(ROOT)}"


def test_bundled_modules_have_documented_readmes():
    names = {p.name for p in _modules_with_tfdoc()}
    assert {"datasource", "environment", "pipeline"} <= names
