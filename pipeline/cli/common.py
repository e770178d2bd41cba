"""What every command shares: the consoles, common options, loading the rules with located
errors, and how an alert is printed."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from models.alerts import Alert
from models.events import parse_time
from pipeline.detect.engine import Engine
from pipeline.errors import EXIT_USAGE, ClaimwatchError, EventError, RuleError, RuleSetError
from pipeline.ruleset.load import RuleSet, load_ruleset
from pipeline.settings import load_settings

if TYPE_CHECKING:  # the recording reader pulls in the Kafka client: only for the commands that read files
    from pipeline.ops.recording_format import ReplayItem

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="rules directory (default: CLAIMWATCH_RULES_DIR, else rules_dir of the config file, else the rules "
        "installed with claimwatch)",
    ),
]

SEVERITY_STYLE = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "red", "critical": "bold red"}

BrokerOption = Annotated[str | None, typer.Option("--broker", help="bootstrap servers host:port[,host:port]")]


def cannot(doing: Literal["read", "write"], path: str | Path, why: str) -> NoReturn:
    """End a command on a file it cannot use: one line naming the file and why (exit status 2)."""
    err.print(f"[red]error[/red] cannot {doing} {escape(str(path))}: {escape(why)}")
    raise typer.Exit(EXIT_USAGE)


def open_file(path: str | Path, mode: Literal["rb", "w"]) -> IO[Any]:
    """A file the user named, opened, or a one-line error naming it and why (exit status 2)."""
    try:
        if mode == "rb":
            return open(path, "rb")
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        cannot("read" if mode == "rb" else "write", path, exc.strerror or str(exc))


def check_writable(path: Path) -> None:
    """A file the command will write once it has something to write (`record --out`), checked
    now without creating it: a one-line error naming it (exit status 2) if it could not be."""
    parent = path.parent if str(path.parent) else Path(".")
    problem = None
    if path.is_dir():
        problem = "it is a directory"
    elif not parent.is_dir():
        problem = f"no such directory {parent}"
    elif not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = "permission denied"
    if problem is not None:
        cannot("write", path, problem)


def fail(exc: ClaimwatchError) -> NoReturn:
    """End a command on a deliberate error: one line, and the exit status its kind has."""
    err.print(f"[red]error[/red] {escape(str(exc))}")
    raise typer.Exit(exc.exit_status) from None


def reader_gone() -> None:
    """The reader of stdout went away (`… | head -1`): stop writing, quietly. Python would
    otherwise complain again when it flushes stdout at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def load_rules(directory: Path | None) -> RuleSet:
    settings = load_settings(rules_dir=directory)
    try:
        return load_ruleset(settings.rules_dir)
    except RuleSetError as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/red] {escape(str(problem))}")
        raise typer.Exit(2) from None


def load_rules_or_problems(directory: Path | None) -> tuple[RuleSet | None, list[RuleError]]:
    """The rule set, or every problem that keeps it from loading: for a command that reports the
    problems in its own output (`rules lint --json`) instead of on stderr."""
    try:
        return load_ruleset(load_settings(rules_dir=directory).rules_dir), []
    except RuleSetError as exc:
        return None, exc.problems


def load_engine(directory: Path | None) -> Engine:
    return Engine(load_rules(directory))


def marked_sentence(alert: Alert) -> str:
    text, ev = alert.evidence.text, alert.evidence
    claim = escape(text[ev.start : ev.end])
    return escape(text[: ev.start]) + f"[bold red]【{claim}】[/bold red]" + escape(text[ev.end :])


def print_alert(console: Console, alert: Alert) -> None:
    style = SEVERITY_STYLE.get(alert.severity.value, "")
    console.print(
        f"[bold]{escape(alert.room_id)}[/bold] [{style}]{alert.severity.value:<8}[/{style}] "
        f"[magenta]{alert.rule_id}[/magenta] ({escape(alert.category or 'unknown')})"
        + "".join(f" [dim]+{escape(rule)}[/dim]" for rule in alert.rule_ids[1:])
    )
    console.print(f"    {marked_sentence(alert)}")
    console.print(f"    [dim]{escape(alert.message)} — {escape('；'.join(alert.legal_basis))}[/dim]")


def time_option(value: str | None, name: str) -> datetime | None:
    """--since/--until: ISO-8601 or epoch milliseconds, as events give times."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValidationError:
        err.print(f"[red]error[/red] {name}: {escape(value)!s} is not ISO-8601 or epoch milliseconds")
        raise typer.Exit(2) from None


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def speed_option(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        speed = 0.0
    if speed <= 0:
        err.print(f"[red]error[/red] --speed: {escape(value)} is neither 'max' nor a positive number")
        raise typer.Exit(2)
    return speed


def read_items_or_exit(path: Path) -> tuple[list[ReplayItem], int]:
    """The file's records, and how many lines had to be skipped (each reported on stderr)."""
    from pipeline.ops.recording_format import read_items

    with open_file(path, "rb"):
        pass  # told as `scan` tells it (missing, a directory, no permission), before any work
    problems: list[EventError] = []
    items = read_items(path, problems)
    for problem in problems:
        err.print(f"[yellow]skipped[/yellow] {escape(str(path))} {escape(str(problem))}")
    if not items:
        err.print(f"[yellow]warning[/yellow] {escape(str(path))} holds no record to use")
    return items, len(problems)
