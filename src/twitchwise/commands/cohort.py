"""``twitchwise cohort report``: population analytics over a cohort folder (docs/cohort.md).

The command only translates: it checks the options, makes one call into
:mod:`twitchwise.cohort` (ibis, DuckDB and PySpark are imported there, inside functions) and
prints the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twitchwise.commands._common import echo, long_running
from twitchwise.errors import InputError

COHORT_FORMATS = ("terminal", "json", "html")

cohort_app = typer.Typer(
    name="cohort",
    help="Population analytics over a cohort of pseudonymous journals (Parquet).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def report(
    folder: Annotated[
        Path, typer.Argument(help="The cohort folder (cohort.json, people/, days/, effects/).")
    ],
    engine: Annotated[
        str,
        typer.Option("--engine", "-e", help="duckdb (embedded, the default) or spark (local)."),
    ] = "duckdb",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: terminal, json or html.")
    ] = "terminal",
) -> None:
    """Across people: which factors precede twitching, how much people differ, and which
    regions and triage levels are reported by age band, sex, season and week. No group of
    fewer than 10 people is shown.

    Example: twitchwise cohort report cohort/ --engine duckdb --format json
    """
    long_running()
    if fmt not in COHORT_FORMATS:
        raise InputError(
            f"unknown format {fmt!r}; use --format terminal, json or html", field="format"
        )
    from twitchwise.cohort.engines import require
    from twitchwise.cohort.format import read_manifest

    require(engine)
    read_manifest(folder)
    from twitchwise.cohort.report import cohort_report

    echo(cohort_report(folder, engine).render(fmt), nl=False)


def register(app: typer.Typer) -> None:
    cohort_app.command("report")(report)
    app.add_typer(cohort_app, name="cohort")
