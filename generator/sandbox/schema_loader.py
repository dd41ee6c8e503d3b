"""The provider schema the sandbox serves, loaded from the committed JSON.

The JSON has the shape of ``terraform providers schema -json`` for one provider::

    {"provider": {"block": BLOCK},
     "resource_schemas": {"google_x": {"version": 0, "block": BLOCK}},
     "data_source_schemas": {...}}

Terraform starts the provider for nearly every command and asks for the whole schema each
time, so the protobuf ``GetProviderSchema`` response is built once per JSON content and
cached as serialized bytes under ``<cache>/sandbox/`` (keyed by the JSON's hash); the server
sends those bytes as they are. The JSON itself is still parsed (the planner needs it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write

DEFAULT_SCHEMA = Path(__file__).resolve().parent / "schema" / "google.json"
DEFAULT_BETA_SCHEMA = Path(__file__).resolve().parent / "schema" / "google-beta.json"
ENV_SCHEMA = "DF_GEN_SANDBOX_SCHEMA"
ENV_BETA_SCHEMA = "DF_GEN_SANDBOX_BETA_SCHEMA"
PROVIDERS = ("google", "google-beta")  # the provider names the sandbox serves
_CACHE_FORMAT = "1"  # bump when the conversion below changes


@dataclass
class ProviderSchema:
    """The parsed JSON schema plus the path and hash it came from."""

    path: Path
    digest: str
    doc: dict[str, Any]

    @property
    def provider_block(self) -> dict[str, Any]:
        """The provider configuration block."""
        return dict(self.doc.get("provider", {}).get("block", {}))

    def resource(self, type_name: str) -> dict[str, Any] | None:
        """``{"version": n, "block": BLOCK}`` of a managed resource type, or None."""
        return self.doc.get("resource_schemas", {}).get(type_name)

    def data_source(self, type_name: str) -> dict[str, Any] | None:
        """``{"version": n, "block": BLOCK}`` of a data source type, or None."""
        return self.doc.get("data_source_schemas", {}).get(type_name)


def schema_path(provider: str = "google") -> Path:
    """The schema JSON served as ``provider``: for google ``$DF_GEN_SANDBOX_SCHEMA`` or the
    committed google.json, for google-beta ``$DF_GEN_SANDBOX_BETA_SCHEMA`` or google-beta.json."""
    if provider == "google-beta":
        return Path(os.environ.get(ENV_BETA_SCHEMA) or DEFAULT_BETA_SCHEMA)
    return Path(os.environ.get(ENV_SCHEMA) or DEFAULT_SCHEMA)


def load(path: Path | None = None, provider: str = "google") -> ProviderSchema:
    """Read and parse the schema JSON at ``path`` (default: :func:`schema_path`)."""
    path = path or schema_path(provider)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:20]
    return ProviderSchema(path, digest, json.loads(raw))


# ------------------------------------------------------------------ protobuf conversion

_NESTING = {"single": 1, "list": 2, "set": 3, "map": 4, "group": 5}


def _type_bytes(cty_type: Any) -> bytes:
    return json.dumps(cty_type, separators=(",", ":")).encode()


def _block_pb(pb: Any, block: dict[str, Any], version: int = 0) -> Any:
    out = pb.Schema.Block(version=version)
    for name in sorted(block.get("attributes", {})):
        attr = block["attributes"][name]
        out.attributes.append(
            pb.Schema.Attribute(
                name=name,
                type=_type_bytes(attr.get("type", "string")),
                required=bool(attr.get("required")),
                optional=bool(attr.get("optional")),
                computed=bool(attr.get("computed")),
                sensitive=bool(attr.get("sensitive")),
                deprecated=bool(attr.get("deprecated")),
            )
        )
    for name in sorted(block.get("block_types", {})):
        nested = block["block_types"][name]
        out.block_types.append(
            pb.Schema.NestedBlock(
                type_name=name,
                block=_block_pb(pb, nested.get("block", {})),
                nesting=_NESTING[nested.get("nesting_mode", "list")],
                min_items=int(nested.get("min_items", 0)),
                max_items=int(nested.get("max_items", 0)),
            )
        )
    return out


def build_response(schema: ProviderSchema) -> bytes:
    """Serialize the ``GetProviderSchema.Response`` for ``schema``."""
    from generator.sandbox.proto import tfplugin6_pb2

    pb: Any = tfplugin6_pb2
    resp = pb.GetProviderSchema.Response()
    resp.provider.CopyFrom(pb.Schema(version=0, block=_block_pb(pb, schema.provider_block)))
    for kind, target in (
        ("resource_schemas", resp.resource_schemas),
        ("data_source_schemas", resp.data_source_schemas),
    ):
        for type_name, entry in schema.doc.get(kind, {}).items():
            version = int(entry.get("version", 0))
            target[type_name].CopyFrom(pb.Schema(version=version, block=_block_pb(pb, entry.get("block", {}), version)))
    # Terraform may reuse a cached schema instead of asking each provider process again.
    resp.server_capabilities.get_provider_schema_optional = True
    resp.server_capabilities.plan_destroy = False
    return bytes(resp.SerializeToString(deterministic=True))


def response_bytes(schema: ProviderSchema, cache: Path | None) -> bytes:
    """The serialized schema response, from the cache when the JSON is unchanged."""
    if cache is None:
        return build_response(schema)
    cached = cache / f"schema-{_CACHE_FORMAT}-{schema.digest}.pb"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    data = build_response(schema)
    try:
        atomic_write(cached, data)  # concurrent providers never read half a file
    except OSError:
        pass  # a read-only cache only costs speed
    return data
