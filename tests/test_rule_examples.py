"""Every rule's own examples, each as a test, through the real pipeline (semgrep's ruleid:/ok:,
Fixit's VALID/INVALID). A `todo_hit` example is a known gap: a strict expected failure, so one
that starts firing fails the suite until it is moved to `hit`."""

from __future__ import annotations

import pytest

from pipeline.detect.engine import Engine
from pipeline.quality.examples import ExampleResult, run_examples
from pipeline.ruleset import load_ruleset

_SHIPPED = load_ruleset()
_TODO = pytest.mark.xfail(strict=True, reason="known gap (todo_hit); once it fires, move it to hit")
_CASES = [
    pytest.param(loaded.spec.id, expectation, i, id=f"{loaded.spec.id}-{expectation}{i}",
                 marks=[_TODO] if expectation == "todo_hit" else [])
    for loaded in _SHIPPED.rules
    for expectation in ("hit", "miss", "todo_hit")
    for i in range(len(getattr(loaded.spec.examples, expectation)))
]  # fmt: skip


@pytest.fixture(scope="module")
def results(engine: Engine) -> dict[tuple[str, str, int], ExampleResult]:
    by_key: dict[tuple[str, str, int], ExampleResult] = {}
    counters: dict[tuple[str, str], int] = {}
    for result in run_examples(engine):
        index = counters.get((result.rule_id, result.expectation), 0)
        counters[(result.rule_id, result.expectation)] = index + 1
        by_key[(result.rule_id, result.expectation, index)] = result
    return by_key


@pytest.mark.parametrize(("rule_id", "expectation", "index"), _CASES)
def test_rule_example(
    results: dict[tuple[str, str, int], ExampleResult], rule_id: str, expectation: str, index: int
) -> None:
    result = results[(rule_id, expectation, index)]
    if expectation == "miss":
        assert not result.fired, f"{rule_id} should stay quiet on: {result.example.text} (fired on {result.alerts})"
    else:
        assert result.fired, f"{rule_id} should fire on: {result.example.text}"


def test_every_rule_has_examples_and_cites_law() -> None:
    for loaded in _SHIPPED.rules:
        spec = loaded.spec
        assert len(spec.examples.hit) >= 2 and len(spec.examples.miss) >= 2, spec.id
        assert all(basis.startswith("《") for basis in spec.legal_basis), spec.id
