"""generator.sandbox.computed: filling a planned value's unknowns (type formats, name rules, generic)."""

from __future__ import annotations

from typing import Any

from generator.sandbox import computed
from generator.sandbox.values import UNKNOWN

CONFIG = {"project": "df-test-proj", "region": "europe-west1", "default_labels": {"a": "b"}}


def test_ids_without_a_known_format_never_collide() -> None:
    block = {
        "attributes": {
            "id": {"type": "string", "optional": True, "computed": True},
            "perimeter": {"type": "string", "required": True},
        }
    }
    a = computed.fill("google_made_up", block, {"id": UNKNOWN, "perimeter": "p1"}, CONFIG)
    b = computed.fill("google_made_up", block, {"id": UNKNOWN, "perimeter": "p2"}, CONFIG)
    assert a["id"] != b["id"] and a["id"].startswith("projects/df-test-proj/made_up/")
    iam = {
        "attributes": {
            "id": {"type": "string", "computed": True},
            "bucket": {"type": "string", "required": True},
            "role": {"type": "string", "required": True},
            "member": {"type": "string", "required": True},
        }
    }
    state = computed.fill(
        "google_x_iam_member", iam, {"id": UNKNOWN, "bucket": "b", "role": "roles/r", "member": "user:u"}, {}
    )
    assert state["id"] == "b/roles/r/user:u"




def test_placement_comes_first_and_nested_blocks_use_name_rules() -> None:
    block: dict[str, Any] = {
        "attributes": {
            "name": {"type": "string", "required": True},
            "project": {"type": "string", "optional": True, "computed": True},
            "region": {"type": "string", "optional": True, "computed": True},
            "id": {"type": "string", "computed": True},
        },
        "block_types": {
            "config": {
                "nesting_mode": "list",
                "block": {"attributes": {
                    "dag_gcs_prefix": {"type": "string", "computed": True},
                    "node_count": {"type": "number", "computed": True},
                }},
            }
        },
    }
    state = {"name": "orch", "project": UNKNOWN, "region": "us-east1", "id": UNKNOWN,
             "config": [{"dag_gcs_prefix": UNKNOWN, "node_count": UNKNOWN}]}
    computed.fill("google_composer_environment", block, state, CONFIG)
    # The id is built from the project the provider config gave and the resource's own region.
    assert state["id"] == "projects/df-test-proj/locations/us-east1/environments/orch"
    prefix = state["config"][0]["dag_gcs_prefix"]
    assert prefix.startswith("gs://us-east1-orch-") and prefix.endswith("-bucket/dags")
    assert state["config"][0]["node_count"] == 0  # generic value of a number


def test_labels_merge_provider_defaults_and_wait_for_unknown_labels() -> None:
    assert computed.derived_labels({"labels": {"x": "y", "a": "c"}}, CONFIG) == (
        {"a": "c", "x": "y"}, {"a": "c", "x": "y"})
    assert computed.derived_labels({"labels": {"x": UNKNOWN}}, CONFIG) == (UNKNOWN, UNKNOWN)
    block = {"attributes": {n: {"type": ["map", "string"]} for n in ("labels", "effective_labels")}}
    state: dict[str, Any] = {"labels": None}
    computed.derive_at_plan(block, state, CONFIG)
    assert state == {"labels": None, "effective_labels": {"a": "b"}}


def test_generic_values_follow_the_attribute_name_and_type() -> None:
    top = {"name": "thing", "project": "p1"}
    assert computed.generic_value("id", "string", top, CONFIG, "google_widget") == "projects/p1/widget/thing"
    assert computed.generic_value("service_email", "string", top, CONFIG, "google_widget").endswith(
        "@p1.iam.gserviceaccount.com")
    assert computed.generic_value("enabled", "bool", top, CONFIG, "google_widget") is False
    assert computed.generic_value("tags", ["set", "string"], top, CONFIG, "google_widget") == []
    assert computed.generic_value("spec", ["object", {"size": "number"}], top, CONFIG, "google_widget") == {"size": 0}
