"""A loaded rule set: its rules, and the lists, fragments and conditions they refer to by name,
with the references resolved on demand (`resolve_terms`, `expand_regex`, `fragment`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from models.rules import ConditionSpec, KindSpec, MatcherSpec, RuleSpec
from pipeline.errors import RuleError, did_you_mean
from pipeline.ruleset.refs import LIST_REF, REGEX_REF
from pipeline.text.normalize import normalize_term


@dataclass(frozen=True)
class LoadedRule:
    spec: RuleSpec
    file: str
    line: int | None
    index: int = 0  # position in its file's `rules:`


@dataclass(frozen=True)
class Definition:
    """Where a list, fragment or condition is defined, for located lint messages."""

    file: str
    line: int | None


@dataclass
class RuleSet:
    rules: list[LoadedRule]
    lists: dict[str, list[str]]
    conditions: dict[str, ConditionSpec]
    version: str
    source: str
    fragments: dict[str, MatcherSpec] = field(default_factory=dict)
    kinds: dict[str, KindSpec] = field(default_factory=dict)
    warnings: list[RuleError] = field(default_factory=list)
    # Lists whose long form says `sound: true` / `sound: false`.
    sound_lists: dict[str, bool] = field(default_factory=dict)
    # "kind:name", "list:name", "fragment:name", "condition:name" -> where it is defined.
    defined_at: dict[str, Definition] = field(default_factory=dict)
    # Each file's YAML node tree (by its label), so lint can name the line of anything in it.
    nodes: dict[str, yaml.Node] = field(default_factory=dict)

    def rule(self, rule_id: str) -> LoadedRule:
        for loaded in self.rules:
            if loaded.spec.id == rule_id:
                return loaded
        raise KeyError(rule_id)

    def where(self, kind: str, name: str) -> Definition:
        return self.defined_at.get(f"{kind}:{name}", Definition(self.source, None))

    def sound_terms(self, heard: bool) -> list[str]:
        """The terms of the lists that asked to be heard by sound (or not to be)."""
        return self.resolve_terms(f"${name}" for name, on in sorted(self.sound_lists.items()) if on is heard)

    def resolve_terms(self, items: Iterable[str]) -> list[str]:
        """Expand `$list` references; a list may reference other lists."""
        out: list[str] = []
        for item in items:
            ref = LIST_REF.match(item)
            if ref:
                out.extend(self.resolve_terms(self.lists[ref.group(1)]))
            else:
                out.append(item)
        return out

    def fragment(self, name: str) -> MatcherSpec:
        if name not in self.fragments:
            raise RuleError(f"no fragment named {name!r}", file=self.source)
        return self.fragments[name]

    def expand_regex(self, source: str) -> str:
        """The regex with every `$name` replaced: a regex fragment by its (expanded) regex, a word
        list by an alternation of its normalized words, longest first. A spliced piece is
        wrapped in a non-capturing group unless it is one already or is the whole regex, so a
        rule split into fragments reads exactly as the regex it was written as. RuleError names
        an unknown or circular reference."""
        return self._expand(source, ())

    def _expand(self, source: str, seen: tuple[str, ...]) -> str:
        whole = REGEX_REF.fullmatch(source) is not None

        def splice(found: re.Match[str]) -> str:
            name = found.group(1)
            if name in seen:
                raise RuleError(f"fragment ${name} refers to itself: {' -> '.join(f'${n}' for n in (*seen, name))}",
                                file=self.source)  # fmt: skip
            if name in self.fragments:
                spec = self.fragments[name]
                if spec.regex is None:
                    raise RuleError(f"${name} is a fragment but not a regex: use it as a matcher, "
                                    f"{{fragment: {name}}}", file=self.source)  # fmt: skip
                body = self._expand(spec.regex, (*seen, name))
            elif name in self.lists:
                words = {normalize_term(t) for t in self.resolve_terms([f"${name}"])} - {""}
                body = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
            else:
                hint = did_you_mean(name, [*self.fragments, *self.lists])
                raise RuleError(f"${name} in a regex is neither a regex fragment nor a word list{hint}",
                                file=self.source)  # fmt: skip
            return body if whole or is_one_group(body) else f"(?:{body})"

        return REGEX_REF.sub(splice, source)


def is_one_group(regex: str) -> bool:
    """The whole regex is one parenthesised group: `(?:a|b)`, not `(?:a)|(?:b)` or `a|b`."""
    if not regex.startswith("("):
        return False
    depth, i, in_class = 0, 0, False
    while i < len(regex):
        ch = regex[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if regex[i + 1 : i + 2] == "]" or regex[i + 1 : i + 3] == "^]":
                i += 2 if regex[i + 1] == "]" else 3  # a ] right after [ or [^ is a literal
                continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(regex) - 1
        i += 1
    return False
