"""The pipeline's topics, created before the worker starts: Faust only declares its own internal
(changelog) topics, and a worker that subscribes to a topic that does not exist yet never reads it."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

from pipeline.errors import TopicError
from pipeline.kafka.probe import probe
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

TOPIC_NAMES = ("transcripts", "listings", "alerts", "deadletter")
# The worker's tables, each with the input topic it is partitioned like. Their changelog topics
# are created here too, before the worker starts: Faust creates them itself only after its first
# assignment, and a worker that got its partitions first wrote every change into a missing topic
# (PartitionsMismatch for each segment, while it said it was ready).
TABLES = {"listings": "listings", "dedup": "transcripts", "context": "transcripts"}


def changelog_topic(settings: Settings, table: str) -> str:
    """The name Faust gives a table's changelog: `<app id>-<table>-changelog`."""
    return f"{settings.consumer_group}-{table}-changelog"



def kafka_python_config(settings: Settings) -> dict[str, Any]:
    """Connection settings for kafka-python clients, security options passed through."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol.startswith("SASL"):
        config.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password.get_secret_value() if settings.sasl_password else None,
        )
    for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        value = getattr(settings, key)
        if value is not None:
            config[key] = str(value)
    return config


def ensure_topics(
    settings: Settings, timeout_s: float = 60.0, say: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Create the input, alert and dead-letter topics that are missing; return every one's
    partition count, as found on the broker (topics made by others may have another count).
    `say` hears that the broker is awaited."""
    names = [settings.topic(name) for name in TOPIC_NAMES]
    probe(settings, kafka_python_config(settings), settings.broker_wait_s, say)  # an outage, a refused setup
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(client_id="claimwatch-admin", **kafka_python_config(settings))
        except KafkaError as exc:  # the broker may still be starting
            last_error = exc
            time.sleep(0.5)
            continue
        try:
            existing = set(admin.list_topics())
            missing = [
                NewTopic(name, num_partitions=settings.partitions, replication_factor=settings.replication_factor)
                for name in names
                if name not in existing
            ]
            if missing:
                try:
                    admin.create_topics(missing)
                except TopicAlreadyExistsError:
                    pass  # another worker created it first
            counts = {name: _partition_count(admin, name, settings.partitions) for name in names}
            _ensure_changelogs(admin, settings, counts, existing)
            return counts
        except KafkaError as exc:
            last_error = exc
            time.sleep(0.5)
        finally:
            admin.close()
    raise TopicError(f"could not create topics {names} on {settings.broker}: {last_error}")


def _ensure_changelogs(admin: KafkaAdminClient, settings: Settings, counts: dict[str, int], existing: set[str]) -> None:
    """Create the tables' changelog topics (compacted, partitioned like their input topic), or
    check the ones there: a changelog with another partition count cannot take the table's
    writes, and must be named now rather than fail on every segment."""
    wanted = {changelog_topic(settings, table): counts[settings.topic(like)] for table, like in TABLES.items()}
    missing = [
        NewTopic(name, num_partitions=partitions, replication_factor=settings.replication_factor,
                 topic_configs={"cleanup.policy": "compact"})
        for name, partitions in wanted.items()
        if name not in existing
    ]  # fmt: skip
    if missing:
        try:
            admin.create_topics(missing)
        except TopicAlreadyExistsError:
            pass
    for name, partitions in wanted.items():
        found = _partition_count(admin, name, partitions)
        if found != partitions:
            raise TopicError(f"changelog topic {name} has {found} partitions but its table needs {partitions} (like "
                             f"its input topic): delete it, or give this worker another group id")


def _partition_count(admin: KafkaAdminClient, name: str, default: int) -> int:
    for description in admin.describe_topics([name]):
        if name in (description.get("name"), description.get("topic")) and description.get("partitions"):
            return len(description["partitions"])
    return default
