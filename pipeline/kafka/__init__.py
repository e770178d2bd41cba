"""Kafka itself: an embedded single-node broker (KRaft) run from jars fetched through Maven, the
pipeline's topics, client settings, and plain producer/reader helpers that talk to the pipeline
from outside as any producer would.

Owns: the broker process, its jars, ports and certificates, topic creation, kafka-python client
settings, telling an outage from a misconfiguration. May import `pipeline.settings` and
`pipeline.errors` only; knows nothing of rules or alerts.
"""
