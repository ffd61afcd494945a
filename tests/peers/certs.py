"""Throwaway X.509 material for the TLS test peers (made with ``cryptography``).

``make_certificates(dir)`` writes:

* ``ca.pem``        - a private test CA (self-signed, CA:TRUE),
* ``server.pem``    - a server certificate signed by that CA with
                      SAN DNS:localhost, IP:127.0.0.1, IP:::1,
* ``server.key``    - its private key (PKCS#8 PEM, unencrypted, mode 0644 so
                      unprivileged daemons started as root can read it),
* ``other-ca.pem``  - an unrelated second CA, to prove a wrong CA is refused.

Python's ``ssl.create_default_context(cafile=bundle.ca_cert)`` (check_hostname
on) verifies the server certificate for "127.0.0.1" and "localhost".
Keys are ECDSA P-256: fast to generate and accepted by OpenSSL everywhere.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertBundle", "make_certificates"]


@dataclass(frozen=True)
class CertBundle:
    ca_cert: Path        # PEM of the CA that signed ``cert``
    cert: Path           # PEM server certificate (leaf only)
    key: Path            # PEM private key of ``cert``
    other_ca_cert: Path  # PEM of an unrelated CA (verification must fail)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Intake test peers"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _make_ca(common_name: str, now: _dt.datetime):
    key = _key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def make_certificates(directory: str | os.PathLike) -> CertBundle:
    """Create a test CA, a server cert signed by it, and an unrelated CA in *directory*."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.timezone.utc)

    ca_key, ca_cert = _make_ca("Intake Test CA", now)
    _other_key, other_ca = _make_ca("Intake Unrelated Test CA", now)

    server_key = _key()
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=825))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    return CertBundle(
        ca_cert=_write(directory / "ca.pem", ca_cert.public_bytes(pem)),
        cert=_write(directory / "server.pem", server_cert.public_bytes(pem)),
        key=_write(
            directory / "server.key",
            server_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        ),
        other_ca_cert=_write(directory / "other-ca.pem", other_ca.public_bytes(pem)),
    )
