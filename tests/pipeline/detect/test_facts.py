from models.events import Category
from pipeline.detect.facts import facts_for

from ...conftest import make_listing, make_segment


def test_facts_prefer_the_listing_over_the_segment() -> None:
    segment = make_segment("美白", category=Category.food)
    assert facts_for(segment, None).category is Category.food
    listing = make_listing(Category.cosmetics, certifications=["国妆特字G1"], original_price=199.0)
    facts = facts_for(segment, listing)
    assert facts.category is Category.cosmetics and facts.certifications == ("国妆特字G1",)
    assert facts.original_price == 199.0
