"""The `claimwatch` command line: one module per command group, assembled here.

May import every other part of `pipeline`; nothing imports it.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperOption

from pipeline.cli import config, evaluate, recordings, rules, scan, stream
from pipeline.cli.common import err, out
from pipeline.errors import ClaimwatchError
from pipeline.settings import CONFIG_VARIABLE, read_config_file

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
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config", metavar="PATH",
            help="TOML file of settings (default: CLAIMWATCH_CONFIG); CLAIMWATCH_* variables and flags override it",
        ),
    ] = None,
) -> None:
    """Claimwatch: live-stream claim monitor."""
    if config_path is not None:
        # Absolute, so that a process started from here (`up` starts a worker) reads the same
        # file wherever it runs; checked now, so that a mistyped path fails every command.
        path = os.path.abspath(config_path.expanduser())
        read_config_file(path)
        os.environ[CONFIG_VARIABLE] = path


def _summary(function: Callable[..., Any]) -> str:
    """A command's line in the list of commands: the first sentence of its docstring, on one
    line (the list would otherwise keep the docstring's line breaks, mid-sentence)."""
    paragraph = " ".join((inspect.getdoc(function) or "").split("\n\n")[0].split())
    depth = 0
    for at, char in enumerate(paragraph):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "." and depth == 0 and paragraph[at + 1 : at + 2] in ("", " "):
            return paragraph[: at + 1]
    return paragraph


def _add(group: typer.Typer, function: Callable[..., Any], name: str | None = None) -> None:
    group.command(name, short_help=_summary(function))(function)


for _group, _function, _name in (
    (app, scan.scan, None), (app, scan.schema, None), (app, config.config_command, "config"),
    (rules_app, rules.rules_lint, "lint"), (rules_app, rules.rules_test, "test"),
    (rules_app, rules.rules_explain, "explain"), (app, evaluate.eval_command, "eval"),
    (app, stream.broker, None), (app, stream.worker, None), (app, stream.up, None), (app, stream.tail, None),
    (app, recordings.record, None), (app, recordings.replay, None), (app, recordings.backtest, None),
):
    _add(_group, _function, _name)


def _flag_shows_no_type(self: TyperOption, ctx: Any) -> str | None:  # Typer's own click Context
    """A flag takes no value: its help shows none (Typer shows `<bool>`, which reads as if
    `--pretty true` were expected, and that is refused)."""
    return None if self.is_flag else _option_type_shown(self, ctx)


_option_type_shown = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_shows_no_type  # type: ignore[method-assign]


def main() -> None:
    """The `claimwatch` script: the commands, with a deliberate error that reaches this far (an
    invalid setting, wherever a command reads the settings) reported in one line, with the exit
    status of its kind."""
    try:
        app()
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        sys.exit(exc.exit_status)
