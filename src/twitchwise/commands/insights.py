"""Insight commands: ``insights`` (triggers, alerts, charts) and ``report`` (for a doctor).

Each reads the journal once, makes one call into :mod:`twitchwise.insights` and prints or
writes the result. numpy, fpdf2 and fhir.resources are imported inside the
commands, after a check that names the extra to install when one is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.commands._common import (
    long_running,
    open_journal,
    twitchwise_app,
    warn_left_out,
    write_private,
)
from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.journal.summary import JournalSummary

INSIGHT_FORMATS = ("terminal", "json")
REPORT_FORMATS = ("html", "pdf", "fhir")


def insights(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: terminal or json.")
    ] = "terminal",
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Also write calendar.svg, body-map.svg and effects.svg into this folder.",
        ),
    ] = None,
) -> None:
    """Which factors precede your twitches (same day, next day, two days later), and alerts.

    Example: twitchwise insights --format json --chart charts/
    """
    long_running()
    if fmt not in INSIGHT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use --format terminal or --format json")
    tw = twitchwise_app()
    tw.require_insights()
    data = _summary()
    result = tw.insights(data)
    written: list[Path] = []
    if chart is not None:
        from twitchwise.insights.charts import charts

        folder = _folder(chart)
        for name, svg in charts(data, result.effects, kb=tw.kb).items():
            written.append(write_private(folder / name, svg))
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(result.render_terminal(), nl=False)
    if written:
        typer.echo(f"Wrote {', '.join(str(p) for p in written)}.", err=fmt == "json")


def report(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The file to write (created owner-only)."),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="html (default), pdf or fhir (R4 JSON Bundle).")
    ] = "html",
) -> None:
    """Write a report for your doctor: summary, timeline, body map, triggers, alerts, medicines.

    Example: twitchwise report --format pdf --output twitch-report.pdf
    """
    long_running()
    if fmt not in REPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use --format html, pdf or fhir")
    tw = twitchwise_app()
    tw.require_report(fmt)
    with open_journal() as journal:  # the FHIR bundle is written as it is read
        made = tw.report_output(journal, fmt)
        write_private(output, made.chunks)
    warn_left_out(made.problems)
    if fmt == "fhir":
        entries = made.counts["observations"]
        typer.echo(f"Wrote a FHIR R4 Bundle of {entries} observations to {output}.")
        return
    typer.echo(f"Wrote the doctor report ({fmt}) to {output}.")


def _summary() -> JournalSummary:
    """What the insights need of the journal (its episodes as counts: never all at once)."""
    from twitchwise.insights.source import NOTES_DAYS

    with open_journal() as journal:
        return journal.summary(NOTES_DAYS)


def _folder(path: Path) -> Path:
    try:
        if not path.exists():
            path.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise InputError(f"cannot create {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise InputError(f"--chart {path} is not a folder; give a folder for the SVG files")
    return path


def register(app: typer.Typer) -> None:
    app.command()(insights)
    app.command()(report)
