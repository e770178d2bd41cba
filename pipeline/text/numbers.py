"""Numbers as hosts say them: prices (999, 九百九十九, 一万二, 1.5万, 八十九块九), discounts (一折,
七五折, 半价) and amounts with units (50ml, 五百克, 一斤), read into floats. Pure functions over
normalized text; the listing checks compare what they return with the listing."""

from __future__ import annotations

import re

import cn2an

# A number said as digits or Chinese numerals, unless a count or unit follows (拍2件, 打5折).
_NUMBER = re.compile(
    r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)(?![件单个盒瓶支袋罐斤克天折号次%.\d]|包(?!邮)|g|ml)"
)
# 八十九块九, 9块9, 十九元八, 九块九毛九: yuan, jiao (and fen) said as one price (89.9, 9.99).
_YUAN_JIAO = re.compile(
    r"(\d+|[零〇一二两三四五六七八九十百千万]+)[块元]([0-9一二三四五六七八九])(?:毛|角)?([0-9一二三四五六七八九])?分?"
    r"(?![0-9零〇一二两三四五六七八九十百千万])"
)
# The jiao that may follow a price match: 六十九块九 can end past a match that stops at 六十九.
_JIAO_TAIL = re.compile(r"[块元][0-9一二三四五六七八九](?:毛|角)?(?:[0-9一二三四五六七八九]分?)?")
# 1.5万, 3千: digits with a Chinese multiplier.
_DIGITS_TIMES = re.compile(r"(\d+(?:\.\d+)?)\s*([万千])")
_DISCOUNT = re.compile(
    r"(对|[0-9](?:\.[0-9])?|[一二三四五六七八九]点[一二三四五六七八九]|[一二三四五六七八九][一二三四五六七八九]?)折|(半价)"
)
_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _digit(ch: str) -> int:
    return int(ch) if ch.isdigit() else _DIGIT[ch]


def _as_decimal(found: re.Match[str]) -> str:
    try:
        yuan = cn2an.cn2an(found.group(1), "smart")
    except (ValueError, KeyError):
        return found.group(0)
    fen = str(_digit(found.group(3))) if found.group(3) else ""
    return f"{int(yuan)}.{_digit(found.group(2))}{fen}"


def _times(found: re.Match[str]) -> str:
    return f"{float(found.group(1)) * (10000 if found.group(2) == '万' else 1000):g}"


def spoken_discounts(text: str) -> list[float]:
    """Discounts as said, as the share of the price paid: 一折 0.1, 7.5折, 七五折 and 七点五折
    0.75, 对折 and 半价 0.5."""
    shares = []
    for found in _DISCOUNT.finditer(text):
        said = found.group(1) or found.group(2)
        if said in ("对", "半价"):
            shares.append(0.5)
        elif said[0].isdigit():
            shares.append(float(said) / 10)
        else:
            digits = [_DIGIT[c] for c in said if c != "点"]
            shares.append(digits[0] / 10 + (digits[1] / 100 if len(digits) > 1 else 0))
    return shares


def spoken_numbers(text: str) -> list[float]:
    """Prices as said: 999, 九百九十九, 一万二, 1.5万, 八十九块九 all become numbers (cn2an's
    smart mode). Discounts (三折, 七五折) are not prices and are left out."""
    text = _DISCOUNT.sub(" ", text)
    text = _DIGITS_TIMES.sub(_times, text)
    text = _YUAN_JIAO.sub(_as_decimal, text)
    numbers = []
    for found in _NUMBER.finditer(text):
        try:
            numbers.append(float(cn2an.cn2an(found.group(1), "smart")))
        except (ValueError, KeyError):
            continue
    return numbers


def price_end(text: str, end: int) -> int:
    """Where a price said up to `end` really ends: past the jiao (块九, 元八毛) that may follow."""
    tail = _JIAO_TAIL.match(text, end)
    return tail.end() if tail else end


# Units of size and amount, each to a base unit and a factor.
_UNITS: dict[str, tuple[str, float]] = {
    "ml": ("ml", 1), "毫升": ("ml", 1), "l": ("ml", 1000), "升": ("ml", 1000),
    "g": ("g", 1), "克": ("g", 1), "kg": ("g", 1000), "公斤": ("g", 1000), "千克": ("g", 1000), "斤": ("g", 500),
    "mm": ("mm", 1), "毫米": ("mm", 1), "cm": ("mm", 10), "厘米": ("mm", 10), "公分": ("mm", 10),
    "m": ("mm", 1000), "米": ("mm", 1000), "寸": ("inch", 1), "英寸": ("inch", 1),
}  # fmt: skip
_QUANTITY = re.compile(
    r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万点]+)\s*("
    + "|".join(sorted(_UNITS, key=len, reverse=True))
    + r")(?![a-z])"
)


def quantities(text: str) -> dict[str, set[float]]:
    """Amounts named in a text, per base unit: 50ml -> {ml: {50}}, 五百克 -> {g: {500}}."""
    found: dict[str, set[float]] = {}
    for number, unit in _QUANTITY.findall(text.lower()):
        try:
            value = float(number) if number[0].isdigit() else float(cn2an.cn2an(number, "smart"))
        except (ValueError, KeyError):
            continue
        base, factor = _UNITS[unit]
        found.setdefault(base, set()).add(round(value * factor, 3))
    return found
