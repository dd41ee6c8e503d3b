"""generator.sandbox.server: the go-plugin handshake and the tfplugin6 gRPC service."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

FIXTURE_SCHEMA = Path(__file__).parent / "data" / "sandbox" / "google_schema_fixture.json"



def test_plugin_handshake_and_schema_over_grpc(tmp_path: Path) -> None:
    import grpc

    from generator.sandbox.proto import tfplugin6_pb2 as pb
    from generator.sandbox.server import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE

    env = dict(
        os.environ,
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        DF_GEN_SANDBOX_SCHEMA=str(FIXTURE_SCHEMA),
        DF_GEN_SANDBOX_DIR=str(tmp_path),
        PLUGIN_PROTOCOL_VERSIONS="5,6",
        PLUGIN_CLIENT_CERT="unused-by-the-server",
        **{MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.sandbox"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        core, proto, net, addr, kind, cert = line.split("|")
        assert (core, proto, net, kind) == ("1", "6", "unix", "grpc")
        der = base64.b64decode(cert + "=" * (-len(cert) % 4))
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
        creds = grpc.ssl_channel_credentials(root_certificates=pem)
        channel = grpc.secure_channel(f"unix:{addr}", creds, options=[("grpc.ssl_target_name_override", "localhost")])
        call = channel.unary_unary(
            "/tfplugin6.Provider/GetProviderSchema",
            request_serializer=pb.GetProviderSchema.Request.SerializeToString,
            response_deserializer=pb.GetProviderSchema.Response.FromString,
        )
        resp = call(pb.GetProviderSchema.Request(), timeout=20)
        assert "google_kms_crypto_key" in resp.resource_schemas
        assert "google_client_config" in resp.data_source_schemas
        shutdown = channel.unary_unary(
            "/plugin.GRPCController/Shutdown", request_serializer=lambda _: b"", response_deserializer=lambda b: b
        )
        shutdown(None, timeout=10)
        channel.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_plugin_refuses_to_run_outside_terraform() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_MAGIC_COOKIE"}
    out = subprocess.run(
        [sys.executable, "-m", "generator.sandbox"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 1 and "Terraform starts it" in out.stderr
