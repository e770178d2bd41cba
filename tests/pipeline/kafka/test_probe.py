"""Misconfiguration told from an outage, against a real (plaintext) broker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.kafka.host import free_ports
from pipeline.kafka.probe import ConnectionSetupError, probe
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
