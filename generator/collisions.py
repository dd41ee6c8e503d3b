"""One collision detector: every name and key the environment generates, claimed once.

``collisions(descriptors, clean)`` feeds every generated name (project IDs, buckets,
datasets, service accounts, topics, subscriptions, notification channels, data-quality
scans, the module map keys they are stored under, tables and views) into one
:class:`naming.Registry`, using the naming functions the model uses, and reports every name
two descriptor entries would share, naming both places. Two entries that map to one name
would otherwise be merged by a Terraform map (one silently lost) or fail half-way through
an apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from generator import naming
from generator.errors import Diagnostic
from generator.loader import Document

ClaimRecord = tuple[str, str, str, tuple[Any, ...], bool, str]
"""A claim of a pipeline's, as validate caches it: noun, name, owner, the path of its entry
in the descriptor, whether the error points at the entry's key, scope."""


def collisions(d: Any, clean: dict[str, set[str]],
               claims: Mapping[str, Sequence[ClaimRecord]] | None = None) -> Iterator[Diagnostic]:
    """Every generated name claimed by two entries of the (schema-valid) descriptors ``d``.
    ``claims``: pipelines' claims already known (:func:`pipeline_claims`, from validate's
    cache); the others are computed."""
    names = naming.Registry()
    projects = _environment(names, d.environment)
    for key in sorted(clean["datasource"]):
        _datasource(names, d.datasources[key], key, d.environment.data["prefix"], projects)
    for key in sorted(clean["pipeline"]):
        source = d.pipelines[key].data["datasource"]
        if source not in clean["datasource"]:
            continue
        known = claims.get(key) if claims is not None else None
        doc = d.pipelines[key]
        for noun, name, owner, path, on_key, scope in known if known is not None else pipeline_claims(d, key):
            names.claim(noun, name, owner, (doc, path, on_key), scope=scope)
    reported: set[tuple[str, tuple[Any, ...], str, tuple[Any, ...]]] = set()
    for later, first in names.collisions:
        doc, path, key = later.place
        first_doc, first_path, first_key = first.place
        pair = (doc.display, path, first_doc.display, first_path)
        if pair in reported:  # one error per pair of entries, not per name they share
            continue
        reported.add(pair)
        line, col = first_doc.where(first_path, key=first_key)
        scope = f" (in {later.scope})" if later.scope else ""
        yield doc.error(
            path,
            f"{later.owner}: {later.noun} '{later.name}'{scope} is already generated for {first.owner} "
            f"({first_doc.display}:{line}:{col})",
            key=key,
            hint="rename one of them; otherwise one would replace the other, or the apply would fail",
        )


def pipeline_claims(d: Any, key: str) -> list[ClaimRecord]:
    """The names pipeline ``key`` claims (its data source schema-valid): what they depend on
    is the pipeline, its data source and the environment."""
    recorder = _Recorder()
    _pipeline(recorder, d.pipelines[key], key, d, _projects(d.environment.data))
    return recorder.claims


class _Recorder:
    """Stands in for a :class:`naming.Registry`: keeps the claims instead of checking them."""

    def __init__(self) -> None:
        self.claims: list[ClaimRecord] = []

    def claim(self, noun: str, name: str, owner: str, place: Any, scope: str = "") -> str:
        _, path, on_key = place
        self.claims.append((noun, name, owner, tuple(path), bool(on_key), scope))
        return name


def _projects(data: dict[str, Any]) -> dict[str, str]:
    """Each layer's project ID."""
    return {layer: naming.project_id(data["prefix"], layer, data["projects"][layer].get("existing"))
            for layer in naming.LAYERS}


def _environment(names: naming.Registry, env: Document) -> dict[str, str]:
    data = env.data
    prefix = data["prefix"]
    projects = _projects(data)
    for layer in naming.LAYERS:
        existing = data["projects"][layer].get("existing")
        if existing:
            names.claim(
                "project ID", existing, f"the existing {layer} project", (env, ("projects", layer, "existing"), False)
            )
        else:
            names.claim("project ID", projects[layer], f"the created {layer} project", (env, ("projects", layer), True))
    names.claim(
        "bucket name",
        data["terraform"]["state_bucket"],
        "the Terraform state bucket",
        (env, ("terraform", "state_bucket"), False),
    )
    for task in naming.TASKS:
        layer = naming.TASK_PROJECT[task]
        names.claim(
            "service-account ID",
            naming.task_account_id(task),
            f"the environment's {task} task account",
            (env, ("projects", layer), True),
            scope=f"project {projects[layer]}",
        )
    if "composer" in data:
        names.claim(
            "service-account ID",
            naming.composer_account_id(),
            "Composer's service account",
            (env, ("composer",), True),
            scope=f"project {projects[naming.COMPOSER_LAYER]}",
        )
    shared = data.get("shared", {})
    for key in sorted(shared.get("buckets", {})):
        place = (env, ("shared", "buckets", key), True)
        names.claim("shared bucket key", key, f"shared bucket '{key}'", place)
        names.claim("bucket name", naming.shared_bucket(prefix, key), f"shared bucket '{key}'", place)
    for key, dataset in sorted(shared.get("datasets", {}).items()):
        place = (env, ("shared", "datasets", key), True)
        names.claim("shared dataset key", key, f"shared dataset '{key}'", place)
        names.claim(
            "dataset ID",
            naming.shared_dataset(prefix, key),
            f"shared dataset '{key}'",
            place,
            scope=f"project {projects[dataset['layer']]}",
        )
    sink = (data.get("logging") or {}).get("sink")
    if sink:
        place = (env, ("logging", "sink", "destination"), False)
        owner = f"the log sink's {sink['destination']} destination"
        if sink["destination"] == "bigquery":
            names.claim("shared dataset key", naming.LOG_SINK_KEY, owner, place)
            names.claim(
                "dataset ID",
                naming.log_dataset(prefix),
                owner,
                place,
                scope=f"project {projects[naming.LOG_DATASET_LAYER]}",
            )
        else:
            names.claim("shared bucket key", naming.LOG_SINK_KEY, owner, place)
            names.claim("bucket name", naming.log_bucket(prefix), owner, place)
    for index, email in enumerate(data.get("monitoring", {}).get("notification_emails", [])):
        names.claim(
            "notification channel key",
            naming.notification_channel_key(email),
            f"notification e-mail '{email}'",
            (env, ("monitoring", "notification_emails", index), False),
        )
    return projects


def _datasource(names: naming.Registry, doc: Document, key: str, prefix: str, projects: dict[str, str]) -> None:
    data = doc.data
    whose = f"data source '{key}'"
    key = naming.google_key(key, data)  # Google names stay those of the key it was renamed from
    for role in ("landing", "archive"):
        path: tuple[Any, ...] = ("buckets", role) if role in data.get("buckets", {}) else ()
        names.claim(
            "bucket name",
            naming.datasource_bucket(prefix, key, role),
            f"the {role} bucket of {whose}",
            (doc, path, bool(path)),
        )
    for layer in sorted(data["datasets"]):
        names.claim(
            "dataset ID",
            naming.datasource_dataset(prefix, key, layer),
            f"the {layer} dataset of {whose}",
            (doc, ("datasets", layer), True),
            scope=f"project {projects[layer]}",
        )
    names.claim(
        "service-account ID",
        naming.internal_account_id(key),
        f"the internal account of {whose}",
        (doc, (), False),
        scope=f"project {projects[naming.INTERNAL_ACCOUNT_LAYER]}",
    )
    landing = projects[naming.EXTERNAL_ACCOUNT_LAYER]
    for name, ident in sorted(data.get("external_identities", {}).items()):
        if "member" not in ident:
            names.claim(
                "service-account ID",
                naming.external_account_id(key, name),
                f"external identity '{name}' of {whose}",
                (doc, ("external_identities", name), True),
                scope=f"project {landing}",
            )
    pubsub = projects[naming.PUBSUB_LAYER]
    for topic, spec in sorted(data.get("pubsub", {}).get("topics", {}).items()):
        topic_path: tuple[Any, ...] = ("pubsub", "topics", topic)
        names.claim(
            "topic name",
            naming.topic(key, topic),
            f"topic '{topic}' of {whose}",
            (doc, topic_path, True),
            scope=f"project {pubsub}",
        )
        subscriptions = spec.get("subscriptions", {})
        for sub in sorted(subscriptions):
            names.claim(
                "subscription name",
                naming.subscription(key, topic, sub),
                f"subscription '{sub}' of topic '{topic}' of {whose}",
                (doc, (*topic_path, "subscriptions", sub), True),
                scope=f"project {pubsub}",
            )
        dead = [sub for sub in sorted(subscriptions) if "dead_letter" in subscriptions[sub]]
        if dead:
            place = (doc, (*topic_path, "subscriptions", dead[0], "dead_letter"), True)
            owner = f"the dead-letter topic of topic '{topic}' of {whose}"
            name = naming.dead_letter_topic(key, topic)
            names.claim("topic name", name, owner, place, scope=f"project {pubsub}")
            names.claim("subscription name", name, owner, place, scope=f"project {pubsub}")


def _pipeline(names: naming.Registry | _Recorder, doc: Document, key: str, d: Any, projects: dict[str, str]) -> None:
    data = doc.data
    source = naming.google_key(data["datasource"], d.datasources[data["datasource"]].data)
    prefix = d.environment.data["prefix"]
    region = d.environment.data["region"]
    whose = f"pipeline '{key}'"
    for layer, tables in sorted(data.get("tables", {}).items()):
        dataset = naming.datasource_dataset(prefix, source, layer)
        for table in sorted(tables):
            names.claim(
                "table name",
                naming.google_key(table, tables[table]),
                f"{layer} table '{table}' of {whose}",
                (doc, ("tables", layer, table), True),
                scope=f"dataset {dataset}",
            )
    for view, spec in sorted(data.get("views", {}).items()):
        dataset = naming.datasource_dataset(prefix, source, spec["layer"])
        names.claim(
            "table name", view, f"view '{view}' of {whose}", (doc, ("views", view), True), scope=f"dataset {dataset}"
        )
    for name in sorted(data.get("data_quality", {})):
        layer, table = name.split(".", 1)
        names.claim(
            "data-quality scan ID",
            naming.data_quality_scan_id(key, layer, table),
            f"the data-quality scan of {layer}.{table} of {whose}",
            (doc, ("data_quality", name), True),
            scope=f"project {projects[layer]}, {region}",
        )
