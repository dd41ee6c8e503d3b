"""generator.sandbox.formats: the provider's formats per type, checked against the served schemas."""

from __future__ import annotations

from generator.sandbox import agents, schema_loader
from generator.sandbox.formats import TYPE_VALUES, digits, project_number
from generator.sandbox.values import UNKNOWN


def test_every_format_names_a_served_type_and_its_computed_attributes() -> None:
    google = schema_loader.load(schema_loader.DEFAULT_SCHEMA)
    beta = schema_loader.load(schema_loader.DEFAULT_SCHEMA.with_name("google-beta.json"))
    wrong = []
    for type_name, values in TYPE_VALUES.items():
        entry = google.resource(type_name) or beta.resource(type_name)
        if entry is None:
            wrong.append(f"{type_name}: not served")
            continue
        attrs = entry["block"]["attributes"]
        wrong += [f"{type_name}.{name}" for name in values if not attrs.get(name, {}).get("computed")]
    assert wrong == []


def test_project_numbers_are_stable_twelve_digits() -> None:
    number = project_number("df-test-proj")
    assert len(number) == 12 and number.isdigit() and not number.startswith("0")
    assert number == project_number("df-test-proj") != project_number("df-test-prj")
    assert len(digits("x", 21)) == 21


def test_service_identity_gets_the_primary_agent_or_nothing() -> None:
    fmt = TYPE_VALUES["google_project_service_identity"]
    state = {"project": "p1", "service": "pubsub.googleapis.com"}
    assert fmt["email"](state, {}) == agents.email("pubsub", project_number("p1"))
    assert fmt["email"]({"project": "p1", "service": "bigquery.googleapis.com"}, {}) is None
    # An unknown project falls back on the provider's.
    assert fmt["id"]({"project": UNKNOWN, "service": "s"}, {"project": "p2"}) == "projects/p2/services/s"
