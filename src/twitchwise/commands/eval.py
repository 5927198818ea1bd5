"""``twitchwise eval CASES.yaml``: score twitchwise on a file of clinician-labelled cases.

The scoring lives in :mod:`twitchwise.app.evaluation`; this command only reads the options, makes
one call and prints. Exit status 1 when an urgent or emergency case is under-triaged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from twitchwise.commands._common import (
    WidthOpt,
    check_format,
    long_running,
    terminal_style,
    twitchwise_app,
)

EVAL_FORMATS = ("terminal", "json", "html")


def eval_(
    cases: Annotated[
        Path,
        typer.Argument(
            metavar="CASES.yaml", help="A YAML file of labelled cases (format: docs/eval.md)."
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: terminal, json or html.")
    ] = "terminal",
    width: WidthOpt = None,
) -> None:
    """Score triage, causes, findings and calibration on labelled cases, for clinicians.

    Exit status 1 when an urgent or emergency case was triaged lower than expected.
    Example: twitchwise eval cases.yaml --format html > eval.html
    """
    long_running()
    check_format(fmt, EVAL_FORMATS)
    from twitchwise.app.evaluation.score import evaluate_file

    with _progress() as step:
        result = evaluate_file(cases, progress=step, tw=twitchwise_app())
    tty, width = terminal_style(fmt, width)
    typer.echo(result.render(fmt, width=width, color=tty), nl=False)
    if result.failed:
        if fmt != "terminal":  # the terminal report already says so, in red
            ids = ", ".join(m.id for m in result.under_triaged)
            typer.echo(
                f"twitchwise eval: {len(result.under_triaged)} urgent or emergency case(s) "
                f"under-triaged ({ids}); exit status 1",
                err=True,
            )
        raise typer.Exit(1)


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A transient progress bar on standard error when it is a terminal; otherwise none."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("answering cases"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_)
