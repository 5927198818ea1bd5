"""The ``twitchwise`` command line: parse arguments, make one library call, render.

Errors twitchwise raises on purpose (:class:`~twitchwise.errors.TwitchwiseError`) become one
line on stderr and exit status 2 (1 when the knowledge base itself is broken); anything else
keeps its traceback.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.__about__ import __version__
from twitchwise.errors import InputError, KnowledgeError, TwitchwiseError

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer

app = typer.Typer(
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


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(
            f"unknown format {value!r}; use --format with one of: {', '.join(allowed)}"
        )
    return value


def _version(value: bool) -> None:
    if value:
        typer.echo(f"twitchwise {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Quick, clear, evidence-based answers to 'why is my muscle twitching?'."""


@app.command()
def ask(
    text: Annotated[
        list[str] | None,
        typer.Argument(help="Your description in your own words; '-' or nothing reads stdin."),
    ] = None,
    fmt: FormatOpt = "terminal",
    age: AgeOpt = None,
    sex: SexOpt = None,
    width: WidthOpt = None,
) -> None:
    """Describe your twitch in your own words and get a Quick Clear Answer.

    Example: twitchwise ask "my eyelid has twitched for 3 days, I sleep 5 hours"
    """
    from twitchwise.answer.build import ask as build_answer

    _check_format(fmt, ANSWER_FORMATS)
    words = " ".join(text or [])
    if words.strip() in ("", "-") and not sys.stdin.isatty():
        words = sys.stdin.read()
    answer = build_answer(words, age=age, sex=sex)
    _print_answer(answer, fmt, width)


@app.command()
def assess(
    findings: Annotated[
        str,
        typer.Option(
            "--findings", help="Comma-separated finding ids; prefix '!' for one you do not have."
        ),
    ],
    fmt: FormatOpt = "terminal",
    age: AgeOpt = None,
    sex: SexOpt = None,
    width: WidthOpt = None,
) -> None:
    """Assess finding ids instead of text: --findings twitching,region_calf,!weakness.

    A '!' before an id marks a finding the person does not have. Run 'twitchwise findings'
    for the ids.
    """
    from twitchwise.answer.build import assess as build_answer

    _check_format(fmt, ANSWER_FORMATS)
    ids = [part for part in findings.split(",") if part.strip()]
    if not ids:
        raise InputError(
            "give at least one finding id with --findings, e.g. --findings twitching,!weakness"
        )
    answer = build_answer(ids, age=age, sex=sex)
    _print_answer(answer, fmt, width)


@app.command()
def findings(fmt: ListFormatOpt = "terminal") -> None:
    """List every finding id with its label and kind."""
    from twitchwise.knowledge.load import load_knowledge

    kb = load_knowledge()
    rows = [
        {"id": f.id, "label": f.label, "kind": f.kind}
        for f in kb.findings.values()
        if f.kind != "cue"  # internal words for composing findings, not findings themselves
    ]
    _print_rows(rows, fmt)


@app.command()
def causes(fmt: ListFormatOpt = "terminal") -> None:
    """List every cause id with its name."""
    from twitchwise.knowledge.load import load_knowledge

    kb = load_knowledge()
    _print_rows([{"id": c.id, "name": c.name} for c in kb.causes.values()], fmt)


def _print_rows(rows: list[dict[str, str]], fmt: str) -> None:
    """A listing as JSON, or as aligned columns (id first) for the terminal."""
    _check_format(fmt, LIST_FORMATS)
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    widths = {key: max(len(r[key]) for r in rows) for key in rows[0]}
    last = list(widths)[-1]
    for r in rows:
        typer.echo("  ".join(r[k] if k == last else f"{r[k]:<{widths[k]}}" for k in widths))


def _print_answer(answer: Answer, fmt: str, width: int | None) -> None:
    """Colour and the terminal's width only for a real terminal; plain text otherwise."""
    tty = fmt == "terminal" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if tty and width is None:
        import shutil

        width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    typer.echo(answer.render(fmt, width=width, color=tty), nl=fmt != "terminal")


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
    """The console script: run, flush, and leave without the interpreter's slow teardown.

    Every command has finished its work and closed its files when ``main`` returns, so the
    process can end at once; this saves about 50 ms of each ``twitchwise`` run.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# Feature commands register themselves on ``app`` (one module each; imports stay lazy inside).
# fmt: off
# isort: off
# (add one import line per feature module below)
import twitchwise.commands.check  # noqa: E402,F401
import twitchwise.commands.eval  # noqa: E402,F401
import twitchwise.commands.guide  # noqa: E402,F401
import twitchwise.commands.insights  # noqa: E402,F401
import twitchwise.commands.journal  # noqa: E402,F401
import twitchwise.commands.serve  # noqa: E402,F401
# isort: on
# fmt: on


if __name__ == "__main__":
    # Run the package's own module, on which the feature commands registered themselves
    # (when run as a script this file is a second module called __main__).
    from twitchwise.cli import run as _run

    _run()
