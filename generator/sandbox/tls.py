"""The provider's TLS server certificate: self-signed, made once and cached.

go-plugin's AutoMTLS has Terraform expect a server certificate in the handshake line
(:mod:`generator.sandbox.server`). Making an EC key and certificate costs ``cryptography``'s
import and a signature on every plugin start, and Terraform starts the plugin for most
commands, so the certificate is cached (``<cache>/sandbox/tls-*``, mode 0600) until an hour
before it expires, and ``cryptography`` is imported only when one has to be made.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

from generator.fsutil import atomic_write


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
