"""The journal's use cases, written once for every interface: log an episode or a day, import
files, export, the insights, the doctor report and the journal page's overview.

Each checks its input with the journal's own rules (:mod:`twitchwise.journal.dates`,
:mod:`twitchwise.journal.records`) and raises :class:`~twitchwise.errors.InputError` naming the
field at fault; the command line and the web only translate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.app.core import Progress, Twitchwise
    from twitchwise.insights.alerts import Alert
    from twitchwise.insights.analysis import Insights
    from twitchwise.insights.experiment import ExperimentResult
    from twitchwise.journal.records import DayFactors, EpisodeIn
    from twitchwise.journal.rows import DayRow, EpisodeRow, ExperimentRow, WorkoutRow
    from twitchwise.journal.store import ImportSummary, Journal, JournalData
    from twitchwise.journal.summary import JournalSummary

__all__ = [
    "EXPORT_FORMATS",
    "REPORT_FORMATS",
    "ImportFile",
    "JournalOverview",
    "Output",
    "day_factors",
    "export",
    "import_files",
    "insights",
    "log_episode",
    "overview",
    "prepare_import",
    "report",
    "report_output",
    "require_insights",
    "require_report",
    "set_day",
]

EXPORT_FORMATS = ("json", "csv")
REPORT_FORMATS = ("html", "pdf", "fhir")
SIDES = ("left", "right", "both")


def log_episode(
    tw: Twitchwise,
    journal: Journal,
    region: str | None,
    *,
    side: str | None = None,
    intensity: int | None = None,
    duration_s: float | None = None,
    at: datetime | None = None,
    note: str | None = None,
    at_name: str = "at",
) -> tuple[int, EpisodeIn]:
    """Log one episode; ``region`` is an id or a plain word, ``at`` defaults to now. Returns
    its row id and the episode as stored, with its random ``public_id`` (the id the hosted
    API gives it)."""
    from twitchwise.app.entry import check_moment, region_id
    from twitchwise.journal.records import EpisodeIn

    if region is None or not region.strip():
        raise InputError("say which body region twitched, e.g. calf or eyelid", field="region")
    found = region_id(tw.kb, region)
    if side is not None and side.lower() not in SIDES:
        raise InputError(f"side must be left, right or both, not {side!r}", field="side")
    moment = check_moment(at, name=at_name)
    episode = EpisodeIn(
        at=moment,
        day=moment.date(),
        region=found,
        side=side.lower() if side else None,
        intensity=intensity,
        duration_s=duration_s,
        note=note.strip() or None if note else None,
        public_id=uuid.uuid4(),
    )
    (episode_id,) = journal.log([episode])
    return episode_id, episode


def set_day(
    journal: Journal, day: date, values: Mapping[str, Any], *, day_name: str = "day"
) -> DayFactors:
    """Set the given factors of ``day`` (others are kept); returns the whole day."""
    from twitchwise.journal.dates import RULE, date_problem

    problem = date_problem(day)
    if problem is not None:
        raise InputError(f"{day_name}: {problem}; {RULE}", field="day")
    factors = day_factors(values)
    if not factors.values():
        raise InputError("give at least one factor, e.g. caffeine_mg or sleep_h", field="body")
    return journal.set_day(day, factors)


def day_factors(values: Mapping[str, Any]) -> DayFactors:
    """A day's factors from what a person gave (None: not given), tidied and checked:
    medicines stripped of blanks, the workout's kind cut to 64 characters."""
    from twitchwise.journal.records import DayFactors

    given = {k: v for k, v in values.items() if v is not None}
    if "medicines" in given:
        given["medicines"] = tuple(m.strip() for m in given["medicines"] if m.strip())
    if "workout_type" in given:
        given["workout_type"] = given["workout_type"].strip()[:64] or None
    return DayFactors(**given).checked()


@dataclass(frozen=True)
class ImportFile:
    """A file to import, found and fingerprinted before the journal is touched."""

    path: Path
    name: str  # as the person called it (errors say this)
    format: str
    digest: str
    size: int

    @property
    def shown(self) -> str:
        """The file's own name, without folders (summaries and the import log say this)."""
        return Path(self.name).name


def prepare_import(files: Sequence[tuple[Path, str]]) -> list[ImportFile]:
    """Each file's format and fingerprint: a file that is not one twitchwise can import is an
    :class:`InputError` naming it, before anything is opened or written."""
    from twitchwise.journal.imports import detect_format, fingerprint

    found = []
    for path, name in files:
        fmt = _named(name, path, partial(detect_format, path))
        digest, size = _named(name, path, partial(fingerprint, path))
        found.append(ImportFile(path, name, fmt, str(digest), int(size)))
    return found


def import_files(
    journal: Journal,
    files: Sequence[ImportFile | tuple[Path, str]],
    progress: Progress | None = None,
) -> list[ImportSummary]:
    """Import files, given as (path, name to show in messages) or as prepared.

    Every file's format is found and fingerprinted first (a wrong file changes nothing), then
    each new one is read and all are written in one transaction. A file imported before, or
    the same content given twice, adds nothing and is reported as already imported.
    Summaries come in the order the files were given.
    """
    from twitchwise.journal.imports import read_batch
    from twitchwise.journal.store import FileInfo, ImportSummary

    pairs = [f for f in files if not isinstance(f, ImportFile)]
    prepared = iter(prepare_import(pairs))
    found = [f if isinstance(f, ImportFile) else next(prepared) for f in files]
    order: list[ImportSummary | None] = []
    items = []
    seen: set[str] = set()
    for f in found:
        before = journal.imported(f.digest)
        if before is not None or f.digest in seen:
            label = f.format.removesuffix("_zip")
            order.append(ImportSummary(f.shown, label, before or datetime.now(UTC)))
            continue
        seen.add(f.digest)
        update = progress(f.path, f.size) if progress is not None else None
        batch = _named(f.name, f.path, partial(read_batch, f.path, f.format, update))
        items.append((FileInfo(f.shown, f.digest, f.size, batch.format), batch))
        order.append(None)
    written = iter(journal.import_files(items))
    return [summary if summary is not None else next(written) for summary in order]


def _named(name: str, path: Path, step: Callable[[], Any]) -> Any:
    """Run one step of reading a file; its errors name the file as the person called it."""
    try:
        return step()
    except InputError as exc:
        message = str(exc) if name == str(path) else str(exc).replace(str(path), name)
        raise InputError(message, field="file") from None
    except OSError as exc:
        raise InputError(f"cannot import {name}: {exc.strerror or exc}", field="file") from None


@dataclass
class Output:
    """A file being made from the journal, to be read once: ``chunks`` gives its bytes a
    piece at a time, reading the journal as it goes, so read it while the journal is open.
    ``counts`` (what it holds) and ``problems`` (rows left out for their date) are complete
    once the first chunk has been given (the JSON export's episodes: once all have been)."""

    format: str
    chunks: Iterator[bytes]
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def content(self) -> bytes:
        """All of it at once (it is then held whole: for small journals)."""
        return b"".join(self.chunks)


def export(
    journal: Journal | JournalData,
    fmt: str,
    profile: Mapping[str, Any] | None = None,
    answers: Sequence[Mapping[str, Any]] | None = None,
) -> Output:
    """The JSON (everything) or daily CSV export of the journal, as an :class:`Output`: the
    JSON reads the episodes one chunk at a time as it is written, the CSV needs only the
    episodes per day (:meth:`Journal.summary`). ``profile``: the hosted account's profile,
    ``answers`` its record of answers, in the JSON only."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use json or csv", field="format")
    output = Output(fmt, iter(()))
    if fmt == "csv":
        output.chunks = _encoded(_csv_export(journal, output))
    else:
        output.chunks = _encoded(_json_export(journal, output, profile, answers))
    return output


def _csv_export(journal: Journal | JournalData, output: Output) -> Iterator[str]:
    from twitchwise.journal.export import csv_chunks

    summary = _summary(journal, notes_days=0)
    output.counts = _counts(summary.episodes, summary.days, summary.workouts)
    output.problems = list(summary.problems)
    yield from csv_chunks(summary)


def _json_export(
    journal: Journal | JournalData,
    output: Output,
    profile: Mapping[str, Any] | None = None,
    answers: Sequence[Mapping[str, Any]] | None = None,
) -> Iterator[str]:
    from twitchwise.journal.export import json_chunks

    with _reading(journal) as (episodes, days, workouts, experiments, problems):
        counted = _Counted(episodes)
        yield from json_chunks(counted, days, workouts, experiments, profile, answers)
        output.counts = _counts(counted.n, days, workouts, experiments)
        output.problems = problems()


def _counts(
    episodes: int, days: Sequence[Any], workouts: Sequence[Any], experiments: Sequence[Any] = ()
) -> dict[str, int]:
    return {
        "episodes": episodes,
        "days": len(days),
        "workouts": len(workouts),
        "experiments": len(experiments),
    }


@contextmanager
def _reading(
    journal: Journal | JournalData,
) -> Iterator[
    tuple[
        Callable[[], Iterable[EpisodeRow]],
        list[DayRow],
        list[WorkoutRow],
        list[ExperimentRow],
        Callable[[], list[str]],
    ]
]:
    """The journal to read once: (a function giving its episodes in order, its days, its
    workouts, its experiments, a function giving the rows left out). From the database, one
    transaction that streams the episodes (:meth:`Journal.stream`); else the data as it is."""
    from twitchwise.journal.store import Journal

    if isinstance(journal, Journal):
        with journal.stream() as stream:
            yield (
                stream.episodes,
                stream.days,
                stream.workouts,
                stream.experiments,
                lambda: stream.problems,
            )
    else:
        data = journal
        yield (
            lambda: data.episodes,
            data.days,
            data.workouts,
            data.experiments,
            lambda: list(data.problems),
        )


class _Counted:
    """The items of ``items()`` passed through, counted (``n``: those of the last pass)."""

    def __init__(self, items: Callable[[], Iterable[Any]]) -> None:
        self.items = items
        self.n = 0

    def __call__(self) -> Iterator[Any]:
        self.n = 0
        for item in self.items():
            self.n += 1
            yield item

    def __iter__(self) -> Iterator[Any]:
        return self()


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


def _summary(
    journal: Journal | JournalData | JournalSummary, notes_days: int | None = None
) -> JournalSummary:
    """The journal's summary (:class:`~twitchwise.journal.summary.JournalSummary`), with the
    notes the alerts read unless ``notes_days`` says otherwise: read from the database in
    bounded memory, or made from data already read."""
    from twitchwise.insights.source import NOTES_DAYS
    from twitchwise.journal.store import Journal
    from twitchwise.journal.summary import JournalSummary

    days = NOTES_DAYS if notes_days is None else notes_days
    if isinstance(journal, Journal):
        return journal.summary(days)
    if isinstance(journal, JournalSummary):
        return journal
    return JournalSummary.of(journal, days)


def require_insights() -> None:
    """A :class:`~twitchwise.errors.ConfigError` naming the extra when it is not installed."""
    from twitchwise.insights.analysis import require_extra

    require_extra()


def require_report(fmt: str) -> None:
    """As :func:`require_insights`, for the doctor report in ``fmt``."""
    from twitchwise.insights.analysis import STATS_MODULES, require_extra

    if fmt not in REPORT_FORMATS:
        raise InputError(
            f"unknown report format {fmt!r}; use {', '.join(REPORT_FORMATS)}", field="format"
        )
    if fmt == "fhir":
        require_extra(("fhir.resources",), "pip install 'twitchwise[report]'")
        return
    modules = STATS_MODULES + (("fpdf",) if fmt == "pdf" else ())
    require_extra(modules, "pip install 'twitchwise[insights,report]'")


def insights(tw: Twitchwise, journal: Journal | JournalData | JournalSummary) -> Insights:
    """The insights of a journal, made from its summary (:meth:`Journal.summary`: the
    episodes as counts, not one by one)."""
    from twitchwise.insights.analysis import analyse

    require_insights()
    return analyse(_summary(journal), kb=tw.kb, parser=tw.parser)


def report(tw: Twitchwise, journal: Journal | JournalData, fmt: str) -> bytes:
    """The doctor report: ``html``, ``pdf`` or ``fhir`` (a FHIR R4 bundle as JSON), whole."""
    return report_output(tw, journal, fmt).content()


def report_output(tw: Twitchwise, journal: Journal | JournalData, fmt: str) -> Output:
    """The doctor report as an :class:`Output`. The HTML and PDF are made from the journal's
    summary. The FHIR bundle holds every episode: it is checked first
    (:func:`twitchwise.insights.fhir.fhir_chunks`), then written a chunk at a time, and
    ``counts["observations"]`` says how many Observations it holds; a bundle that would not
    be valid raises ``ValueError`` at the first chunk, before any byte."""
    require_report(fmt)
    output = Output(fmt, iter(()))
    make = _fhir_report if fmt == "fhir" else _report
    output.chunks = make(tw, journal, output)
    return output


def _report(tw: Twitchwise, journal: Journal | JournalData, output: Output) -> Iterator[bytes]:
    from twitchwise.insights.analysis import analyse
    from twitchwise.insights.report import build_report, render_html, render_pdf

    summary = _summary(journal)
    output.problems = list(summary.problems)
    experiments = _experiment_results(tw, journal, summary)
    built = build_report(
        summary,
        analyse(summary, kb=tw.kb, parser=tw.parser),
        kb=tw.kb,
        experiments=experiments,
    )
    yield render_pdf(built) if output.format == "pdf" else render_html(built).encode("utf-8")


def _experiment_results(
    tw: Twitchwise, journal: Journal | JournalData, summary: JournalSummary
) -> list[ExperimentResult]:
    """The results of the journal's finished or stopped self-experiments."""
    from twitchwise.app.experiment import results_of
    from twitchwise.journal.store import Journal

    rows = journal.experiments() if isinstance(journal, Journal) else journal.experiments
    return results_of(tw, rows, summary) if rows else []


def _fhir_report(tw: Twitchwise, journal: Journal | JournalData, output: Output) -> Iterator[bytes]:
    from twitchwise.app.experiment import results_of
    from twitchwise.insights.fhir import fhir_chunks
    from twitchwise.journal.factors import FACTORS

    with _reading(journal) as (episodes, days, _, rows, problems):
        results = results_of(tw, rows, _summary(journal, notes_days=0)) if rows else []
        counted = _Counted(episodes)
        # reads and checks every entry first
        chunks = fhir_chunks(counted, days, kb=tw.kb, experiments=results)
        factors = sum(1 for d in days for name in FACTORS if getattr(d.factors, name) is not None)
        output.counts = {"observations": counted.n + factors + len(results)}
        output.problems = problems()
        yield from _encoded(chunks)


@dataclass
class JournalOverview:
    """What the journal page shows."""

    counts: dict[str, int]
    recent: list[dict[str, Any]]
    today: dict[str, Any]
    charts: dict[str, str]
    alerts: list[Alert] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing_extra: str | None = None


def overview(tw: Twitchwise, journal: Journal, recent: int = 8) -> JournalOverview:
    """Counts, the latest episodes, today's factors, charts, alerts and triggers: made from
    the journal's summary and its latest episodes, never from every episode."""
    from twitchwise.errors import ConfigError
    from twitchwise.insights.alerts import alerts_for
    from twitchwise.insights.charts import body_map_svg, calendar_svg, effects_svg

    kb = tw.kb
    summary = _summary(journal)
    labels = dict(tw.regions())
    latest = [
        {**e.to_dict(), "region_label": labels.get(e.region or "", "Somewhere not given")}
        for e in journal.latest_episodes(recent)
    ]
    today = date.today().isoformat()
    today_values = next((d.to_dict() for d in summary.days if d.date.isoformat() == today), {})
    charts = {"calendar": calendar_svg(summary), "body-map": body_map_svg(summary, kb)}
    result = JournalOverview(
        counts=_counts(summary.episodes, summary.days, summary.workouts),
        recent=latest,
        today={k: v for k, v in today_values.items() if k != "date" and v is not None},
        charts=charts,
        notes=list(summary.problems),  # rows left out for their date: say which
    )
    try:
        require_insights()
    except ConfigError as exc:
        result.missing_extra = str(exc)
        result.alerts = alerts_for(summary, kb, tw.parser)
        return result
    from twitchwise.insights.analysis import analyse, describe_effect

    found = analyse(summary, kb=kb, parser=tw.parser)
    charts["effects"] = effects_svg(found.effects)
    result.alerts = found.alerts
    result.triggers = [describe_effect(e) for e in found.triggers]
    result.notes = found.notes
    return result
