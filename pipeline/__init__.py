"""Claimwatch: detects false or exaggerated advertising claims in Chinese live-stream selling.

One subpackage per concern; data flows one way and so do imports (enforced by `lint-imports`,
the contract in pyproject.toml), each package importing only those below it:

    cli                      the `claimwatch` command line
    ops | stream | quality   record/replay/backtest/benchmarks | the Faust worker | rule examples, eval
    judge | kafka            events in, alerts out (scan and worker alike) | the broker and its clients
    detect                   one text and its product's facts in, findings out
    ruleset                  rule files read, resolved and linted
    text                     normalization, sound, tokens, spoken numbers
    settings, errors         configuration and the error hierarchy
    models                   (top level) the pydantic schemas of events, alerts and rules
"""

__version__ = "0.1.0"
