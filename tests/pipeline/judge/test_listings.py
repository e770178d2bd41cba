from datetime import timedelta

from models.events import Category
from pipeline.judge.listings import LISTING_VERSIONS_KEPT, add_listing_version, listing_as_of

from ...conftest import TS, make_listing, make_segment


def test_listing_in_force_is_the_newest_not_later_than_the_segment() -> None:
    drug = make_listing(Category.drug, event_id="l1", ts=TS)
    food = make_listing(Category.food, event_id="l2", ts=TS + timedelta(seconds=10))
    versions = add_listing_version(add_listing_version([], food), drug)  # arrival order does not matter
    assert [v.event_id for v in versions] == ["l1", "l2"]
    assert listing_as_of(versions, make_segment("x", ts=TS - timedelta(seconds=1))) is None
    assert listing_as_of(versions, make_segment("x", ts=TS + timedelta(seconds=5))).event_id == "l1"
    assert listing_as_of(versions, make_segment("x", ts=TS + timedelta(seconds=10))).event_id == "l2"


def test_redelivered_version_replaces_itself_and_history_is_bounded() -> None:
    versions: list = []
    for i in range(LISTING_VERSIONS_KEPT + 5):
        versions = add_listing_version(versions, make_listing(Category.food, event_id=f"l{i}", ts=TS + timedelta(seconds=i)))
    versions = add_listing_version(versions, versions[-1])
    assert len(versions) == LISTING_VERSIONS_KEPT
    assert versions[-1].event_id == f"l{LISTING_VERSIONS_KEPT + 4}"
