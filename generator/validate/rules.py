"""The rules a schema cannot say: names Google accepts, places, labels, across files.

``semantic`` runs them all on the descriptors whose schema passed (``clean``); the
pipeline's own rules (code, tables, views, SQL) are in :mod:`generator.validate.pipeline`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator import cache as run_cache
from generator import naming, renames
from generator.collisions import ClaimRecord, collisions
from generator.errors import Diagnostic
from generator.loader import Document
from generator.validate.descriptors import Descriptors
from generator.validate.pipeline import RunInputs, pipeline_rules, pipeline_rules_once
from generator.validate.summary import summary, summary_once, too_many_labels


def semantic(d: Descriptors, clean: dict[str, set[str]],
             cached: run_cache.Documents | None = None) -> Iterator[Diagnostic]:
    """Every rule beyond the schemas, on the descriptors whose schema passed (``clean``);
    a pipeline's own rules through ``cached`` (the per-file cache), when given."""
    env = d.environment
    data = env.data
    prefix = data["prefix"]
    # Names derive from renamed_from (naming.google_key): its problems come alone, first.
    rename_problems = list(renames.problems(d, clean))
    if rename_problems:
        yield from rename_problems
        return
    yield from _environment_rules(env)
    for key in sorted(clean["datasource"]):
        yield from _datasource_rules(d.datasources[key], key, prefix)
    keys = sorted(clean["pipeline"])
    if cached is None:
        own = [list(pipeline_rules(d, key, clean)) for key in keys]
        parts = [summary(d, key, clean) for key in keys]
    else:
        inputs = RunInputs(d)
        own = pipeline_rules_once(d, keys, clean, cached, inputs)
        parts = [summary_once(d, key, clean, cached, inputs) for key in keys]
    claims: dict[str, list[ClaimRecord]] = {}
    for key, found, part in zip(keys, own, parts, strict=True):
        yield from found
        yield from part.diagnostics
        claims[key] = part.claims
    yield from collisions(d, clean, claims)
    yield from _label_rules(d, clean)


def _label_rules(d: Descriptors, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    """At most 64 labels on every resource of the environment and the data sources, counted
    after the merges the model and modules do (a pipeline's: :func:`summary.pipeline_labels`)."""
    env = d.environment
    env_labels = set(env.data.get("labels", {}))
    too_many = too_many_labels
    yield from too_many(env, ("labels",), "environment", ("the environment", env_labels))
    for layer in naming.LAYERS:
        yield from too_many(env, ("projects", layer, "labels"), "environment", ("the environment", env_labels),
                            ("the project", set(env.data["projects"][layer].get("labels", {}))))
    for key, bucket in sorted(env.data.get("shared", {}).get("buckets", {}).items()):
        yield from too_many(env, ("shared", "buckets", key, "labels"), "environment",
                            ("the environment", env_labels), ("the bucket", set(bucket.get("labels", {}))))
    for key in sorted(clean["datasource"]):
        doc = d.datasources[key]
        source_labels = set(doc.data.get("labels", {}))
        yield from too_many(doc, ("labels",), "datasource", ("the environment", env_labels),
                            ("the data source", source_labels))
        # A bucket without labels of its own has the data source's count, reported above.
        for role, bucket in sorted(doc.data.get("buckets", {}).items()):
            if not bucket.get("labels"):
                continue
            yield from too_many(doc, ("buckets", role, "labels"), "datasource", ("the environment", env_labels),
                                ("the data source", source_labels), ("the bucket", set(bucket.get("labels", {}))))


def _name_rule(doc: Document, path: tuple[Any, ...], kind: str, name: str, what: str) -> Iterator[Diagnostic]:
    problem = naming.check(kind, name)
    if problem:
        yield doc.error(path, f"{what} '{name}' is invalid: {problem}",
                        hint="shorten the prefix or the key")


def _environment_rules(env: Document) -> Iterator[Diagnostic]:
    data = env.data
    prefix, region, location = data["prefix"], data["region"], data["location"]
    created = [layer for layer in naming.LAYERS if "existing" not in data["projects"][layer]]
    for layer in created:
        yield from _name_rule(env, ("projects", layer), "project",
                              naming.project_id(prefix, layer), f"project ID of the {layer} layer")
    for layer in naming.LAYERS:
        if "existing" in data["projects"][layer] and "labels" in data["projects"][layer]:
            yield env.error(("projects", layer, "labels"),
                            f"projects.{layer}.labels: the {layer} project is adopted ('existing'); df-gen "
                            "only adds IAM members to it and never sets its labels", key=True,
                            hint="label the project where it is managed, or drop 'existing' to create it")
    if created and "organization" not in data:
        yield env.error(("projects", created[0]),
                        f"projects.{created[0]}: a created project needs 'organization' "
                        "(parent and billing_account)",
                        hint="add organization, or adopt an existing project with 'existing'")
    yield from _name_rule(env, ("prefix",), "composer", naming.composer_name(prefix), "Composer environment name")
    if not _region_in_location(region, location):
        yield env.error(("location",), f"location: region '{region}' is not in location '{location}'",
                        hint="EU goes with europe-* regions, US with us-* regions, or use the region itself")
    kms = data.get("kms", {}).get("keys", {})
    for service, key in sorted(kms.items()):
        expected = {"storage": location, "bigquery": location, "composer": region, "pubsub": region}[service]
        if key["location"].lower() != expected.lower():
            yield env.error(("kms", "keys", service, "location"),
                            f"kms.keys.{service}.location: a {service} key must be in '{expected}', "
                            f"the location of the data it protects, not '{key['location']}'")
    for key in sorted(data.get("shared", {}).get("buckets", {})):
        yield from _name_rule(env, ("shared", "buckets", key), "bucket",
                              naming.shared_bucket(prefix, key), "bucket name")
    for key in sorted(data.get("shared", {}).get("datasets", {})):
        yield from _name_rule(env, ("shared", "datasets", key), "dataset",
                              naming.shared_dataset(prefix, key), "dataset ID")
    if "monitoring" in data and "composer" not in data:
        yield env.error(("monitoring",), "monitoring: alerts need a composer environment")
    # Whoever impersonates a task account reads and writes what it does (personal columns
    # included), beyond the data engineers' own roles: only listed data engineers may.
    engineers = set(data.get("principals", {}).get("data_engineers", []))
    for task, members in sorted(data.get("access", {}).get("impersonation", {}).items()):
        for index, member in enumerate(members):
            if member not in engineers:
                yield env.error(("access", "impersonation", task, index),
                                f"access.impersonation.{task}: '{member}' is not one of "
                                "principals.data_engineers; only data engineers may impersonate "
                                "task accounts",
                                hint="add it to principals.data_engineers, or remove it")


def _region_in_location(region: str, location: str) -> bool:
    if location == "EU":
        return region.startswith("europe-")
    if location == "US":
        return region.startswith("us-")
    return location == region


def _datasource_rules(doc: Document, key: str, prefix: str) -> Iterator[Diagnostic]:
    data = doc.data
    key = naming.google_key(key, data)  # the names Google has (renamed_from keeps them)
    for role in ("landing", "archive"):
        yield from _name_rule(doc, ("buckets", role) if role in data.get("buckets", {}) else (),
                              "bucket", naming.datasource_bucket(prefix, key, role), f"{role} bucket name")
    for layer in sorted(data["datasets"]):
        yield from _name_rule(doc, ("datasets", layer), "dataset",
                              naming.datasource_dataset(prefix, key, layer), "dataset ID")
    yield from _name_rule(doc, (), "service_account", naming.internal_account_id(key),
                          "internal service-account ID")
    for name, ident in sorted(data.get("external_identities", {}).items()):
        if "member" not in ident:
            yield from _name_rule(doc, ("external_identities", name), "service_account",
                                  naming.external_account_id(key, name), "external service-account ID")
            # https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts:
            # "The maximum length is 256 UTF-8 bytes" (the description of the created account).
            size = len(ident.get("description", "").encode("utf-8"))
            if size > naming.MAX_SERVICE_ACCOUNT_DESCRIPTION:
                yield doc.error(("external_identities", name, "description"),
                                f"external_identities.{name}.description is {size} bytes; it becomes the "
                                f"description of the writer's service account, which Google limits to "
                                f"{naming.MAX_SERVICE_ACCOUNT_DESCRIPTION} bytes")
    for topic in sorted(data.get("pubsub", {}).get("topics", {})):
        yield from _name_rule(doc, ("pubsub", "topics", topic), "topic", naming.topic(key, topic), "topic name")
    for role, bucket in sorted(data.get("buckets", {}).items()):
        lifecycle = bucket.get("lifecycle", {})
        if {"archive_after_days", "delete_after_days"} <= set(lifecycle) and (
            lifecycle["delete_after_days"] <= lifecycle["archive_after_days"]
        ):
            yield doc.error(("buckets", role, "lifecycle", "delete_after_days"),
                            f"buckets.{role}.lifecycle.delete_after_days must be later than archive_after_days")
        retention = bucket.get("retention_days", 0)
        if retention and bucket.get("versioning"):
            yield doc.error(("buckets", role, "versioning"),
                            f"buckets.{role}: versioning and retention_days cannot both be set "
                            "(Cloud Storage refuses a retention policy on a versioned bucket)")
        if retention and lifecycle.get("delete_after_days", retention) < retention:
            yield doc.error(("buckets", role, "lifecycle", "delete_after_days"),
                            f"buckets.{role}.lifecycle.delete_after_days is shorter than retention_days")
