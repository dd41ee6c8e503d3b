"""The sandbox provider's behaviour, independent of gRPC: validate, plan, apply, read.

Values are the Python form of :mod:`generator.sandbox.values`. Errors are returned as
:class:`Diag` lists (Terraform shows them with the resource's address and source line).

Planning follows Terraform's contract for providers: the planned value equals the
configuration for every non-computed attribute; computed attributes that have no value yet
become unknown (on create, and for new nested items on update); force-new attributes that
change are reported in ``requires_replace`` (:mod:`generator.sandbox.forcenew`, the
provider's ForceNew flags read from its source). Apply replaces unknowns with realistic values
(:mod:`generator.sandbox.computed`) and never changes a value that was known in the plan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.sandbox import computed, data_sources, destroy, forcenew, formats, imports, rules, world
from generator.sandbox.schema_loader import ProviderSchema
from generator.sandbox.store import ENV_SANDBOX_DIR, Store
from generator.sandbox.store import key as store_key
from generator.sandbox.values import UNKNOWN, is_known, normalize


@dataclass
class Diag:
    """One diagnostic for Terraform."""

    summary: str
    detail: str = ""
    path: tuple[str | int, ...] = ()
    error: bool = True


# Types whose plan may differ from the configuration, as the plugin SDK's DiffSuppressFunc
# allows (Terraform accepts that from providers that declare the legacy type system, which
# every SDKv2 resource of the google provider does): google_bigquery_table keeps the prior
# schema text when the new one only differs in ways the provider suppresses.
LEGACY_TYPE_SYSTEM = frozenset({"google_bigquery_table"})

# Types that may be "created" again although an equal one exists: additive IAM grants and
# API enablement are idempotent in Google Cloud.
IDEMPOTENT_SUFFIXES = (
    "_iam_member",
    "_iam_binding",
    "_iam_audit_config",
    "_service",
    "_access",
    "_shared_vpc_service_project",
    "_shared_vpc_host_project",
    "_perimeter_resource",
    "_perimeter_dry_run_resource",
    "_settings",
    # services.generateServiceIdentity returns the existing agent when called again.
    "_service_identity",
)
# Types whose delete is a no-op in the provider, so the thing stays in Google Cloud (and in
# the store): a service agent, once created, is never deleted by Terraform
# (resource_project_service_identity.go: "There is no delete endpoint for this API").
KEPT_ON_DESTROY = frozenset({"google_project_service_identity"})


@dataclass
class SandboxProvider:
    """State of one provider process: schema, configuration and store."""

    schema: ProviderSchema
    store: Store
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, schema: ProviderSchema) -> SandboxProvider:
        """Provider for the sandbox dir in ``$DF_GEN_SANDBOX_DIR`` (default ``.df-gen/sandbox``)."""
        directory = Path(os.environ.get(ENV_SANDBOX_DIR) or str(Path(".df-gen") / "sandbox"))
        provider = cls(schema, Store(directory))
        seed = world.seed_path(directory)
        if seed is not None:
            provider.store.initial = lambda: world.seed_data(world.read_seed(seed), provider.complete)
        return provider

    def complete(self, type_name: str, state: dict[str, Any]) -> dict[str, Any]:
        """``state`` with every computed attribute filled as an apply would (seeding)."""
        block = self._resource_block(type_name)
        value = normalize(block, state)
        _unknown_computed(block, value)
        computed.fill(type_name, block, value, self.config)
        if not value.get("id"):
            value["id"] = computed.fallback_id(type_name, value, self.config)
        return dict(value)

    # ------------------------------------------------------------ schema helpers

    def _resource_block(self, type_name: str) -> dict[str, Any]:
        entry = self.schema.resource(type_name)
        if entry is None:
            raise KeyError(type_name)
        return dict(entry.get("block", {}))

    def _data_block(self, type_name: str) -> dict[str, Any]:
        entry = self.schema.data_source(type_name)
        if entry is None:
            raise KeyError(type_name)
        return dict(entry.get("block", {}))

    # ------------------------------------------------------------ provider

    def validate_provider(self, cfg: Any) -> list[Diag]:
        """Rules on the provider configuration."""
        return [_diag(v, "provider") for v in rules.check_provider(cfg)]

    def configure(self, cfg: Any) -> list[Diag]:
        """Remember the provider configuration (project, region, zone, default labels)."""
        self.config = {k: v for k, v in (cfg or {}).items() if v is not None and is_known(v)}
        return self.validate_provider(cfg)

    # ------------------------------------------------------------ managed resources

    def validate_resource(self, type_name: str, cfg: Any) -> list[Diag]:
        """Rules on a resource configuration (known values only)."""
        return [_diag(v, type_name) for v in rules.check_resource(type_name, cfg)]

    def plan(
        self, type_name: str, prior: Any, proposed: Any, cfg: Any
    ) -> tuple[Any, list[list[str | int]], list[Diag]]:
        """``(planned_state, requires_replace paths, diagnostics)`` for one change."""
        if proposed is None:  # destroy
            return None, [], []
        block = self._resource_block(type_name)
        diags = self.validate_resource(type_name, cfg)
        if diags:
            return None, [], diags
        planned = normalize(block, proposed)
        _unknown_computed(block, planned)
        computed.derive_at_plan(block, planned, self.config)
        if prior is None:
            return planned, [], []
        # The provider's own ForceNew flags (extracted from its source).
        replace = forcenew.requires_replace(type_name, block, prior, planned)
        replace.extend(forcenew.customize_diff(type_name, prior, planned))
        return planned, replace, []

    def apply(self, type_name: str, prior: Any, planned: Any, cfg: Any) -> tuple[Any, list[Diag]]:
        """Create, update or delete one resource in the store; return its new state."""
        if planned is None:
            if prior is None:
                return None, []
            return self._delete(type_name, prior)
        block = self._resource_block(type_name)
        diags = self.validate_resource(type_name, planned)
        diags += [_diag(v, type_name) for v in rules.check_apply(type_name, prior, planned)]
        if diags:
            return prior, diags
        state = computed.fill(type_name, block, dict(planned), self.config)
        rid = state.get("id")
        if not isinstance(rid, str) or not rid:
            rid = formats.short_hash(repr(sorted(state.items(), key=str)), 16)
            state["id"] = rid
        with self.store.transaction() as data:
            resources = data["resources"]
            skey = store_key(type_name, rid, state)
            creating = prior is None
            if creating and skey in resources and not type_name.endswith(IDEMPOTENT_SUFFIXES):
                what = _type_label(type_name)
                return None, [
                    Diag(
                        f'{what} "{destroy.display_name(state, rid)}" already exists in the sandbox',
                        f"{type_name} with id {rid} was created by another configuration or "
                        "an earlier run (sandbox rule: names are unique, as in Google Cloud; "
                        "GCS bucket names are global).",
                    )
                ]
            problems = world.check_write(type_name, prior, state, data)
            if problems:
                return prior, [Diag(p, f"Raised by the df-gen sandbox for {type_name}.") for p in problems]
            if creating and type_name == "google_bigquery_job":
                # Imported here: jobs parses DDL with sqlglot, which would add ~0.1 s to
                # every provider start although few configurations run query jobs.
                from generator.sandbox import jobs

                jobs.run(resources, state)  # DDL changes the stored tables it names
            if prior is not None and prior.get("id") not in (None, rid):
                resources.pop(store_key(type_name, str(prior.get("id")), prior), None)
            entry = {"type": type_name, "id": rid, "state": state, **_created(resources.get(skey))}
            world.record_write(type_name, prior, state, entry, data)
            resources[skey] = entry
        return state, []

    def _delete(self, type_name: str, prior: dict[str, Any]) -> tuple[Any, list[Diag]]:
        """Delete one resource, refusing where Google (or the provider) would refuse."""
        rid = prior.get("id")
        if not isinstance(rid, str):
            return None, []
        with self.store.transaction() as data:
            resources = data["resources"]
            problem, children = destroy.guard(type_name, prior, resources)
            problem = problem or world.check_delete(type_name, prior, data)
            if problem:
                return prior, [Diag(problem, f"Raised by the df-gen sandbox for {type_name}.")]
            # ABANDON: forget it, keep it; KEPT_ON_DESTROY: Terraform cannot delete it.
            if prior.get("deletion_policy") != "ABANDON" and type_name not in KEPT_ON_DESTROY:
                resources.pop(store_key(type_name, rid, prior), None)
                children += world.record_delete(type_name, prior, data)
            for child in children:
                resources.pop(child, None)
        return None, []

    def read(self, type_name: str, current: Any) -> Any:
        """The resource as the sandbox has it now: None when it is gone from the store."""
        if current is None:
            return None
        rid = current.get("id")
        stored = self.store.get(type_name, rid, current) if isinstance(rid, str) else current
        if stored is None:
            return None
        if type_name == "google_bigquery_table" and "schema" in stored:
            # The schema as BigQuery has it now: DDL (a query job, sandbox/jobs.py) may have
            # changed it since the last apply, and the provider's refresh reads it back.
            return {**current, "schema": stored["schema"]}
        return current

    def import_state(self, type_name: str, rid: str) -> tuple[Any, list[Diag]]:
        """The resource the provider's importer finds for id ``rid`` (``import`` blocks).

        The id is parsed in the provider's formats (:mod:`generator.sandbox.imports`). When
        nothing is stored under it, the import still succeeds with the parsed attributes and
        the read that follows returns nothing: Terraform then fails the plan with its own
        "Cannot import non-existent remote object", as with the real provider.
        """
        try:
            parsed = imports.parse(type_name, rid, self.config.get("project"))
        except imports.ImportIdError as exc:
            return None, [Diag(str(exc), f"Raised by the df-gen sandbox for {type_name}.")]
        block = self._resource_block(type_name)
        stored = self.store.get(type_name, str(parsed["id"]), parsed)
        if stored is None:
            return normalize(block, parsed), []
        # Provider-only arguments are not in the API's answer: the importer's defaults win.
        return normalize(block, {**stored, **imports.virtual_defaults(type_name)}), []

    def upgrade(self, type_name: str, raw: Any) -> Any:
        """Raw JSON state shaped to the current schema (the sandbox has one version)."""
        return normalize(self._resource_block(type_name), raw)

    # ------------------------------------------------------------ data sources

    def read_data(self, type_name: str, cfg: Any) -> tuple[Any, list[Diag]]:
        """What the real data source would return, derived from the config and provider."""
        block = self._data_block(type_name)
        state = normalize(block, dict(cfg or {}))
        project = state.get("project") or self.config.get("project")
        if type_name in world.DATA_API:
            # These GETs call the project's API and make Google create the agent.
            with self.store.transaction() as data:
                problem = world.check_data_read(type_name, project, data)
                if problem:
                    return None, [Diag(problem, f"Raised by the df-gen sandbox for data source {type_name}.")]
                world.record_data_read(type_name, project, data)
        if type_name == "google_project" and not (state.get("project_id") or project):
            return None, [Diag("google_project: no project_id and no provider project")]
        return data_sources.answer(type_name, block, state, self.config, self.store), []


def _created(entry: dict[str, Any] | None) -> dict[str, Any]:
    """The creation time of a stored entry, kept across updates."""
    if entry is None or world.CREATED not in entry:
        return {}
    return {world.CREATED: entry[world.CREATED]}


def _unknown_computed(block: dict[str, Any], value: Any) -> None:
    """Mark computed attributes without a value unknown, in nested blocks too."""
    if not isinstance(value, dict):
        return
    for name, attr in block.get("attributes", {}).items():
        if attr.get("computed") and value.get(name) is None:
            value[name] = UNKNOWN
    for name, nested in block.get("block_types", {}).items():
        items = value.get(name)
        if isinstance(items, dict) and nested.get("nesting_mode") in ("single", "group"):
            _unknown_computed(nested["block"], items)
        elif isinstance(items, dict):
            for item in items.values():
                _unknown_computed(nested["block"], item)
        elif isinstance(items, list):
            for item in items:
                _unknown_computed(nested["block"], item)


def _type_label(type_name: str) -> str:
    return type_name.removeprefix("google_").replace("_", " ")


def _diag(v: rules.Violation, type_name: str) -> Diag:
    return Diag(v.message, f"Raised by the df-gen sandbox for {type_name}.", v.path)
