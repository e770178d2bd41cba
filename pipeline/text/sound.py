"""Matching terms by sound: what hosts say or type instead of a banned word.

Hosts dodge word lists with pinyin (jiang tang, 降xue压), pinyin initials (zl for 治疗) and
homophones or near-homophones (根直 for 根治, 减废 for 减肥). The terms of lists marked `sound: true` are
also looked for by their toneless pinyin (pypinyin) over the normalized text, with the
retroflex initials folded into the flat ones (zh/z, ch/c, sh/s), as southern accents and ASR
blur them. What is found is read as the term (`pipeline.detect.analysis` restores it before tokenizing),
so every rule sees the claim the host meant, and the alert names the variant and the term.

Guards keep ordinary words that merely sound alike quiet:
- a term needs two or more syllables (one syllable sounds like hundreds of characters);
- a homophone written in Chinese characters must be whole tokens, must not be, or be cut out
  of, a dictionary word (至于 is not 治愈), must keep one of a two-syllable term's characters
  (根直 keeps 根: real evasions do, chance collisions mostly don't) and not only a function
  word (单了 is not 淡了, 再减 is not 再见), must keep at least half of a longer one (大一码,
  keeping 大 alone, is not 大姨妈), must not differ from the term only by a function word (是低 is not
  史低, 能白 is not 嫩白), and must not be made of words the rules know, said as they are
  (治肠炎 is not 直肠炎; 嘴好用, half of it no such word, is 最好用);
- pinyin must be whole Latin runs, never part of a longer one (no 降糖 inside "jiangtangyao"
  unless the run is exactly that); initials must be a whole run of 2-4 lower-case letters as
  written (upper-case SC or GB is a code, not a dodge) that is not a common abbreviation, unit
  or live-stream slang (kg, ml, gz for 关注…), and only one word of the rules may fit them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
from pypinyin import lazy_pinyin
from pypinyin.constants import PINYIN_DICT

from pipeline.text.normalize import NormalizedText, is_cjk

_LATIN_RUN = re.compile(r"[a-zü]+(?:\s+[a-zü]+)*")
# Latin runs that are abbreviations, units or sizes far more often than pinyin initials.
_NOT_INITIALS = frozenset(
    "kg mg ml cm mm km dm ok vip app diy ps pk mv tv pc id ip ui ai ar vr hd xl xxl xs sm ms bb cc "
    "dd gg mm jj ss yy hh qq wx vx tb jd pdd sku spf pa uv led usb nfc gps wifi cpu gb mb "
    # live-stream slang: 关注, 直播, 抖音, 粉丝, 收藏, 福利, 链接, 正品, 宝贝, 点赞, 评论, 下单…
    "gz zb dy fs sc fl lj zp bb dz pl xd gj kf sh fh bj zs yyds xswl nb cp zf hb".split()
)
_MIN_SYLLABLES = 2
# Sound-alike pairs whose verdict is remembered; past this the memory starts over.
_PAIRS_KEPT = 100_000
_MAX_INITIALS = 4
# Characters so common in speech that a "homophone" made by one of them is ordinary talk.
_FUNCTION_CHARS = frozenset(
    "的地得了着过是在有和与跟把被让给就也都还又再才只很太更最能会要可以不没别这那哪个些么吗呢吧啊呀嘛哦"
)


def _toneless(text: str) -> str:
    """jiàng -> jiang, lǜ -> lv: pinyin as people type it."""
    text = text.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless syllable in pypinyin's dictionary, except the lone letters that would let
    any word split into 'syllables' (a, e, o stay valid only as themselves)."""
    found = {_toneless(reading) for readings in PINYIN_DICT.values() for reading in readings.split(",")}
    return frozenset(s for s in found if s.isascii() and s.isalpha() and (len(s) > 1 or s in ("a", "e", "o")))


def fold(syllable: str) -> str:
    """A near-homophone key: zh/z, ch/c and sh/s are heard alike. (Folding -ng/-n or l/n too
    made ordinary words collide: 减脂 with 降脂.)"""
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            return syllable[0] + syllable[2:]
    return syllable


@lru_cache(maxsize=65536)
def char_key(ch: str) -> str | None:
    reading = lazy_pinyin(ch)
    return fold(reading[0]) if reading and reading[0].isascii() and reading[0].isalpha() else None


@lru_cache(maxsize=4096)
def split_pinyin(run: str) -> tuple[str, ...] | None:
    """A Latin run as pinyin syllables (fewest syllables wins: xian, not xi an), or None."""
    known = syllables()
    best: list[tuple[str, ...] | None] = [None] * (len(run) + 1)
    best[0] = ()
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - 6), end):
            prefix = best[start]
            if prefix is not None and run[start:end] in known:
                candidate = (*prefix, run[start:end])
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(run)]


def term_syllables(term: str) -> tuple[str, ...] | None:
    """A term's reading in context (降 in 降血压 is jiang), or None if it is not all Chinese."""
    if not term or not all(is_cjk(ch) for ch in term):
        return None
    return tuple(lazy_pinyin(term))


def _initials(readings: tuple[str, ...]) -> str:
    return "".join(r[0] for r in readings)


@dataclass(frozen=True)
class SoundHit:
    term: str
    start: int
    end: int
    variant: str  # the normalized text that stood for the term
    kind: str  # "homophone", "pinyin", "mixed" or "initials"


# Where a syllable code stands in the text: [start, end), and whether it was typed as pinyin.
_Place = tuple[int, int, bool]
_LATIN_LETTERS = re.compile("[a-zü]+")


def _codes_with_pinyin(text: str) -> tuple[str, list[_Place]]:
    """The text's syllables as codes, a Chinese character or a pinyin syllable of a Latin run
    each, with where each stands. Syllables of one spoken word are adjacent codes: characters
    side by side, a character and pinyin typed against it (降xue压), pinyin syllables typed
    apart (jiang tang). Anything else between two syllables (a space between pinyin and a
    character is a pause) becomes a code no term holds."""
    codes: list[str] = []
    places: list[_Place] = []
    cursor = 0
    previous_latin = False
    for run in _LATIN_LETTERS.finditer(text):
        gap = text[cursor : run.start()]
        if gap and not (previous_latin and not gap.strip() and cursor > 0):
            _add_characters(gap, cursor, codes, places)
        written = run.group()
        toneless = _toneless(written)
        parts = split_pinyin(toneless) if len(toneless) == len(written) else None
        if parts:
            at = run.start()
            for part in parts:
                codes.append(_code(fold(part)))
                places.append((at, at + len(part), True))
                at += len(part)
            previous_latin = True
        else:
            codes.append(_NOT_A_SYLLABLE)
            places.append((run.start(), run.end(), False))
            previous_latin = False
        cursor = run.end()
    _add_characters(text[cursor:], cursor, codes, places)
    return "".join(codes), places


def _add_characters(piece: str, offset: int, codes: list[str], places: list[_Place]) -> None:
    codes.append(piece.translate(_SYLLABLE_CODES))
    places.extend((offset + i, offset + i + 1, False) for i in range(len(piece)))


_HAS_LATIN = re.compile("[a-zü]")
# Folded syllables as single characters (private use area), so a text's syllables are a string.
_SYLLABLE_BASE = 0xE000
_syllable_codes: dict[str, str] = {}
_NOT_A_SYLLABLE = "\x00"


def _code(syllable: str) -> str:
    code = _syllable_codes.get(syllable)
    if code is None:
        code = _syllable_codes[syllable] = chr(_SYLLABLE_BASE + len(_syllable_codes))
    return code


def _spelled(folded: Iterable[str]) -> str:
    return "".join(_code(syllable) for syllable in folded)


class _SyllableTable(dict[int, str]):
    """`str.translate` table: a Chinese character to its syllable's code, anything else to a
    character no key contains (it ends a run, as a gap between units does)."""

    def __missing__(self, code: int) -> str:
        if len(self) > 200_000:
            self.clear()
        ch = chr(code)
        key = char_key(ch) if is_cjk(ch) else None
        value = self[code] = _code(key) if key is not None else _NOT_A_SYLLABLE
        return value


_SYLLABLE_CODES = _SyllableTable()


class SoundIndex:
    """The sound-matched terms of a rule set, looked up over a text's syllables."""

    def __init__(self, terms: Iterable[str], is_word: Callable[[str], bool]):
        self._is_word = is_word
        self._by_initials: dict[str, list[str]] = defaultdict(list)
        self._terms = frozenset(terms)
        self._pairs: dict[tuple[str, str], bool] = {}
        by_sound: dict[str, list[str]] = {}
        for term in sorted(self._terms):
            readings = term_syllables(term)
            if readings is None or len(readings) < _MIN_SYLLABLES:
                continue
            if len(readings) <= _MAX_INITIALS:
                self._by_initials[_initials(readings)].append(term)
            by_sound.setdefault(_spelled(fold(r) for r in readings), []).append(term)
        syllables()  # built now, at rule-set load, not on the first pinyin a host types
        # The terms by sound in one Aho-Corasick automaton over folded syllables as codes: a
        # text is read in one pass, pinyin typed in it included (`find_all`).
        self._automaton: ahocorasick.Automaton | None = None
        if by_sound:
            self._automaton = ahocorasick.Automaton()
            for key, heard in by_sound.items():
                self._automaton.add_word(key, (len(key), tuple(heard)))
            self._automaton.make_automaton()

    def __bool__(self) -> bool:
        return self._automaton is not None

    def find_all(self, normalized: NormalizedText, tokens: Callable[[], list[tuple[int, int]]]) -> list[SoundHit]:
        """Every guarded sound match, overlapping ones included. `tokens` is called only when a
        homophone needs checking against the words around it."""
        if self._automaton is None:
            return []
        text = normalized.text
        spans: list[tuple[int, int]] = []

        def token_spans() -> list[tuple[int, int]]:
            if not spans:
                spans.extend(tokens())
            return spans

        latin = _HAS_LATIN.search(text) is not None
        if latin:
            codes, places = _codes_with_pinyin(text)
        else:
            codes, places = text.translate(_SYLLABLE_CODES), None
        found: list[SoundHit] = []
        pairs = self._pairs
        for last, (length, heard) in self._automaton.iter(codes):
            first = last + 1 - length
            if places is None:
                start, end, typed = first, last + 1, False
            else:
                start, end = places[first][0], places[last][1]
                typed = any(places[k][2] for k in range(first, last + 1))
            for term in heard:
                if typed:
                    hit = _pinyin_hit(text, term, start, end, places[first : last + 1] if places else [])
                elif pairs.get((text[start:end], term)) is False:
                    continue  # most sound-alikes are ordinary words, and recur
                else:
                    hit = self._homophone_hit(text, term, start, end, token_spans)
                if hit is not None:
                    found.append(hit)
        if latin:
            found.extend(self._initials(normalized))
        return found

    def _initials(self, normalized: NormalizedText) -> list[SoundHit]:
        text = normalized.text
        found: list[SoundHit] = []
        for run in _LATIN_RUN.finditer(text):
            letters = run.group()
            if len(letters) > _MAX_INITIALS or not letters.isalpha() or letters in _NOT_INITIALS:
                continue
            if _latin_neighbour(text, run.start(), run.end()):
                continue
            written = normalized.original[normalized.starts[run.start()] : normalized.ends[run.end() - 1]]
            if not written.islower():
                continue
            fits = self._by_initials.get(letters, [])
            if len(fits) == 1:  # two letters fit dozens of words; guess none of them
                found.append(SoundHit(fits[0], run.start(), run.end(), letters, "initials"))
        return found

    def _homophone_hit(
        self, text: str, term: str, start: int, end: int, token_spans: Callable[[], list[tuple[int, int]]]
    ) -> SoundHit | None:
        """The guards that read the words around the span run last: tokenizing costs more than
        all the others, and most sound-alikes fail one of those first."""
        variant = text[start:end]
        if not self._could_stand_for(variant, term):
            return None
        tokens = token_spans()
        starts, ends = {s for s, _ in tokens}, {e for _, e in tokens}
        if start not in starts or end not in ends:
            return None
        if _cuts_a_word(start, end, tokens, text, self._is_word):
            return None
        return SoundHit(term, start, end, variant, "homophone")

    def _could_stand_for(self, variant: str, term: str) -> bool:
        """The guards that read only the two words; remembered, as the same pairs recur."""
        known = self._pairs.get((variant, term))
        if known is None:
            if len(self._pairs) > _PAIRS_KEPT:
                self._pairs.clear()
            known = self._pairs[(variant, term)] = self._judge_pair(variant, term)
        return known

    def _judge_pair(self, variant: str, term: str) -> bool:
        if variant == term:
            return False  # the word itself: the term automaton finds it
        if self._is_word(variant) or self._holds_a_term(variant):
            return False
        differing = [v for v, t in zip(variant, term, strict=False) if v != t]
        shared = [v for v, t in zip(variant, term, strict=False) if v == t]
        if len(term) == 2 and not any(ch not in _FUNCTION_CHARS for ch in shared):
            return False
        # A dodge changes a character or two of the word and keeps the rest: one that keeps
        # less than half of it (大一码 of 大姨妈 keeps 大 alone) is other words that sound alike.
        if 2 * len(shared) < len(term):
            return False
        return not all(ch in _FUNCTION_CHARS for ch in differing)

    def _holds_a_term(self, variant: str) -> bool:
        """Words the rules know, said as they are (治 and 肠炎 in 治肠炎), are not a dodge for
        another word that sounds like them (直肠炎): the variant is made of such words, one of
        them two characters or more. A variant only partly made of them (嘴 and 好用 in 嘴好用,
        for 最好用) can be a dodge, and so can one that is itself a word the rules know: the
        rules list dodges too (根直, for 根治)."""
        n = len(variant)
        # made[i]: variant[:i] is made of known words; long[i]: one of them has 2+ characters.
        made, long = [True] + [False] * n, [False] * (n + 1)
        for end in range(1, n + 1):
            for start in range(end):
                piece = variant[start:end]
                if made[start] and end - start < n and piece in self._terms:
                    made[end] = True
                    long[end] = long[end] or long[start] or end - start >= 2
        return made[n] and long[n]


def _pinyin_hit(text: str, term: str, start: int, end: int, part: list[_Place]) -> SoundHit | None:
    if _latin_neighbour(text, start, end):
        return None
    kind = "pinyin" if all(latin for _, _, latin in part) else "mixed"
    return SoundHit(term, start, end, text[start:end], kind)


def _latin_neighbour(text: str, start: int, end: int) -> bool:
    """A Latin letter right before or after: the span would cut a Latin word."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())


def _cuts_a_word(
    start: int, end: int, tokens: list[tuple[int, int]], text: str, is_word: Callable[[str], bool]
) -> bool:
    """The span takes characters out of a dictionary word of two or more characters."""
    for token_start, token_end in tokens:
        if token_end <= start or token_start >= end:
            continue
        crosses = token_start < start or token_end > end
        if crosses and token_end - token_start >= 2 and is_word(text[token_start:token_end]):
            return True
    return False
