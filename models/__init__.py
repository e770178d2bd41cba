"""Pydantic v2 schemas shared by the detector, the CLI and the stream: events, alerts, rule specs."""

from models.alerts import Alert, Evidence
from models.events import Category, Event, ProductListing, TranscriptSegment, parse_event

__all__ = [
    "Alert",
    "Category",
    "Event",
    "Evidence",
    "ProductListing",
    "TranscriptSegment",
    "parse_event",
]
