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


# The alert format: 2 added `rules` (every rule that made the claim), `streamer_id`, `start_ms`
# and `end_ms`; 3 added `emitted_at` and the listing judged against (`listing_event_id`,
# `listing_ts`).
ALERT_SCHEMA_VERSION = 3


class RuleRef(BaseModel):
    """One rule that made the claim an alert stands for."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    title: str
    kind: str
    severity: Severity
    legal_basis: list[str]
    match: str = Field(
        description="The words this rule matched, as said and widened to whole words "
        "(they overlap the alert's evidence)."
    )
    via: str = Field(description="Which term, regex or pattern of this rule matched.")


class Alert(BaseModel):
    """One claim: when several rules match the same words, one alert lists them all in `rules`,
    led by the most severe (its `rule_id`, `kind` and `severity` are the alert's)."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = ALERT_SCHEMA_VERSION

    alert_id: str = Field(description="Deterministic: the same event, rule and span give the same id.")
    event_id: str
    room_id: str
    product_id: str | None = None
    ts: datetime
    streamer_id: str | None = None
    start_ms: int | None = Field(default=None, description="The segment's start in the stream, as given on input.")
    end_ms: int | None = Field(default=None, description="The segment's end in the stream, as given on input.")
    rule_id: str = Field(description="The leading rule: the most severe of `rules`.")
    kind: str
    severity: Severity
    category: str | None = Field(default=None, description="Product category the rule was applied for.")
    legal_basis: list[str] = Field(description="Every legal basis of every rule in `rules`, the leading rule's first.")
    message: str
    evidence: Evidence
    related_event_ids: list[str] = Field(
        default_factory=list,
        description="Earlier segments of a claim split across segments (same room and product); "
        "evidence.text then holds them and this one joined by spaces, and the offsets point into it.",
    )
    ruleset_version: str
    listing_event_id: str | None = Field(
        default=None, description="The listing the claim was judged against (its event_id); none when there was none."
    )
    listing_ts: datetime | None = Field(default=None, description="That listing's time: which version of it.")
    emitted_at: datetime | None = Field(
        default=None,
        description="When the stream worker published the alert (its clock, UTC): not part of what the alert "
        "says, and so left out by `claimwatch scan`, whose alerts are the same on every run. A re-delivered "
        "claim is published again with the same alert_id and content but a later emitted_at.",
    )
    rules: list[RuleRef] = Field(
        default_factory=list, description="Every rule that made this claim, the leading rule first."
    )

    @property
    def rule_ids(self) -> list[str]:
        return [ref.rule_id for ref in self.rules] or [self.rule_id]

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(ref.kind for ref in self.rules)) or [self.kind]
