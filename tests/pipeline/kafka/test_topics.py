"""Topic creation on a real broker: missing topics made, existing ones reported as they are."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

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


def test_the_tables_changelogs_are_made_before_the_worker_and_a_wrong_one_is_named(kafka_bootstrap: str) -> None:
    import pytest

    from pipeline.errors import TopicError
    from pipeline.kafka.topics import changelog_topic

    settings = Settings(broker=kafka_bootstrap, topic_prefix=unique_prefix(), partitions=2)
    ensure_topics(settings)
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        described = {d.get("name", d.get("topic")): len(d["partitions"]) for d in admin.describe_topics(
            [changelog_topic(settings, table) for table in ("listings", "dedup", "context")])}
        assert described == {f"{settings.consumer_group}-{table}-changelog": 2 for table in ("listings", "dedup", "context")}
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, changelog_topic(settings, "dedup"))])
        name = changelog_topic(settings, "dedup")
        assert configs["topic"][name]["cleanup.policy"]["value"] == "compact"
        # A changelog that some client auto-created with one partition cannot hold the table.
        other = Settings(broker=kafka_bootstrap, topic_prefix=unique_prefix(), partitions=2)
        admin.create_topics([NewTopic(changelog_topic(other, "context"), num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    with pytest.raises(TopicError, match="context-changelog has 1 partitions but its table needs 2"):
        ensure_topics(other)
