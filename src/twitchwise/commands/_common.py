"""What the command modules share: the options, the format checks, printing answers and
listings, writing a file the person named (owner-only), and the application object.

Every command makes its calls on :func:`twitchwise_app` (the process's
:class:`~twitchwise.app.Twitchwise`) and only translates: options in, text out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

__all__ = [
    "ANSWER_FORMATS",
    "LIST_FORMATS",
    "AgeOpt",
    "FormatOpt",
    "ListFormatOpt",
    "SexOpt",
    "WidthOpt",
    "check_format",
    "echo",
    "long_running",
    "open_journal",
    "print_answer",
    "print_rows",
    "terminal_style",
    "twitchwise_app",
    "warn_left_out",
    "write_private",
]

from twitchwise.commands.output import (
    ANSWER_FORMATS,
    LIST_FORMATS,
    check_format,
    echo,
    print_answer,
    print_rows,
    terminal_style,
    write_private,
)

if TYPE_CHECKING:
    from twitchwise.app.core import Twitchwise
    from twitchwise.journal.store import Journal

FormatOpt = Annotated[
    str,
    typer.Option("--format", "-f", help="Output format: terminal, markdown, html or json."),
]
ListFormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="Output format: terminal or json.")
]
AgeOpt = Annotated[int | None, typer.Option("--age", help="Age in years (0-120).")]
SexOpt = Annotated[str | None, typer.Option("--sex", help="female or male.")]
WidthOpt = Annotated[int | None, typer.Option("--width", hidden=True)]


def long_running() -> None:
    """Turn the cyclic garbage collector back on (the console script pauses it while a command
    starts, see :func:`twitchwise.cli.run`): for commands that serve, or read or build much."""
    import gc

    gc.enable()


def twitchwise_app() -> Twitchwise:
    """The application object every command uses (one per process)."""
    from twitchwise.app.core import default

    return default()


def open_journal() -> Journal:
    """The journal, opened; a writer that has to wait for an import says so on stderr."""
    journal = twitchwise_app().open_journal()
    journal.on_wait = _say_waiting
    return journal


def _say_waiting() -> None:
    echo("Waiting for another twitchwise (an import?) to finish writing the journal...", err=True)


def warn_left_out(problems: list[str]) -> None:
    """One line on stderr per row the journal left out for its date (see ``Journal.read``)."""
    for problem in problems:
        echo(f"warning: {problem}", err=True)
