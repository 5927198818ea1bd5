"""What the command modules share: the options, the format checks, printing answers and
listings, writing a file the person named (owner-only), and the application object.

Every command makes its calls on :func:`twitchwise_app` (the process's
:class:`~twitchwise.app.Twitchwise`) and only translates: options in, text out.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer
    from twitchwise.app.core import Twitchwise
    from twitchwise.journal.store import Journal

ANSWER_FORMATS = ("terminal", "markdown", "html", "json")
LIST_FORMATS = ("terminal", "json")

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
    typer.echo(
        "Waiting for another twitchwise (an import?) to finish writing the journal...", err=True
    )


def check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(
            f"unknown format {value!r}; use --format with one of: {', '.join(allowed)}"
        )
    return value


def print_rows(rows: list[dict[str, str]], fmt: str) -> None:
    """A listing as JSON, or as aligned columns (id first) for the terminal."""
    check_format(fmt, LIST_FORMATS)
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    widths = {key: max(len(r[key]) for r in rows) for key in rows[0]}
    last = list(widths)[-1]
    for r in rows:
        typer.echo("  ".join(r[k] if k == last else f"{r[k]:<{widths[k]}}" for k in widths))


def terminal_style(fmt: str, width: int | None) -> tuple[bool, int | None]:
    """Colour and the terminal's width only for a real terminal; plain text otherwise."""
    tty = fmt == "terminal" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if tty and width is None:
        import shutil

        width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    return tty, width


def print_answer(answer: Answer, fmt: str, width: int | None) -> None:
    tty, width = terminal_style(fmt, width)
    typer.echo(answer.render(fmt, width=width, color=tty), nl=fmt != "terminal")


def warn_left_out(problems: list[str]) -> None:
    """One line on stderr per row the journal left out for its date (see ``Journal.read``)."""
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)


def write_private(path: Path, content: bytes | str) -> Path:
    """Write the file readable by its owner only (0600), whatever the umask; a file that was
    there gets that mode too."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if os.name != "nt":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
