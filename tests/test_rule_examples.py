"""Every rule's own hit and miss examples, each as a test, through the real pipeline
(semgrep's ruleid:/ok:, Fixit's VALID/INVALID). `todo_hit` examples document known gaps."""

from __future__ import annotations

import pytest

from pipeline.engine import Engine
from pipeline.rules import load_ruleset
from pipeline.ruletest import ExampleResult, run_examples

_SHIPPED = load_ruleset()
_CASES = [
    (loaded.spec.id, expectation, i)
    for loaded in _SHIPPED.rules
    for expectation in ("hit", "miss")
    for i in range(len(getattr(loaded.spec.examples, expectation)))
]


@pytest.fixture(scope="module")
def results(engine: Engine) -> dict[tuple[str, str, int], ExampleResult]:
    by_key: dict[tuple[str, str, int], ExampleResult] = {}
    counters: dict[tuple[str, str], int] = {}
    for result in run_examples(engine):
        index = counters.get((result.rule_id, result.expectation), 0)
        counters[(result.rule_id, result.expectation)] = index + 1
        by_key[(result.rule_id, result.expectation, index)] = result
    return by_key


@pytest.mark.parametrize(("rule_id", "expectation", "index"), _CASES, ids=[f"{r}-{e}{i}" for r, e, i in _CASES])
def test_rule_example(results: dict[tuple[str, str, int], ExampleResult], rule_id: str, expectation: str, index: int) -> None:
    result = results[(rule_id, expectation, index)]
    if expectation == "hit":
        assert result.fired, f"{rule_id} should fire on: {result.example.text}"
    else:
        assert not result.fired, f"{rule_id} should stay quiet on: {result.example.text} (fired on {result.alerts})"


def test_every_rule_has_examples_and_cites_law() -> None:
    for loaded in _SHIPPED.rules:
        spec = loaded.spec
        assert len(spec.examples.hit) >= 2 and len(spec.examples.miss) >= 2, spec.id
        assert all(basis.startswith("《") for basis in spec.legal_basis), spec.id
