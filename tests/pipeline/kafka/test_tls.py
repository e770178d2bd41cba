"""The secure broker's certificates and configuration, without starting a broker."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from pipeline.errors import BrokerError
from pipeline.kafka.broker import BrokerSecurity, server_properties
from pipeline.kafka.tls import ensure_tls_files, write_ca


def test_the_broker_certificate_is_signed_by_its_ca_and_names_this_host(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls", "127.0.0.1")
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    chain = x509.load_pem_x509_certificates(files.broker.read_bytes())
    chain[0].verify_directly_issued_by(ca)
    names = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert stat.S_IMODE(files.broker.stat().st_mode) == 0o600  # the private key
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.broker)  # one file: key, certificate, CA, as Kafka's PEM keystore reads it
    client = ssl.create_default_context(cafile=str(files.ca))
    assert client.get_ca_certs()[0]["subject"] == ((("organizationName", "Claimwatch local broker"),),
                                                   (("commonName", "Claimwatch local CA"),))  # fmt: skip


def test_certificates_are_made_once_per_directory(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path, "127.0.0.1")
    ca = first.ca.read_bytes()
    again = ensure_tls_files(tmp_path, "127.0.0.1")
    assert again == first and again.ca.read_bytes() == ca


def test_another_ca_does_not_vouch_for_the_broker(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls", "127.0.0.1")
    other = x509.load_pem_x509_certificate(write_ca(tmp_path / "other.pem", "Other").read_bytes())
    broker = x509.load_pem_x509_certificates(files.broker.read_bytes())[0]
    with pytest.raises((ValueError, TypeError)):
        broker.verify_directly_issued_by(other)


def test_a_secure_broker_listens_sasl_ssl_outside_and_plaintext_only_on_loopback(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path, "127.0.0.1")
    props = dict(line.split("=", 1) for line in server_properties(
        "127.0.0.1", 9093, 9094, tmp_path / "logs", (9095, files)).splitlines())
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9095,SASL_SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094"
    assert props["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
    assert props["listener.name.sasl_ssl.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.sasl_ssl.ssl.keystore.type"] == "PEM"
    assert props["listener.name.sasl_ssl.ssl.keystore.location"] == str(files.broker)
    plain = dict(line.split("=", 1) for line in server_properties("127.0.0.1", 9092, 9094, tmp_path).splitlines())
    assert plain["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9094"
    assert not any(key.startswith("listener.name.") for key in plain)


@pytest.mark.parametrize(("username", "password"), [("", "pw"), ("claim,watch", "pw"), ("cw", "a]b"), ("cw", "x=y")])
def test_a_scram_user_kafka_could_not_read_is_refused(username: str, password: str) -> None:
    with pytest.raises(BrokerError, match="SCRAM"):
        BrokerSecurity(username, password)
