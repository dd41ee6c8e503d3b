"""Validate an environment directory: every schema error, then the rules a schema cannot say.

``validate(env_dir)`` returns the loaded descriptors or raises :class:`DfGenError` listing
every problem found, each with its file, line and column.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from generator import bqtable, migrations, naming, versions
from generator import cache as run_cache
from generator.collisions import collisions
from generator.errors import DfGenError, Diagnostic
from generator.fsutil import outside_problem
from generator.loader import Document, display_path, json_file, load, parse, read
from generator.masking import rule_problems
from generator.resources import SCHEMAS_DIR
from generator.schedule import date_problem, schedule_problem
from generator.sqlcheck import view_problem

KINDS = ("environment", "datasource", "pipeline")
KEY_PATTERN = r"^[a-z][a-z0-9-]*$"
MAX_KEY = 30


@dataclass(frozen=True)
class Descriptors:
    """The validated descriptors of one environment directory."""

    env_dir: Path
    environment: Document
    datasources: dict[str, Document]
    pipelines: dict[str, Document]

    @cached_property
    def pipelines_dir(self) -> Path:
        """Where pipeline code lives (``pipelines_dir`` relative to the environment)."""
        relative = self.environment.data.get("pipelines_dir", "../../pipelines")
        return (self.env_dir / relative).resolve()

    def documents(self) -> Iterator[Document]:
        """Every descriptor, environment first."""
        yield self.environment
        yield from self.datasources.values()
        yield from self.pipelines.values()


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    """The compiled validator of one descriptor kind (schemas are read once)."""
    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.schema.json")):
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text()))))
    registry: Registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(env_dir: Path) -> Descriptors:
    """Load and check every descriptor under ``env_dir``; raise with every problem found."""
    diagnostics: list[Diagnostic] = []
    env_dir = Path(env_dir)
    if not env_dir.is_dir():
        where = display_path(env_dir)
        raise DfGenError(diagnostics=[Diagnostic(where, 0, 0, "not an environment directory")])
    files = _discover(env_dir, diagnostics)
    docs: dict[str, dict[str, Document]] = {kind: {} for kind in KINDS}
    clean: dict[str, set[str]] = {kind: set() for kind in KINDS}
    cached = run_cache.Documents(env_dir)  # unchanged files are not parsed nor schema-checked again
    for kind, key, path in files:
        problem = outside_problem(env_dir, path, "the environment directory")
        if problem:  # never read (nor echo) a file the environment does not own
            diagnostics.append(Diagnostic(display_path(path), 0, 0, problem))
            continue
        try:
            doc, errors = _checked(cached, kind, path)
        except DfGenError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        if errors is None:
            # Its keys and values are not echoed: the file may hold anything.
            diagnostics.append(doc.error((), f"not a df-gen descriptor (expected 'apiVersion: dfgen/v1' and "
                                             f"'kind: {_kind_name(kind)}' at the top)"))
            continue
        docs[kind][key] = doc
        diagnostics.extend(errors)
        if not errors:
            clean[kind].add(key)
    cached.save()
    environment = docs["environment"].get("environment")
    if environment is None or diagnostics and "environment" not in clean["environment"]:
        raise DfGenError(diagnostics=sorted(set(diagnostics)))
    descriptors = Descriptors(env_dir, environment, docs["datasource"], docs["pipeline"])
    diagnostics.extend(_semantic(descriptors, clean))
    if diagnostics:
        raise DfGenError(diagnostics=sorted(set(diagnostics)))
    return descriptors


def _checked(cached: run_cache.Documents, kind: str, path: Path) -> tuple[Document, list[Diagnostic] | None]:
    """One descriptor and its JSON Schema errors (None: not a df-gen descriptor), from the
    per-file cache when the file's bytes are as recorded."""
    raw = read(path)
    hit = cached.get(kind, raw)
    if hit is not None:
        data, positions, key_positions, errors = hit
        doc = Document(path, display_path(path), data, dict(positions), dict(key_positions))
        if _looks_like_descriptor(doc.data):
            return doc, [Diagnostic(doc.display, *error) for error in errors]
    doc = parse(path, raw)
    if not _looks_like_descriptor(doc.data):
        return doc, None
    found = list(schema_errors(kind, doc))
    if all(error.path == doc.display for error in found):
        cached.put(kind, raw, doc.data, doc.positions, doc.key_positions,
                   [(error.line, error.col, error.message, error.hint) for error in found])
    return doc, found


def _looks_like_descriptor(data: Any) -> bool:
    return isinstance(data, dict) and data.get("apiVersion") == "dfgen/v1"


def _discover(env_dir: Path, diagnostics: list[Diagnostic]) -> list[tuple[str, str, Path]]:
    found: list[tuple[str, str, Path]] = []
    env_file = env_dir / "environment.yaml"
    if not env_file.exists() and not env_file.is_symlink():
        hint = f"run 'df-gen new {display_path(env_dir)}' to scaffold one"
        diagnostics.append(Diagnostic(display_path(env_file), 0, 0, "missing environment descriptor", hint))
    else:
        found.append(("environment", "environment", env_file))
    for kind, folder in (("datasource", "datasources"), ("pipeline", "pipelines")):
        directory = env_dir / folder
        if not directory.is_dir():
            continue
        seen: dict[str, Path] = {}
        for path in sorted(directory.iterdir()):
            if path.suffix not in (".yaml", ".yml"):
                continue
            key = path.stem
            where = display_path(path)
            if not re.match(KEY_PATTERN, key) or len(key) > MAX_KEY:
                diagnostics.append(
                    Diagnostic(
                        where, 1, 1,
                        f"file name '{key}' is not a valid {kind} key",
                        f"keys are lowercase letters, digits and dashes, start with a letter, "
                        f"at most {MAX_KEY} characters",
                    )
                )
                continue
            if key in seen:
                diagnostics.append(
                    Diagnostic(where, 1, 1, f"{kind} '{key}' is also defined in {display_path(seen[key])}")
                )
                continue
            seen[key] = path
            found.append((kind, key, path))
    return found


# --- schema errors -------------------------------------------------------------------------


def schema_errors(kind: str, doc: Document) -> Iterator[Diagnostic]:
    """Every JSON Schema error of one document, pointed at the offending key or value."""
    if not isinstance(doc.data, dict):
        yield doc.error((), f"expected a mapping with 'apiVersion: dfgen/v1' and 'kind: {_kind_name(kind)}'")
        return
    for error in validator(kind).iter_errors(doc.data):
        yield from _explain(error, doc)


def _kind_name(kind: str) -> str:
    return {"environment": "Environment", "datasource": "DataSource", "pipeline": "Pipeline"}[kind]


def _dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _explain(error: ValidationError, doc: Document) -> Iterator[Diagnostic]:
    path = tuple(error.absolute_path)
    where = _dotted(path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator_name = error.validator
    if validator_name in ("oneOf", "anyOf") and error.context:
        yield from _explain_choice(error, doc)
        return
    if validator_name == "additionalProperties" and isinstance(error.instance, dict):
        known = list(schema.get("properties", {}))
        for extra in sorted(set(error.instance) - set(known)):
            close = difflib.get_close_matches(extra, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(known)}"
            yield doc.error((*path, extra), f"{_dotted((*path, extra))}: unknown key '{extra}'",
                            key=True, hint=hint)
        if not schema.get("properties"):
            for extra in sorted(error.instance):
                yield doc.error((*path, extra), f"{_dotted((*path, extra))}: invalid key", key=True)
        return
    if validator_name == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else "?"
        message = f"{where}: missing required key '{missing}'" if path else f"missing required key '{missing}'"
        yield doc.error(path, message, key=bool(path))
        return
    if error.validator == "propertyNames" or (
        len(error.relative_schema_path) > 1 and "propertyNames" in error.relative_schema_path
    ):
        name = error.instance
        target = (*path, name) if isinstance(name, str) else path
        described = _describe(error)
        yield doc.error(target, f"{_dotted(target)}: invalid key '{name}'{described}", key=True)
        return
    value = error.instance
    if validator_name == "type":
        expected = schema.get("type")
        message = f"expected {_type_words(expected)}, got {_json_type(value)} {_short(value)}".rstrip()
    elif validator_name == "const":
        message = f"expected {schema.get('const')!r}, got {_short(value)}"
    elif validator_name == "enum":
        allowed = ", ".join(str(v) for v in schema.get("enum", []))
        message = f"{_short(value)} is not one of: {allowed}"
    elif validator_name in ("pattern", "not"):
        message = f"{_short(value)} is invalid{_describe(error)}"
    else:
        message = error.message
    yield doc.error(path, f"{where}: {message}")


def _explain_choice(error: ValidationError, doc: Document) -> Iterator[Diagnostic]:
    """For oneOf/anyOf, report the branch the user evidently meant."""
    instance = error.instance
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    if isinstance(instance, dict):
        for index, subs in branches.items():
            branch_schema = error.schema[error.validator][index]
            required = set(branch_schema.get("required", []))
            if required and required <= set(instance) and len(instance) == len(required):
                for sub in subs:
                    yield from _explain(sub, doc)
                return
    path = tuple(error.absolute_path)
    options: list[str] = []
    for branch in error.schema[error.validator]:
        options.extend(branch.get("required", []))
    if isinstance(instance, dict) and options:
        allowed = " or ".join(f"'{o}'" for o in options)
        yield doc.error(path, f"{_dotted(path)}: expected exactly one of {allowed}")
        return
    best = best_match(error.context or [])
    yield from _explain(best, doc)


def _describe(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "not" and error.parent is not None:
        schema = error.parent.schema if isinstance(error.parent.schema, dict) else schema
    if "enum" in schema:
        return f" (expected one of: {', '.join(str(v) for v in schema['enum'])})"
    description = schema.get("description")
    return f" ({description.rstrip('.')})" if description else ""


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    words = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "an integer", "number": "a number", "boolean": "true or false"}
    return " or ".join(words.get(str(n), str(n)) for n in names)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return {int: "integer", float: "number", str: "string"}.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return ""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


# --- semantic rules ------------------------------------------------------------------------


def _semantic(d: Descriptors, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    env = d.environment
    data = env.data
    prefix = data["prefix"]
    yield from _environment_rules(env)
    for key in sorted(clean["datasource"]):
        yield from _datasource_rules(d.datasources[key], key, prefix)
    for key in sorted(clean["pipeline"]):
        yield from _pipeline_rules(d, key, clean)
    yield from collisions(d, clean)
    yield from _label_rules(d, clean)
    yield from _landing_retention(d, clean)
    yield from rule_problems(d, clean)


def _landing_retention(d: Descriptors, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    """No retention policy on a landing bucket whose files a pipeline's DAG moves away.

    Cloud Storage refuses to delete (so to move) an object younger than its bucket's
    retention period: https://cloud.google.com/storage/docs/bucket-lock#retention-policy.
    A DAG moves landing files when its template uses the archive bucket.
    """
    for key in sorted(clean["pipeline"]):
        source = d.pipelines[key].data["datasource"]
        if source not in clean["datasource"]:
            continue
        doc = d.datasources[source]
        if not doc.data.get("buckets", {}).get("landing", {}).get("retention_days"):
            continue
        template = d.pipelines_dir / d.pipelines[key].data["code"] / "dag.py.j2"
        if _uses_archive_bucket(template):
            yield doc.error(("buckets", "landing", "retention_days"),
                            f"buckets.landing.retention_days: pipeline '{key}' moves landing files to the archive "
                            f"bucket ({display_path(template)} uses buckets.archive), which Cloud Storage refuses "
                            "while a retention policy holds them",
                            hint="keep landing files with a lifecycle rule, and put retention on the archive bucket")


@cache
def _uses_archive_bucket(template: Path) -> bool:
    """True when the DAG template reads ``buckets.archive`` (or ``buckets["archive"]``)."""
    import jinja2
    from jinja2 import nodes

    try:
        tree = jinja2.Environment().parse(template.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
        return False  # a missing or broken template is reported when it renders
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attr: Any
        if isinstance(node, nodes.Getattr):
            target, attr = node.node, node.attr
        else:
            assert isinstance(node, nodes.Getitem)
            target, attr = node.node, getattr(node.arg, "value", None)
        if isinstance(target, nodes.Name) and target.name == "buckets" and attr == "archive":
            return True
    return False


def _label_rules(d: Descriptors, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    """At most 64 labels on every resource, counted after the merges the model and modules do."""
    env = d.environment
    env_labels = set(env.data.get("labels", {}))

    def too_many(doc: Document, path: tuple[Any, ...], kind: str, *parts: tuple[str, set[str]]) -> Iterator[Diagnostic]:
        merged = set(naming.MODULE_LABELS[kind]).union(*(keys for _, keys in parts))
        if len(merged) > naming.MAX_LABELS:
            counts = ", ".join(f"{len(keys)} from {what}" for what, keys in parts if keys)
            yield doc.error(path, f"{_dotted(path)}: {len(merged)} labels after merging ({counts}, "
                                  f"{len(naming.MODULE_LABELS[kind])} added by the {kind} module); "
                                  f"Google Cloud allows at most {naming.MAX_LABELS} per resource", key=True)

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
    for key in sorted(clean["pipeline"]):
        doc = d.pipelines[key]
        source = doc.data["datasource"]
        source_labels = set(d.datasources[source].data.get("labels", {})) if source in clean["datasource"] else set()
        yield from too_many(doc, ("labels",), "pipeline", ("the environment", env_labels),
                            ("the data source", source_labels), ("the pipeline", set(doc.data.get("labels", {}))))


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


def _pipeline_rules(d: Descriptors, key: str, clean: dict[str, set[str]]) -> Iterator[Diagnostic]:
    doc = d.pipelines[key]
    data = doc.data
    source = data["datasource"]
    if source not in d.datasources:
        known = ", ".join(sorted(d.datasources)) or "none"
        yield doc.error(("datasource",), f"datasource: no data source '{source}' (known: {known})",
                        hint=f"create datasources/{source}.yaml")
        datasets: set[str] | None = None
    elif source not in clean["datasource"]:
        datasets = None
    else:
        datasets = set(d.datasources[source].data["datasets"])
    code_dir = d.pipelines_dir / data["code"]
    problems = list(_code_path_rules(doc, d.pipelines_dir, code_dir))
    if problems:
        yield from problems
        code_dir = None  # type: ignore[assignment]  # read nothing from it
    elif not code_dir.is_dir():
        yield doc.error(("code",), f"code: no pipeline code directory {display_path(code_dir)}")
        code_dir = None  # type: ignore[assignment]
    tags = set(d.environment.data.get("policy_tags", {}).get("tags", {}))
    tables = data.get("tables", {})
    for layer, by_name in sorted(tables.items()):
        if by_name and datasets is not None and layer not in datasets:
            yield doc.error(("tables", layer), f"tables.{layer}: data source '{source}' has no {layer} dataset",
                            key=True, hint=f"add datasets.{layer} to datasources/{source}.yaml")
        taken = versions.taken_ids(by_name)
        for name, table in sorted(by_name.items()):
            yield from _table_rules(doc, ("tables", layer, name), table, code_dir, tags)
            for where_in, message in versions.problems(layer, name, table, taken):
                yield doc.error(where_in, message)
            yield from _version_rules(doc, layer, name, table, code_dir)
    for name, view in sorted(data.get("views", {}).items()):
        for layer in [view["layer"], *view.get("authorized_on", [])]:
            if datasets is not None and layer not in datasets:
                yield doc.error(("views", name), f"views.{name}: data source '{source}' has no {layer} dataset")
        if code_dir is not None and not (code_dir / view["sql"]).is_file():
            yield doc.error(("views", name, "sql"),
                            f"views.{name}.sql: no file {view['sql']} in {display_path(code_dir)}")
        elif code_dir is not None and not view["sql"].endswith(".j2"):
            # Templates are checked once rendered (pipeline_code.py), when their values are known.
            yield from view_sql_rule(code_dir / view["sql"], doc.display, key, name)
    for name, rule in sorted(data.get("data_quality", {}).items()):
        layer, table = name.split(".", 1)
        if table not in tables.get(layer, {}):
            yield doc.error(("data_quality", name), f"data_quality.{name}: no {layer} table '{table}' in this pipeline",
                            key=True)
            continue
        schema = tables[layer][table]["schema"]
        columns = _schema_columns(doc, ("tables", layer, table, "schema"), code_dir, schema)
        if not isinstance(columns, set):
            continue  # reported with the table
        known_columns = {c.lower() for c in columns}  # BigQuery column names ignore case
        for check in ("not_null", "unique"):
            for index, column in enumerate(rule.get(check, [])):
                if column.lower() not in known_columns:
                    yield doc.error(("data_quality", name, check, index),
                                    f"data_quality.{name}.{check}: no column '{column}' in {schema}")
    dag = data.get("dag", {})
    problem = schedule_problem(dag["schedule"]) if "schedule" in dag else None
    if problem:
        yield doc.error(("dag", "schedule"), f"dag.schedule: {problem}",
                        hint="e.g. '0 6 * * *' for 06:00 every day, or a preset such as @daily")
    problem = date_problem(dag["start_date"]) if "start_date" in dag else None
    if problem:
        yield doc.error(("dag", "start_date"), f"dag.start_date: {problem}")


def _code_path_rules(doc: Document, pipelines_dir: Path, code_dir: Path) -> Iterator[Diagnostic]:
    """The code directory inside ``pipelines_dir``, and every schema and SQL path inside it."""
    problem = outside_problem(pipelines_dir, code_dir, f"the pipelines directory {display_path(pipelines_dir)}")
    if problem:
        yield doc.error(("code",), f"code: {display_path(code_dir)} {problem}")
        return
    paths: list[tuple[tuple[Any, ...], str]] = [
        (("tables", layer, name, "schema"), table["schema"])
        for layer, by_name in sorted(doc.data.get("tables", {}).items())
        for name, table in sorted(by_name.items())
    ]
    paths += [
        ((*version.path, "schema"), version.schema)
        for version in versions.of_pipeline(doc.data.get("tables", {}))
        if not version.current
    ]
    paths += [(("views", name, "sql"), view["sql"]) for name, view in sorted(doc.data.get("views", {}).items())]
    for path, relative in paths:
        problem = outside_problem(code_dir, code_dir / relative, "the pipeline's code directory")
        if problem:
            yield doc.error(path, f"{_dotted(path)}: {relative} {problem}",
                            hint=f"keep schema and SQL files inside {display_path(code_dir)}")


def view_sql_rule(sql_file: Path, descriptor: str, pipeline: str, view: str) -> Iterator[Diagnostic]:
    """A view whose SQL is not one BigQuery query, reported at the place in the SQL file."""
    try:
        text = sql_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield Diagnostic(display_path(sql_file), 0, 0, f"cannot read the SQL of view '{view}': {exc}")
        return
    problem = view_problem(text)
    if problem:
        line, col, why = problem
        yield Diagnostic(display_path(sql_file), line, col,
                         f"view '{view}' of pipeline '{pipeline}' ({descriptor}): {why}")


def _table_rules(doc: Document, path: tuple[Any, ...], table: dict[str, Any], code_dir: Path | None,
                 tags: set[str]) -> Iterator[Diagnostic]:
    where = _dotted(path)
    schema = _load_schema(doc, (*path, "schema"), code_dir, table["schema"])
    if isinstance(schema, Diagnostic):
        yield schema
        schema = None
    columns = {str(f["name"]) for f in schema.data} if schema is not None else None
    for column, tag in sorted(table.get("policy_tags", {}).items()):
        if tag not in tags:
            yield doc.error((*path, "policy_tags", column),
                            f"{where}.policy_tags.{column}: no policy tag '{tag}' in the "
                            f"environment's taxonomy (known: {', '.join(sorted(tags)) or 'none'})")
        if columns is not None and column not in columns:
            yield doc.error((*path, "policy_tags", column),
                            f"{where}.policy_tags: no column '{column}' in {table['schema']}", key=True)
    if schema is not None:
        yield from _definition_rules(doc, path, table, schema)
        for where_in, message in migrations.problems(table.get("migrate") or {}, schema.data):
            yield doc.error((*path, "migrate", *where_in), f"{where}.{message}")


def _version_rules(doc: Document, layer: str, name: str, table: dict[str, Any],
                   code_dir: Path | None) -> Iterator[Diagnostic]:
    """Each kept version's schema file, and what the backfill from the newest one cannot copy."""
    current = _load_schema(doc, ("tables", layer, name, "schema"), code_dir, table["schema"])
    for version in versions.of_table(layer, name, table):
        if version.current:
            continue
        schema = _load_schema(doc, (*version.path, "schema"), code_dir, version.schema)
        if isinstance(schema, Diagnostic):
            yield schema
            continue
        if schema is None or not isinstance(current, Document):
            continue
        source = versions.backfill_source(layer, name, table)
        if source is not None and source.version == version.version:
            for column, why in versions.backfill_problems(schema.data, current.data):
                yield doc.error(("tables", layer, name, "version"),
                                f"tables.{layer}.{name}.version: column {column} of version "
                                f"{versions.current_version(table)} {why}; the backfill from version "
                                f"{version.version} could not copy it",
                                hint='see "Changing schemas safely" in the README')


def _definition_rules(doc: Document, path: tuple[Any, ...], table: dict[str, Any],
                      schema: Document) -> Iterator[Diagnostic]:
    """The table-definition rules Google enforces (generator/bqtable.py), each at its place:
    schema problems in the schema file, partitioning and clustering in the descriptor."""
    where = _dotted(path)
    partitioning = table.get("partitioning")
    definition = bqtable.TableDefinition(
        schema=schema.data,
        time_partitioning={"field": partitioning["field"], "type": partitioning.get("type", "DAY")}
        if partitioning else None,
        clustering=tuple(table.get("clustering", [])),
    )
    for problem in bqtable.check_table(definition):
        part, *rest = problem.where
        if part == "schema":
            yield schema.error(tuple(rest), f"{where}: {problem.message}")
        elif part == "time_partitioning":
            yield doc.error((*path, "partitioning", "field"), f"{where}.partitioning: {problem.message}")
        else:
            yield doc.error((*path, "clustering", *rest), f"{where}.clustering: {problem.message}")


def _schema_columns(doc: Document, path: tuple[Any, ...], code_dir: Path | None,
                    relative: str) -> set[str] | Diagnostic | None:
    """The top-level column names of a table's schema (or why it cannot be read)."""
    schema = _load_schema(doc, path, code_dir, relative)
    if schema is None or isinstance(schema, Diagnostic):
        return schema
    return {str(f["name"]) for f in schema.data}


def _load_cached(path: Path) -> Document:
    """``load(path)``, once per file version: many tables share one schema file."""
    info = path.stat()
    return _load_version(path, info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=4096)
def _load_version(path: Path, mtime_ns: int, size: int) -> Document:
    return load(path)


def _load_schema(doc: Document, path: tuple[Any, ...], code_dir: Path | None,
                 relative: str) -> Document | Diagnostic | None:
    """The table's schema JSON with the position of every value (JSON is YAML, so the
    descriptor loader keeps positions), or the reason it cannot be read."""
    if code_dir is None:
        return None
    schema_file = code_dir / relative
    try:
        json_file(schema_file)
    except FileNotFoundError:
        return doc.error(path, f"{_dotted(path)}: no file {relative} in {display_path(code_dir)}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return doc.error(path, f"{_dotted(path)}: {relative} is not a BigQuery JSON schema ({exc})")
    try:
        schema = _load_cached(schema_file)
    except DfGenError as exc:  # valid JSON that YAML reads otherwise (tabs, odd escapes)
        return exc.diagnostics[0] if exc.diagnostics else doc.error(path, f"{_dotted(path)}: {exc}")
    if not isinstance(schema.data, list) or not all(isinstance(f, dict) and "name" in f for f in schema.data):
        return doc.error(path, f"{_dotted(path)}: {relative} is not a BigQuery JSON schema (a list of fields)")
    return schema

