"""generator.lifecycle_blocks: moved, import and removed blocks as ``terraform fmt`` prints them."""

from __future__ import annotations

from tfsupport import fmt_problems

from generator.lifecycle_blocks import Import, Moved, Removed, render, required_version

TABLE = 'module.pipeline.google_bigquery_table.tables["{}"]'


def test_each_block_is_printed_with_its_reason_as_a_comment() -> None:
    text = render([
        Moved(TABLE.format("curated-orders"), TABLE.format("curated-sales"), why="tables.curated.sales was orders"),
        Import('module.datasource.google_storage_bucket.default["landing"]', "acme-store-landing"),
        Removed("module.datasource"),
    ], "Header line.")
    assert text == (
        "# Header line.\n"
        "\n"
        "# tables.curated.sales was orders\n"
        "moved {\n"
        '  from = module.pipeline.google_bigquery_table.tables["curated-orders"]\n'
        '  to   = module.pipeline.google_bigquery_table.tables["curated-sales"]\n'
        "}\n"
        "\n"
        "import {\n"
        '  to = module.datasource.google_storage_bucket.default["landing"]\n'
        '  id = "acme-store-landing"\n'
        "}\n"
        "\n"
        "removed {\n"
        "  from = module.datasource\n"
        "  lifecycle {\n"
        "    destroy = false\n"
        "  }\n"
        "}\n"
    )


def test_import_ids_are_quoted_without_interpolation() -> None:
    assert '  id = "projects/p/x/$${y}"\n' in render([Import("a.b", "projects/p/x/${y}")], "h")


def test_removed_blocks_need_terraform_1_7_the_others_1_5() -> None:
    assert required_version([Moved("a.b", "a.c"), Import("a.b", "x")]) == "1.5.0"
    assert required_version([Removed("module.x")]) == "1.7.0"


def test_terraform_fmt_leaves_the_blocks_as_they_are(tmp_path) -> None:
    (tmp_path / "lifecycle.tf").write_text(render([
        Moved(TABLE.format("a"), TABLE.format("b"), why="why\non two lines"),
        Import("google_storage_bucket.x", "bucket"), Removed("module.datasource", destroy=True),
    ], "Header."))
    assert fmt_problems(tmp_path) == ""
