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

Startup matters (Terraform starts the plugin for most commands): this module imports gRPC
and the provider only once the handshake checks pass, and the server certificate is cached
(:mod:`generator.sandbox.tls`). The RPCs themselves are :mod:`generator.sandbox.service`'s.
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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.sandbox.service import Service

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
CORE_PROTOCOL = 1
APP_PROTOCOL = 6


def cache_root() -> Path:
    """``<df-gen cache>/sandbox`` (same root as :func:`generator.engine.cache_dir`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "df-gen" / "sandbox"


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
    from generator.sandbox.service import RPCS

    gp: Any = goplugin_pb2
    pb = service.pb
    methods: dict[str, Any] = {}
    for rpc in RPCS:
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
    from generator.sandbox.service import Service
    from generator.sandbox.tls import server_certificate

    cache = cache_root()
    schema = schema_loader.load(provider=name)
    schema_bytes = schema_loader.response_bytes(schema, cache)
    provider = SandboxProvider.from_env(schema)
    stop = threading.Event()
    service = Service(provider, schema_bytes)

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
