"""Loading a rule set: YAML files validated by the pydantic spec, references resolved, versioned.

Every problem is reported with its file, line and rule id, and all of them at once, so a
compliance officer fixes a rule file in one pass.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2
import yaml
from pydantic import ValidationError

from models.rules import ConditionSpec, ListSpec, MatcherSpec, RuleFileSpec, RuleSpec
from pipeline.errors import RuleError, RuleSetError

LIST_REF = re.compile(r"^\$([a-z][a-z0-9_-]*)$")


def default_rules_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class LoadedRule:
    spec: RuleSpec
    file: str
    line: int | None


@dataclass
class RuleSet:
    rules: list[LoadedRule]
    lists: dict[str, list[str]]
    conditions: dict[str, ConditionSpec]
    version: str
    source: str
    warnings: list[RuleError] = field(default_factory=list)
    # Lists whose long form says `sound: true` / `sound: false`.
    sound_lists: dict[str, bool] = field(default_factory=dict)

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

    def rule(self, rule_id: str) -> LoadedRule:
        for loaded in self.rules:
            if loaded.spec.id == rule_id:
                return loaded
        raise KeyError(rule_id)


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Follow a pydantic error location into the YAML node tree, for a line number."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    node = value_node
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    node = _node_at(root, loc)
    return node.start_mark.line + 1 if node is not None else None


def _rule_id_at(data: Any, loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rule_id = rules[loc[1]].get("id")
            return str(rule_id) if rule_id is not None else f"rules[{loc[1]}]"
    return None


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts = []
    for key in loc:
        parts.append(f"[{key}]" if isinstance(key, int) else ("." if parts else "") + str(key))
    return "".join(parts)


def _parse_file(path: Path, label: str) -> tuple[RuleFileSpec | None, yaml.Node | None, list[RuleError]]:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, None, [RuleError(f"not valid YAML: {exc}", file=label, line=mark.line + 1 if mark else None)]
    if not isinstance(data, dict):
        return None, root, [RuleError("a rule file must be a mapping with lists/conditions/rules", file=label)]
    try:
        return RuleFileSpec.model_validate(data), root, []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(
                RuleError(
                    f"{_format_loc(loc)}: {err['msg']}",
                    file=label,
                    rule_id=_rule_id_at(data, loc),
                    line=_line_of(root, loc),
                )
            )
        return None, root, problems


def _rule_lines(root: yaml.Node | None, count: int) -> list[int | None]:
    return [_line_of(root, ("rules", i)) for i in range(count)]


def _iter_matchers(spec: MatcherSpec) -> Iterator[MatcherSpec]:
    yield spec
    for child in (spec.all or []) + (spec.any or []):
        yield from _iter_matchers(child)


def _refs_in(items: Iterable[Any]) -> Iterator[str]:
    for item in items:
        if isinstance(item, str):
            ref = LIST_REF.match(item)
            if ref:
                yield ref.group(1)
        elif isinstance(item, dict):
            yield from _refs_in(item.values())
        elif isinstance(item, list):
            yield from _refs_in(item)


def _pattern_regexes(value: Any) -> Iterator[str]:
    """REGEX values in token patterns. spaCy runs them with Python's re over single tokens; lint
    holds them to RE2's syntax so that no rule author can write a backtracking construct."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "REGEX" and isinstance(item, str):
                yield item
            else:
                yield from _pattern_regexes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pattern_regexes(item)


def _condition_refs(cond: ConditionSpec) -> Iterator[str]:
    if cond.negation:
        yield from _refs_in(cond.negation.terms)
        yield from _refs_in(cond.negation.except_terms)
    if cond.phrases:
        yield from _refs_in(cond.phrases)
    if cond.near and cond.near.terms:
        yield from _refs_in(cond.near.terms)


def _condition_regexes(cond: ConditionSpec) -> Iterator[str]:
    if cond.near and cond.near.regex:
        yield cond.near.regex
    if cond.listing and cond.listing.certification:
        yield cond.listing.certification


def _check_regex(pattern: str) -> str | None:
    try:
        re2.compile(pattern)
    except re2.error as exc:
        return str(exc)
    return None


def _check_references(ruleset: RuleSet) -> list[RuleError]:
    problems: list[RuleError] = []
    for name, items in ruleset.lists.items():
        for ref in _refs_in(items):
            if ref not in ruleset.lists:
                problems.append(RuleError(f"list {name!r} references unknown list ${ref}", file=ruleset.source))
    for name, cond in ruleset.conditions.items():
        for ref in _condition_refs(cond):
            if ref not in ruleset.lists:
                problems.append(RuleError(f"condition {name!r} references unknown list ${ref}", file=ruleset.source))
        for pattern in _condition_regexes(cond):
            if (err := _check_regex(pattern)) is not None:
                problems.append(RuleError(f"condition {name!r}: RE2 rejects {pattern!r}: {err}", file=ruleset.source))
    for loaded in ruleset.rules:
        spec = loaded.spec

        def problem(message: str) -> None:
            problems.append(RuleError(message, file=loaded.file, rule_id=spec.id, line=loaded.line))

        for matcher in _iter_matchers(spec.match):
            for ref in _refs_in(matcher.terms or []):
                if ref not in ruleset.lists:
                    problem(f"match.terms references unknown list ${ref}")
            for ref in _refs_in(matcher.pattern or []):
                if ref not in ruleset.lists:
                    problem(f"match.pattern references unknown list ${ref}")
            if matcher.regex is not None and (err := _check_regex(matcher.regex)) is not None:
                problem(f"match.regex: RE2 rejects {matcher.regex!r}: {err}")
            for token_regex in _pattern_regexes(matcher.pattern or []):
                if (err := _check_regex(token_regex)) is not None:
                    problem(f"match.pattern: RE2 rejects REGEX {token_regex!r}: {err}")
        for ref in _contradiction_refs(spec):
            if ref not in ruleset.lists:
                problem(f"contradicts references unknown list ${ref}")
        if spec.contradicts is not None and spec.contradicts.certification is not None:
            if (err := _check_regex(spec.contradicts.certification)) is not None:
                problem(f"contradicts.certification: RE2 rejects {spec.contradicts.certification!r}: {err}")
        for cond in spec.unless:
            if isinstance(cond, str):
                if cond not in ruleset.conditions:
                    problem(f"unless references unknown condition {cond!r}")
                continue
            for ref in _condition_refs(cond):
                if ref not in ruleset.lists:
                    problem(f"unless references unknown list ${ref}")
            for pattern in _condition_regexes(cond):
                if (err := _check_regex(pattern)) is not None:
                    problem(f"unless: RE2 rejects {pattern!r}: {err}")
    return problems


def _contradiction_refs(spec: RuleSpec) -> list[str]:
    contradicts = spec.contradicts
    if contradicts is None:
        return []
    words = list(contradicts.exclusive) + [w for ws in (contradicts.values or {}).values() for w in ws]
    return _refs_in(words)


def _check_unused(ruleset: RuleSet) -> list[RuleError]:
    """Unused lists and conditions are warnings: often a typo'd reference, never fatal."""
    used_lists: set[str] = set()
    used_conditions: set[str] = set()
    for items in ruleset.lists.values():
        used_lists.update(_refs_in(items))
    for cond in ruleset.conditions.values():
        used_lists.update(_condition_refs(cond))
    for loaded in ruleset.rules:
        for matcher in _iter_matchers(loaded.spec.match):
            used_lists.update(_refs_in(matcher.terms or []))
            used_lists.update(_refs_in(matcher.pattern or []))
        used_lists.update(_contradiction_refs(loaded.spec))
        for cond in loaded.spec.unless:
            if isinstance(cond, str):
                used_conditions.add(cond)
            else:
                used_lists.update(_condition_refs(cond))
    warnings = [
        RuleError(f"list {name!r} is never referenced", file=ruleset.source)
        for name in ruleset.lists
        if name not in used_lists and name != "negations"
    ]
    warnings += [
        RuleError(f"condition {name!r} is never referenced", file=ruleset.source)
        for name in ruleset.conditions
        if name not in used_conditions
    ]
    return warnings


def load_ruleset(directory: Path | str | None = None) -> RuleSet:
    """Load and check every YAML file under `directory`; raise RuleSetError listing all problems."""
    root_dir = Path(directory) if directory is not None else default_rules_dir()
    if not root_dir.is_dir():
        raise RuleSetError([RuleError("rules directory not found", file=str(root_dir))])
    files = _yaml_files(root_dir)
    if not files:
        raise RuleSetError([RuleError("no *.yaml rule files found", file=str(root_dir))])

    problems: list[RuleError] = []
    rules: list[LoadedRule] = []
    lists: dict[str, list[str]] = {}
    sound_lists: dict[str, bool] = {}
    conditions: dict[str, ConditionSpec] = {}
    seen_ids: dict[str, str] = {}
    where_defined: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in files:
        label = str(path.relative_to(root_dir.parent)) if root_dir.parent in path.parents else str(path)
        digest.update(path.relative_to(root_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        spec, root, file_problems = _parse_file(path, label)
        problems.extend(file_problems)
        if spec is None:
            continue
        for kind, source, target in (("list", spec.lists, lists), ("condition", spec.conditions, conditions)):
            for name, value in source.items():
                key = f"{kind}:{name}"
                if key in where_defined:
                    problems.append(
                        RuleError(f"{kind} {name!r} is already defined in {where_defined[key]}", file=label)
                    )
                    continue
                where_defined[key] = label
                if isinstance(value, ListSpec):
                    if value.sound is not None:
                        sound_lists[name] = value.sound
                    value = value.terms
                target[name] = value  # type: ignore[index]
        for rule_spec, line in zip(spec.rules, _rule_lines(root, len(spec.rules))):
            if rule_spec.id in seen_ids:
                problems.append(
                    RuleError(
                        f"duplicate rule id, first defined in {seen_ids[rule_spec.id]}",
                        file=label,
                        rule_id=rule_spec.id,
                        line=line,
                    )
                )
                continue
            seen_ids[rule_spec.id] = f"{label}:{line}"
            rules.append(LoadedRule(rule_spec, label, line))

    ruleset = RuleSet(rules, lists, conditions, digest.hexdigest()[:12], str(root_dir),
                      sound_lists=sound_lists)
    problems.extend(_check_references(ruleset))
    if problems:
        raise RuleSetError(problems)
    ruleset.warnings = _check_unused(ruleset)
    return ruleset
