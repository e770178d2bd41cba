"""Real tests of the embedded Kafka broker: real JVMs, real ports, kafka-python as the client.

A broker start takes 3-5 s on a 2-core machine; each test starts one, except the port race (two at
once). The first run on a fresh machine also fetches the Kafka jars with Maven once (~10 s).
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import IO

import pytest

with warnings.catch_warnings():
    # kafka-python 3.0 loads its protocol schemas with deprecated importlib.resources calls at
    # import time: not ours to fix, and 200 warnings would bury real ones.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer  # type: ignore[import-untyped]
    from kafka.admin import NewTopic  # type: ignore[import-untyped]

from pipeline.errors import ClaimwatchError
from pipeline.kafka.broker import MARKER, BrokerError, EmbeddedBroker, fetch_kafka_jars

# Every test here fetches the Kafka jars or starts a broker of its own.
pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[3]


def _topic() -> str:
    return f"claimwatch-test-{uuid.uuid4().hex[:12]}"


def _create_topic(bootstrap: str, name: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        admin.create_topics([NewTopic(name=name, num_partitions=1, replication_factor=1)])
        assert name in admin.list_topics()
    finally:
        admin.close()


def _produce(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=30000)
    try:
        for value in values:
            producer.send(topic, value=value).get(timeout=30)
    finally:
        producer.close()


def _consume(bootstrap: str, topic: str, count: int, group_id: str | None = None) -> list[bytes]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        auto_offset_reset="earliest",
        consumer_timeout_ms=30000,  # iteration ends after 30 s without a record instead of hanging
    )
    try:
        values: list[bytes] = []
        for record in consumer:
            values.append(record.value)
            if len(values) == count:
                break
        return values
    finally:
        consumer.close()


def _port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_fetch_is_cached_and_complete() -> None:
    jars = fetch_kafka_jars()
    assert (jars / MARKER).is_file()
    assert (jars / "kafka_2.13-3.9.1.jar").is_file()
    assert (jars / "slf4j-reload4j-1.7.36.jar").is_file()  # without a logging backend the broker is silent
    started = time.monotonic()
    assert fetch_kafka_jars() == jars
    assert time.monotonic() - started < 0.5


def test_concurrent_first_fetches_share_one_complete_cache(tmp_path: Path) -> None:
    # Two processes race on an empty cache dir; the lock makes one fetch and the other reuse it.
    code = "import sys; from pipeline.kafka.broker import fetch_kafka_jars; print(fetch_kafka_jars(cache_dir=sys.argv[1]))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1] == str(tmp_path / "kafka-3.9.1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kafka-3.9.1", "kafka-3.9.1.lock"]  # no staging left
    assert len(list((tmp_path / "kafka-3.9.1").glob("*.jar"))) > 30


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: neither mvn nor java on PATH
    with pytest.raises(BrokerError, match="`mvn` was not found") as info:
        fetch_kafka_jars(cache_dir=tmp_path / "cache")
    assert isinstance(info.value, ClaimwatchError)


def test_unknown_version_names_the_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match=r"Could not find artifact org\.apache\.kafka:kafka_2\.13:jar:3\.9\.99"):
        fetch_kafka_jars("3.9.99", cache_dir=tmp_path)
    assert not (tmp_path / "kafka-3.9.99").exists()  # a failed fetch leaves nothing that looks complete


def test_produce_consume_then_stop_frees_port_and_temp_dir() -> None:
    broker = EmbeddedBroker()
    with broker:
        port, data_dir = broker.port, broker.data_dir
        assert broker.bootstrap == f"127.0.0.1:{port}"
        assert data_dir is not None and (data_dir / "kafka-logs" / "meta.properties").is_file()
        topic = _topic()
        _create_topic(broker.bootstrap, topic)
        _produce(broker.bootstrap, topic, "直播间 最好的 claim".encode())
        # A consumer group exercises __consumer_offsets with replication factor 1.
        assert _consume(broker.bootstrap, topic, 1, group_id="claimwatch-test") == ["直播间 最好的 claim".encode()]
    assert port is not None and _port_closed(port)
    assert not data_dir.exists()
    assert not broker.is_running()


def test_restart_on_same_data_dir_keeps_messages(tmp_path: Path) -> None:
    data_dir = tmp_path / "kafka"
    topic = _topic()
    with EmbeddedBroker(data_dir=data_dir) as broker:
        _create_topic(broker.bootstrap, topic)
        _produce(broker.bootstrap, topic, b"before restart")
    meta = (data_dir / "kafka-logs" / "meta.properties").read_text()
    assert (data_dir / "broker.log").is_file()

    with EmbeddedBroker(data_dir=data_dir) as broker:  # new ports, same storage: not reformatted
        assert (data_dir / "kafka-logs" / "meta.properties").read_text() == meta
        _produce(broker.bootstrap, topic, b"after restart")
        assert _consume(broker.bootstrap, topic, 2) == [b"before restart", b"after restart"]
    assert data_dir.exists()  # a given data dir is the caller's: never removed


def test_explicit_port_in_use_fails_fast_with_clear_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = time.monotonic()
        broker = EmbeddedBroker(port=port)
        with pytest.raises(BrokerError, match=f"127.0.0.1:{port}"):
            broker.start()
        assert time.monotonic() - started < 5  # no JVM was started
        assert broker.data_dir is None and not broker.is_running()  # its temp dir was removed


def test_two_brokers_racing_for_one_port_never_both_report_ready() -> None:
    # Both pass the up-front port check before either JVM binds; the loser must fail, not mistake
    # the winner's answers for its own (start() checks the cluster id it formatted).
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    brokers = [EmbeddedBroker(port=number), EmbeddedBroker(port=number)]
    outcomes: list[object] = [None, None]

    def start(i: int) -> None:
        try:
            outcomes[i] = brokers[i].start(timeout=60)
        except BrokerError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        failures = [o for o in outcomes if isinstance(o, BrokerError)]
        assert len(failures) == 1, outcomes
        assert f"127.0.0.1:{number}" in str(failures[0])
        winner = next(b for b in brokers if b.is_running())
        assert winner.bootstrap == f"127.0.0.1:{number}"
    finally:
        for broker in brokers:
            broker.stop()


def test_run_forever_prints_ready_and_exits_zero_on_sigterm(tmp_path: Path) -> None:
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "w") as stderr:  # a file, not a pipe nobody reads that could fill up
        proc = subprocess.Popen(
            [sys.executable, "-c", "from pipeline.kafka.broker import run_forever; run_forever(0, None)"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert proc.stdout is not None
    try:
        line = _read_line(proc.stdout, timeout=150)  # includes the jar fetch on a fresh machine's first run
        match = re.fullmatch(r"ready 127\.0\.0\.1:(\d+)\n", line)
        assert match, f"first stdout line {line!r}; stderr:\n{stderr_path.read_text()}"
        port = int(match.group(1))
        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}")
        admin.list_topics()
        admin.close()

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, stderr_path.read_text()
        assert _port_closed(port)
        assert proc.stdout.read() == ""  # nothing but the ready line
        log_line = re.search(r"^broker log: (.+)$", stderr_path.read_text(), flags=re.MULTILINE)
        assert log_line and not Path(log_line.group(1)).parent.exists()  # its temp data dir is gone
    finally:
        if proc.poll() is None:
            proc.kill()  # the broker JVM follows: it gets SIGTERM when its parent dies
            proc.wait()
        proc.stdout.close()


def _read_line(stream: IO[str], timeout: float) -> str:
    """The first line of stream, or '' if none came within timeout (readline itself cannot time out)."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


def test_the_broker_runs_the_release_the_settings_name() -> None:
    from pipeline.settings import Settings

    expected = Settings().kafka_version  # CLAIMWATCH_KAFKA_VERSION: make test runs 3.9.1, then 4.x
    with EmbeddedBroker() as broker:
        assert broker.version == expected
        assert f"Kafka version: {expected}" in Path(broker.log_path).read_text(encoding="utf-8", errors="replace")
