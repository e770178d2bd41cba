"""Normalization that keeps a map back to the original text.

Every stage works on a list of characters, each carrying the [start, end) span of the original
text it came from, so a match in the normalized text always points at the words the host said.
Stages, in order: NFKC (full-width to half-width), lower-case, traditional to simplified (OpenCC),
pinyin annotations glued to characters dropped (監(jiān)管 -> 监管), and separators, spaces and
emoji inserted inside Chinese words dropped (最|好, 祛 斑, 美🌟白).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import opencc

# A character with where it came from in the original text.
_Char = tuple[str, int, int]

_PINYIN_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ"
_PINYIN_ANNOTATION = re.compile(r"[(\[]([" + _PINYIN_LETTERS + r"]{1,6}[1-5]?)[)\]]")
_SEPARATOR_CHARS = set(" \t\u3000|｜丨/\\·・•*-_~^+=#.'\"`…—–")
# Clause punctuation (，,;:!? and 。) is kept: it bounds negation and context windows.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufe0e", "\ufe0f"}


@dataclass(frozen=True)
class NormalizedText:
    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    # Positions in `text` where whitespace between Chinese characters was dropped. Matching reads
    # across them (祛 斑), but a spoken pause also ends a clause for negation and context windows.
    pauses: frozenset[int] = frozenset()
    # Made by the character-by-character stages (a character changed length, an emoji or a
    # pinyin annotation was dropped, or sounds were restored): see `joined_text`.
    by_character: bool = field(default=False, compare=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalized text to the original text."""
        if start >= end:
            point = self.starts[start] if start < len(self.starts) else len(self.original)
            return point, point
        return self.starts[start], self.ends[end - 1]


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF


def _is_emoji_or_symbol(ch: str) -> bool:
    if ch in _INVISIBLE:
        return True
    category = unicodedata.category(ch)
    return category in ("So", "Sk", "Cf") or 0x1F000 <= ord(ch) <= 0x1FAFF


def _nfkc(chars: list[_Char]) -> list[_Char]:
    out: list[_Char] = []
    for ch, start, end in chars:
        for piece in unicodedata.normalize("NFKC", ch).lower():
            out.append((piece, start, end))
    return out


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _to_simplified(chars: list[_Char]) -> list[_Char]:
    converter = _converter()
    joined = "".join(ch for ch, _, _ in chars)
    converted = converter.convert(joined)
    if len(converted) == len(joined):
        return [(new, start, end) for new, (_, start, end) in zip(converted, chars, strict=True)]
    # A phrase conversion changed the length; fall back to character by character so the map holds.
    out: list[_Char] = []
    for ch, start, end in chars:
        for piece in converter.convert(ch):
            out.append((piece, start, end))
    return out


def _strip_pinyin_annotations(chars: list[_Char]) -> list[_Char]:
    """Drop "(jiān)" right after a Chinese character: converters that add pinyin glue it on."""
    joined = "".join(ch for ch, _, _ in chars)
    drop: set[int] = set()
    for found in _PINYIN_ANNOTATION.finditer(joined):
        if found.start() > 0 and is_cjk(joined[found.start() - 1]):
            drop.update(range(found.start(), found.end()))
    return [c for i, c in enumerate(chars) if i not in drop]


def _is_separator(ch: str) -> bool:
    return ch in _SEPARATOR_CHARS or ch.isspace() or _is_emoji_or_symbol(ch)


def _drop_inner_separators(chars: list[_Char]) -> list[_Char]:
    """Drop runs of separators that stand between two Chinese characters; elsewhere keep them
    (a space between Latin words or a hyphen in GB/T 8233-2018 carries meaning)."""
    out: list[_Char] = []
    i = 0
    n = len(chars)
    while i < n:
        ch = chars[i][0]
        if _is_separator(ch) and out and is_cjk(out[-1][0]):
            j = i
            while j < n and _is_separator(chars[j][0]):
                j += 1
            if j < n and is_cjk(chars[j][0]):
                i = j
                continue
            out.extend(c for c in chars[i:j] if not _is_emoji_or_symbol(c[0]))
            i = j
            continue
        if ch not in _INVISIBLE:
            out.append(chars[i])
        i += 1
    return out


def _pauses(chars: list[_Char], original: str) -> frozenset[int]:
    """Indices whose character follows whitespace in the original that normalization dropped."""
    found = set()
    for i in range(1, len(chars)):
        gap = original[chars[i - 1][2] : chars[i][1]]
        if gap and any(c.isspace() for c in gap):
            found.add(i)
    return frozenset(found)


def normalize(text: str) -> NormalizedText:
    fast = _normalize_in_place(text)
    if fast is not None:
        return fast
    return normalize_by_character(text)


def normalize_by_character(text: str) -> NormalizedText:
    """Every stage character by character: the reference `normalize` takes a shortcut from."""
    chars: list[_Char] = [(ch, i, i + 1) for i, ch in enumerate(text)]
    for stage in (_nfkc, _to_simplified, _strip_pinyin_annotations, _drop_inner_separators):
        chars = stage(chars)
    return _assemble(text, chars)


def joined_text(left: NormalizedText, right: NormalizedText) -> tuple[str, int] | None:
    """The normalized text of `left.original + " " + right.original`, and where the right part
    begins in it, made from the two normalized parts; None when normalizing the joined text
    could read across the space.

    It cannot when both parts were normalized in place and neither touches the space with a
    separator: NFKC and lower-casing read one character; OpenCC's dictionaries hold no phrase
    with a space, so its segmentation restarts after one; and the only separator run at the join
    is the space itself, dropped between two Chinese characters and kept otherwise."""
    if left.by_character or right.by_character or not left.text or not right.text:
        return None
    if _MARKS[ord(left.original[-1])] != "\x00" or _MARKS[ord(right.original[0])] != "\x00":
        return None
    glue = "" if is_cjk(left.text[-1]) and is_cjk(right.text[0]) else " "
    before = left.text + glue
    return before + right.text, len(before)


class _CharTable(dict[int, str]):
    """A `str.translate` table filled on first sight of each character, so the per-character
    stages run at C speed on text already seen. Bounded: hostile text cannot grow it forever."""

    def __init__(self, convert: Callable[[str], str]):
        super().__init__()
        self._convert = convert

    def __missing__(self, code: int) -> str:
        if len(self) > _TABLE_LIMIT:
            self.clear()
        converted = self._convert(chr(code))
        self[code] = converted
        return converted


_TABLE_LIMIT = 65536
# What `_MARKS` makes of a character: a separator, one only the character stages can place, or
# any other.
_SEPARATOR_MARK, _DROPPED_MARK = "\x01", "\x02"


def _mark(ch: str) -> str:
    # 丨 is a Chinese character and a separator at once: the character stages decide it.
    if ch in _INVISIBLE or _is_emoji_or_symbol(ch) or (is_cjk(ch) and _is_separator(ch)):
        return _DROPPED_MARK
    return _SEPARATOR_MARK if _is_separator(ch) else "\x00"


_PER_CHAR_NFKC = _CharTable(lambda ch: unicodedata.normalize("NFKC", ch).lower())
_MARKS = _CharTable(_mark)
_SEPARATOR_RUN = re.compile(_SEPARATOR_MARK + "+")
_NEXT = (1).__add__


def _normalize_in_place(text: str) -> NormalizedText | None:
    """The stages above for the common text in which no character changes length and nothing is
    dropped but separator runs (no emoji, no invisible characters, no pinyin annotation): each
    stage then is a string operation, and the map to the original only skips the dropped runs.
    None when the text needs the character-by-character stages. (tests/pipeline/text holds the
    two paths to the same results.)"""
    folded = text.translate(_PER_CHAR_NFKC)
    if len(folded) != len(text):
        return None
    simplified = _converter().convert(folded)
    if len(simplified) != len(folded) or "(" in simplified or "[" in simplified:
        return None
    marks = simplified.translate(_MARKS)
    if _DROPPED_MARK in marks:
        return None
    if _SEPARATOR_MARK not in marks:
        return NormalizedText(text, simplified, tuple(range(len(text))), tuple(range(1, len(text) + 1)))
    kept: list[int] = []
    pieces: list[str] = []
    pauses: set[int] = set()
    cursor = 0
    for run in _SEPARATOR_RUN.finditer(marks):
        start, end = run.span()
        if start > 0 and end < len(simplified) and is_cjk(simplified[start - 1]) and is_cjk(simplified[end]):
            kept.extend(range(cursor, start))
            pieces.append(simplified[cursor:start])
            cursor = end
            if any(ch.isspace() for ch in text[start:end]):
                pauses.add(len(kept))
    if not kept and cursor == 0:  # separators only outside Chinese words: nothing dropped
        return NormalizedText(text, simplified, tuple(range(len(text))), tuple(range(1, len(text) + 1)))
    kept.extend(range(cursor, len(simplified)))
    pieces.append(simplified[cursor:])
    return NormalizedText(text, "".join(pieces), tuple(kept), tuple(map(_NEXT, kept)), frozenset(pauses))


def substitute(
    normalized: NormalizedText, replacements: list[tuple[int, int, str]]
) -> tuple[NormalizedText, list[int]]:
    """Replace [start, end) spans of the normalized text (sorted, not overlapping) with new words;
    each new character maps to the whole original span it replaces. Returns the new text and
    where each new word starts in it. A space between a new word and an old character stays: it
    was a pause, and keeps the word a token of its own."""
    chars: list[_Char] = []
    placed: list[int] = []
    cursor = 0
    for start, end, word in replacements:
        between = normalized.text[cursor:start]
        # Spaces between two new words were spaces inside typed pinyin (shang chang yao mai).
        inside_pinyin = cursor > 0 and between != "" and between.strip() == ""
        if not inside_pinyin:
            chars.extend(_chars_of(normalized, cursor, start))
        placed.append(len(chars))
        chars.extend((ch, normalized.starts[start], normalized.ends[end - 1]) for ch in word)
        cursor = end
    chars.extend(_chars_of(normalized, cursor, len(normalized.text)))
    return _assemble(normalized.original, chars), placed


def _chars_of(normalized: NormalizedText, start: int, end: int) -> list[_Char]:
    return [(normalized.text[i], normalized.starts[i], normalized.ends[i]) for i in range(start, end)]


def _assemble(original: str, chars: list[_Char]) -> NormalizedText:
    return NormalizedText(
        original=original,
        text="".join(ch for ch, _, _ in chars),
        starts=tuple(start for _, start, _ in chars),
        ends=tuple(end for _, _, end in chars),
        pauses=_pauses(chars, original),
        by_character=True,
    )


def normalize_term(term: str) -> str:
    """Rule terms go through the same stages, so a term written in traditional or full-width
    characters still matches."""
    return normalize(term).text
