"""The console script ``twitchwise``: a fast path for ``twitchwise ask``, Typer for the rest.

``twitchwise ask`` is the command people run most and the one whose start-up they feel.
Typer builds every command's options on each run (about 35 ms), so a plain ``ask`` with the
options it documents (TEXT..., ``--format/-f``, ``--age``, ``--sex``) is read here with
:mod:`argparse` and answered through the same code (:func:`twitchwise.commands.output.ask`).
Anything else — another command, ``--help``, an option this parser does not take, a value it
cannot read — goes to the Typer app (:mod:`twitchwise.cli`), which gives the usual help and
the usual one-line errors. ``tests/test_console.py`` holds the two parsers to the same options.
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["ASK_OPTIONS", "ask_arguments", "main", "run"]

#: The options of ``twitchwise ask`` this parser reads, as Typer declares them.
ASK_OPTIONS = ("--format", "-f", "--age", "--sex", "--width")


def ask_arguments(args: list[str]) -> argparse.Namespace | None:
    """``ask``'s arguments when this parser can read all of them, else None (Typer's turn)."""
    import argparse

    if any(a in ("--help", "-h") or a.startswith("--format=") for a in args):
        return None
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("text", nargs="*")
    parser.add_argument("--format", "-f", dest="fmt", default="terminal")
    parser.add_argument("--age", type=int)
    parser.add_argument("--sex")
    parser.add_argument("--width", type=int)
    try:
        found, rest = parser.parse_known_intermixed_args(args)
    except (argparse.ArgumentError, SystemExit, TypeError, ValueError):
        return None
    return None if rest else found


def main(argv: list[str] | None = None) -> int:
    """Run one command: ``ask`` on the fast path when it can, else through Typer."""
    args = sys.argv[1:] if argv is None else argv
    found = ask_arguments(args[1:]) if args[:1] == ["ask"] else None
    if found is None:
        from twitchwise.cli import main as typer_main

        return typer_main(args)
    from twitchwise.commands.output import ask, echo
    from twitchwise.errors import KnowledgeError, TwitchwiseError

    try:
        ask(found.text, found.fmt, found.age, found.sex, found.width)
    except KnowledgeError as exc:
        echo(f"twitchwise: the knowledge base is broken, so no answer is given:\n{exc}", err=True)
        return 1
    except TwitchwiseError as exc:
        echo(f"error: {exc}", err=True)
        return 2
    return 0


def run() -> None:
    """The console script (``[project.scripts]``) and ``python -m twitchwise``.

    Start-up creates many objects that live until the end (the knowledge base, the parser),
    so the cyclic garbage collector is paused while a command starts (commands that run long
    or read big files turn it back on: :func:`twitchwise.commands._common.long_running`), and
    everything left is frozen before the interpreter exits, so that its last collection does
    not walk it. Output is flushed and atexit handlers run as usual.
    """
    gc.disable()
    try:
        code = main()
    finally:
        gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
