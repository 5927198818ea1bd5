"""Journal commands: ``log`` (``twitch``, ``day``, free text), ``import``, ``export``, ``forget``.

Each command parses its options, makes one call on the application object
(:class:`twitchwise.app.Twitchwise`) and says what happened. SQLAlchemy, Alembic and the file
readers are imported inside the commands, so the start-up of other commands (``ask``) does
not pay for them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from twitchwise.commands._common import (
    long_running,
    open_journal,
    twitchwise_app,
    warn_left_out,
    write_private,
)
from twitchwise.errors import InputError
from twitchwise.text import plural

if TYPE_CHECKING:
    from twitchwise.journal.records import DayFactors, EpisodeIn
    from twitchwise.journal.store import ImportSummary

EXPORT_FORMATS = ("json", "csv")
#: Files at least this big get a progress bar (on a terminal).
PROGRESS_MIN_BYTES = 4 * 1024 * 1024


class _LogGroup(TyperGroup):
    """``twitchwise log TEXT...`` means ``twitchwise log text TEXT...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["text", *args]
        return super().parse_args(ctx, args)


log_app = typer.Typer(
    name="log",
    cls=_LogGroup,
    help=(
        "Log a twitch or a day's factors: twitchwise log \"left calf twitching after 3 "
        'coffees"; twitchwise log twitch --region calf; twitchwise log day --sleep-h 6.'
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _describe_episode(e: EpisodeIn, labels: dict[str, str]) -> str:
    where = labels.get(e.region or "", "no region given")
    parts = [where[0].lower() + where[1:]]
    if e.side:
        parts.append("both sides" if e.side == "both" else f"{e.side} side")
    if e.intensity is not None:
        parts.append(f"intensity {e.intensity}/5")
    if e.duration_s is not None:
        parts.append(f"{e.duration_s:g} s")
    return f"a twitch: {', '.join(parts)}, at {_when(e.at)}"


def _describe_factors(factors: DayFactors) -> str:
    from twitchwise.journal.records import FACTORS

    out = []
    for name, value in factors.values().items():
        if name in FACTORS:
            out.append(f"{FACTORS[name].label} {value:g}")
        elif isinstance(value, list):
            out.append(f"{name.replace('_', ' ')} {', '.join(value)}")
        else:
            out.append(f"{name.replace('_', ' ')} {value}")
    return "; ".join(out)


def _region_labels() -> dict[str, str]:
    return dict(twitchwise_app().regions())


# ---------------------------------------------------------------------- log


def log_twitch(
    region: Annotated[
        str,
        typer.Option(
            "--region", "-r", help="Where: a region id (region_calf) or a word (calf, eyelid)."
        ),
    ],
    side: Annotated[str | None, typer.Option("--side", "-s", help="left, right or both.")] = None,
    intensity: Annotated[
        int | None, typer.Option("--intensity", "-i", help="How strong, 1 (faint) to 5.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When, ISO 8601 (2026-03-01T07:30); default now, local time."),
    ] = None,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", help="How long it lasted, in seconds.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Anything else worth noting.")] = None,
) -> None:
    """Log one twitch episode.

    Example: twitchwise log twitch --region calf --side left --intensity 2
    """
    from twitchwise.app.entry import parse_time
    from twitchwise.journal.records import SIDES

    if side is not None and side.lower() not in SIDES:
        raise InputError(f"--side must be left, right or both, not {side!r}")
    tw = twitchwise_app()
    moment = parse_time(at)
    with open_journal() as journal:
        _, episode = tw.log_episode(
            journal,
            region,
            side=side,
            intensity=intensity,
            duration_s=duration_s,
            at=moment,
            note=note,
            at_name="--at",
        )
    typer.echo(f"Logged {_describe_episode(episode, _region_labels())}.")


def log_day(
    day: Annotated[
        str | None,
        typer.Option(
            "--date", "-d", help="The day, 2026-03-01, today or yesterday; default today."
        ),
    ] = None,
    caffeine_mg: Annotated[
        float | None, typer.Option("--caffeine-mg", help="Caffeine in mg (a mug of coffee ~ 100).")
    ] = None,
    sleep_h: Annotated[
        float | None, typer.Option("--sleep-h", help="Hours slept the night before.")
    ] = None,
    water_l: Annotated[float | None, typer.Option("--water-l", help="Water drunk, litres.")] = None,
    workout_min: Annotated[
        float | None, typer.Option("--workout-min", help="Minutes of exercise.")
    ] = None,
    workout_type: Annotated[
        str | None, typer.Option("--workout-type", help="Kind of exercise: running, legs...")
    ] = None,
    stress: Annotated[int | None, typer.Option("--stress", help="Stress, 0 (none) to 10.")] = None,
    alcohol_units: Annotated[
        float | None, typer.Option("--alcohol-units", help="Alcohol in UK units (8 g each).")
    ] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Steps walked that day.")] = None,
    hrv_ms: Annotated[
        float | None, typer.Option("--hrv-ms", help="Heart-rate variability (SDNN) in ms.")
    ] = None,
    medicines: Annotated[
        str | None,
        typer.Option("--medicines", help="Medicines taken that day, comma-separated."),
    ] = None,
) -> None:
    """Record a day's factors; options not given keep what was recorded before.

    Example: twitchwise log day --caffeine-mg 300 --sleep-h 5.5 --stress 7
    """
    from twitchwise.app.entry import parse_day

    when = parse_day(day)
    values = {
        "caffeine_mg": caffeine_mg,
        "sleep_h": sleep_h,
        "water_l": water_l,
        "workout_min": workout_min,
        "workout_type": workout_type,
        "stress": stress,
        "alcohol_units": alcohol_units,
        "steps": steps,
        "hrv_ms": hrv_ms,
        "medicines": None if medicines is None else tuple(medicines.split(",")),
    }
    tw = twitchwise_app()
    factors = tw.day_factors(values)
    if not factors.values():
        raise InputError(
            "give at least one factor, e.g. twitchwise log day --caffeine-mg 200 --sleep-h 6"
        )
    with open_journal() as journal:
        tw.set_day(journal, when, factors.values(), day_name="--date")
    typer.echo(f"Recorded for {when}: {_describe_factors(factors)}.")


def log_text(
    text: Annotated[
        list[str], typer.Argument(help="What happened, in your own words.", metavar="TEXT")
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", help="When, ISO 8601; default now. Factors go to that day."),
    ] = None,
) -> None:
    """Log in your own words; 'twitchwise log TEXT' is the same.

    Example: twitchwise log "left calf twitching again after 3 coffees"
    """
    from twitchwise.app.entry import parse_time

    tw = twitchwise_app()
    words = " ".join(text)
    entries = tw.entries_from_text(words, parse_time(at))
    if entries.empty and entries.denied:
        typer.echo(
            "Nothing logged: you wrote there was no twitching "
            "(days without episodes count as twitch-free)."
        )
        return
    if entries.empty:
        raise InputError(
            f'nothing to log in {words!r}: say where it twitches (twitchwise log "left calf '
            'twitching") or use twitchwise log twitch --region calf, '
            "twitchwise log day --caffeine-mg 200"
        )
    with open_journal() as journal:
        journal.log(entries.episodes, entries.day, entries.factors)
    labels = _region_labels()
    for episode in entries.episodes:
        typer.echo(f"Logged {_describe_episode(episode, labels)}.")
    if entries.factors.values():
        typer.echo(f"Recorded for {entries.day}: {_describe_factors(entries.factors)}.")
    if entries.not_understood:
        typer.echo(f"Not understood: {'; '.join(entries.not_understood)}")


# ---------------------------------------------------------------------- import


def import_files(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="FIT, GPX, TCX, Apple Health export.xml/export.zip, daily CSV or JSON export.",
            metavar="FILE",
            show_default=False,
        ),
    ],
) -> None:
    """Import workouts and daily factors from files; the format is read from the content.

    All files are read and checked first and then written in one transaction: a bad file
    changes nothing. A file imported before adds nothing.

    Example: twitchwise import export.zip morning-run.fit
    """
    long_running()
    from twitchwise.journal.imports import FORMATS, describe_import

    tw = twitchwise_app()
    found = tw.prepare_import([(p, str(p)) for p in files])  # a wrong file opens nothing
    with open_journal() as journal, _Progress() as progress:
        summaries = tw.import_files(journal, found, progress)
    # files written first, then those that added nothing (imported before or given twice)
    for summary in sorted(summaries, key=_skipped):
        typer.echo(describe_import(summary, FORMATS))


def _skipped(summary: ImportSummary) -> bool:
    return summary.already_imported is not None


class _Progress:
    """A Rich progress bar on stderr for big files, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, path: Path, size: int) -> Any:
        if self.bar is None or size < PROGRESS_MIN_BYTES:
            return None
        task = self.bar.add_task(f"reading {path.name}", total=size)

        def update(done: int, total: int) -> None:
            self.bar.update(task, completed=done, total=max(total, 1))

        return update


# ---------------------------------------------------------------------- export, forget


def export(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json (everything) or csv (daily).")
    ] = "json",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (owner-only) instead of stdout."),
    ] = None,
) -> None:
    """Export the journal: JSON with every episode, day, workout and self-experiment, or the
    daily CSV.

    Both can be imported again (twitchwise import FILE).

    Example: twitchwise export --format csv --output journal.csv
    """
    long_running()
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use --format json or --format csv")
    with open_journal() as journal:  # written as it is read: a chunk at a time
        exported = twitchwise_app().export(journal, fmt)
        if output is None:
            _print_chunks(exported.chunks)
        else:
            write_private(output, exported.chunks)
    warn_left_out(exported.problems)
    if output is None:
        return
    counts = exported.counts
    experiments = counts.get("experiments", 0) if fmt == "json" else 0
    what = [
        plural(counts["episodes"], "episode"),
        plural(counts["days"], "day"),
        plural(counts["workouts"], "workout"),
        *([plural(experiments, "self-experiment")] if experiments else []),
    ]
    typer.echo(f"Wrote {', '.join(what[:-1])} and {what[-1]} to {output} ({fmt}).")


def _print_chunks(chunks: Iterable[bytes]) -> None:
    """Bytes to standard output as they come (as text where it takes no bytes)."""
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None)
    for chunk in chunks:
        if binary is not None:
            binary.write(chunk)
        else:
            sys.stdout.write(chunk.decode("utf-8"))
    (binary or sys.stdout).flush()


def forget(
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: delete every record and the import log.")
    ] = False,
) -> None:
    """Delete everything in the journal: episodes, days, workouts, self-experiments and the
    import log.

    Example: twitchwise forget --yes
    """
    if not yes:
        raise InputError(
            f"forget deletes every record in the journal at "
            f"{twitchwise_app().journal_settings.where}; "
            "run 'twitchwise forget --yes' to confirm (export it first to keep a copy)"
        )
    with open_journal() as journal:
        counts = journal.forget()
        where = journal.where
    if not any(counts.values()):
        typer.echo(f"The journal at {where} was already empty; nothing deleted.")
        return
    what = [
        plural(counts["episodes"], "episode"),
        plural(counts["days"], "day"),
        plural(counts["workouts"], "workout"),
    ]
    if counts.get("experiments"):
        checked = plural(counts.get("experiment_days", 0), "check-in")
        what.append(f"{plural(counts['experiments'], 'self-experiment')} ({checked})")
    what.append(plural(counts["imports"], "import record"))
    typer.echo(f"Deleted {', '.join(what[:-1])} and {what[-1]} from {where}. The journal is empty.")


def register(app: typer.Typer) -> None:
    log_app.command("twitch")(log_twitch)
    log_app.command("day")(log_day)
    log_app.command("text")(log_text)
    app.add_typer(log_app, name="log")
    app.command("import")(import_files)
    app.command("export")(export)
    app.command("forget")(forget)
