"""Insight commands: ``insights`` (triggers, alerts, charts) and ``report`` (for a doctor).

Each reads the journal once, makes one call into :mod:`twitchwise.insights` and prints or
writes the result. numpy, statsmodels, fpdf2 and fhir.resources are imported inside the
commands, after a check that names the extra to install when one is missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.cli import app
from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.journal.store import JournalData

INSIGHT_FORMATS = ("terminal", "json")
REPORT_FORMATS = ("html", "pdf", "fhir")
STATS_MODULES = ("numpy", "scipy", "statsmodels")


@app.command()
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
    from twitchwise.insights.analysis import analyse, require_extra

    if fmt not in INSIGHT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use --format terminal or --format json")
    require_extra(STATS_MODULES, "pip install 'twitchwise[insights]'")
    data = _read()
    result = analyse(data)
    written: list[Path] = []
    if chart is not None:
        from twitchwise.insights.charts import charts

        folder = _folder(chart)
        for name, svg in charts(data, result.effects).items():
            written.append(_write_private(folder / name, svg.encode("utf-8")))
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(result.render_terminal(), nl=False)
    if written:
        typer.echo(f"Wrote {', '.join(str(p) for p in written)}.", err=fmt == "json")


@app.command()
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
    if fmt not in REPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use --format html, pdf or fhir")
    from twitchwise.insights.analysis import require_extra

    if fmt == "fhir":
        require_extra(("fhir.resources",), "pip install 'twitchwise[report]'")
        from twitchwise.insights.fhir import fhir_bundle, validate_bundle

        bundle = fhir_bundle(_read(warn=True))
        validate_bundle(bundle)
        content = (json.dumps(bundle, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        _write_private(output, content)
        entries = len(bundle["entry"]) - 1
        typer.echo(f"Wrote a FHIR R4 Bundle of {entries} observations to {output}.")
        return
    modules = STATS_MODULES + (("fpdf",) if fmt == "pdf" else ())
    require_extra(modules, "pip install 'twitchwise[insights,report]'")
    from twitchwise.insights.analysis import analyse
    from twitchwise.insights.report import build_report, render_html, render_pdf

    data = _read(warn=True)
    built = build_report(data, analyse(data))
    content = render_pdf(built) if fmt == "pdf" else render_html(built).encode("utf-8")
    _write_private(output, content)
    typer.echo(f"Wrote the doctor report ({fmt}) to {output}.")


def _read(warn: bool = False) -> JournalData:
    """The journal; with ``warn``, a line on stderr for each row left out for its date (the
    insights say so in their notes already)."""
    from twitchwise.commands.journal import warn_left_out
    from twitchwise.journal.store import open_journal

    with open_journal() as journal:
        data = journal.read()
    if warn:
        warn_left_out(data.problems)
    return data


def _folder(path: Path) -> Path:
    try:
        if not path.exists():
            path.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise InputError(f"cannot create {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise InputError(f"--chart {path} is not a folder; give a folder for the SVG files")
    return path


def _write_private(path: Path, content: bytes) -> Path:
    """Write the file readable by its owner only (0600), whatever the umask."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if os.name != "nt":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
