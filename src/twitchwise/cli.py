"""The ``twitchwise`` command line: parse arguments, make one call on the application object
(:class:`twitchwise.app.Twitchwise`), render.

Each command module under :mod:`twitchwise.commands` has a ``register(app)`` that adds its
commands to the Typer app built here; the shared options live in
:mod:`twitchwise.commands._common`. Errors twitchwise raises on purpose
(:class:`~twitchwise.errors.TwitchwiseError`) become one line on stderr and exit status 2
(1 when the knowledge base itself is broken); anything else keeps its traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from twitchwise.__about__ import __version__
from twitchwise.commands import (
    admin,
    answers,
    check,
    cohort,
    eval,
    experiment,
    guide,
    insights,
    journal,
    serve,
)
from twitchwise.errors import KnowledgeError, TwitchwiseError

#: The command modules, in the order ``twitchwise --help`` lists their commands.
COMMAND_MODULES = (answers, check, eval, guide, insights, experiment, journal, serve, admin, cohort)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"twitchwise {__version__}")
        raise typer.Exit()


def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Quick, clear, evidence-based answers to 'why is my muscle twitching?'."""


def make_app() -> typer.Typer:
    """The Typer app with every command module registered on it."""
    made = typer.Typer(
        name="twitchwise",
        help=(
            "Quick, clear, evidence-based answers to 'why is my muscle twitching?'. "
            "Not a diagnosis: if you are worried, talk to a doctor."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    made.callback()(main_options)
    for module in COMMAND_MODULES:
        module.register(made)
    return made


app = make_app()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: one-line errors, exit 2 for bad input."""
    try:
        # without standalone mode, click returns the code of a ``typer.Exit`` instead of raising
        code = app(args=argv, standalone_mode=False, prog_name="twitchwise")
    except KnowledgeError as exc:
        typer.echo(
            f"twitchwise: the knowledge base is broken, so no answer is given:\n{exc}", err=True
        )
        return 1
    except TwitchwiseError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except Exception as exc:  # usage errors of the command-line parser
        if type(exc).__name__ == "NoArgsIsHelpError":
            typer.echo(exc.format_message())  # type: ignore[attr-defined]
            return 0
        formatter = getattr(exc, "format_message", None)
        if formatter is None or not hasattr(exc, "exit_code"):
            raise
        typer.echo(f"error: {formatter()} (run 'twitchwise --help')", err=True)
        return int(exc.exit_code or 2)
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def run() -> None:
    """The command line through Typer only (the console script is :func:`twitchwise.console.run`,
    which has a fast path for ``ask``)."""
    from twitchwise.console import run as console_run

    console_run()


if __name__ == "__main__":
    run()
