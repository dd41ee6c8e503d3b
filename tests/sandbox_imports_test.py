"""generator.sandbox.imports: import ids in the google provider's formats."""

from __future__ import annotations

import pytest

from generator.sandbox.imports import ImportIdError, parse


def test_import_ids_in_each_documented_format() -> None:
    table = "projects/p1/datasets/d1/tables/t1"
    for rid in (table, "p1/d1/t1"):
        assert parse("google_bigquery_table", rid, "other")["id"] == table
    short = parse("google_bigquery_table", "d1/t1", "p1")
    assert short["id"] == table and short["deletion_protection"] is True
    dataset = parse("google_bigquery_dataset", "d1", "p1")
    assert dataset["id"] == "projects/p1/datasets/d1" and dataset["delete_contents_on_destroy"] is False
    assert parse("google_bigquery_dataset", "p2/d1", "p1")["id"] == "projects/p2/datasets/d1"
    # A bucket's id is its name; the project, when given, comes first.
    bucket = parse("google_storage_bucket", "p1/b-1", None)
    assert (bucket["id"], bucket["project"], bucket["force_destroy"]) == ("b-1", "p1", False)
    assert "project" not in parse("google_storage_bucket", "b-1", None)
    with pytest.raises(ImportIdError, match="doesn't match any of the accepted formats"):
        parse("google_bigquery_table", "a/b/c/d", "p1")
