"""tools/tfschema.py: module arguments checked against the google and google-beta schemas."""

from __future__ import annotations

import json
from pathlib import Path

from tfsupport import BETA_SCHEMA, SCHEMA, load_tool

tfschema = load_tool("tfschema")

MODULE = """
resource "google_project_service_identity" "pubsub" {
  provider = google-beta
  project  = "p"
  service  = "pubsub.googleapis.com"
  email    = "read-only"
}

resource "google_project_service_identity" "wrong_provider" {
  project = "p"
  service = "pubsub.googleapis.com"
}

resource "google_pubsub_topic" "t" {
  provider = google-beta.west
  name     = "t"
}
"""


def _write(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text(MODULE, encoding="utf-8")
    return tmp_path


def test_beta_resources_are_checked_against_the_beta_schema(tmp_path: Path) -> None:
    google = json.loads(SCHEMA.read_text(encoding="utf-8"))
    beta = json.loads(BETA_SCHEMA.read_text(encoding="utf-8"))
    assert tfschema.check_module(_write(tmp_path), google, beta) == [
        "main.tf: google_project_service_identity.pubsub: 'email' is read-only",
        "main.tf: google_project_service_identity.wrong_provider: resource type not in the provider schema",
        "main.tf: google_pubsub_topic.t: resource type not in the google-beta schema",
    ]


def test_cli_takes_the_beta_schema(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    module = _write(tmp_path)
    assert tfschema.main([str(SCHEMA), str(module)]) == 1
    without = capsys.readouterr().out
    assert "google_project_service_identity.pubsub: resource type not in the google-beta schema" in without
    assert tfschema.main([str(SCHEMA), "--beta", str(BETA_SCHEMA), str(module)]) == 1
    with_beta = capsys.readouterr().out
    assert "google_project_service_identity.pubsub: 'email' is read-only" in with_beta
    assert "pubsub: resource type" not in with_beta
