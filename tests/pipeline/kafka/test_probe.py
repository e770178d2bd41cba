"""Misconfiguration told from an outage, against a real (plaintext) broker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.kafka.host import free_ports
from pipeline.kafka.probe import ConnectionSetupError, _cause, probe
from pipeline.kafka.topics import kafka_python_config
from pipeline.settings import Settings


def _settings(bootstrap: str, **security: object) -> Settings:
    return Settings(broker=bootstrap, **security)  # type: ignore[arg-type]


def test_sasl_or_tls_against_a_plaintext_listener_is_named_at_once(kafka_bootstrap: str) -> None:
    sasl = _settings(kafka_bootstrap, security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password="p")
    with pytest.raises(ConnectionSetupError, match="does not speak SASL: its listener is not SASL_PLAINTEXT"):
        probe(sasl, kafka_python_config(sasl))
    tls = _settings(kafka_bootstrap, security_protocol="SSL")
    with pytest.raises(ConnectionSetupError, match=r"TLS handshake with .* failed: its listener does not speak TLS"):
        probe(tls, kafka_python_config(tls))
    plain = _settings(kafka_bootstrap)
    probe(plain, kafka_python_config(plain))  # connects: nothing to say


def test_nothing_listening_is_an_outage_not_a_misconfiguration() -> None:
    (port,) = free_ports(1)
    down = _settings(f"127.0.0.1:{port}", security_protocol="SSL")
    probe(down, kafka_python_config(down))  # returns: the caller may wait for the broker


def test_the_worker_with_sasl_against_plaintext_stops_in_one_line(kafka_bootstrap: str) -> None:
    env = {**os.environ, "CLAIMWATCH_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CLAIMWATCH_SASL_USERNAME": "u",
           "CLAIMWATCH_SASL_PASSWORD": "p"}
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "worker", "--broker", kafka_bootstrap,
                           "--topic-prefix", "probe-test."], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2  # a mistake of the configuration, not an outage
    rules, *lines = [line for line in done.stderr.splitlines() if line.strip()]
    # One line naming the cause, not a minute of retries and a traceback about bootstrapping.
    assert rules.startswith("rules ") and len(lines) == 1 and "does not speak SASL" in lines[0], done.stderr[-2000:]


# What kafka-python logs while a broker refuses a SCRAM password: Kafka 3.9 answers with the error,
# Kafka 4 often closes the connection after its failed-authentication delay instead.
_SCRAM_START = [
    "node=bootstrap-0[127.0.0.1:9093] Sending request 3 SaslAuthenticateRequest(version=2, auth_bytes=b'n,,n=cw,r=1')",
    "node=bootstrap-0[127.0.0.1:9093] Received response 3 SaslAuthenticateResponse(version=2, error_code=0)",
    "node=bootstrap-0[127.0.0.1:9093] Sending request 4 SaslAuthenticateRequest(version=2, auth_bytes=b'c=biws,r=1')",
]


@pytest.mark.parametrize("then", [
    ["<KafkaSSLTransport [127.0.0.1:9093<-39184]>: socket disconnected"],
    ["<KafkaConnection node_id=bootstrap-0 (disconnected)>: Connection lost: KafkaConnectionError: socket disconnected"],
    ["Received response 4 SaslAuthenticateResponse(error_code=58, error_message='Authentication failed')"],
])  # fmt: skip
def test_a_refused_scram_password_is_named_however_the_broker_refuses_it(then: list[str]) -> None:
    settings = Settings(broker="127.0.0.1:9093", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                        sasl_username="cw", sasl_password="wrong")  # type: ignore[arg-type]
    assert "refused the credentials" in str(_cause(settings, "127.0.0.1:9093", [*_SCRAM_START, *then]))


def test_a_connection_lost_after_the_proof_was_answered_is_no_refusal() -> None:
    settings = Settings(broker="127.0.0.1:9093", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                        sasl_username="cw", sasl_password="right")  # type: ignore[arg-type]
    answered = [*_SCRAM_START, "Received response 4 SaslAuthenticateResponse(version=2, error_code=0)",
                "<KafkaSSLTransport [127.0.0.1:9093<-39184]>: socket disconnected"]  # fmt: skip
    assert _cause(settings, "127.0.0.1:9093", answered) is None
