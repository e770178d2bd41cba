"""Loading a rule set: read every file, then check it; a rule set with errors never loads."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import RuleError, RuleSetError
from pipeline.ruleset import lint
from pipeline.ruleset.files import read_ruleset
from pipeline.ruleset.model import RuleSet
from pipeline.settings import default_rules_dir


def load_ruleset(directory: Path | str | None = None) -> RuleSet:
    """Load and check every YAML file under `directory` (default: the shipped rules/); raise
    RuleSetError listing every problem. Lint's advice is kept in `warnings`."""
    root_dir = Path(directory) if directory is not None else default_rules_dir()
    if not root_dir.is_dir():
        raise RuleSetError([RuleError("rules directory not found", file=str(root_dir))])
    ruleset, problems = read_ruleset(root_dir)
    problems.extend(lint.errors(ruleset))
    if problems:
        raise RuleSetError(problems)
    ruleset.warnings = lint.warnings(ruleset)
    return ruleset
