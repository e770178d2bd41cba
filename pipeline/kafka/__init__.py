"""Kafka itself: an embedded single-node broker (KRaft) run from jars fetched through Maven, the
pipeline's topics, client settings, and plain producer/reader helpers that talk to the pipeline
from outside as any producer would.

Owns: the broker process, its jars and ports, topic creation, kafka-python client settings. May
import `pipeline.settings` and `pipeline.errors` only; knows nothing of rules or alerts.
"""
