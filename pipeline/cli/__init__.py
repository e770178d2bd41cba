"""The `claimwatch` command line: one module per command group, assembled here.

May import every other part of `pipeline`; nothing imports it.
"""

from __future__ import annotations

import sys
from importlib.metadata import version as package_version
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli import evaluate, recordings, rules, scan, stream
from pipeline.cli.common import err, out
from pipeline.errors import SettingsError

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(help="Claimwatch: live-stream claim monitor.", no_args_is_help=True, context_settings=HELP_OPTIONS)
rules_app = typer.Typer(
    help="Lint, test and explain the rule set.", no_args_is_help=True, context_settings=HELP_OPTIONS
)
app.add_typer(rules_app, name="rules")


def _print_version(value: bool) -> None:
    if value:
        out.print(f"claimwatch {package_version('claimwatch')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Claimwatch: live-stream claim monitor."""


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
