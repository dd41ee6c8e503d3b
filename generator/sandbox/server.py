"""The plugin process: go-plugin handshake, TLS, and the tfplugin6 gRPC service.

Terraform starts ``terraform-provider-google`` (a wrapper running ``python -m
generator.sandbox``) with ``TF_PLUGIN_MAGIC_COOKIE`` and, because Terraform uses go-plugin's
AutoMTLS, ``PLUGIN_CLIENT_CERT`` (its own self-signed client certificate). The provider:

1. listens on a unix socket with TLS, presenting a self-signed server certificate; it does
   not ask for Terraform's client certificate (gRPC cannot verify its ECDSA P-521
   signature), and the socket's 0700 directory keeps other users out;
2. prints the handshake line ``1|6|unix|<socket>|grpc|<base64 DER server cert>``;
3. serves ``tfplugin6.Provider`` plus go-plugin's ``plugin.GRPCController`` (Shutdown) and
   ``plugin.GRPCStdio`` services until Terraform shuts it down.

Startup matters (Terraform starts the plugin for most commands), so the server certificate
is generated once and cached (``<cache>/sandbox/tls-*``, mode 0600) and ``cryptography`` is
imported only when a certificate has to be made.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.fsutil import atomic_write

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
ENV_APPLY_DELAY = "DF_GEN_SANDBOX_APPLY_DELAY"  # seconds each create/update/delete takes
CORE_PROTOCOL = 1
APP_PROTOCOL = 6


def cache_root() -> Path:
    """``<df-gen cache>/sandbox`` (same root as :func:`generator.engine.cache_dir`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "df-gen" / "sandbox"


# ------------------------------------------------------------------ TLS


def server_certificate(cache: Path) -> tuple[bytes, bytes, bytes]:
    """``(key_pem, cert_pem, cert_der)`` of the provider's server certificate, cached."""
    key_path, cert_path = cache / "tls-key.pem", cache / "tls-cert.pem"
    try:
        key_pem, cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        der = _pem_to_der(cert_pem)
        if _still_valid(cache / "tls-expiry"):
            return key_pem, cert_pem, der
    except (OSError, ValueError):
        pass
    key_pem, cert_pem, der, expiry = _make_certificate()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for path, data in ((key_path, key_pem), (cert_path, cert_pem)):
            atomic_write(path, data, mode=0o600)
        (cache / "tls-expiry").write_text(str(expiry))
    except OSError:
        pass  # no cache: a fresh certificate next time, only slower
    return key_pem, cert_pem, der


def _still_valid(expiry_file: Path) -> bool:
    return float(expiry_file.read_text()) > time.time() + 3600


def _pem_to_der(pem: bytes) -> bytes:
    body = b"".join(line for line in pem.strip().splitlines() if line and not line.startswith(b"-----"))
    return base64.b64decode(body)


def _make_certificate() -> tuple[bytes, bytes, bytes, float]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    expires = now + datetime.timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(expires)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        key_pem,
        cert.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.DER),
        expires.timestamp(),
    )


# ------------------------------------------------------------------ service


class Service:
    """tfplugin6 RPC handlers: protobuf in, protobuf out, around :class:`SandboxProvider`."""

    def __init__(self, provider: Any, schema_bytes: bytes, stop: threading.Event) -> None:
        from generator.sandbox.proto import tfplugin6_pb2 as pb

        self.pb: Any = pb
        self.provider = provider
        self.schema_bytes = schema_bytes
        self.stop = stop
        self.apply_delay = float(os.environ.get(ENV_APPLY_DELAY) or 0)

    # -- helpers

    def _dv(self, value: Any) -> Any:
        from generator.sandbox.values import encode

        return self.pb.DynamicValue(msgpack=encode(value))

    @staticmethod
    def _val(dv: Any) -> Any:
        from generator.sandbox.values import decode, decode_json

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
        from generator.sandbox.provider import Diag

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
            from generator.sandbox.values import decode_json

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
    from generator.sandbox.provider import LEGACY_TYPE_SYSTEM

    return type_name in LEGACY_TYPE_SYSTEM


_UNARY = {
    "GetMetadata": "GetMetadata",
    "GetProviderSchema": "GetProviderSchema",
    "ValidateProviderConfig": "ValidateProviderConfig",
    "ConfigureProvider": "ConfigureProvider",
    "ValidateResourceConfig": "ValidateResourceConfig",
    "ValidateDataResourceConfig": "ValidateDataResourceConfig",
    "UpgradeResourceState": "UpgradeResourceState",
    "ReadResource": "ReadResource",
    "PlanResourceChange": "PlanResourceChange",
    "ApplyResourceChange": "ApplyResourceChange",
    "ImportResourceState": "ImportResourceState",
    "ReadDataSource": "ReadDataSource",
    "StopProvider": "StopProvider",
}


ENV_TIMING = "DF_GEN_SANDBOX_TIMING"  # a file: per-RPC time totals are appended at exit
_timings: dict[str, list[float]] = {}
_timings_lock = threading.Lock()


def _timed(rpc: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def wrapper(req: Any, ctx: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(req, ctx)
        finally:
            with _timings_lock:
                entry = _timings.setdefault(rpc, [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - start

    return wrapper


def _write_timings() -> None:
    path = os.environ.get(ENV_TIMING)
    if not path or not _timings:
        return
    import json

    with open(path, "a") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "rpcs": _timings}) + "\n")


def _handlers(service: Service, stop: threading.Event) -> list[Any]:
    import grpc

    from generator.sandbox.proto import goplugin_pb2

    gp: Any = goplugin_pb2
    pb = service.pb
    methods: dict[str, Any] = {}
    for rpc in _UNARY:
        fn = getattr(service, rpc)
        if os.environ.get(ENV_TIMING):
            fn = _timed(rpc, fn)
        req_type = getattr(pb, rpc).Request
        resp_type = getattr(pb, rpc).Response
        serializer: Callable[[Any], bytes] = resp_type.SerializeToString
        if rpc == "GetProviderSchema":
            serializer = bytes  # already serialized
        methods[rpc] = grpc.unary_unary_rpc_method_handler(
            fn,
            request_deserializer=req_type.FromString,
            response_serializer=serializer,
        )
    provider = grpc.method_handlers_generic_handler("tfplugin6.Provider", methods)

    def shutdown(req: Any, ctx: Any) -> Any:
        stop.set()
        return gp.Empty()

    controller = grpc.method_handlers_generic_handler(
        "plugin.GRPCController",
        {
            "Shutdown": grpc.unary_unary_rpc_method_handler(
                shutdown,
                request_deserializer=gp.Empty.FromString,
                response_serializer=gp.Empty.SerializeToString,
            )
        },
    )

    def stdio(req: Any, ctx: Any) -> Any:
        return iter(())  # the provider logs to stderr, which go-plugin already reads

    stdio_service = grpc.method_handlers_generic_handler(
        "plugin.GRPCStdio",
        {
            "StreamStdio": grpc.unary_stream_rpc_method_handler(
                stdio,
                request_deserializer=gp.Empty.FromString,
                response_serializer=gp.StdioData.SerializeToString,
            )
        },
    )
    return [provider, controller, stdio_service]


def serve(argv: list[str] | None = None) -> int:
    """Run the provider plugin until Terraform shuts it down; return the exit code.

    ``argv`` is ``[]`` to serve hashicorp/google or ``["--provider", "google-beta"]`` to serve
    hashicorp/google-beta; both keep their resources in the same store.
    """
    from generator.sandbox import schema_loader

    args = list(argv or [])
    name = "google"
    if args[:1] == ["--provider"] and len(args) == 2 and args[1] in schema_loader.PROVIDERS:
        name = args[1]
    elif args:
        sys.stderr.write(f"usage: python -m generator.sandbox [--provider google-beta]; got {args}\n")
        return 2
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write(
            "This is the df-gen sandbox provider, a Terraform plugin: Terraform starts it.\n"
            "Use `df-gen terraform --sandbox -- ARGS`.\n"
        )
        return 1
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(APP_PROTOCOL)).split(",")
    if str(APP_PROTOCOL) not in versions:
        sys.stderr.write(f"sandbox provider speaks protocol 6; Terraform offers {versions}\n")
        return 1

    # A Ctrl-C in the terminal reaches the whole process group: like go-plugin servers,
    # ignore it and let Terraform finish its in-flight calls, then shut us down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    from concurrent import futures

    import grpc

    from generator.sandbox.provider import SandboxProvider

    cache = cache_root()
    schema = schema_loader.load(provider=name)
    schema_bytes = schema_loader.response_bytes(schema, cache)
    provider = SandboxProvider.from_env(schema)
    stop = threading.Event()
    service = Service(provider, schema_bytes, stop)

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16),
        options=[("grpc.max_send_message_length", 64 << 20)],
    )
    for handler in _handlers(service, stop):
        server.add_generic_rpc_handlers((handler,))

    sock_dir = tempfile.mkdtemp(prefix="df-gen-sandbox-", dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR"))
    sock = os.path.join(sock_dir, "plugin.sock")
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT", "").encode()
    cert_field = ""
    if client_cert:
        key_pem, cert_pem, der = server_certificate(cache)
        # Terraform's client certificate (ECDSA P-521) cannot be verified by gRPC's
        # BoringSSL (it does not offer that signature scheme), so the client is not asked
        # for one. Access is still private: the socket lives in a 0700 temp directory.
        creds = grpc.ssl_server_credentials([(key_pem, cert_pem)], require_client_auth=False)
        server.add_secure_port(f"unix:{sock}", creds)
        cert_field = base64.b64encode(der).decode().rstrip("=")
    else:
        server.add_insecure_port(f"unix:{sock}")
    server.start()
    sys.stdout.write(f"{CORE_PROTOCOL}|{APP_PROTOCOL}|unix|{sock}|grpc|{cert_field}\n")
    sys.stdout.flush()
    from generator.sandbox.processes import registered

    # A pid file while serving: if df-gen is killed, the next run stops this process.
    with registered(provider.store.dir):
        stop.wait()
    server.stop(grace=0.2)
    _write_timings()
    shutil.rmtree(sock_dir, ignore_errors=True)  # gRPC may already have removed the socket
    return 0
