"""`claimwatch up`: the embedded broker and one worker together, for local use and `make demo`.
Optionally feeds an events file into the input topics and shows alerts as they arrive. Also the
worker subprocess the benchmarks, the soak and the fuzz run start and watch (its commits, its
peak memory)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

from models.alerts import Alert
from pipeline.errors import EventError, WorkerStartError
from pipeline.kafka.broker import BrokerSecurity, EmbeddedBroker
from pipeline.kafka.topics import ensure_topics, kafka_python_config
from pipeline.ops.recording_format import read_items
from pipeline.ops.replay import ReplayPlan, replay, select
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition



def start_worker(
    settings: Settings, log_path: Path, timeout_s: float = 120.0, own_session: bool = False,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`claimwatch worker` in a subprocess; returns once it has joined and is consuming.
    `own_session` puts it in a process group of its own, so it can be killed as a whole; `env`
    adds settings (CLAIMWATCH_*) to its environment."""
    args = [sys.executable, "-m", "pipeline.cli", "worker", "--broker", settings.broker,
            "--topic-prefix", settings.topic_prefix, "--partitions", str(settings.partitions),
            "--rules", str(settings.rules_dir), "--dedup-window", str(settings.dedup_window_s)]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=own_session,
                                env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"})

    def log_text() -> str:
        return log_path.read_text(encoding="utf-8", errors="replace")

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise WorkerStartError(f"worker exited with {proc.returncode}; {log_path} ends:\n{log_text()[-3000:]}")
        if "Worker ready" in log_text():
            return proc
        time.sleep(0.3)
    proc.terminate()
    raise WorkerStartError(f"worker not ready after {timeout_s:.0f}s; {log_path} ends:\n{log_text()[-3000:]}")


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident set (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def committed_transcripts(admin: KafkaAdminClient, settings: Settings) -> int:
    """How many transcript records the worker group has committed, over all partitions."""
    group, topic = settings.consumer_group, settings.topic("transcripts")
    offsets = admin.list_group_offsets(group).get(group, {})
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


def wait_committed(admin: KafkaAdminClient, settings: Settings, at_least: int, proc: subprocess.Popen[bytes],
                   timeout_s: float, poll_s: float = 0.05) -> int:
    """Wait until the worker group has committed `at_least` transcripts; raise if the worker
    exits by itself or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while (done := committed_transcripts(admin, settings)) < at_least:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited by itself with {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{done} of {at_least} transcripts committed after {timeout_s:.0f}s")
        time.sleep(poll_s)
    return done


def follow_alerts(
    settings: Settings, show: Callable[[Alert], None], idle_exit_s: float | None,
    busy: Callable[[], bool] = lambda: False,
) -> int:
    """Print alerts as they arrive, from the start of the topic; stop after `idle_exit_s` quiet
    seconds once nothing is `busy` feeding events (None: until interrupted). Returns how many
    were shown."""
    topic = settings.topic("alerts")
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **kafka_python_config(settings))
    shown = 0
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        last = time.monotonic()
        while idle_exit_s is None or busy() or time.monotonic() - last < idle_exit_s:
            if busy():
                last = time.monotonic()
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    show(Alert.model_validate_json(record.value))
                    shown += 1
                    last = time.monotonic()
    finally:
        consumer.close()
    return shown


def run_local_stack(
    settings: Settings,
    port: int,
    data_dir: Path | None,
    feed: Path | None,
    show: Callable[[Alert], None],
    say: Callable[[str], None],
    idle_exit_s: float | None,
    speed: float | None = None,
    security: BrokerSecurity | None = None,
) -> int:
    with EmbeddedBroker(port=port, data_dir=data_dir, security=security) as broker:
        settings = broker.client_settings(settings)
        say(f"ready {broker.bootstrap} (broker log: {broker.log_path})")
        if security is not None:
            say(f"SASL_SSL with SCRAM-SHA-512 user {security.username!r}; other clients: "
                f"source {broker.write_client_environment()}")
        ensure_topics(settings)
        log_path = Path(broker.log_path).with_name("worker.log")
        worker = start_worker(settings, log_path, env=broker.client_environment())
        say(f"worker ready (log: {log_path}); topics {settings.topic('transcripts')}, {settings.topic('listings')} "
            f"-> {settings.topic('alerts')}, {settings.topic('deadletter')}")
        feeding = None
        try:
            if feed is not None:
                feeding = _feed_in_background(settings, feed, speed, say)
            shown = follow_alerts(settings, show, idle_exit_s, busy=lambda: feeding is not None and feeding.is_alive())
        except KeyboardInterrupt:
            shown = 0
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        return shown


def _feed_in_background(
    settings: Settings, feed: Path, speed: float | None, say: Callable[[str], None]
) -> threading.Thread:
    """Replay the events file into the input topics while alerts are shown."""
    problems: list[EventError] = []
    items = select(read_items(feed, problems), ReplayPlan(speed=speed))
    for problem in problems:
        say(f"skipped {feed} {problem}")
    pace = "as fast as possible" if speed is None else f"at {speed:g}x recorded speed"
    say(f"replaying {len(items)} events from {feed} {pace}")

    def run() -> None:
        stats = replay(settings, items, ReplayPlan(speed=speed))
        say(f"replayed {stats.sent} events from {feed}")

    thread = threading.Thread(target=run, name="feed", daemon=True)
    thread.start()
    return thread
