"""Checks over a loaded rule set. Errors stop it from loading (unknown references, regexes RE2
rejects, circular fragments); warnings are advice that `rules lint --strict` enforces (unused
definitions, a word listed twice, the same regex written in two places, regexes too long to
read). Every message names the file, the line and the rule, list, fragment or condition."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import re2
import yaml

from models.rules import ConditionSpec, MatcherSpec
from pipeline.errors import RuleError, did_you_mean
from pipeline.ruleset.model import RuleSet
from pipeline.ruleset.refs import (
    LIST_REF,
    REGEX_REF,
    condition_list_refs,
    contradiction_list_refs,
    iter_matchers,
    list_refs,
    matcher_list_refs,
    pattern_regexes,
    regex_refs,
)
from pipeline.ruleset.yamlnodes import child, first_scalar, line_of, scalars_under
from pipeline.text.normalize import normalize_term

# A regex line longer than this, as written in the file, is hard to review: split the regex into
# named fragments ($name), or a long list of plain alternatives over several lines of a
# double-quoted YAML string (a line ending in a backslash continues without a space).
MAX_REGEX_LINE = 300
# The keys whose values are regexes over the normalized text or a listed certification.
REGEX_KEYS = frozenset({"regex", "certification"})


# Bounds that keep a rule set from exhausting the machine that loads it: lists that reference
# lists can expand geometrically (ten lists of ten references each: 10^10 words from a few
# hundred bytes), and a token pattern is matched token by token. Tens of thousands of words in a
# list are normal moderation practice; these are far above that.
MAX_LIST_TERMS = 100_000
MAX_RULESET_TERMS = 1_000_000
MAX_PATTERN_TOKENS = 64
# How much of a regex an error message quotes.
SHOWN_REGEX = 120


def shown(regex: str) -> str:
    """A regex as an error message quotes it: whole when short, else its start and its size. As
    written in the rule file, between quotes (repr would double every backslash: `\\s`)."""
    if len(regex) <= SHOWN_REGEX:
        return f"'{regex}'"
    return f"'{regex[:SHOWN_REGEX]}'… ({len(regex):,} characters)"


def list_sizes(lists: dict[str, list[str]]) -> tuple[dict[str, int], list[list[str]]]:
    """How many words each list expands to (its own and those of the lists it references, with
    repeats), counted without expanding anything; and every circle of references found. Lists
    whose expansion reaches a circle count as 0."""
    sizes: dict[str, int] = {}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: being counted (on the path), 2: counted
    for root in lists:
        if state.get(root) == 2:
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(list_refs(lists[root])))]
        state[root] = 1
        path.append(root)
        while stack:
            name, refs = stack[-1]
            ref = next(refs, None)
            if ref is None:
                stack.pop()
                path.pop()
                state[name] = 2
                items = lists[name]
                total = 0
                for item in items:
                    found = LIST_REF.match(item)
                    total += sizes.get(found.group(1), 0) if found else 1
                sizes[name] = total
                continue
            if ref not in lists or state.get(ref) == 2:
                continue
            if state.get(ref) == 1:
                cycles.append([*path[path.index(ref):], ref])
                continue
            state[ref] = 1
            path.append(ref)
            stack.append((ref, iter(list_refs(lists[ref]))))
    return sizes, cycles


def _size_problems(ruleset: RuleSet, problems: _Problems) -> bool:
    """Report lists too large or referring to each other in a circle; True if any was found
    (nothing may then be expanded)."""
    before = len(problems.found)
    sizes, cycles = list_sizes(ruleset.lists)
    for cycle in cycles:
        problems.at("list", cycle[0], f"lists refer to each other in a circle: {' -> '.join('$' + n for n in cycle)}")
    for name, size in sizes.items():
        if size > MAX_LIST_TERMS:
            problems.at("list", name, f"expands to {size:,} words (over {MAX_LIST_TERMS:,}): lists referencing lists "
                        "multiply; reference each list once")
    total = sum(sizes.values())
    if total > MAX_RULESET_TERMS and len(problems.found) == before:
        where = next(iter(ruleset.lists), "")
        problems.at("list", where, f"the lists expand to {total:,} words in all (over {MAX_RULESET_TERMS:,})")
    return len(problems.found) > before


def _quiet_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would also print its own C++ log line for each error
    return options


_QUIET = _quiet_options()


def _re2_error(pattern: str) -> str | None:
    try:
        re2.compile(pattern, _QUIET)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return None


def _owner(ruleset: RuleSet, file: str, path: tuple[Any, ...]) -> str | None:
    """What a YAML path belongs to: a rule's id, or `fragment x` / `condition y` / `list z`."""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        for loaded in ruleset.rules:
            if loaded.file == file and loaded.index == path[1]:
                return loaded.spec.id
        return f"rules[{path[1]}]"
    if len(path) >= 2 and path[0] in ("fragments", "conditions", "lists"):
        return f"{path[0][:-1]} {path[1]}"
    return None


def _regex_nodes(ruleset: RuleSet) -> Iterator[tuple[str, str | None, yaml.ScalarNode]]:
    for file, root in ruleset.nodes.items():
        for path, node in scalars_under(root, REGEX_KEYS):
            if "examples" not in path:
                yield file, _owner(ruleset, file, path), node


def _regex_scalars(ruleset: RuleSet) -> Iterator[tuple[str, int, str | None, str]]:
    """(file, line, owner, regex) for every regex of the rule set, where it is written."""
    for file, owner, node in _regex_nodes(ruleset):
        yield file, node.start_mark.line + 1, owner, str(node.value)


def _longest_line(node: yaml.ScalarNode) -> tuple[int, int]:
    """The length and number of the longest line of the file that a scalar is written on."""
    start, end = node.start_mark, node.end_mark
    if start.buffer is None:
        return len(str(node.value)), start.line + 1
    text = str(start.buffer).rstrip("\0")
    first = text.rfind("\n", 0, start.index) + 1
    last = text.find("\n", end.index)
    lines = [line.rstrip() for line in text[first : last if last != -1 else len(text)].split("\n")]
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    return len(lines[longest]), start.line + 1 + longest


class _Problems:
    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self.found: list[RuleError] = []

    def at(self, kind: str, name: str, message: str, line: int | None = None) -> None:
        where = self.ruleset.where(kind, name)
        self.found.append(RuleError(message, file=where.file, line=line or where.line, rule_id=f"{kind} {name}"))

    def unknown_list(self, ref: str, field: str) -> str:
        return f"{field} references unknown list ${ref}{did_you_mean(ref, self.ruleset.lists)}"

    def unknown_lists(self, kind: str, name: str, refs: Iterator[str] | list[str], field: str) -> None:
        where = self.ruleset.where(kind, name)
        definition = child(child(self.ruleset.nodes.get(where.file), f"{kind}s"), name)
        for ref in refs:
            if ref not in self.ruleset.lists:
                self.at(kind, name, self.unknown_list(ref, field), line=reference_line(definition, ref))


def reference_line(node: yaml.Node | None, ref: str) -> int | None:
    """The line where `$ref` is written under a definition's node (as a term, a token pattern's
    list or inside a regex), so the error points at the reference, not at the definition."""

    found = first_scalar(node, lambda text: text == f"${ref}") or first_scalar(
        node, lambda text: ref in REGEX_REF.findall(text)
    )
    return found.start_mark.line + 1 if found is not None else None


def errors(ruleset: RuleSet) -> list[RuleError]:
    """What makes the rule set unusable."""
    problems = _Problems(ruleset)
    lists, fragments = ruleset.lists, ruleset.fragments
    for name, items in lists.items():
        problems.unknown_lists("list", name, list_refs(items), "the list")
    if _size_problems(ruleset, problems):
        return problems.found  # the checks below expand lists
    for name in sorted(set(lists) & set(fragments)):
        problems.at("fragment", name, f"${name} names both a list and a fragment: rename one")
    for name, cond in ruleset.conditions.items():
        problems.unknown_lists("condition", name, condition_list_refs(cond), "the condition")
    for name, fragment in fragments.items():
        problems.unknown_lists("fragment", name, matcher_list_refs(fragment), "the fragment")
        _check_matcher(ruleset, fragment, lambda message, n=name: problems.at("fragment", n, message))
        if (cycle := _fragment_cycle(ruleset, name, ())) is not None:
            problems.at("fragment", name, f"fragments refer to each other in a circle: {' -> '.join(cycle)}")
    for loaded in ruleset.rules:
        spec = loaded.spec

        rule_node = child(child(ruleset.nodes.get(loaded.file), "rules"), loaded.index)

        def problem(message: str, line: int | None = None, loaded: Any = loaded) -> None:
            problems.found.append(
                RuleError(message, file=loaded.file, rule_id=loaded.spec.id, line=line or loaded.line)
            )

        def unknown(ref: str, field: str, part: str, rule_node: Any = rule_node) -> None:
            problem(problems.unknown_list(ref, field), reference_line(child(rule_node, part), ref))

        if spec.kind not in ruleset.kinds:
            problem(f"kind {spec.kind!r} is not declared under `kinds:`{did_you_mean(spec.kind, ruleset.kinds)}",
                    line_of(rule_node, ("kind",)))  # fmt: skip
        for ref in matcher_list_refs(spec.match):
            if ref not in lists:
                unknown(ref, "match", "match")
        _check_matcher(ruleset, spec.match, problem)
        for ref in contradiction_list_refs(spec):
            if ref not in lists:
                unknown(ref, "contradicts", "contradicts")
        for index, item in enumerate(spec.unless):
            if isinstance(item, str):
                if item not in ruleset.conditions:
                    hint = did_you_mean(item, ruleset.conditions)
                    problem(f"unless references unknown condition {item!r}{hint}",
                            line_of(rule_node, ("unless", index)))  # fmt: skip
            else:
                for ref in condition_list_refs(item):
                    if ref not in lists:
                        unknown(ref, "unless", "unless")
    for file, line, owner, regex in _regex_scalars(ruleset):
        try:
            expanded = ruleset.expand_regex(regex)
        except RuleError as exc:
            problems.found.append(RuleError(exc.reason, file=file, line=line, rule_id=owner))
            continue
        if (err := _re2_error(expanded)) is not None:
            problems.found.append(RuleError(f"RE2 rejects {shown(regex)}: {err}", file=file, line=line, rule_id=owner))
    return problems.found


def _check_matcher(ruleset: RuleSet, spec: MatcherSpec, problem: Any) -> None:
    for matcher in iter_matchers(spec):
        if matcher.fragment is not None and matcher.fragment not in ruleset.fragments:
            problem(f"match uses unknown fragment {matcher.fragment!r}")
        if matcher.pattern is not None and len(matcher.pattern) > MAX_PATTERN_TOKENS:
            problem(f"match.pattern: {len(matcher.pattern)} tokens (over {MAX_PATTERN_TOKENS}): split the claim "
                    "into several patterns")
        for token_regex in pattern_regexes(matcher.pattern or []):
            if (err := _re2_error(token_regex)) is not None:
                problem(f"match.pattern: RE2 rejects REGEX {shown(token_regex)}: {err}")


def _fragment_cycle(ruleset: RuleSet, name: str, seen: tuple[str, ...]) -> list[str] | None:
    if name in seen:
        return [*seen[seen.index(name):], name]
    spec = ruleset.fragments.get(name)
    if spec is None:
        return None
    for matcher in iter_matchers(spec):
        if matcher.fragment is not None and (cycle := _fragment_cycle(ruleset, matcher.fragment, (*seen, name))):
            return cycle
    return None


def warnings(ruleset: RuleSet) -> list[RuleError]:
    """Advice: the rule set works, but is harder to read or tune than it should be."""
    return [*_unused(ruleset), *_repeated_list_words(ruleset), *_regex_advice(ruleset)]


def _used(ruleset: RuleSet) -> tuple[set[str], set[str], set[str]]:
    lists: set[str] = set()
    conditions: set[str] = set()
    fragments: set[str] = set()

    def matcher(spec: MatcherSpec) -> None:
        lists.update(matcher_list_refs(spec))
        for m in iter_matchers(spec):
            if m.fragment is not None:
                fragments.add(m.fragment)

    def condition(cond: ConditionSpec) -> None:
        lists.update(condition_list_refs(cond))

    for items in ruleset.lists.values():
        lists.update(list_refs(items))
    for cond in ruleset.conditions.values():
        condition(cond)
    for spec in ruleset.fragments.values():
        matcher(spec)
    for loaded in ruleset.rules:
        matcher(loaded.spec.match)
        lists.update(contradiction_list_refs(loaded.spec))
        for item in loaded.spec.unless:
            if isinstance(item, str):
                conditions.add(item)
            else:
                condition(item)
    for _, _, _, regex in _regex_scalars(ruleset):
        for name in regex_refs(regex):
            (fragments if name in ruleset.fragments else lists).add(name)
    return lists, conditions, fragments


def _unused(ruleset: RuleSet) -> list[RuleError]:
    """Unused definitions: often a misspelt reference, never fatal."""
    lists, conditions, fragments = _used(ruleset)
    found = []
    for kind, defined, used in (("list", ruleset.lists, lists), ("condition", ruleset.conditions, conditions),
                                ("fragment", ruleset.fragments, fragments)):  # fmt: skip
        for name in defined:
            if name not in used and not (kind == "list" and name == "negations"):
                where = ruleset.where(kind, name)
                found.append(RuleError(f"{kind} {name!r} is never referenced", file=where.file, line=where.line))
    return found


def _list_items(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):  # the long form, {sound: …, terms: [...]}
        for key, value in node.value:
            if key.value == "terms":
                return _list_items(value)
        return []
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _repeated_list_words(ruleset: RuleSet) -> list[RuleError]:
    """A word listed twice in one list (after normalization: 別信 is 别信)."""
    found = []
    for file, root in ruleset.nodes.items():
        lists = child(root, "lists")
        if not isinstance(lists, yaml.MappingNode):
            continue
        for key, value in lists.value:
            first_seen: dict[str, int] = {}
            for item in _list_items(value):
                if not isinstance(item, yaml.ScalarNode):
                    continue
                word, line = normalize_term(str(item.value)), item.start_mark.line + 1
                if word in first_seen:
                    found.append(RuleError(f"{item.value!r} is listed twice (first on line {first_seen[word]})",
                                           file=file, line=line, rule_id=f"list {key.value}"))  # fmt: skip
                else:
                    first_seen[word] = line
    return found


def _regex_advice(ruleset: RuleSet) -> list[RuleError]:
    """The same regex written in more than one place (define it once as a fragment), and regex
    lines too long to review."""
    places: dict[str, list[tuple[str, int, str | None]]] = defaultdict(list)
    found = []
    for file, owner, node in _regex_nodes(ruleset):
        places[str(node.value)].append((file, node.start_mark.line + 1, owner))
        length, line = _longest_line(node)
        if length > MAX_REGEX_LINE:
            found.append(RuleError(f"a regex line of {length} characters (over {MAX_REGEX_LINE}): split the regex "
                                   "into named fragments ($name)", file=file, line=line, rule_id=owner))  # fmt: skip
    for where in places.values():
        first_file, first_line, first_owner = where[0]
        for file, line, owner in where[1:]:
            found.append(RuleError(f"the same regex is written at {first_file}:{first_line} ({first_owner}): "
                                   "define it once as a fragment", file=file, line=line, rule_id=owner))  # fmt: skip
    return found

