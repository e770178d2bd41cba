"""Builds tests/data/evasion_corpus.jsonl: the violations of the check corpus as hosts disguise them.

For every violation whose claim the rules find in its plain form, the claim's words are
rewritten the ways hosts dodge word lists, one way per item: separators or emoji inside the word,
traditional characters, full-width letters and digits, Arabic numbers as Chinese numerals, one
character as pinyin, the whole word as pinyin, one character swapped for a homophone, the word
as pinyin initials. The rewriting is mechanical (pypinyin, OpenCC, cn2an) and seeded, so the set
measures how the rules generalise rather than what they were written against. Rerun after
changing the check corpus: `python tests/data/make_evasion_corpus.py`.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import cn2an
import jieba
import opencc
from pypinyin import lazy_pinyin
from pypinyin.constants import PINYIN_DICT

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.detect.engine import Engine  # noqa: E402
from pipeline.judge.judge import detect_segment  # noqa: E402
from pipeline.quality.cases import standalone_case  # noqa: E402
from pipeline.quality.evaluate import load_corpus  # noqa: E402
from pipeline.ruleset.load import load_ruleset  # noqa: E402
from pipeline.settings import default_rules_dir  # noqa: E402
from pipeline.text.normalize import is_cjk  # noqa: E402

HERE = Path(__file__).resolve().parent
SEPARATORS = [" ", "|", "·", "*", "🌟", "✨", "/", "~"]
FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _homophones() -> dict[str, list[str]]:
    """Toneless reading -> common characters with it, commonest first (jieba's frequencies)."""
    jieba.initialize()
    freq = jieba.dt.FREQ
    by_sound: dict[str, list[tuple[int, str]]] = {}
    for code in PINYIN_DICT:
        ch = chr(code)
        if not is_cjk(ch) or not freq.get(ch):
            continue
        by_sound.setdefault(lazy_pinyin(ch)[0], []).append((-freq[ch], ch))
    return {sound: [ch for _, ch in sorted(chars)[:12]] for sound, chars in by_sound.items()}


def _claim_span(text: str, alerts: list) -> tuple[int, int] | None:
    """The first two to four Chinese characters of the first alert's matched words."""
    for alert in alerts:
        start, end = alert.evidence.start, alert.evidence.end
        cjk = [i for i in range(start, end) if is_cjk(text[i])]
        if len(cjk) >= 2 and cjk[1] == cjk[0] + 1:
            run_end = cjk[0] + 1
            while run_end < end and run_end - cjk[0] < 4 and is_cjk(text[run_end]):
                run_end += 1
            return cjk[0], run_end
    return None


def variants(text: str, span: tuple[int, int], rng: random.Random, homophones: dict[str, list[str]]) -> dict[str, str]:
    start, end = span
    word = text[start:end]
    out: dict[str, str] = {}
    cut = rng.randrange(1, len(word))
    out["separator"] = text[:start] + word[:cut] + rng.choice(SEPARATORS) + word[cut:] + text[end:]
    traditional = opencc.OpenCC("s2t").convert(text)
    if traditional != text:
        out["traditional"] = traditional
    if re.search(r"[0-9A-Za-z%]", text):
        out["full-width"] = "".join(FULL_WIDTH.get(c, c) for c in text)
    numbers = re.sub(r"[0-9]+(?:\.[0-9]+)?%", lambda m: "百分之" + cn2an.an2cn(m.group()[:-1]), text)
    numbers = re.sub(r"[0-9]+", lambda m: cn2an.an2cn(m.group()), numbers)
    if numbers != text:
        out["chinese-numerals"] = numbers
    readings = lazy_pinyin(word)
    i = rng.randrange(len(word))
    out["pinyin-part"] = text[:start] + word[:i] + readings[i] + word[i + 1 :] + text[end:]
    out["pinyin-full"] = text[:start] + " ".join(readings) + text[end:]
    for i in rng.sample(range(len(word)), len(word)):
        others = [ch for ch in homophones.get(readings[i], []) if ch != word[i]]
        if others:
            out["homophone"] = text[:start] + word[:i] + others[0] + word[i + 1 :] + text[end:]
            break
    out["initials"] = text[:start] + "".join(r[0] for r in readings) + text[end:]
    return out


def main() -> None:
    engine = Engine(load_ruleset(default_rules_dir()))
    rng = random.Random(20261128)
    homophones = _homophones()
    rows = []
    for item in load_corpus(HERE / "check_corpus.jsonl"):
        if item.label != "violation":
            continue
        segment, listing = standalone_case(item.id, item.text, item.category, item.listing, room_id="corpus")
        span = _claim_span(item.text, detect_segment(engine, segment, listing))
        if span is None:
            continue
        for variant, text in sorted(variants(item.text, span, rng, homophones).items()):
            row = {"id": f"{item.id}-{variant}", "text": text, "category": item.category and item.category.value,
                   "label": "violation", "kind": item.kind, "variant": variant, "source": item.id}
            if item.listing:
                row["listing"] = item.listing
            rows.append(row)
    path = HERE / "evasion_corpus.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} variants of {len({r['source'] for r in rows})} claims -> {path}")


if __name__ == "__main__":
    main()
