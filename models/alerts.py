"""Alerts published to platform trust teams: each one explained and stable across re-delivery."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class Severity(str, Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Evasion(BaseModel):
    """A term found by sound: what was said or typed instead, and the term it stood for."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="homophone, pinyin, mixed (characters and pinyin) or initials")
    variant: str = Field(description="the normalized words that stood for the term")
    term: str = Field(description="the rule's term they sound like")


class ListingConflict(BaseModel):
    """Both sides of a claim the listing contradicts."""

    model_config = ConfigDict(frozen=True)

    field: str = Field(description="the listing field compared: attributes.<name>, certifications or price")
    listed: str = Field(description="what the listing says there (\"none\" when it lists nothing)")
    said: str = Field(description="what the host said about it")


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str = Field(description="The original segment text, unchanged.")
    match: str = Field(description="The matched words as they appear in the original text.")
    start: int = Field(ge=0, description="Start offset of the match in `text` (code points).")
    end: int = Field(ge=0, description="End offset (exclusive) of the match in `text`.")
    normalized: str = Field(description="The matched words after normalization, as the rule saw them.")
    via: str = Field(description="Which term, regex or pattern of the rule matched.")
    claim: str = Field(
        description="The normalized clause the match stands in; a room repeating it within the "
        "dedup window raises no new alert."
    )
    evasion: Evasion | None = Field(default=None, description="set when the claim was found by sound")
    listing_conflict: ListingConflict | None = Field(
        default=None, description="set when the claim is false because the product's listing says otherwise"
    )


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True)

    alert_id: str = Field(description="Deterministic: the same event, rule and span give the same id.")
    event_id: str
    room_id: str
    product_id: str | None = None
    ts: datetime
    rule_id: str
    kind: str
    severity: Severity
    category: str | None = Field(default=None, description="Product category the rule was applied for.")
    legal_basis: list[str]
    message: str
    evidence: Evidence
    related_event_ids: list[str] = Field(
        default_factory=list,
        description="Earlier segments of a claim split across segments (same room and product); "
        "evidence.text then holds them and this one joined by spaces, and the offsets point into it.",
    )
    ruleset_version: str
