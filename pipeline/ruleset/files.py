"""Reading a rule set: every YAML file of a directory, validated by the pydantic spec, into one
`RuleSet`. Problems are reported with their file, line and rule id, and all of them at once, so a
compliance officer fixes a rule file in one pass."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.rules import ListSpec, RuleFileSpec
from pipeline.errors import RuleError
from pipeline.ruleset.model import Definition, LoadedRule, RuleSet
from pipeline.ruleset.yamlnodes import format_loc, line_of


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


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
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(
                RuleError(f"{format_loc(loc)}: {err['msg']}", file=label, rule_id=_rule_id_at(data, loc),
                          line=line_of(root, loc))
            )  # fmt: skip
        return None, root, problems


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
        label = str(path.relative_to(root_dir.parent)) if root_dir.parent in path.parents else str(path)
        digest.update(path.relative_to(root_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        spec, root, file_problems = _parse_file(path, label)
        problems.extend(file_problems)
        if spec is None:
            continue
        if root is not None:
            ruleset.nodes[label] = root
        named: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
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
