"""generator.sandbox.tls: the provider's self-signed server certificate and its cache."""

from __future__ import annotations

import stat
import time
from pathlib import Path

from generator.sandbox.tls import server_certificate


def test_the_certificate_is_made_once_then_read_from_the_cache(tmp_path: Path) -> None:
    from cryptography import x509

    first = server_certificate(tmp_path / "cache")
    assert server_certificate(tmp_path / "cache") == first
    key_pem, cert_pem, der = first
    cert = x509.load_der_x509_certificate(der)
    assert cert == x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject.rfc4514_string() == "CN=localhost"
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    for name in ("tls-key.pem", "tls-cert.pem"):
        assert stat.S_IMODE((tmp_path / "cache" / name).stat().st_mode) == 0o600


def test_a_certificate_about_to_expire_is_replaced(tmp_path: Path) -> None:
    first = server_certificate(tmp_path)
    (tmp_path / "tls-expiry").write_text(str(time.time() + 60))  # less than the hour of margin
    second = server_certificate(tmp_path)
    assert second != first
    assert server_certificate(tmp_path) == second


def test_a_damaged_cache_is_replaced(tmp_path: Path) -> None:
    first = server_certificate(tmp_path)
    (tmp_path / "tls-expiry").write_text("not a number")
    assert server_certificate(tmp_path) != first
