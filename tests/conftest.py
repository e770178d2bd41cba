from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from models.events import Category, ProductListing, TranscriptSegment
from pipeline.detect.engine import Engine
from pipeline.ruleset.load import load_ruleset
from pipeline.settings import default_rules_dir

DATA = Path(__file__).parent / "data"
TS = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_config_file_of_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """A config file named in the environment that runs the tests would change what they test."""
    monkeypatch.delenv("CLAIMWATCH_CONFIG", raising=False)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(load_ruleset(default_rules_dir()))


def make_segment(text: str, category: Category | str | None = None, **extra: object) -> TranscriptSegment:
    fields: dict[str, object] = dict(event_id="e1", room_id="r1", product_id="p1", ts=TS, text=text, category=category)
    fields.update(extra)
    return TranscriptSegment.model_validate(fields)


def make_listing(category: Category | str, **extra: object) -> ProductListing:
    fields: dict[str, object] = dict(event_id="l1", product_id="p1", ts=TS, category=category, title="商品", price=99.0)
    fields.update(extra)
    return ProductListing.model_validate(fields)


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """A real broker for the session: CLAIMWATCH_TEST_BOOTSTRAP if set, else `EmbeddedBroker`
    (Kafka jars fetched through Maven once) on a free port."""
    import os

    given = os.environ.get("CLAIMWATCH_TEST_BOOTSTRAP")
    if given:
        yield given
        return
    from pipeline.kafka.broker import EmbeddedBroker

    with EmbeddedBroker(port=0) as broker:
        yield broker.bootstrap


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the broker is an integration test: `make test-fast` leaves it out."""
    for item in items:
        if "kafka_bootstrap" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)
