"""The README's command table is the manual most users read: it must name every command and
every option that `--help` shows, so that the two cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from pipeline.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """Every command under a group (Typer's own click types), by its name as typed."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found |= _commands(command, f"{prefix}{name} ")
        else:
            found[f"{prefix}{name}"] = command
    return found


def _table_rows() -> dict[str, str]:
    """The command table's rows by the command each documents."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Command line"):text.index("Exit codes, the same for every command")]
    rows = {}
    for line in table.splitlines():
        found = re.match(r"^\| `claimwatch (?:\[[^\]]*\] )?((?:rules )?[a-z]+)", line)
        if found:
            rows[found.group(1)] = line
    return rows


def test_every_command_and_option_of_help_is_in_the_readme_command_table() -> None:
    root = typer.main.get_command(app)
    rows = _table_rows()
    commands = _commands(root)
    assert sorted(rows) == sorted(commands)
    missing = [
        f"{name} {option}"
        for name, command in commands.items()
        for param in command.params
        for option in param.opts
        if option.startswith("--") and option != "--help" and option not in rows[name]
    ]
    assert missing == []


def test_every_option_and_argument_says_what_it_is_for() -> None:
    commands = _commands(typer.main.get_command(app))
    silent = [f"{name} {param.name}" for name, command in commands.items() for param in command.params
              if not (getattr(param, "help", None) or "").strip()]
    assert silent == []
