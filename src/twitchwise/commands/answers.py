"""``twitchwise ask``, ``assess``, ``findings`` and ``causes``: answers and the ids they use."""

from __future__ import annotations

from typing import Annotated

import typer

from twitchwise.commands import output
from twitchwise.commands._common import (
    ANSWER_FORMATS,
    AgeOpt,
    FormatOpt,
    ListFormatOpt,
    SexOpt,
    WidthOpt,
    check_format,
    print_answer,
    print_rows,
    twitchwise_app,
)
from twitchwise.errors import InputError


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
    output.ask(text, fmt, age, sex, width)


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
    check_format(fmt, ANSWER_FORMATS)
    ids = [part for part in findings.split(",") if part.strip()]
    if not ids:
        raise InputError(
            "give at least one finding id with --findings, e.g. --findings twitching,!weakness"
        )
    print_answer(twitchwise_app().assess(ids, age=age, sex=sex), fmt, width)


def findings(fmt: ListFormatOpt = "terminal") -> None:
    """List every finding id with its label and kind."""
    print_rows(twitchwise_app().findings(), fmt)


def causes(fmt: ListFormatOpt = "terminal") -> None:
    """List every cause id with its name."""
    print_rows(twitchwise_app().causes(), fmt)


def register(app: typer.Typer) -> None:
    for command in (ask, assess, findings, causes):
        app.command()(command)
