"""Reading a rule set: every YAML file of a directory, validated by the pydantic spec, into one
`RuleSet`. Problems are reported with their file, line and rule id, and all of them at once, so a
compliance officer fixes a rule file in one pass."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.rules import RULE_FILE_KEYS, ListSpec, RuleFileSpec
from pipeline.errors import RuleError, did_you_mean
from pipeline.ruleset.model import Definition, LoadedRule, RuleSet
from pipeline.ruleset.yamlnodes import format_loc, line_of


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _shown_path(path: Path) -> str:
    """A rule file's path as messages print it: one that opens from where the command runs
    (relative to the working directory when the file is under it, else absolute)."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def _rule_id_at(data: Any, loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rule_id = rules[loc[1]].get("id")
            return str(rule_id) if rule_id is not None else f"rules[{loc[1]}]"
    return None


def _parse_file(path: Path, label: str) -> tuple[RuleFileSpec | None, yaml.Node | None, list[RuleError]]:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, None, [RuleError(f"not valid YAML: {exc}", file=label, line=mark.line + 1 if mark else None)]
    if not isinstance(data, dict):
        expected = "a rule file must be a mapping with lists/fragments/conditions/rules"
        return None, root, [RuleError(expected, file=label)]
    try:
        return RuleFileSpec.model_validate(data), root, []
    except ValidationError as exc:
        problems = []
        for loc, message in _readable_errors(exc, data):
            problems.append(
                RuleError(f"{format_loc(loc)}: {message}", file=label, rule_id=_rule_id_at(data, loc),
                          line=line_of(root, loc))
            )  # fmt: skip
        return None, root, sorted(problems, key=lambda problem: problem.line or 0)


# Pydantic's errors for a value that matched no branch of a union say, for every branch, why
# not: "should be a valid string" beside the real problem of the mapping that was meant.
_WRONG_TYPE = frozenset({"string_type", "list_type", "dict_type", "model_type", "model_attributes_type"})


def _readable_errors(exc: ValidationError, data: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(location in the file, message) for each problem: the location as keys and indexes of
    the YAML (union branch names dropped), an unknown key with the nearest known one, and a
    union's wrong-type branches dropped when another branch says what is wrong."""
    found: list[tuple[tuple[Any, ...], str, str]] = []
    for error in exc.errors():
        loc = _in_file(tuple(error["loc"]), data)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            message = "unknown key" + did_you_mean(loc[-1], RULE_FILE_KEYS)
        found.append((loc, str(error["type"]), message))
    specific = [loc for loc, kind, _ in found if kind not in _WRONG_TYPE]

    def explained_elsewhere(loc: tuple[Any, ...]) -> bool:
        return any(other[: len(loc)] == loc for other in specific)

    return [(loc, message) for loc, kind, message in found if kind not in _WRONG_TYPE or not explained_elsewhere(loc)]


def _in_file(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """A pydantic location without the names it gives union branches (`str`, `ListSpec`,
    `function-after[…]`), which are no part of the file."""
    kept: list[Any] = []
    node = data
    for part in loc:
        present = isinstance(node, dict) and part in node
        if not present and isinstance(part, str) and _BRANCH_NAME.match(part):
            continue
        kept.append(part)
        if present or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        else:
            node = None
    return tuple(kept)


_BRANCH_NAME = re.compile(r"^(?:(?:str|int|float|bool|list|dict|[A-Z]\w*)$|[\w-]+\[)")


def read_ruleset(root_dir: Path) -> tuple[RuleSet, list[RuleError]]:
    """Every file of the directory in one rule set, and the problems found reading them."""
    files = _yaml_files(root_dir)
    if not files:
        return RuleSet([], {}, {}, "", str(root_dir)), [RuleError("no *.yaml rule files found", file=str(root_dir))]
    ruleset = RuleSet([], {}, {}, "", str(root_dir))
    problems: list[RuleError] = []
    seen_ids: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in files:
        label = _shown_path(path)
        digest.update(path.relative_to(root_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        spec, root, file_problems = _parse_file(path, label)
        problems.extend(file_problems)
        if spec is None:
            continue
        if root is not None:
            ruleset.nodes[label] = root
        named: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
            ("kind", spec.kinds, ruleset.kinds),
            ("list", spec.lists, ruleset.lists),
            ("fragment", spec.fragments, ruleset.fragments),
            ("condition", spec.conditions, ruleset.conditions),
        )
        for kind, source, target in named:
            for name, value in source.items():
                key = f"{kind}:{name}"
                line = line_of(root, (f"{kind}s", name))
                if key in ruleset.defined_at:
                    first = ruleset.defined_at[key]
                    problems.append(RuleError(f"{kind} {name!r} is already defined in {first.file}:{first.line}",
                                              file=label, line=line))  # fmt: skip
                    continue
                ruleset.defined_at[key] = Definition(label, line)
                if isinstance(value, ListSpec):
                    if value.sound is not None:
                        ruleset.sound_lists[name] = value.sound
                    value = value.terms
                target[name] = value
        for index, rule_spec in enumerate(spec.rules):
            line = line_of(root, ("rules", index))
            if rule_spec.id in seen_ids:
                problems.append(RuleError(f"duplicate rule id, first defined in {seen_ids[rule_spec.id]}",
                                          file=label, rule_id=rule_spec.id, line=line))  # fmt: skip
                continue
            seen_ids[rule_spec.id] = f"{label}:{line}"
            ruleset.rules.append(LoadedRule(rule_spec, label, line, index))
    ruleset.version = digest.hexdigest()[:12]
    return ruleset, problems
