"""SASL_SSL for real: a broker whose client port speaks SCRAM-SHA-512 over TLS with a CA it made
itself, and every client of the project connecting through the CLAIMWATCH_SECURITY_* settings.
A client set up wrongly ends in one line that names the cause, never a wait that looks like an
outage."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.detect.engine import Engine
from pipeline.errors import EXIT_USAGE
from pipeline.judge.scan import Scanner
from pipeline.kafka.broker import BrokerSecurity, EmbeddedBroker
from pipeline.kafka.probe import listener_protocol
from pipeline.kafka.tls import write_ca
from tests.pipeline.streamkit import ROOT, WorkerProcess, unique_prefix

pytestmark = pytest.mark.kafka

SAMPLE = ROOT / "samples" / "demo_stream.jsonl"


@pytest.fixture(scope="module")
def secure_broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(port=0, security=BrokerSecurity("claimwatch", secrets.token_urlsafe(12))) as broker:
        yield broker


def claimwatch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMWATCH_")}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                          env={**clean, "COLUMNS": "300", "CLAIMWATCH_BROKER_WAIT_S": "5", **env},
                          timeout=180, check=False)  # fmt: skip


def test_the_listener_says_what_it_speaks(secure_broker: EmbeddedBroker) -> None:
    assert listener_protocol(secure_broker.bootstrap) == ("SASL_SSL", ["SCRAM-SHA-512"])
    assert listener_protocol(secure_broker._ready_address) == ("PLAINTEXT", [])


def test_worker_replay_record_and_tail_work_over_sasl_ssl(
    secure_broker: EmbeddedBroker, engine: Engine, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    env = {**secure_broker.client_environment(), "CLAIMWATCH_TOPIC_PREFIX": prefix}
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    expected = {alert.alert_id for alert in Scanner(engine).scan_lines(lines)}
    assert expected
    with WorkerProcess(secure_broker.bootstrap, prefix, tmp_path, env=env):
        replayed = claimwatch(env, "replay", str(SAMPLE))
        assert replayed.returncode == 0, replayed.stderr
        tailed = claimwatch(env, "tail", "--from-beginning", "--json", "--until-idle", "8", "--max", str(len(expected)))
        assert tailed.returncode == 0, tailed.stderr
        assert {json.loads(line)["alert_id"] for line in tailed.stdout.splitlines()} == expected
    recording = tmp_path / "inputs.jsonl"
    recorded = claimwatch(env, "record", "--out", str(recording), "--from-beginning", "--until-idle", "3")
    assert recorded.returncode == 0, recorded.stderr
    assert len(recording.read_text(encoding="utf-8").splitlines()) == len(lines)


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


@pytest.mark.parametrize(("change", "cause"), [
    ({"CLAIMWATCH_SASL_PASSWORD": "not-the-password"},
     "refused the credentials of CLAIMWATCH_SASL_USERNAME='claimwatch' (SCRAM-SHA-512)"),
    ({"CLAIMWATCH_SSL_CAFILE": "{other_ca}"}, "is not trusted: it is not signed by CLAIMWATCH_SSL_CAFILE="),
    ({"CLAIMWATCH_SECURITY_PROTOCOL": "PLAINTEXT"},
     "is a SASL_SSL listener, offering SCRAM-SHA-512, but CLAIMWATCH_SECURITY_PROTOCOL is PLAINTEXT"),
    ({"CLAIMWATCH_SECURITY_PROTOCOL": "SSL"}, "is a SASL_SSL listener, offering SCRAM-SHA-512, but "
                                              "CLAIMWATCH_SECURITY_PROTOCOL is SSL"),
], ids=["wrong-password", "unknown-ca", "plaintext-to-tls", "tls-without-sasl"])  # fmt: skip
def test_a_misconfigured_client_ends_in_one_line_naming_the_cause(
    secure_broker: EmbeddedBroker, tmp_path: Path, change: dict[str, str], cause: str
) -> None:
    other_ca = write_ca(tmp_path / "other-ca.pem", "Some other CA")
    env = {**secure_broker.client_environment(),
           **{key: value.replace("{other_ca}", str(other_ca)) for key, value in change.items()}}  # fmt: skip
    done = claimwatch(env, "record", "--out", str(tmp_path / "never.jsonl"), "--until-idle", "1")
    assert done.returncode == EXIT_USAGE, done.stderr
    assert cause in _one_line_error(done)
    assert not (tmp_path / "never.jsonl").exists()


def test_the_worker_with_a_wrong_password_stops_at_once(secure_broker: EmbeddedBroker, tmp_path: Path) -> None:
    env = {**secure_broker.client_environment(), "CLAIMWATCH_SASL_PASSWORD": "not-the-password"}
    done = claimwatch(env, "worker", "--topic-prefix", unique_prefix())
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "refused the credentials" in _one_line_error(done)


def test_a_restart_keeps_the_ca_and_takes_the_new_password(tmp_path: Path) -> None:
    data = tmp_path / "broker"
    with EmbeddedBroker(port=0, data_dir=data, security=BrokerSecurity("claimwatch", "first-password")) as broker:
        ca = broker.tls.ca.read_bytes()
        first = broker.client_environment()
    with EmbeddedBroker(port=0, data_dir=data, security=BrokerSecurity("claimwatch", "second-password")) as broker:
        assert broker.tls.ca.read_bytes() == ca  # clients that trust it keep working
        second = broker.client_environment()
        replayed = claimwatch(second, "replay", str(SAMPLE), "--topic-prefix", unique_prefix())
        assert replayed.returncode == 0, replayed.stderr
        stale = {**first, "CLAIMWATCH_BROKER": broker.bootstrap}
        done = claimwatch(stale, "replay", str(SAMPLE), "--topic-prefix", unique_prefix())
        assert done.returncode == EXIT_USAGE and "refused the credentials" in _one_line_error(done)


def test_up_with_sasl_ssl_shows_the_alerts_scan_gives(engine: Engine, tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    expected = len(list(Scanner(engine).scan_lines(lines)))
    done = claimwatch({}, "up", "--sasl-ssl", "--port", "0", "--data-dir", str(tmp_path / "broker"),
                      "--feed", str(SAMPLE), "--exit-when-idle", "3")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{expected} alerts shown" in done.stderr
    assert "SASL_SSL with SCRAM-SHA-512 user 'claimwatch'" in done.stderr
    assert "export CLAIMWATCH_SECURITY_PROTOCOL=SASL_SSL" in (tmp_path / "broker" / "client.env").read_text()
