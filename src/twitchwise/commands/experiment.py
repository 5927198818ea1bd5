"""Self-experiment commands: ``experiment start``, ``status``, ``log``, ``stop``, ``result``.

Each opens the journal (where the experiment is kept, so it survives a restart), makes one
call on the application object and prints what it gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.commands._common import open_journal, twitchwise_app, write_private
from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.insights.experiment import ExperimentStatus

FORMATS = ("terminal", "json")

experiment_app = typer.Typer(
    name="experiment",
    help=(
        "Test a change on yourself: randomised blocks of usual and changed days, "
        "then the effect on your twitching."
    ),
    no_args_is_help=True,
)

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="Output format: terminal or json.")]


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use --format terminal or --format json")


def _print(status: ExperimentStatus, fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(status.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(status.render_terminal(), nl=False)


def start(
    kind: Annotated[
        str,
        typer.Argument(help="caffeine, sleep, magnesium_food, stretching or custom."),
    ],
    weeks: Annotated[int, typer.Option("--weeks", help="How long, in weeks (1-52).")] = 6,
    block_days: Annotated[int, typer.Option("--block-days", help="Days in each block (1-28).")] = 7,
    washout_days: Annotated[
        int,
        typer.Option(
            "--washout-days", help="Days not counted at the start of a block after a switch."
        ),
    ] = 2,
    change: Annotated[
        str | None, typer.Option("--change", help="Your own change, for the custom kind.")
    ] = None,
    fmt: FormatOpt = "terminal",
) -> None:
    """Start a self-experiment: a random, balanced order of usual and changed blocks.

    Example: twitchwise experiment start caffeine --weeks 6 --block-days 7 --washout-days 2
    """
    _check(fmt)
    tw = twitchwise_app()
    with open_journal() as journal:
        status = tw.experiment_start(
            journal,
            kind,
            weeks=weeks,
            block_days=block_days,
            washout_days=washout_days,
            change=change,
        )
    if fmt == "json":
        _print(status, fmt)
        return
    lines = [
        f"Started: {status.name}, {status.started_on} to {status.end}, "
        f"{len(status.blocks)} blocks of {status.block_days} days in a random, balanced order:"
    ]
    for b in status.blocks:
        lines.append(f"  block {b['block']}, {b['from']} to {b['to']}: {b['condition']}")
    lines.append(f"On usual blocks: {status.usual}.")
    lines.append(f"On change blocks: {status.change}.")
    if status.washout_days:
        lines.append(
            f"The first {status.washout_days} days of a block that switches are washout days: "
            "keep to the block's plan; they are not counted."
        )
    typer.echo("\n".join(lines) + "\n")
    _print(status, fmt)


def status(fmt: FormatOpt = "terminal") -> None:
    """Today's instruction, adherence so far and days left of the latest experiment.

    Example: twitchwise experiment status
    """
    _check(fmt)
    tw = twitchwise_app()
    with open_journal() as journal:
        _print(tw.experiment_status(journal), fmt)


def log(
    followed: Annotated[
        bool,
        typer.Option(
            "--followed/--missed",
            help="--followed: you kept to the plan that day; --missed: you did not.",
        ),
    ],
    day: Annotated[
        str | None,
        typer.Option(
            "--date", "-d", help="The day, 2026-03-01, today or yesterday; default today."
        ),
    ] = None,
) -> None:
    """Check in for a day: whether you kept to the plan (it also marks the day recorded).

    Example: twitchwise experiment log --followed --date yesterday
    """
    from twitchwise.app.entry import parse_day

    tw = twitchwise_app()
    when = parse_day(day)
    with open_journal() as journal:
        now = tw.experiment_check_in(journal, followed, when)
    kept = "kept to the plan" if followed else "did not keep to the plan"
    typer.echo(f"Checked in for {when}: {kept}. Adherence so far: {now.adherence.words()}.")


def stop(
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why you stopped, kept with the result.")
    ] = None,
) -> None:
    """Stop the running experiment early; today is its last day.

    Example: twitchwise experiment stop --reason "a week of night shifts"
    """
    tw = twitchwise_app()
    with open_journal() as journal:
        now = tw.experiment_stop(journal, reason)
    typer.echo(
        f"Stopped {now.name} on {now.today} (planned to run until {now.end}). "
        "'twitchwise experiment result' gives what it showed; a stopped experiment is reported "
        "as stopped."
    )


def result(
    fmt: FormatOpt = "terminal",
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also write experiment.svg into this folder."),
    ] = None,
) -> None:
    """The effect of the change on your twitching, with its interval and what it does not prove.

    Example: twitchwise experiment result --chart charts/
    """
    _check(fmt)
    tw = twitchwise_app()
    with open_journal() as journal:
        found = tw.experiment_result(journal)
    if fmt == "json":
        typer.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(found.render_terminal(), nl=False)
    if chart is not None:
        from twitchwise.commands.insights import _folder
        from twitchwise.insights.experiment import result_svg

        path = write_private(_folder(chart) / "experiment.svg", result_svg(found))
        typer.echo(f"Wrote {path}.", err=fmt == "json")


def register(app: typer.Typer) -> None:
    experiment_app.command("start")(start)
    experiment_app.command("status")(status)
    experiment_app.command("log")(log)
    experiment_app.command("stop")(stop)
    experiment_app.command("result")(result)
    app.add_typer(experiment_app, name="experiment")
