"""`claimwatch eval`: precision, recall and F1 of the rule set on a labelled corpus."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from models.events import Category
from pipeline.detect.engine import Engine
from pipeline.errors import EventError
from pipeline.judge.judge import detect_segment
from pipeline.quality.cases import standalone_case


class CorpusItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    text: str
    category: Category | None = None
    label: Literal["violation", "clean"]
    kind: str | None = None
    listing: dict[str, Any] | None = None
    variant: str | None = None  # how the claim was disguised (evasion corpus): pinyin, homophone…


@dataclass
class Outcome:
    item: CorpusItem
    predicted: bool
    rules: list[str]
    kinds: list[str]
    matches: list[str]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return _share(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _share(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


@dataclass
class KindScore:
    """Recall over the violations labelled with the kind; precision over the segments where a
    rule of the kind fired."""

    caught: int = 0
    missed: int = 0
    fired_on_violation: int = 0
    fired_on_clean: int = 0

    @property
    def precision(self) -> float:
        return _share(self.fired_on_violation, self.fired_on_violation + self.fired_on_clean)

    @property
    def recall(self) -> float:
        return _share(self.caught, self.caught + self.missed)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


@dataclass
class Report:
    overall: Score
    per_kind: dict[str, KindScore]
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.item.label == "violation" and not o.predicted]

    @property
    def false_hits(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.item.label == "clean" and o.predicted]

    def recall_per_variant(self) -> dict[str, tuple[int, int]]:
        """Violations caught and labelled, per disguise, for corpora that name one."""
        counts: dict[str, tuple[int, int]] = {}
        for o in self.outcomes:
            if o.item.label == "violation" and o.item.variant:
                caught, total = counts.get(o.item.variant, (0, 0))
                counts[o.item.variant] = (caught + o.predicted, total + 1)
        return dict(sorted(counts.items()))


def load_corpus(path: Path) -> list[CorpusItem]:
    """Every item of a labelled corpus; EventError names the line (or the file) that is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EventError(f"cannot read the corpus: {exc}", where=str(path)) from None
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(CorpusItem.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise EventError(str(exc).splitlines()[0], where=f"{path}:{number}") from None
    return items


def evaluate(engine: Engine, items: list[CorpusItem]) -> Report:
    """Overall scores are per segment: a violation is caught when any rule fires on it."""
    overall = Score()
    per_kind: dict[str, KindScore] = defaultdict(KindScore)
    outcomes = []
    for item in items:
        segment, listing = standalone_case(item.id, item.text, item.category, item.listing, room_id="corpus")
        alerts = detect_segment(engine, segment, listing)
        outcome = Outcome(
            item,
            bool(alerts),
            [rule for a in alerts for rule in a.rule_ids],
            sorted({kind for a in alerts for kind in a.kinds}),
            [a.evidence.match for a in alerts],
        )
        outcomes.append(outcome)
        violation = item.label == "violation"
        if violation and outcome.predicted:
            overall.tp += 1
        elif violation:
            overall.fn += 1
        elif outcome.predicted:
            overall.fp += 1
        else:
            overall.tn += 1
        if violation and item.kind:
            if outcome.predicted:
                per_kind[item.kind].caught += 1
            else:
                per_kind[item.kind].missed += 1
        for kind in outcome.kinds:
            if violation:
                per_kind[kind].fired_on_violation += 1
            else:
                per_kind[kind].fired_on_clean += 1
    return Report(overall, dict(sorted(per_kind.items())), outcomes)
