"""Self-experiments as use cases, written once for the command line and the web: start one,
where it stands, check in for a day, stop it early, and its result.

The schedule, the status and the analysis are :mod:`twitchwise.insights.experiment`; the
experiments and their check-ins are rows of the journal (:meth:`Journal.start_experiment`
and the methods after it), so an experiment survives a restart. Each function checks its
input and raises :class:`~twitchwise.errors.InputError` naming the option at fault; nothing
is written when the input is refused.
"""

from __future__ import annotations

import difflib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.app.core import Twitchwise
    from twitchwise.insights.experiment import ExperimentResult, ExperimentStatus
    from twitchwise.insights.source import Source
    from twitchwise.journal.rows import ExperimentRow
    from twitchwise.journal.store import Journal
    from twitchwise.knowledge.schema import ExperimentKind

__all__ = [
    "CUSTOM",
    "ExperimentPage",
    "check_in",
    "find_kind",
    "finished_results",
    "page",
    "result",
    "results_of",
    "start",
    "status",
    "stop",
]

CUSTOM = "custom"
MAX_CHANGE_CHARS = 200
START_HINT = "start one with 'twitchwise experiment start caffeine'"


def _today() -> date:
    """Today's date (one place, so tests can set it)."""
    return date.today()


def find_kind(tw: Twitchwise, name: str) -> ExperimentKind:
    """The kind of experiment called ``name``; an :class:`InputError` naming the closest."""
    kinds = {k.id: k for k in tw.kb.plan.experiments}
    key = name.strip().lower().replace("-", "_")
    if key in kinds:
        return kinds[key]
    close = difflib.get_close_matches(key, list(kinds), n=3)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InputError(
        f"unknown experiment {name!r}; {hint}use one of: {', '.join(kinds)}",
        field="kind",
        suggestions=close,
    )


def start(
    tw: Twitchwise,
    journal: Journal,
    kind_name: str,
    *,
    weeks: int = 6,
    block_days: int = 7,
    washout_days: int = 2,
    change: str | None = None,
    today: date | None = None,
    seed: int | None = None,
) -> ExperimentStatus:
    """Draw a randomised, balanced schedule starting ``today`` and record it; one experiment
    runs at a time."""
    from twitchwise.insights.experiment import draw_schedule, experiment_status

    kind = find_kind(tw, kind_name)
    words = " ".join((change or "").split())
    if kind.id == CUSTOM and not words:
        raise InputError(
            "say what you will change with --change, e.g. --change 'no screens after 10 pm'",
            field="change",
        )
    if kind.id != CUSTOM and words:
        raise InputError(
            f"--change is for 'custom' experiments; {kind.id!r} has its own target",
            field="change",
        )
    if len(words) > MAX_CHANGE_CHARS:
        raise InputError(
            f"--change has {len(words)} characters; say it in at most {MAX_CHANGE_CHARS}",
            field="change",
        )
    day = today or _today()
    drawn = secrets.randbits(62) if seed is None else seed
    schedule = draw_schedule(
        day, weeks=weeks, block_days=block_days, washout_days=washout_days, seed=drawn
    )
    row = journal.start_experiment(
        kind=kind.id,
        change=words or None,
        started_on=day,
        block_days=block_days,
        washout_days=washout_days,
        schedule=schedule.letters,
        seed=drawn,
        today=day,
    )
    return experiment_status(row, kind, journal.summary(0), day)


def _latest(journal: Journal) -> ExperimentRow:
    rows = journal.experiments()
    if not rows:
        raise InputError(f"there is no experiment yet; {START_HINT}", field="experiment")
    return rows[-1]


def _running(journal: Journal, today: date) -> ExperimentRow:
    row = _latest(journal)
    if not row.running(today):
        raise InputError(
            f"no experiment is running (the last one ended {row.stopped_on or row.planned_end}); "
            + START_HINT,
            field="experiment",
        )
    return row


def status(tw: Twitchwise, journal: Journal, today: date | None = None) -> ExperimentStatus:
    """Where the latest experiment stands: today's instruction, adherence, days left."""
    from twitchwise.insights.experiment import experiment_status

    day = today or _today()
    row = _latest(journal)
    return experiment_status(row, find_kind(tw, row.kind), journal.summary(0), day)


def check_in(
    tw: Twitchwise,
    journal: Journal,
    followed: bool,
    day: date | None = None,
    today: date | None = None,
) -> ExperimentStatus:
    """Record whether the plan was kept on ``day`` (default today) of the running
    experiment, or of the one that ended most recently for a day it covered."""
    now = today or _today()
    when = day or now
    row = _latest(journal)
    last = min(row.stopped_on or row.planned_end, row.planned_end, now)
    if not row.started_on <= when <= last:
        raise InputError(
            f"--date {when} is not a day of the experiment so far ({row.started_on} to {last}); "
            "check in for a day from its start to today",
            field="date",
        )
    journal.check_in(row.id, when, followed)
    return status(tw, journal, now)


def stop(
    tw: Twitchwise, journal: Journal, reason: str | None = None, today: date | None = None
) -> ExperimentStatus:
    """Stop the running experiment today (today is its last day)."""
    now = today or _today()
    row = _running(journal, now)
    words = " ".join((reason or "").split())[:MAX_CHANGE_CHARS] or None
    journal.stop_experiment(row.id, now, words)
    return status(tw, journal, now)


def result(tw: Twitchwise, journal: Journal, today: date | None = None) -> ExperimentResult:
    """The result of the latest experiment, once it has finished or been stopped (a running
    one is not analysed: looking before the end and stopping on a good day biases it)."""
    from twitchwise.insights.experiment import experiment_result

    tw.require_insights()
    now = today or _today()
    row = _latest(journal)
    if row.running(now):
        raise InputError(
            f"the experiment runs until {row.planned_end}; the result comes when it ends "
            "(to end it now: twitchwise experiment stop)",
            field="experiment",
        )
    return experiment_result(row, find_kind(tw, row.kind), journal.summary(0), now)


def finished_results(
    tw: Twitchwise, journal: Journal, today: date | None = None
) -> list[ExperimentResult]:
    """The result of every experiment that has finished or been stopped, oldest first."""
    from twitchwise.insights.experiment import experiment_result

    now = today or _today()
    rows = [r for r in journal.experiments() if not r.running(now)]
    if not rows:
        return []
    summary = journal.summary(0)
    return [experiment_result(r, find_kind(tw, r.kind), summary, now) for r in rows]


def results_of(
    tw: Twitchwise, rows: Sequence[ExperimentRow], data: Source, today: date | None = None
) -> list[ExperimentResult]:
    """The result of each of ``rows`` that has finished or been stopped, oldest first, from
    journal data already read (the doctor report and the FHIR export). An experiment of a
    kind the knowledge base no longer has is left out."""
    from twitchwise.insights.experiment import experiment_result

    now = today or _today()
    kinds = {k.id: k for k in tw.kb.plan.experiments}
    return [
        experiment_result(r, kinds[r.kind], data, now)
        for r in rows
        if not r.running(now) and r.kind in kinds
    ]


@dataclass
class ExperimentPage:
    """What the journal page shows of self-experiments: the latest one (running: where it
    stands; ended: its result and chart), and the kinds to start a new one with."""

    status: ExperimentStatus | None
    result: ExperimentResult | None = None
    chart: str | None = None
    #: (id, name, what the change is) of each kind, in the knowledge base's order.
    kinds: list[tuple[str, str, str]] = field(default_factory=list)
    #: Why a result could not be made (the insights extra is missing), else None.
    missing_extra: str | None = None
    today: date | None = None

    @property
    def running(self) -> bool:
        return self.status is not None and self.status.state == "running"


def page(tw: Twitchwise, journal: Journal, today: date | None = None) -> ExperimentPage:
    """The journal page's self-experiment section (see :class:`ExperimentPage`)."""
    from twitchwise.errors import ConfigError
    from twitchwise.insights.experiment import experiment_result, experiment_status, result_svg

    now = today or _today()
    kinds = [(k.id, k.name, k.change) for k in tw.kb.plan.experiments]
    rows = journal.experiments()
    known = {k.id: k for k in tw.kb.plan.experiments}
    if not rows or rows[-1].kind not in known:
        return ExperimentPage(None, kinds=kinds, today=now)
    row = rows[-1]
    kind = known[row.kind]
    summary = journal.summary(0)
    view = ExperimentPage(experiment_status(row, kind, summary, now), kinds=kinds, today=now)
    if row.running(now):
        return view
    try:
        tw.require_insights()
    except ConfigError as exc:
        view.missing_extra = str(exc)
        return view
    view.result = experiment_result(row, kind, summary, now)
    view.chart = result_svg(view.result)
    return view
