"""The `claimwatch` command line: one module per command group, assembled here.

May import every other part of `pipeline`; nothing imports it.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from pipeline.cli import evaluate, recordings, rules, scan, stream
from pipeline.cli.common import err
from pipeline.errors import SettingsError

app = typer.Typer(help="Claimwatch: live-stream claim monitor.", no_args_is_help=True, add_completion=False)
rules_app = typer.Typer(help="Lint, test and explain the rule set.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

app.command()(scan.scan)
app.command()(scan.schema)
rules_app.command("lint")(rules.rules_lint)
rules_app.command("test")(rules.rules_test)
rules_app.command("explain")(rules.rules_explain)
app.command("eval")(evaluate.eval_command)
app.command()(stream.broker)
app.command()(stream.worker)
app.command()(stream.up)
app.command()(stream.tail)
app.command()(recordings.record)
app.command()(recordings.replay)
app.command()(recordings.backtest)


def main() -> None:
    """The `claimwatch` script: the commands, with an invalid setting reported in one line
    (exit status 2) wherever a command reads the settings."""
    try:
        app()
    except SettingsError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        sys.exit(2)
