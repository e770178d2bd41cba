"""Topic creation on a real broker: missing topics made, existing ones reported as they are."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from pipeline.kafka.topics import ensure_topics
from pipeline.settings import Settings

from ..streamkit import unique_prefix


def test_ensure_topics_creates_the_missing_and_reports_existing_partition_counts(kafka_bootstrap: str) -> None:
    prefix = unique_prefix()
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(f"{prefix}transcripts", num_partitions=3, replication_factor=1)])
    finally:
        admin.close()
    counts = ensure_topics(Settings(broker=kafka_bootstrap, topic_prefix=prefix, partitions=2))
    assert counts == {f"{prefix}transcripts": 3, f"{prefix}listings": 2, f"{prefix}alerts": 2,
                      f"{prefix}deadletter": 2}
