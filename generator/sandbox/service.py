"""The tfplugin6 service: protobuf requests in, :class:`SandboxProvider` calls, protobuf out.

One method per RPC of ``tfplugin6.Provider`` (the names are the protocol's, hence CamelCase);
:mod:`generator.sandbox.server` registers them with gRPC. Values travel as msgpack (or JSON,
for raw state) ``DynamicValue``s (:mod:`generator.sandbox.values`). An exception in the
provider is reported to Terraform as an error diagnostic, with the traceback on stderr,
rather than failing the RPC: Terraform then names the resource it was working on.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any

from generator.sandbox.provider import LEGACY_TYPE_SYSTEM, Diag, SandboxProvider
from generator.sandbox.values import decode, decode_json, encode

ENV_APPLY_DELAY = "DF_GEN_SANDBOX_APPLY_DELAY"  # seconds each create/update/delete takes

# The unary RPCs of tfplugin6.Provider the sandbox serves (each a method of Service).
RPCS = (
    "GetMetadata",
    "GetProviderSchema",
    "ValidateProviderConfig",
    "ConfigureProvider",
    "ValidateResourceConfig",
    "ValidateDataResourceConfig",
    "UpgradeResourceState",
    "ReadResource",
    "PlanResourceChange",
    "ApplyResourceChange",
    "ImportResourceState",
    "ReadDataSource",
    "StopProvider",
)


class Service:
    """tfplugin6 RPC handlers: protobuf in, protobuf out, around :class:`SandboxProvider`."""

    def __init__(self, provider: SandboxProvider, schema_bytes: bytes) -> None:
        from generator.sandbox.proto import tfplugin6_pb2 as pb

        self.pb: Any = pb
        self.provider = provider
        self.schema_bytes = schema_bytes
        self.apply_delay = float(os.environ.get(ENV_APPLY_DELAY) or 0)

    # -- helpers

    def _dv(self, value: Any) -> Any:
        return self.pb.DynamicValue(msgpack=encode(value))

    @staticmethod
    def _val(dv: Any) -> Any:
        if dv is None:
            return None
        if dv.msgpack:
            return decode(dv.msgpack)
        if dv.json:
            return decode_json(dv.json)
        return None

    def _diags(self, diags: list[Any]) -> list[Any]:
        pb = self.pb
        out = []
        for d in diags:
            msg = pb.Diagnostic(
                severity=pb.Diagnostic.ERROR if d.error else pb.Diagnostic.WARNING,
                summary=d.summary,
                detail=d.detail,
            )
            if d.path:
                for step in d.path:
                    if isinstance(step, int):
                        msg.attribute.steps.add(element_key_int=step)
                    else:
                        msg.attribute.steps.add(attribute_name=step)
            out.append(msg)
        return out

    def _crash(self, what: str, exc: BaseException) -> list[Any]:
        text = "".join(traceback.format_exception(exc))
        sys.stderr.write(text)
        if isinstance(exc, KeyError):
            return self._diags([Diag(f"{what}: the sandbox schema has no type {exc}")])
        return self._diags([Diag(f"sandbox provider error in {what}: {exc}", text)])

    # -- RPCs

    def GetMetadata(self, req: Any, ctx: Any) -> Any:  # gRPC method names are CamelCase
        pb = self.pb
        resp = pb.GetMetadata.Response()
        resp.server_capabilities.get_provider_schema_optional = True
        doc = self.provider.schema.doc
        for name in doc.get("resource_schemas", {}):
            resp.resources.add(type_name=name)
        for name in doc.get("data_source_schemas", {}):
            resp.data_sources.add(type_name=name)
        return resp

    def GetProviderSchema(self, req: Any, ctx: Any) -> bytes:
        return self.schema_bytes  # pre-serialized (see schema_loader.response_bytes)

    def ValidateProviderConfig(self, req: Any, ctx: Any) -> Any:
        diags = self.provider.validate_provider(self._val(req.config))
        return self.pb.ValidateProviderConfig.Response(diagnostics=self._diags(diags))

    def ConfigureProvider(self, req: Any, ctx: Any) -> Any:
        diags = self.provider.configure(self._val(req.config))
        return self.pb.ConfigureProvider.Response(diagnostics=self._diags(diags))

    def ValidateResourceConfig(self, req: Any, ctx: Any) -> Any:
        try:
            diags = self._diags(self.provider.validate_resource(req.type_name, self._val(req.config)))
        except Exception as exc:  # reported to Terraform, not raised
            diags = self._crash("ValidateResourceConfig", exc)
        return self.pb.ValidateResourceConfig.Response(diagnostics=diags)

    def ValidateDataResourceConfig(self, req: Any, ctx: Any) -> Any:
        return self.pb.ValidateDataResourceConfig.Response()

    def UpgradeResourceState(self, req: Any, ctx: Any) -> Any:
        pb = self.pb
        try:
            raw = decode_json(req.raw_state.json)
            state = self.provider.upgrade(req.type_name, raw)
            return pb.UpgradeResourceState.Response(upgraded_state=self._dv(state))
        except Exception as exc:
            return pb.UpgradeResourceState.Response(diagnostics=self._crash("UpgradeResourceState", exc))

    def ReadResource(self, req: Any, ctx: Any) -> Any:
        pb = self.pb
        try:
            state = self.provider.read(req.type_name, self._val(req.current_state))
            return pb.ReadResource.Response(new_state=self._dv(state), private=req.private)
        except Exception as exc:
            return pb.ReadResource.Response(diagnostics=self._crash("ReadResource", exc))

    def PlanResourceChange(self, req: Any, ctx: Any) -> Any:
        pb = self.pb
        try:
            planned, replace, diags = self.provider.plan(
                req.type_name,
                self._val(req.prior_state),
                self._val(req.proposed_new_state),
                self._val(req.config),
            )
        except Exception as exc:
            return pb.PlanResourceChange.Response(diagnostics=self._crash("Plan", exc))
        resp = pb.PlanResourceChange.Response(
            planned_state=self._dv(planned),
            diagnostics=self._diags(diags),
            planned_private=req.prior_private,
            legacy_type_system=_legacy(req.type_name),
        )
        for path in replace:
            ap = resp.requires_replace.add()
            for step in path:  # list elements are addressed by index
                if isinstance(step, int):
                    ap.steps.add(element_key_int=step)
                else:
                    ap.steps.add(attribute_name=step)
        return resp

    def ApplyResourceChange(self, req: Any, ctx: Any) -> Any:
        pb = self.pb
        if self.apply_delay:
            time.sleep(self.apply_delay)  # simulated API latency (tests, demos)
        prior = self._val(req.prior_state)
        try:
            state, diags = self.provider.apply(
                req.type_name, prior, self._val(req.planned_state), self._val(req.config)
            )
        except Exception as exc:
            return pb.ApplyResourceChange.Response(new_state=self._dv(prior), diagnostics=self._crash("Apply", exc))
        return pb.ApplyResourceChange.Response(new_state=self._dv(state), diagnostics=self._diags(diags),
                                               legacy_type_system=_legacy(req.type_name))

    def ImportResourceState(self, req: Any, ctx: Any) -> Any:
        pb = self.pb
        try:
            state, diags = self.provider.import_state(req.type_name, req.id)
        except Exception as exc:
            return pb.ImportResourceState.Response(diagnostics=self._crash("Import", exc))
        resp = pb.ImportResourceState.Response(diagnostics=self._diags(diags))
        if state is not None:
            resp.imported_resources.add(type_name=req.type_name, state=self._dv(state))
        return resp

    def ReadDataSource(self, req: Any, ctx: Any) -> Any:
        pb = self.pb
        try:
            state, diags = self.provider.read_data(req.type_name, self._val(req.config))
        except Exception as exc:
            return pb.ReadDataSource.Response(diagnostics=self._crash("ReadDataSource", exc))
        return pb.ReadDataSource.Response(state=self._dv(state), diagnostics=self._diags(diags))

    def StopProvider(self, req: Any, ctx: Any) -> Any:
        return self.pb.StopProvider.Response()


def _legacy(type_name: str) -> bool:
    """Whether the type answers as a legacy-SDK resource (see provider.LEGACY_TYPE_SYSTEM)."""
    return type_name in LEGACY_TYPE_SYSTEM
