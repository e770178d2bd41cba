"""The rule language: what a rules/*.yaml file may say, validated with located errors.

A rule set is a directory of YAML files. Each file may declare `kinds` (kinds of unlawful claim,
with their statute: every rule names one) and define shared `lists` (word lists),
`fragments` (named matchers, most often a piece of a regex), `conditions` (named exceptions) and
`rules`. All of them are global to the rule set, defined once and referenced by name: `$name` for
a list inside `terms`, `phrases` or a token pattern's `IN`; `$name` for a list or a regex fragment
inside a regex; `{fragment: name}` wherever a matcher goes; a bare condition name inside `unless`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from models.alerts import Severity
from models.events import Category

RULE_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
NAME_PATTERN = r"^[a-z][a-z0-9_-]*$"
# Fragments are referenced inside regexes, where a hyphen would read as part of the regex.
FRAGMENT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindSpec(_Strict):
    """A kind of unlawful claim, declared once by the rule set under `kinds:`: every rule names
    one, and alerts and `eval` report by it. A compliance officer adds a kind (infant formula,
    《广告法》第二十条) by declaring it with its statute, then writing rules of that kind."""

    title: str = Field(min_length=2)
    legal_basis: list[str] = Field(min_length=1, description="the articles that make this kind of claim unlawful")
    description: str | None = None


def _exactly_one(model: BaseModel, fields: tuple[str, ...]) -> None:
    given = [name for name in fields if getattr(model, name) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(fields)} (got {', '.join(given) or 'none'})")


class MatcherSpec(_Strict):
    """What a rule looks for. Exactly one of: terms, regex, pattern, all, any, fragment.

    - terms: words or phrases (and `$list` references); a term fires only on whole tokens.
    - regex: an RE2 regular expression over the normalized text (linear time, no backtracking);
      `$name` inside it stands for a regex fragment or a word list (`\\$` is a literal dollar).
    - pattern: a spaCy Matcher token pattern over the jieba tokens.
    - all: every child must match; `within` bounds the distance in characters between the parts.
    - any: at least one child must match.
    - fragment: the named matcher of that name, defined once under `fragments:`.
    """

    terms: list[str] | None = None
    regex: str | None = None
    pattern: list[dict[str, Any]] | None = None
    all: list[MatcherSpec] | None = None
    any: list[MatcherSpec] | None = None
    fragment: str | None = Field(default=None, pattern=FRAGMENT_NAME_PATTERN)
    within: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> MatcherSpec:
        _exactly_one(self, ("terms", "regex", "pattern", "all", "any", "fragment"))
        if self.within is not None and self.all is None:
            raise ValueError("`within` only applies to `all`")

        for name in ("terms", "pattern", "all", "any"):
            value = getattr(self, name)
            if value is not None and not value:
                raise ValueError(f"`{name}` must not be empty")
        return self


class NegationSpec(_Strict):
    """The match is preceded, in the same clause, by a negation or denial."""

    before: int = Field(default=8, ge=1, le=30, description="characters to look back")
    terms: list[str] = Field(default_factory=lambda: ["$negations"])
    except_terms: list[str] = Field(
        default_factory=lambda: ["$affirmations"],
        description="phrases that contain a negation but affirm (不得不说, 不是我吹)",
    )


class NearSpec(_Strict):
    """Some words (terms or regex) stand within `before` characters before or `after` characters
    after the match, in the same clause. Context lying wholly inside the match is part of the claim
    and does not count, unless `in_match` says so."""

    terms: list[str] | None = None
    regex: str | None = None
    before: int = Field(default=0, ge=0, le=60)
    after: int = Field(default=0, ge=0, le=60)
    cross_clause: bool = False
    in_match: bool = Field(
        default=False,
        description="also count context found inside the match itself (3C in 国家3C认证)",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> NearSpec:
        _exactly_one(self, ("terms", "regex"))
        if self.before == 0 and self.after == 0:
            raise ValueError("give `before` or `after` (characters of context to search)")
        return self


class ListingSpec(_Strict):
    """Facts about the listed product that make the claim lawful for it."""

    certification: str | None = Field(
        default=None, description="RE2 regex; holds when any listed certification matches"
    )
    categories: list[Category] | None = None
    supports_price: bool | None = Field(
        default=None,
        description="holds when every price named in the match is the listing's price or original price",
    )

    @model_validator(mode="after")
    def _something(self) -> ListingSpec:
        if self.certification is None and self.categories is None and not self.supports_price:
            raise ValueError("give `certification`, `categories` or `supports_price: true`")
        return self


class ConditionSpec(_Strict):
    """An exception: when it holds for a match, the rule stays quiet. Exactly one of
    negation, phrases, near, listing."""

    negation: NegationSpec | None = None
    phrases: list[str] | None = None
    near: NearSpec | None = None
    listing: ListingSpec | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ConditionSpec:
        _exactly_one(self, ("negation", "phrases", "near", "listing"))
        return self


class ExampleSpec(_Strict):
    """A sentence with the product context it is said about."""

    text: str = Field(min_length=1)
    category: Category | None = None
    certifications: list[str] | None = Field(
        default=None, description="the listing's certifications; [] for a listing that states it has none"
    )
    price: float | None = None
    original_price: float | None = None
    attributes: dict[str, str] = Field(default_factory=dict)


class ExamplesSpec(_Strict):
    hit: list[str | ExampleSpec] = Field(min_length=2)
    miss: list[str | ExampleSpec] = Field(min_length=2)
    todo_hit: list[str | ExampleSpec] = Field(
        default_factory=list, description="known gaps: expected to fire one day; not a failure"
    )


class ContradictionSpec(_Strict):
    """The claim is false for the product on air because its listing says otherwise. A rule with
    `contradicts` fires only on a contradiction, and its alert names both sides.

    - field `attributes.<name>` (several names with `|`: `attributes.material|材质|面料`): the
      `values` named in the claim must be among those named in the listed value; a claim with an
      `exclusive` word (纯, 100%) is contradicted by any other listed value as well.
      With `quantities: true` the amounts are compared instead (50ml said, 30ml listed).
    - field `certifications`: contradicted when no listed certification matches `certification`.
    - field `price`: contradicted when a price said in the claim is neither the listing's price
      nor its original price.
    Without a listing (or without the field) nothing can be compared: `when_unknown` says
    whether the rule then stays quiet or fires anyway (a certificate nobody can show)."""

    field: str = Field(pattern=r"^(?:certifications|price|attributes\.[^|]+(?:\|[^|]+)*)$")
    values: dict[str, list[str]] | None = Field(
        default=None, description="canonical value -> words that name it ($list references allowed)"
    )
    exclusive: list[str] = Field(default_factory=list, description="words that claim nothing else: 纯, 100%")
    certification: str | None = Field(default=None, description="RE2 regex a listed certification must match")
    quantities: bool = Field(
        default=False,
        description="attributes only: compare the amounts said with those listed, unit by unit "
        "(50ml vs 30ml, 五百克 vs 250g); a unit the listing does not give is unknown",
    )
    when_unknown: Literal["quiet", "fire"] = "quiet"

    @model_validator(mode="after")
    def _what_to_compare(self) -> ContradictionSpec:
        if self.field.startswith("attributes.") and not self.values and not self.quantities:
            raise ValueError("an `attributes.` field needs `values` or `quantities: true` to compare")
        if self.field == "certifications" and not self.certification:
            raise ValueError("the `certifications` field needs a `certification` regex")
        return self

    @property
    def attribute_names(self) -> list[str]:
        return self.field.removeprefix("attributes.").split("|") if self.field.startswith("attributes.") else []


class RuleSpec(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN, description="stable kebab-case id; never rename it")
    title: str = Field(min_length=2)
    description: str = Field(min_length=20, description="why the rule exists and how to tune it")
    kind: str = Field(pattern=RULE_ID_PATTERN, description="a kind the rule set declares under `kinds:`")
    severity: Severity
    legal_basis: list[str] = Field(min_length=1)
    categories: list[Category] | None = Field(
        default=None, description="categories the rule applies to; default all"
    )
    except_categories: list[Category] = Field(default_factory=list)
    match: MatcherSpec
    unless: list[str | ConditionSpec] = Field(default_factory=list)
    contradicts: ContradictionSpec | None = None
    message: str = Field(min_length=2, description="may use {match} and {category}")
    examples: ExamplesSpec

    @field_validator("legal_basis")
    @classmethod
    def _cite_something(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("legal_basis entries must not be blank")
        return value

    @model_validator(mode="after")
    def _categories_consistent(self) -> RuleSpec:
        if self.categories and self.except_categories:
            overlap = set(self.categories) & set(self.except_categories)
            if overlap:
                raise ValueError(f"categories and except_categories overlap: {sorted(c.value for c in overlap)}")
        return self


class ListSpec(_Strict):
    """A word list in its long form, `{sound: false, terms: [...]}`, to say whether its terms are
    also heard by sound (pinyin, initials, homophones: jiang tang, zl, 根直 for 根治). Every
    word a rule matches is by default; `sound: false` takes a list's words out, `sound: true` puts
    in words that are only context. See pipeline/text/sound.py."""

    sound: bool | None = None
    terms: list[str]


class RuleFileSpec(_Strict):
    kinds: dict[str, KindSpec] = Field(default_factory=dict, description="kinds of claims, by kebab-case name")
    lists: dict[str, list[str] | ListSpec] = Field(default_factory=dict)
    fragments: dict[str, MatcherSpec] = Field(
        default_factory=dict,
        description="named matchers: `{fragment: name}` as a matcher, `$name` inside a regex (regex fragments)",
    )
    conditions: dict[str, ConditionSpec] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list)

    @field_validator("kinds", "lists", "fragments", "conditions")
    @classmethod
    def _names(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        label, pattern, rule = _NAMES[info.field_name or ""]
        for name in value:
            if not re.match(pattern, name):
                raise ValueError(f"{label} name {name!r} must be {rule}")
        return value


# How each kind of definition is named, and why (a fragment is referenced inside regexes, where
# a hyphen would read as part of the regex; a kind is shown in alerts beside rule ids).
_NAMES = {
    "kinds": ("kind", RULE_ID_PATTERN, "kebab-case: lower-case letters and digits joined by '-'"),
    "lists": ("list", NAME_PATTERN, "lower-case letters, digits, '_' or '-'"),
    "conditions": ("condition", NAME_PATTERN, "lower-case letters, digits, '_' or '-'"),
    "fragments": ("fragment", FRAGMENT_NAME_PATTERN, "lower-case letters, digits and '_' (for $name in a regex)"),
}


def _keys_of(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    """Every key a mapping of this model, or of a model inside it, may have."""
    if model in seen:
        return set()
    seen.add(model)
    keys = set(model.model_fields)
    for info in model.model_fields.values():
        for inner in _models_in(info.annotation):
            keys |= _keys_of(inner, seen)
    return keys


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


# The keys a rule file may use anywhere, for "did you mean" on a misspelt one.
RULE_FILE_KEYS = frozenset(_keys_of(RuleFileSpec, set()))
