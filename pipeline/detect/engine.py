"""The rule engine: compiles a rule set once, then finds claims in a text and says why.

For each rule that applies to the product's category, its matcher's hits are checked against the
rule's `unless` predicates and, for a rule that `contradicts` the listing, against the listing; a
hit that nothing explains away fires. Each finding carries what an alert needs (the words in the
original text, the clause, what was heard by sound, the listing conflict), so nothing downstream
reads the analysis again. `explain` returns the same decisions with every step visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from models.alerts import Evasion, ListingConflict
from models.rules import ConditionSpec, RuleSpec
from pipeline.detect.analysis import (
    Analysis,
    Hit,
    PatternIndex,
    TermIndex,
    analyze,
    analyze_normalized,
    longest_apart,
)
from pipeline.detect.contradict import Contradiction
from pipeline.detect.facts import ProductFacts
from pipeline.detect.matchers import CompiledMatcher, MatcherCompiler
from pipeline.detect.predicates import Predicate, compile_condition
from pipeline.ruleset.model import LoadedRule, RuleSet
from pipeline.text.normalize import NormalizedText, joined_text, normalize, normalize_term
from pipeline.text.sound import SoundIndex
from pipeline.text.tokenize import ChineseTokenizer


@dataclass
class CompiledRule:
    loaded: LoadedRule
    matcher: CompiledMatcher
    predicates: list[Predicate]
    contradiction: Contradiction | None = None

    @property
    def spec(self) -> RuleSpec:
        return self.loaded.spec

    def applies_to(self, facts: ProductFacts) -> bool:
        """Unknown category: the rule applies, since silence would hide a claim."""
        category = facts.category
        if category is None:
            return True
        if category in self.spec.except_categories:
            return False
        return self.spec.categories is None or category in self.spec.categories


@dataclass(frozen=True)
class Finding:
    """One hit of one rule, judged: it fires, or a named exception stops it."""

    rule: CompiledRule
    hit: Hit  # the span in the normalized text
    start: int  # the span in the original text: what the host said, exactly
    end: int
    words: str  # the normalized words the rule saw
    clause: str  # the normalized clause around them
    evasion: Evasion | None = None  # set when the words were heard by sound
    suppressed_by: str | None = None
    reason: str | None = None
    conflict: ListingConflict | None = None  # both sides, for a claim the listing contradicts
    # Where the last repeat of the same claim ends, when one finding stands for several
    # (`one_per_claim`); else `end`.
    last_end: int | None = None
    # The span in the original text widened to whole words (Analysis.whole_words): the alert's
    # evidence. `start`/`end` stay the rule's own, which the split-claim window reasons with.
    word_start: int | None = None
    word_end: int | None = None

    @property
    def through(self) -> int:
        return self.end if self.last_end is None else self.last_end

    @classmethod
    def of(
        cls,
        rule: CompiledRule,
        hit: Hit,
        analysis: Analysis,
        *,
        suppressed_by: str | None = None,
        reason: str | None = None,
        conflict: ListingConflict | None = None,
    ) -> Finding:
        start, end = analysis.normalized.to_original(hit.start, hit.end)
        word_start, word_end = start, end
        if suppressed_by is None:  # only what fires becomes evidence; tokens cost
            word_start, word_end = analysis.normalized.to_original(*analysis.whole_words(hit.start, hit.end))
        clause_start, clause_end = analysis.clause_bounds(hit.start, hit.end)
        sound = analysis.evasion_in(hit.start, hit.end)
        evasion = Evasion(kind=sound.kind, variant=sound.variant, term=sound.term) if sound is not None else None
        return cls(rule, hit, start, end, analysis.text[hit.start : hit.end], analysis.text[clause_start:clause_end],
                   evasion, suppressed_by, reason, conflict, None, word_start, word_end)

    @property
    def fired(self) -> bool:
        return self.suppressed_by is None

    def moved(self, offset: int) -> Finding:
        """The same finding with its original span (`start`, `end`) moved by `offset` characters,
        for a text analysed as the tail of a longer one (a split claim); `hit`, `words` and
        `clause` stay as they were, in the normalized tail."""
        def moved(at: int | None) -> int | None:
            return None if at is None else at + offset

        return replace(self, start=self.start + offset, end=self.end + offset, last_end=moved(self.last_end),
                       word_start=moved(self.word_start), word_end=moved(self.word_end))  # fmt: skip

    @property
    def evidence_span(self) -> tuple[int, int]:
        """Where the alert's evidence lies in the original text: the match widened to whole words."""
        start = self.start if self.word_start is None else self.word_start
        return start, self.end if self.word_end is None else self.word_end


@dataclass
class RuleTrace:
    """What `explain` shows for one rule that came close."""

    rule: CompiledRule
    applies: bool
    findings: list[Finding] = field(default_factory=list)
    near_misses: list[Hit] = field(default_factory=list)


@dataclass
class Explanation:
    analysis: Analysis
    facts: ProductFacts
    traces: list[RuleTrace]
    fired: list[Finding]


def _inline_name(spec: ConditionSpec, index: int) -> str:
    kind = next(k for k in ("negation", "phrases", "near", "listing") if getattr(spec, k) is not None)
    return f"{kind}#{index}"


def _crosses(analysis: Analysis, span: tuple[int, int], before: int, after: int) -> bool:
    """The span of the normalized text starts before `before` and ends after `after` (offsets
    into the original text)."""
    normalized = analysis.normalized
    start, end = span
    return end > start and normalized.starts[start] < before and normalized.ends[end - 1] > after


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """Within one rule keep the longest of overlapping hits, so one claim gives one alert."""
    return longest_apart(findings, lambda f: (f.hit.start, f.hit.end), lambda f: _preferred(f.hit))


def _preferred(hit: Hit) -> tuple[int, int, str]:
    """Which of a rule's hits is kept first: the longest, then the earliest."""
    return (-hit.length, hit.start, hit.via)


# Hits of one rule judged per clause at most: one claim makes one alert, and this bounds the work
# of a segment that says the same words a thousand times in one breath.
HITS_PER_CLAUSE = 16


def _bounded(hits: list[Hit], analysis: Analysis) -> list[Hit]:
    """The hits, or where a clause holds more than HITS_PER_CLAUSE of them, its longest ones (as
    `_without_overlaps` would prefer them) and the one that ends last (how far the claim
    reaches), in the order they came."""
    if len(hits) <= HITS_PER_CLAUSE:
        return hits
    by_clause: dict[tuple[int, int], list[int]] = {}
    for index, hit in enumerate(hits):
        by_clause.setdefault(analysis.clause_bounds(hit.start, hit.end), []).append(index)
    kept: list[int] = []
    for indexes in by_clause.values():
        if len(indexes) > HITS_PER_CLAUSE:
            last = max(indexes, key=lambda i: hits[i].end)
            longest = sorted(indexes, key=lambda i: _preferred(hits[i]))
            indexes = [*(i for i in longest[: HITS_PER_CLAUSE - 1] if i != last), last]
        kept.extend(indexes)
    return [hits[i] for i in sorted(kept)]


def one_per_claim(findings: list[Finding]) -> list[Finding]:
    """The findings with only the first of each rule and claim (its clause, as said): a host who
    says the same thing five times in one breath made one claim, and a segment of one word
    repeated makes one alert, not thousands. The one kept remembers where the last of its
    repeats ends (`through`), so the split-claim window still knows how far the claim reached."""
    first: dict[tuple[str, str], int] = {}
    kept: list[Finding] = []
    for finding in findings:
        key = (finding.rule.spec.id, finding.clause)
        at = first.get(key)
        if at is None:
            first[key] = len(kept)
            kept.append(finding)
        elif finding.end > kept[at].through:
            kept[at] = replace(kept[at], last_end=finding.end)
    return kept


class Engine:
    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        compiler = MatcherCompiler(ruleset)
        named = {
            name: compile_condition(name, spec, compiler.context_terms_of, ruleset.expand_regex)
            for name, spec in ruleset.conditions.items()
        }
        self.rules: list[CompiledRule] = []
        for loaded in ruleset.rules:
            matcher = compiler.compile(loaded.spec.match, loaded.spec.id)
            predicates = [
                named[item]
                if isinstance(item, str)
                else compile_condition(_inline_name(item, i), item, compiler.context_terms_of, ruleset.expand_regex)
                for i, item in enumerate(loaded.spec.unless, start=1)
            ]
            contradicts = loaded.spec.contradicts
            contradiction = (
                Contradiction(contradicts, ruleset.resolve_terms, ruleset.expand_regex) if contradicts else None
            )
            self.rules.append(CompiledRule(loaded, matcher, predicates, contradiction))
        self.tokenizer = ChineseTokenizer(compiler.terms)
        self.terms = TermIndex(compiler.terms | compiler.context_terms | compiler.atoms)
        # The prefilter: a rule is judged only when one of its trigger literals occurs.
        self._always: list[int] = []
        self._by_literal: dict[str, list[int]] = {}
        self._needs = [rule.matcher.need() for rule in self.rules]
        for index, need in enumerate(self._needs):
            literals = need.triggers()
            if literals is None:
                self._always.append(index)
            for literal in literals or ():
                self._by_literal.setdefault(literal, []).append(index)
        self._triggers = frozenset(self._by_literal)
        self.patterns = PatternIndex(self.tokenizer)
        for key, pattern in compiler.patterns:
            self.patterns.add(key, pattern)
        self.sounds = SoundIndex(self._heard_by_sound(compiler), self.tokenizer.is_word)

    def _heard_by_sound(self, compiler: MatcherCompiler) -> set[str]:
        """Every word a rule matches, unless its list says `sound: false`, and the words of lists
        that say `sound: true`."""
        heard = {normalize_term(t) for t in self.ruleset.sound_terms(heard=True)}
        quiet = {normalize_term(t) for t in self.ruleset.sound_terms(heard=False)}
        return (compiler.terms | compiler.regex_words | heard) - quiet

    @property
    def version(self) -> str:
        return self.ruleset.version

    def analyze(self, text: str) -> Analysis:
        return analyze(text, self.tokenizer, self.terms, self.patterns, self.sounds)

    def may_cross(self, before: str, after: Analysis, facts: ProductFacts) -> bool:
        """Whether `before + " " + after.normalized.original` could hold a hit that begins in
        `before` and ends in the other part, for a rule that applies: False only when none
        can. The joined text is made from the parts' normalized texts where it normalizes as
        they do (else: True), then read as `analyze` reads a text; the rules its literals make
        candidates are asked only where their hits could lie (`reach`: regexes searched, words
        found, no tokens). Judging a joined text costs several times this."""
        joined = joined_text(normalize(before), after.plain)
        if joined is None:
            return True
        text, at = joined
        end_before = len(text[:at].rstrip(" "))  # the kept space belongs to neither side
        plain = NormalizedText(text, text, tuple(range(len(text))), tuple(range(1, len(text) + 1)))
        analysis = analyze_normalized(plain, self.tokenizer, self.terms, self.patterns, self.sounds)
        # Its map leads into `text`: a hit crosses when it starts before the first part's end
        # and ends after the second part's start.
        for rule in self.candidates(analysis):
            if rule.applies_to(facts) and any(
                _crosses(analysis, span, end_before, at) for span in rule.matcher.reach(analysis)
            ):
                return True
        return False

    def _judge(
        self, rule: CompiledRule, analysis: Analysis, facts: ProductFacts, hits: list[Hit] | None = None
    ) -> list[Finding]:
        findings = []
        for hit in _bounded(rule.matcher.hits(analysis) if hits is None else hits, analysis):
            for predicate in rule.predicates:
                reason = predicate.holds(analysis, hit, facts)
                if reason is not None:
                    findings.append(Finding.of(rule, hit, analysis, suppressed_by=predicate.name, reason=reason))
                    break
            else:
                findings.append(self._against_listing(rule, analysis, hit, facts))
        return findings

    @staticmethod
    def _against_listing(rule: CompiledRule, analysis: Analysis, hit: Hit, facts: ProductFacts) -> Finding:
        """A rule that `contradicts` the listing fires only on a contradiction (or, if it says
        so, when there is no listing to compare with)."""
        if rule.contradiction is None:
            return Finding.of(rule, hit, analysis)
        verdict = rule.contradiction.judge(analysis, hit, facts)
        if verdict.conflict is not None:
            return Finding.of(rule, hit, analysis, conflict=verdict.conflict)
        if verdict.unknown and rule.contradiction.spec.when_unknown == "fire":
            return Finding.of(rule, hit, analysis)
        stopped_by = "listing-agrees" if not verdict.unknown else "listing-unknown"
        return Finding.of(rule, hit, analysis, suppressed_by=stopped_by, reason=verdict.reason)

    def candidates(self, analysis: Analysis) -> list[CompiledRule]:
        """The rules whose needed literals occur in the text, in rule order: no other rule can hit."""
        found = analysis.found
        chosen = set(self._always)
        for literal in found & self._triggers:
            chosen.update(self._by_literal[literal])
        return [self.rules[i] for i in sorted(chosen) if self._needs[i].met_by(found)]

    def detect(
        self, analysis: Analysis, facts: ProductFacts, across: tuple[int, int] | None = None
    ) -> list[Finding]:
        """The findings that fire, one per claim and rule, in rule order then text order.

        With `across` (two offsets into the original text), only the rules with a hit starting
        before the first and ending after the second are judged: the split-claim window wants no
        others. A rule judged is judged whole, so its findings are the ones it would give without
        `across`."""
        fired: list[Finding] = []
        for rule in self.candidates(analysis):
            if not rule.applies_to(facts):
                continue
            if across is not None:
                # Where the hits could lie first: most rules could not cross, and are told so
                # without tokens.
                if not any(_crosses(analysis, span, *across) for span in rule.matcher.reach(analysis)):
                    continue
                hits = rule.matcher.hits(analysis)
                if not any(_crosses(analysis, (hit.start, hit.end), *across) for hit in hits):
                    continue
            else:
                hits = rule.matcher.hits(analysis)
            fired.extend(_without_overlaps([f for f in self._judge(rule, analysis, facts, hits) if f.fired]))
        # Across a boundary the caller keeps the crossing findings first, then one per claim.
        return fired if across is not None else one_per_claim(fired)

    def explain(self, text: str, facts: ProductFacts) -> Explanation:
        analysis = self.analyze(text)
        traces = []
        for rule in self.rules:
            trace = RuleTrace(rule, rule.applies_to(facts), self._judge(rule, analysis, facts))
            trace.near_misses = rule.matcher.near_misses(analysis)
            if trace.findings or trace.near_misses:
                traces.append(trace)
        return Explanation(analysis, facts, traces, self.detect(analysis, facts))
