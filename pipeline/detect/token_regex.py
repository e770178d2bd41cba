"""Token-pattern REGEX conditions run by RE2, not by spaCy.

spaCy's Matcher runs a `REGEX` with Python's `re`, which backtracks: a rule written as
`(a+)+1` takes seconds at 28 characters and minutes at 32, on every token. Each REGEX condition
is moved here into a token extension attribute whose getter searches with RE2 (linear time);
the pattern asks for that attribute to be True. The pattern means the same, and nothing a rule
file says can make matching backtrack.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import re2
from spacy.tokens import Token


def _attribute_of(attr: str) -> Callable[[Token], str]:
    """The token's string for a pattern attribute (TEXT or ORTH: its text; LOWER: lower_; …)."""
    if attr in ("TEXT", "ORTH"):
        return lambda token: token.text
    name = attr.lower() + "_"
    return lambda token: str(getattr(token, name))


def _extension(attr: str, regex: str) -> str:
    """The name of a token extension that is True where RE2 finds `regex` in the attribute."""
    name = "claimwatch_re2_" + hashlib.sha1(f"{attr}\x1f{regex}".encode()).hexdigest()[:16]
    if not Token.has_extension(name):
        compiled = re2.compile(regex)
        value_of = _attribute_of(attr)
        Token.set_extension(name, getter=lambda token: compiled.search(value_of(token)) is not None)
    return name


def with_re2_regexes(pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pattern with every `{ATTR: {REGEX: r, ...}}` condition searched by RE2 instead."""
    rewritten = []
    for token in pattern:
        token = dict(token)
        extensions = dict(token.get("_") or {})
        for attr, value in list(token.items()):
            if attr == "_" or not isinstance(value, dict) or not isinstance(value.get("REGEX"), str):
                continue
            rest = {key: item for key, item in value.items() if key != "REGEX"}
            extensions[_extension(attr, value["REGEX"])] = True
            if rest:
                token[attr] = rest
            else:
                del token[attr]
        if extensions:
            token["_"] = extensions
        rewritten.append(token)
    return rewritten
