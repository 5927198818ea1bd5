"""What the commands print, without Typer: format checks, answers, listings, owner-only files.

The console script's fast path for ``twitchwise ask`` (:mod:`twitchwise.console`) uses this
module without loading Typer; the Typer commands use it too, so both print the same bytes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer

ANSWER_FORMATS = ("terminal", "markdown", "html", "json")
LIST_FORMATS = ("terminal", "json")


def echo(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Write a line to standard output (or error) and flush it."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + ("\n" if nl else ""))
    stream.flush()


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
        echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    widths = {key: max(len(r[key]) for r in rows) for key in rows[0]}
    last = list(widths)[-1]
    for r in rows:
        echo("  ".join(r[k] if k == last else f"{r[k]:<{widths[k]}}" for k in widths))


def terminal_style(fmt: str, width: int | None) -> tuple[bool, int | None]:
    """Colour and the terminal's width only for a real terminal; plain text otherwise."""
    tty = fmt == "terminal" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if tty and width is None:
        import shutil

        width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    return tty, width


def print_answer(answer: Answer, fmt: str, width: int | None) -> None:
    tty, width = terminal_style(fmt, width)
    echo(answer.render(fmt, width=width, color=tty), nl=fmt != "terminal")


def ask(
    text: list[str] | None, fmt: str, age: int | None, sex: str | None, width: int | None
) -> None:
    """``twitchwise ask``: the words given (or standard input when there are none, or "-"),
    answered by the application object and printed."""
    from twitchwise.app.core import default

    check_format(fmt, ANSWER_FORMATS)
    words = " ".join(text or [])
    if words.strip() in ("", "-") and not sys.stdin.isatty():
        words = sys.stdin.read()
    print_answer(default().ask(words, age=age, sex=sex), fmt, width)


def write_private(path: Path, content: bytes | str | Iterable[bytes]) -> Path:
    """Write the file readable by its owner only (0600), whatever the umask; a file that was
    there gets that mode too. ``content`` may come in chunks (a large export, written as it
    is read): the file is opened once the first chunk is there, so a content that fails
    before its first chunk leaves a file that was there as it was."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    chunks = iter((content,)) if isinstance(content, bytes) else iter(content)
    first = next(chunks, b"")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if os.name != "nt":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(first)
            for chunk in chunks:
                out.write(chunk)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
