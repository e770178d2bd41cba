"""Alert identity: every alert the rules raise on the shipped samples and corpora, as lines of
`event_id rule_id alert_id`, kept in tests/data/alert_ids/ and compared by the test suite.

A refactor or a speed-up must leave these files as they are; a rule change rewrites them
(`make alert-ids`), and their diff is what the change changes. The sources:
- each session in samples/, scanned as `claimwatch scan` would (listing join, split-claim window,
  repeat window);
- each labelled corpus in tests/data/, every item judged on its own, as `claimwatch eval` does;
- the dev and check corpora with every item cut at the pause nearest its middle, the halves sent
  as consecutive segments of one room (four rooms in turn, a room's items sharing one product),
  so that the split-claim window is exercised on the claims of every kind.

`python -m pipeline.quality.snapshot [--check]` writes the files, or compares with them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from models.alerts import Alert
from pipeline.detect.engine import Engine
from pipeline.judge.judge import detect_segment
from pipeline.judge.scan import Scanner
from pipeline.quality.cases import standalone_case
from pipeline.quality.evaluate import CorpusItem, load_corpus
from pipeline.ruleset import load_ruleset
from pipeline.settings import PROJECT_ROOT, Settings

SNAPSHOT_DIR = PROJECT_ROOT / "tests" / "data" / "alert_ids"
SAMPLES = PROJECT_ROOT / "samples"
CORPORA = PROJECT_ROOT / "tests" / "data"
SPLIT_CORPORA = ("dev_corpus", "check_corpus")
_PAUSES = " ，,。！!？?；;"
_T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def _lines(alerts: Iterator[Alert] | list[Alert]) -> list[str]:
    return [f"{a.event_id}\t{a.rule_id}\t{a.alert_id}" for a in alerts]


def cut_at_middle_pause(text: str) -> tuple[str, str]:
    """The two halves of a sentence cut where ASR would: at the pause nearest its middle."""
    pauses = [i for i, ch in enumerate(text) if ch in _PAUSES]
    if not pauses:
        middle = len(text) // 2
        return text[:middle], text[middle:]
    cut = min(pauses, key=lambda i: abs(i - len(text) / 2))
    return text[:cut].strip(), text[cut + 1 :].strip()


def split_events(items: list[CorpusItem]) -> list[str]:
    """The corpus as event lines: each item's halves 1 s apart in one room, items 3 s apart."""
    lines = []
    for i, item in enumerate(items):
        room = f"room-{i % 4}"
        for k, part in enumerate(cut_at_middle_pause(item.text)):
            if part:
                event = {"type": "transcript", "event_id": f"{item.id}-{k}", "room_id": room,
                         "product_id": f"p-{i % 4}", "ts": _T0_MS + 3000 * i + 1000 * k, "text": part,
                         "category": item.category.value if item.category else None}  # fmt: skip
                lines.append(json.dumps(event, ensure_ascii=False))
    return lines


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Source name -> its alerts' lines, in the order they are raised."""
    settings = Settings(dedup_window_s=60.0, context_segments=3, context_window_s=20.0)
    found: dict[str, list[str]] = {}
    for path in sorted(SAMPLES.glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        found[f"samples.{path.stem}"] = _lines(Scanner(engine, settings).scan_lines(lines))
    for path in sorted(CORPORA.glob("*_corpus.jsonl")):
        items = load_corpus(path)
        alone = []
        for item in items:
            segment, listing = standalone_case(item.id, item.text, item.category, item.listing, room_id="corpus")
            alone.extend(detect_segment(engine, segment, listing))
        found[f"{path.stem}.alone"] = _lines(alone)
        if path.stem in SPLIT_CORPORA:
            found[f"{path.stem}.split"] = _lines(Scanner(engine, settings).scan_lines(split_events(items)))
    return found


def differences(found: dict[str, list[str]], directory: Path = SNAPSHOT_DIR) -> list[str]:
    """What differs from the files, one line a source; empty when identical."""
    problems = []
    for name, lines in found.items():
        path = directory / f"{name}.txt"
        kept = path.read_text(encoding="utf-8").splitlines() if path.exists() else None
        if kept is None:
            problems.append(f"{name}: no {path.name} kept")
        elif kept != lines:
            gone, new = sorted(set(kept) - set(lines)), sorted(set(lines) - set(kept))
            problems.append(f"{name}: {len(gone)} alerts gone {gone[:3]}, {len(new)} new {new[:3]}"
                            + ("" if gone or new else ", same alerts in another order"))
    for path in sorted(directory.glob("*.txt")):
        if path.stem not in found:
            problems.append(f"{path.stem}: kept, but no longer a source")
    return problems


def write(found: dict[str, list[str]], directory: Path = SNAPSHOT_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.txt"):
        if stale.stem not in found:
            stale.unlink()
    for name, lines in found.items():
        (directory / f"{name}.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the kept files instead of writing")
    args = parser.parse_args()
    found = snapshot(Engine(load_ruleset()))
    if args.check:
        problems = differences(found)
        for problem in problems:
            sys.stderr.write(problem + "\n")
        sys.exit(1 if problems else 0)
    write(found)
    sys.stderr.write(f"{sum(len(lines) for lines in found.values())} alerts of {len(found)} sources written to "
                     f"{SNAPSHOT_DIR}\n")


if __name__ == "__main__":
    main()
