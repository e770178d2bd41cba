"""The rule set: YAML rule files read, validated against `models.rules`, their references
(`$list`, `$fragment`, `{fragment: …}`, condition names) resolved, and linted with every problem
located by file, line and rule.

Owns: reading rule files, the loaded `RuleSet`, lint. May import `models`, `pipeline.errors`,
`pipeline.settings` and `pipeline.text` (rule words are normalized as texts are); nothing that
detects, streams or runs.
"""

from pipeline.ruleset.load import load_ruleset
from pipeline.ruleset.model import LoadedRule, RuleSet

__all__ = ["LoadedRule", "RuleSet", "load_ruleset"]
