"""`claimwatch eval`: the rule set scored on a labelled corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import RulesOption, err, load_engine, out
from pipeline.errors import ClaimwatchError


def eval_command(
    corpus: Annotated[Path, typer.Argument(help="labelled JSON lines: id, text, category, label, kind")],
    rules: RulesOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the scores as JSON")] = False,
    show: Annotated[int, typer.Option("--show", help="list at most this many misses and false hits")] = 50,
) -> None:
    """Precision, recall and F1 overall and per kind; lists misses and false hits."""
    from pipeline.quality.evaluate import evaluate, load_corpus

    try:
        items = load_corpus(corpus)
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    report = evaluate(load_engine(rules), items)
    o = report.overall
    if as_json:
        data = {
            "overall": {"precision": o.precision, "recall": o.recall, "f1": o.f1,
                        "tp": o.tp, "fp": o.fp, "fn": o.fn, "tn": o.tn},
            "per_kind": {k: {"precision": s.precision, "recall": s.recall, "f1": s.f1}
                         for k, s in report.per_kind.items()},
            "recall_per_variant": {v: c / t for v, (c, t) in report.recall_per_variant().items()},
            "misses": [m.item.id for m in report.misses],
            "false_hits": [f.item.id for f in report.false_hits],
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"{len(items)} segments")
    for column in ("kind", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "kind" else "left")
    table.add_row("[bold]overall[/bold]", f"{o.precision:.3f}", f"{o.recall:.3f}", f"{o.f1:.3f}")
    for kind, s in report.per_kind.items():
        table.add_row(kind, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}")
    out.print(table)
    variants = report.recall_per_variant()
    if variants:
        by_variant = Table("disguise", "caught", "recall", title="recall per disguise")
        for variant, (caught, total) in variants.items():
            by_variant.add_row(variant, f"{caught}/{total}", f"{caught / total:.3f}")
        out.print(by_variant)
    out.print(f"tp={o.tp} fp={o.fp} fn={o.fn} tn={o.tn}")
    out.print(f"\n[bold]misses[/bold] ({len(report.misses)})")
    for m in report.misses[:show]:
        out.print(f"  {m.item.id} [{m.item.kind}] ({m.item.category and m.item.category.value}) {escape(m.item.text)}")
    out.print(f"\n[bold]false hits[/bold] ({len(report.false_hits)})")
    for f in report.false_hits[:show]:
        out.print(f"  {f.item.id} ({f.item.category and f.item.category.value}) {escape(f.item.text)} → "
                  f"{', '.join(f.rules)}: {escape('、'.join(f.matches))}")
