"""Input events: what a host said (transcript segments) and what is on sale (product listings)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter


class Category(str, Enum):
    food = "food"
    health_food = "health_food"
    cosmetics = "cosmetics"
    drug = "drug"
    medical_device = "medical_device"
    apparel = "apparel"
    electronics = "electronics"
    home = "home"
    other = "other"


def _to_datetime(value: Any) -> Any:
    """Accept ISO-8601 strings or epoch milliseconds, as producers send either."""
    if isinstance(value, bool):
        raise ValueError("timestamp must be ISO-8601 or epoch milliseconds, not a boolean")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000.0, tz=UTC)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return datetime.fromtimestamp(int(value) / 1000.0, tz=UTC)
    return value


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ISO-8601 or epoch milliseconds; a time without a zone is UTC.
EventTime = Annotated[datetime, BeforeValidator(_to_datetime), AfterValidator(_assume_utc)]
_EVENT_TIME: TypeAdapter[datetime] = TypeAdapter(EventTime)


def parse_time(value: Any) -> datetime:
    """A time as events and command-line options give it (raises pydantic's ValidationError)."""
    return _EVENT_TIME.validate_python(value)


class _EventBase(BaseModel):
    # Extra fields are kept so that producers can add fields without breaking consumers.
    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)

    event_id: str = Field(min_length=1)
    ts: EventTime


class TranscriptSegment(_EventBase):
    """One ASR segment of a host's speech."""

    type: Literal["transcript"] = "transcript"
    room_id: str = Field(min_length=1)
    product_id: str | None = None
    text: str
    category: Category | None = None
    streamer_id: str | None = None
    # Numbers must be JSON numbers: `true` or "99" is a producer's mistake, not a value.
    seq: int | None = Field(default=None, strict=True)
    start_ms: int | None = Field(default=None, strict=True)
    end_ms: int | None = Field(default=None, strict=True)


class ProductListing(_EventBase):
    """The product on sale, as listed in the shop; the facts that spoken claims are checked against."""

    type: Literal["listing"] = "listing"
    product_id: str = Field(min_length=1)
    room_id: str | None = None
    category: Category
    title: str
    price: float = Field(ge=0, strict=True)
    original_price: float | None = Field(default=None, ge=0, strict=True)
    attributes: dict[str, str] = Field(default_factory=dict)
    certifications: list[str] | None = Field(
        default=None,
        description="registration and certificate numbers the listing shows; left out when the listing says "
        "nothing about them (unknown: never contradicts a claim), [] when it states there are none",
    )


Event = Annotated[TranscriptSegment | ProductListing, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[TranscriptSegment | ProductListing] = TypeAdapter(Event)


def parse_event(data: Any) -> TranscriptSegment | ProductListing:
    """Validate one decoded JSON object as an event; raises pydantic.ValidationError naming the field."""
    return EVENT_ADAPTER.validate_python(data)
