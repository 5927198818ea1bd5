"""Self-experiments (N-of-1 trials): a randomised, balanced schedule of "usual" and "change"
blocks, where an experiment stands, and its result.

::

    schedule = draw_schedule(start, weeks=6, block_days=7, washout_days=2, seed=seed)
    schedule.letters                     # "ABBABA": A usual, B the change, one per block
    days = experiment_days(schedule, data, check_ins, kind, through=today)
    status = experiment_status(row, kind, data, today)      # today's instruction, adherence
    result = experiment_result(row, kind, data, today)      # the effect, its interval, notes

**The schedule** is drawn in pairs of blocks, each pair ``AB`` or ``BA`` with equal chance
(``random.Random(seed)``, the seed stored with the experiment so the schedule can be drawn
again), so every schedule is balanced and a slow drift falls on both conditions alike. The
first ``washout_days`` of a block whose condition differs from the one before it (before the
first block: the usual) are washout days: they are followed but not analysed, because what
was changed may take a few days to act or to wear off.

**The analysis** counts twitches on analysed days: in a block, not washout, and *recorded* (a
check-in or a twitch logged that day; a day with neither is missed, left out rather than
counted as a day without twitches). The unit is the block, because the block is what was
randomised: twitching comes in bursts and in good and bad weeks, so days of one block are
not independent, and a model of days would take a bad week that fell on a change block for
an effect. The effect is the rate ratio (change / usual) of a Poisson log-linear model of the
blocks' totals with the analysed days as exposure (the ratio of the two pooled rates); its
standard error is scaled by the blocks' Pearson dispersion (quasi-Poisson, never below 1), so
it holds whatever the days within a block do, and its 95% interval is from the t
distribution with blocks - 2 degrees of freedom. A randomisation test over the schedules the
design could have drawn (every pair flipped or not; the washout days recomputed for each)
gives an exact p-value under the sharp null of no effect on any day; with few pairs it cannot
go below 2 / their number of schedules (0.25 for 3 pairs), so it is reported, and the
decision rests on the interval. Days are analysed as allocated (intention to treat);
adherence is measured and reported next to the result. The fit is closed-form and the t
distribution is :mod:`twitchwise.insights.stats`' own, so no library is imported here.

Nothing here touches the database; :mod:`twitchwise.app.experiment` reads and writes.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.insights.source import Source
    from twitchwise.journal.rows import ExperimentRow
    from twitchwise.knowledge.schema import ExperimentKind

__all__ = [
    "CHANGE",
    "USUAL",
    "ExperimentDay",
    "ExperimentResult",
    "ExperimentStatus",
    "Schedule",
    "check_plan",
    "draw_letters",
    "draw_schedule",
    "experiment_days",
    "experiment_result",
    "experiment_status",
    "result_svg",
    "target",
]

USUAL = "A"
CHANGE = "B"
MAX_WEEKS = 52
MAX_BLOCK_DAYS = 28
#: A block keeps at least this many analysed days after its washout.
MIN_ANALYSED_PER_BLOCK = 2
#: Analysed days each condition needs before an effect is estimated.
MIN_DAYS_PER_CONDITION = 3
#: Blocks with an analysed day needed to weigh the difference against how much whole blocks
#: vary (one degree of freedom for that variation).
MIN_BLOCKS = 3
#: Below this share of days kept to the plan (of those known), adherence is called poor.
GOOD_ADHERENCE = 0.8
#: Randomisation test: every allocation up to this many, else this many drawn at random.
MAX_ALLOCATIONS = 4096
ALPHA = 0.05


# ---------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class Schedule:
    """Blocks of ``block_days`` days from ``started_on``, one letter per block."""

    started_on: date
    block_days: int
    washout_days: int
    letters: str

    @property
    def days(self) -> int:
        return len(self.letters) * self.block_days

    @property
    def end(self) -> date:
        """The last day of the last block."""
        return self.started_on + timedelta(days=self.days - 1)

    def block(self, day: date) -> int | None:
        offset = (day - self.started_on).days
        if not 0 <= offset < self.days:
            return None
        return offset // self.block_days

    def condition(self, day: date) -> str | None:
        index = self.block(day)
        return None if index is None else self.letters[index]

    def washout(self, day: date, letters: str | None = None) -> bool:
        """Whether ``day`` is a washout day (for ``letters``, another allocation, if given)."""
        letters = letters or self.letters
        index = self.block(day)
        if index is None:
            return False
        before = letters[index - 1] if index else USUAL
        offset = (day - self.started_on).days % self.block_days
        return letters[index] != before and offset < self.washout_days


def check_plan(weeks: int, block_days: int, washout_days: int) -> int:
    """The number of blocks ``weeks`` hold (even, at least 2); an :class:`InputError` saying
    what to give otherwise."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"--weeks must be from 1 to {MAX_WEEKS}, not {weeks}", field="weeks")
    if not 1 <= block_days <= MAX_BLOCK_DAYS:
        raise InputError(
            f"--block-days must be from 1 to {MAX_BLOCK_DAYS}, not {block_days}",
            field="block_days",
        )
    most = block_days - MIN_ANALYSED_PER_BLOCK
    if washout_days < 0 or washout_days > most:
        raise InputError(
            f"--washout-days must be from 0 to {max(most, 0)} for blocks of {block_days} days "
            f"(each block keeps at least {MIN_ANALYSED_PER_BLOCK} days to compare), "
            f"not {washout_days}",
            field="washout_days",
        )
    blocks = (weeks * 7 // block_days) // 2 * 2
    if blocks < 2:
        raise InputError(
            f"{weeks} weeks hold fewer than two blocks of {block_days} days; give more "
            "--weeks or shorter --block-days",
            field="weeks",
        )
    return blocks


def draw_letters(blocks: int, rng: random.Random) -> str:
    """A balanced allocation: each pair of blocks ``AB`` or ``BA`` with equal chance."""
    return "".join(
        USUAL + CHANGE if rng.random() < 0.5 else CHANGE + USUAL for _ in range(blocks // 2)
    )


def draw_schedule(
    started_on: date, *, weeks: int, block_days: int, washout_days: int, seed: int
) -> Schedule:
    """The schedule for these options and seed (the same seed draws the same schedule)."""
    blocks = check_plan(weeks, block_days, washout_days)
    return Schedule(started_on, block_days, washout_days, draw_letters(blocks, random.Random(seed)))  # noqa: S311


def schedule_of(row: ExperimentRow) -> Schedule:
    return Schedule(row.started_on, row.block_days, row.washout_days, row.schedule)


def target(kind: ExperimentKind, condition: str, change: str | None = None) -> str:
    """What to do on a block of ``condition``, in plain words (from the knowledge base)."""
    if condition == USUAL:
        return kind.usual
    return kind.change.replace("{change}", change or "the change you chose")


# ---------------------------------------------------------------------- the days


@dataclass(frozen=True)
class ExperimentDay:
    """One day of an experiment as the journal records it."""

    date: date
    block: int
    condition: str
    washout: bool
    #: Twitches logged that day; None when the day was not recorded (missed).
    twitches: int | None
    #: Whether the plan was kept: from a check-in, else from the kind's factor; None unknown.
    followed: bool | None

    @property
    def analysed(self) -> bool:
        return not self.washout and self.twitches is not None


def experiment_days(
    schedule: Schedule,
    data: Source,
    check_ins: Mapping[date, bool],
    kind: ExperimentKind | None,
    through: date,
) -> list[ExperimentDay]:
    """Every day of the schedule up to ``through`` (its last day at most)."""
    from twitchwise.journal.summary import JournalSummary

    summary = data if isinstance(data, JournalSummary) else JournalSummary.of(data, 0)
    counts = summary.day_counts()
    rows = {d.date: d for d in summary.days}
    last = min(through, schedule.end)
    out: list[ExperimentDay] = []
    day = schedule.started_on
    while day <= last:
        block = day.toordinal() - schedule.started_on.toordinal()
        index = block // schedule.block_days
        condition = schedule.letters[index]
        row = rows.get(day)
        logged = counts.get(day, 0)
        recorded = day in check_ins or logged > 0 or (row is not None and row.twitches_counted)
        followed = check_ins.get(day)
        if followed is None and kind is not None and condition == CHANGE and row is not None:
            followed = _kept(kind, getattr(row.factors, kind.factor or "", None))
        out.append(
            ExperimentDay(
                date=day,
                block=index,
                condition=condition,
                washout=schedule.washout(day),
                twitches=logged if recorded else None,
                followed=followed,
            )
        )
        day += timedelta(days=1)
    return out


def _kept(kind: ExperimentKind, value: object) -> bool | None:
    if kind.factor is None or not isinstance(value, int | float):
        return None
    if kind.change_max is not None and value > kind.change_max:
        return False
    return not (kind.change_min is not None and value < kind.change_min)


@dataclass(frozen=True)
class Adherence:
    followed: int
    not_followed: int
    unknown: int

    @property
    def known(self) -> int:
        return self.followed + self.not_followed

    @property
    def share(self) -> float | None:
        return self.followed / self.known if self.known else None

    @property
    def poor(self) -> bool:
        share = self.share
        return share is not None and share < GOOD_ADHERENCE

    def to_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "followed": self.followed,
            "not_followed": self.not_followed,
            "unknown": self.unknown,
            "share": None if share is None else round(share, 4),
        }

    def words(self) -> str:
        if not self.known:
            return "not known yet (no check-ins)"
        text = f"kept to the plan on {self.followed} of {_days(self.known)} checked"
        return text + (f" ({self.unknown} not known)" if self.unknown else "")


def adherence(days: list[ExperimentDay]) -> Adherence:
    followed = sum(1 for d in days if d.followed is True)
    not_followed = sum(1 for d in days if d.followed is False)
    return Adherence(followed, not_followed, len(days) - followed - not_followed)


# ---------------------------------------------------------------------- status


@dataclass
class ExperimentStatus:
    """Where an experiment stands on ``today``."""

    id: int
    kind: str
    name: str
    state: str  # "running", "finished" or "stopped"
    started_on: date
    end: date
    today: date
    schedule: str
    block_days: int
    washout_days: int
    day_number: int | None  # today's day of the experiment (1-based), None when not running
    condition: str | None
    washout: bool
    instruction: str | None
    days_left: int
    adherence: Adherence
    missed: int
    recorded: int
    checked_in_today: bool | None
    usual: str = ""
    change: str = ""
    #: What a change day is called ("cut-back"), from the knowledge base.
    change_label: str = "change"
    blocks: list[dict[str, Any]] = field(default_factory=list)
    #: The day it was stopped early and why (None: it was not).
    stopped_on: date | None = None
    stop_reason: str | None = None

    @property
    def total_days(self) -> int:
        """Days in the whole schedule."""
        return (self.end - self.started_on).days + 1

    @property
    def last_day(self) -> date:
        """The last day it covers: the stop day, else its planned end."""
        return self.end if self.stopped_on is None else min(self.stopped_on, self.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "state": self.state,
            "started_on": self.started_on.isoformat(),
            "end": self.end.isoformat(),
            "today": self.today.isoformat(),
            "schedule": self.schedule,
            "block_days": self.block_days,
            "washout_days": self.washout_days,
            "day": self.day_number,
            "condition": _condition_name(self.condition),
            "washout": self.washout,
            "instruction": self.instruction,
            "days_left": self.days_left,
            "adherence": self.adherence.to_dict(),
            "days_recorded": self.recorded,
            "days_missed": self.missed,
            "checked_in_today": self.checked_in_today,
            "usual": self.usual,
            "change": self.change,
            "blocks": self.blocks,
        }

    def render_terminal(self) -> str:
        total = (self.end - self.started_on).days + 1
        lines = [f"Experiment: {self.name} ({self.state}), {self.started_on} to {self.end}."]
        if self.state == "running" and self.day_number is not None:
            block = self.change_label if self.condition == CHANGE else "usual"
            lines.append(
                f"Today ({self.today}) is day {self.day_number} of {total}, a {block} day."
            )
            lines.append(f"Today: {self.instruction}.")
            if self.washout:
                lines.append(
                    "This is a washout day: keep to it, but it is not counted in the result."
                )
            lines.append(f"Days left: {self.days_left} (the result is ready after {self.end}).")
        elif self.state == "stopped":
            lines.append("Stopped early; 'twitchwise experiment result' gives what it showed.")
        else:
            lines.append("Finished; 'twitchwise experiment result' gives the result.")
        lines.append(f"Adherence so far: {self.adherence.words()}.")
        lines.append(
            f"Days recorded: {self.recorded}; missed (no check-in or twitch logged): {self.missed}."
        )
        if self.state == "running" and not self.checked_in_today:
            lines.append(
                "Check in today: twitchwise experiment log --followed "
                "(or --missed if you could not)."
            )
        return "\n".join(lines) + "\n"


def _condition_name(condition: str | None) -> str | None:
    return {USUAL: "usual", CHANGE: "change"}.get(condition or "")


def _state(row: ExperimentRow, today: date) -> str:
    if row.stopped_on is not None:
        return "stopped"
    return "running" if today <= row.planned_end else "finished"


def last_day(row: ExperimentRow, today: date) -> date:
    """The last day that counts: the stop day, else yesterday while it runs, else its end."""
    end = row.planned_end if row.stopped_on is None else min(row.stopped_on, row.planned_end)
    return min(end, today)


def experiment_status(
    row: ExperimentRow, kind: ExperimentKind, data: Source, today: date
) -> ExperimentStatus:
    schedule = schedule_of(row)
    state = _state(row, today)
    days = experiment_days(schedule, data, row.check_ins, kind, last_day(row, today))
    past = [d for d in days if d.date < today or state != "running" or d.date in row.check_ins]
    condition = schedule.condition(today) if state == "running" else None
    blocks = [
        {
            "block": i + 1,
            "condition": _condition_name(letter),
            "from": (row.started_on + timedelta(days=i * row.block_days)).isoformat(),
            "to": (row.started_on + timedelta(days=(i + 1) * row.block_days - 1)).isoformat(),
        }
        for i, letter in enumerate(row.schedule)
    ]
    return ExperimentStatus(
        id=row.id,
        kind=row.kind,
        name=kind.name,
        state=state,
        started_on=row.started_on,
        end=row.planned_end,
        today=today,
        schedule=row.schedule,
        block_days=row.block_days,
        washout_days=row.washout_days,
        day_number=(today - row.started_on).days + 1 if condition is not None else None,
        condition=condition,
        washout=condition is not None and schedule.washout(today),
        instruction=target(kind, condition, row.change) if condition is not None else None,
        days_left=max((row.planned_end - today).days + 1, 0) if state == "running" else 0,
        adherence=adherence(past),
        missed=sum(1 for d in past if d.twitches is None and d.date < today),
        recorded=sum(1 for d in past if d.twitches is not None),
        checked_in_today=(today in row.check_ins) if state == "running" else None,
        usual=target(kind, USUAL, row.change),
        change=target(kind, CHANGE, row.change),
        change_label=kind.change_label,
        blocks=blocks,
        stopped_on=row.stopped_on,
        stop_reason=row.stop_reason,
    )


# ---------------------------------------------------------------------- the result


@dataclass
class Estimate:
    """The change's rate ratio (change / usual) with its 95% interval, and the test."""

    ratio: float
    ci: tuple[float, float]
    p_value: float
    randomisation_p: float
    smallest_p: float
    allocations: int
    dispersion: float
    #: The blocks' Pearson dispersion as computed, before the floor of 1 that ``dispersion``
    #: has (the cohort export writes it: docs/cohort.md#pooled-self-experiments).
    pearson: float

    @property
    def detected(self) -> bool:
        return self.ci[1] < 1.0 or self.ci[0] > 1.0


@dataclass
class ExperimentResult:
    """The result of a finished (or stopped) experiment."""

    status: ExperimentStatus
    question: str
    days: list[ExperimentDay]
    usual_days: int
    change_days: int
    usual_twitches: int
    change_twitches: int
    washout: int
    estimate: Estimate | None
    summary: str
    notes: list[str]
    limits: list[str]

    @property
    def usual_rate(self) -> float | None:
        return self.usual_twitches / self.usual_days if self.usual_days else None

    @property
    def change_rate(self) -> float | None:
        return self.change_twitches / self.change_days if self.change_days else None

    def to_dict(self) -> dict[str, Any]:
        e = self.estimate
        return {
            "experiment": self.status.to_dict(),
            "question": self.question,
            "summary": self.summary,
            "usual": {
                "days": self.usual_days,
                "twitches": self.usual_twitches,
                "per_day": _round(self.usual_rate),
            },
            "change": {
                "days": self.change_days,
                "twitches": self.change_twitches,
                "per_day": _round(self.change_rate),
            },
            "washout_days": self.washout,
            "effect": None
            if e is None
            else {
                "rate_ratio": _round(e.ratio),
                "ci": [_round(e.ci[0]), _round(e.ci[1])],
                "p_value": _round(e.p_value),
                "randomisation_p": _round(e.randomisation_p),
                "smallest_possible_p": _round(e.smallest_p),
                "allocations": e.allocations,
                "dispersion": _round(e.dispersion),
                "detected": e.detected,
            },
            "notes": self.notes,
            "limits": self.limits,
        }

    def render_terminal(self) -> str:
        s = self.status
        lines = [
            f"Experiment: {s.name}, {s.started_on} to {s.end} ({s.state}).",
            f"Question: {self.question}",
            "",
            self.summary,
            "",
            f"Usual days analysed: {self.usual_days} ({self.usual_twitches} twitches, "
            f"{_per_day(self.usual_rate)} a day).",
            f"Change days analysed: {self.change_days} ({self.change_twitches} twitches, "
            f"{_per_day(self.change_rate)} a day).",
            f"Left out: {_days(self.washout)} of washout, {_days(s.missed)} missed.",
            f"Adherence: {s.adherence.words()}.",
        ]
        e = self.estimate
        if e is not None:
            lines.append(
                f"Rate ratio (change / usual): {e.ratio:.2f} (95% interval {e.ci[0]:.2f}-"
                f"{e.ci[1]:.2f}); randomisation test over {e.allocations} possible schedules: "
                f"p = {e.randomisation_p:.3g} (the smallest it could be is {e.smallest_p:.3g})."
            )
        if self.notes:
            lines += ["", "Notes:", *(f"  - {n}" for n in self.notes)]
        lines += ["", "What this does not prove:", *(f"  - {n}" for n in self.limits)]
        return "\n".join(lines) + "\n"


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


def _per_day(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2f}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def experiment_result(
    row: ExperimentRow, kind: ExperimentKind, data: Source, today: date
) -> ExperimentResult:
    """The result of an experiment that has finished or was stopped."""
    status = experiment_status(row, kind, data, today)
    schedule = schedule_of(row)
    days = experiment_days(schedule, data, row.check_ins, kind, last_day(row, today))
    usual = [d for d in days if d.analysed and d.condition == USUAL]
    change = [d for d in days if d.analysed and d.condition == CHANGE]
    notes: list[str] = []
    if status.state == "stopped":
        notes.append(
            f"Stopped early on {row.stopped_on} (day {len(days)} of {schedule.days})"
            + (f": {row.stop_reason}" if row.stop_reason else "")
            + ". Fewer days make the interval wider, and stopping when things looked good or "
            "bad can exaggerate the difference."
        )
    if status.missed:
        notes.append(
            f"{_days(status.missed)} had no check-in and no twitch logged: they are left out, "
            "not counted as days without twitches."
        )
    if status.adherence.poor:
        share = status.adherence.share or 0.0
        notes.append(
            f"Poor adherence: the plan was kept on {share:.0%} of the days checked. Days are "
            "compared as they were planned, so a change not made shrinks the difference."
        )
    elif not status.adherence.known:
        notes.append("Adherence is not known: no check-ins (and no factor to check) were logged.")
    estimate: Estimate | None = None
    usual_n, change_n = sum(d.twitches or 0 for d in usual), sum(d.twitches or 0 for d in change)
    if len(usual) < MIN_DAYS_PER_CONDITION or len(change) < MIN_DAYS_PER_CONDITION:
        notes.append(
            f"Not enough days to compare: {len(usual)} usual and {len(change)} change days were "
            f"analysed, {MIN_DAYS_PER_CONDITION} of each are needed."
        )
    elif usual_n == 0 and change_n == 0:
        notes.append("No twitches were logged on any analysed day, so there is nothing to compare.")
    elif len(blocks_of(days)) < MIN_BLOCKS:
        notes.append(
            f"Not enough blocks to compare: {len(blocks_of(days))} had analysed days, "
            f"{MIN_BLOCKS} are needed to weigh the difference against how much whole blocks "
            "vary."
        )
    else:
        estimate = estimate_effect(schedule, days)
        if estimate is None:
            notes.append("The model could not be fitted to these days; no effect is estimated.")
    summary = _summary(kind, estimate, usual_n, change_n)
    limits = [
        "It is one person over a few weeks: it says what happened to you in these blocks, "
        "not what the change does for others or in a different season of your life.",
        "You knew which blocks were which, so expecting fewer twitches may have changed what "
        "you noticed or logged.",
        "Something else that changed in the same blocks (a stressful week, an illness) can "
        "look like an effect; randomising the blocks makes that unlikely, not impossible.",
        "No difference found is not proof of no effect: a small effect needs more weeks.",
    ]
    return ExperimentResult(
        status=status,
        question=kind.question,
        days=days,
        usual_days=len(usual),
        change_days=len(change),
        usual_twitches=usual_n,
        change_twitches=change_n,
        washout=sum(1 for d in days if d.washout),
        estimate=estimate,
        summary=summary,
        notes=notes,
        limits=limits,
    )


def _summary(kind: ExperimentKind, e: Estimate | None, usual_n: int, change_n: int) -> str:
    label = kind.change_label
    if e is None:
        return (
            f"No effect could be estimated ({usual_n} twitches on usual days, "
            f"{change_n} on {label} days)."
        )
    lo, hi = e.ci
    change = _change_words(e.ratio)
    interval = f"95% interval {_change_words(hi)} to {_change_words(lo)}"
    if e.ratio > 1:
        interval = f"95% interval {_change_words(lo)} to {_change_words(hi)}"
    if hi < 1:
        verdict = "In these weeks the difference is unlikely to be chance."
    elif lo > 1:
        verdict = "You twitched more with the change: it did not help in these weeks."
    else:
        verdict = "The interval includes no difference, so this could be chance."
    return f"On {label} days you logged {change} twitches ({interval}). {verdict}"


def _change_words(ratio: float) -> str:
    """A rate ratio in words: 0.62 is "38% fewer", 1.2 "20% more"."""
    if ratio <= 1:
        return f"{1 - ratio:.0%} fewer"
    return f"{ratio - 1:.0%} more"


# ---------------------------------------------------------------------- the model


def blocks_of(days: list[ExperimentDay]) -> list[tuple[str, int, int]]:
    """(condition, analysed days, twitches) of each block with an analysed day, in order."""
    out: dict[int, tuple[str, int, int]] = {}
    for d in days:
        if d.analysed:
            condition, n, total = out.get(d.block, (d.condition, 0, 0))
            out[d.block] = (condition, n + 1, total + (d.twitches or 0))
    return [out[b] for b in sorted(out)]


def estimate_effect(schedule: Schedule, days: list[ExperimentDay]) -> Estimate | None:
    """The change's rate ratio with a 95% interval weighed against how much whole blocks
    vary (quasi-Poisson on the blocks' totals), and the randomisation test over the
    allocations the design could draw; None with fewer than :data:`MIN_BLOCKS` blocks or
    without a block of each condition."""
    from twitchwise.insights.stats import t_ppf, t_sf

    blocks = blocks_of(days)
    df = len(blocks) - 2
    n = {c: sum(k for cond, k, _ in blocks if cond == c) for c in (USUAL, CHANGE)}
    total = {c: float(sum(t for cond, _, t in blocks if cond == c)) for c in (USUAL, CHANGE)}
    if len(blocks) < MIN_BLOCKS or not n[USUAL] or not n[CHANGE]:
        return None
    if not total[USUAL] or not total[CHANGE]:  # the ratio would be 0 or infinite
        total = {c: t + 0.5 for c, t in total.items()}
    rate = {c: total[c] / n[c] for c in (USUAL, CHANGE)}
    b = math.log(rate[CHANGE] / rate[USUAL])
    pearson = sum((t - k * rate[c]) ** 2 / (k * rate[c]) for c, k, t in blocks) / df
    dispersion = max(pearson, 1.0)
    se = math.sqrt(dispersion * (1 / total[USUAL] + 1 / total[CHANGE]))
    t = t_ppf(1 - ALPHA / 2, df)
    p = 2 * t_sf(abs(b) / se, df)
    rand_p, smallest, count = randomisation_test(schedule, days)
    return Estimate(
        ratio=math.exp(b),
        ci=(math.exp(b - t * se), math.exp(b + t * se)),
        p_value=min(p, 1.0),
        randomisation_p=rand_p,
        smallest_p=smallest,
        allocations=count,
        dispersion=dispersion,
        pearson=pearson,
    )


def _statistic(schedule: Schedule, days: list[ExperimentDay], letters: str) -> float:
    """|log of the change / usual rate| over the days analysed under ``letters``."""
    sums = {USUAL: 0.0, CHANGE: 0.0}
    counts = {USUAL: 0, CHANGE: 0}
    for d in days:
        if d.twitches is None or schedule.washout(d.date, letters):
            continue
        condition = letters[d.block]
        sums[condition] += d.twitches
        counts[condition] += 1
    if not counts[USUAL] or not counts[CHANGE]:
        return 0.0
    change = math.log((sums[CHANGE] + 0.5) / counts[CHANGE])
    return abs(change - math.log((sums[USUAL] + 0.5) / counts[USUAL]))


def randomisation_test(schedule: Schedule, days: list[ExperimentDay]) -> tuple[float, float, int]:
    """Two-sided p-value of the sharp null (no effect on any day) over the allocations the
    design could have drawn (each pair ``AB`` or ``BA``), the smallest p-value the design
    allows, and the number of allocations (every one up to :data:`MAX_ALLOCATIONS`, else that
    many drawn with the schedule's own letters among them)."""
    pairs = len(schedule.letters) // 2
    observed = _statistic(schedule, days, schedule.letters)
    if 2**pairs <= MAX_ALLOCATIONS:
        allocations = [
            "".join(USUAL + CHANGE if flip else CHANGE + USUAL for flip in flips)
            for flips in itertools.product((True, False), repeat=pairs)
        ]
    else:
        rng = random.Random(f"{schedule.letters}-{schedule.started_on}")  # noqa: S311
        allocations = [schedule.letters] + [
            draw_letters(2 * pairs, rng) for _ in range(MAX_ALLOCATIONS - 1)
        ]
    as_large = sum(1 for a in allocations if _statistic(schedule, days, a) >= observed - 1e-12)
    # an allocation and its mirror image give the same |statistic|
    return as_large / len(allocations), 2 / len(allocations), len(allocations)


# ---------------------------------------------------------------------- chart


def result_svg(result: ExperimentResult) -> str:
    """Twitches per day over the experiment, coloured by block (washout and missed days
    marked), with the effect and its interval written underneath."""
    from twitchwise.insights.charts import _esc, _svg

    days = result.days
    title = f"Self-experiment: {result.status.name}"
    if not days:
        return _svg(420, 44, title, ['<text x="8" y="26">No days recorded yet.</text>'])
    top = max([d.twitches or 0 for d in days] + [1])
    bar_w, left, plot_h, top_y = 10, 40, 140, 30
    width = left + bar_w * len(days) + 20
    body = [f'<text x="0" y="16" font-size="13" font-weight="bold">{_esc(title)}</text>']
    base = top_y + plot_h
    for i, d in enumerate(days):
        x = left + i * bar_w
        shade = "#fde68a" if d.condition == USUAL else "#bfdbfe"
        faded = ' opacity="0.45"' if d.washout else ""
        body.append(
            f'<rect x="{x}" y="{top_y}" width="{bar_w}" height="{plot_h}" fill="{shade}"{faded}/>'
        )
        what = "usual" if d.condition == USUAL else "change"
        extra = " (washout, not counted)" if d.washout else ""
        if d.twitches is None:
            tip = f"{d.date}: {what} day{extra}, missed (nothing recorded)"
            body.append(
                f'<g><title>{_esc(tip)}</title><text x="{x + bar_w / 2}" y="{base - 4}" '
                'text-anchor="middle" fill="#6b7280">?</text></g>'
            )
            continue
        h = plot_h * d.twitches / top
        tip = f"{d.date}: {what} day{extra}, {d.twitches} twitches"
        fill = "#9ca3af" if d.washout else "#374151"
        body.append(
            f'<g><title>{_esc(tip)}</title><rect x="{x + 1}" y="{base - h:.1f}" '
            f'width="{bar_w - 2}" height="{h:.1f}" fill="{fill}"/></g>'
        )
    body.append(f'<text x="{left - 6}" y="{top_y + 10}" text-anchor="end">{top}</text>')
    body.append(f'<text x="{left - 6}" y="{base}" text-anchor="end">0</text>')
    body.append(
        f'<rect x="{left}" y="{base + 10}" width="10" height="10" fill="#fde68a"/>'
        f'<text x="{left + 14}" y="{base + 19}">usual</text>'
        f'<rect x="{left + 70}" y="{base + 10}" width="10" height="10" fill="#bfdbfe"/>'
        f'<text x="{left + 84}" y="{base + 19}">change</text>'
        f'<text x="{left + 150}" y="{base + 19}" fill="#6b7280">pale: washout; ?: missed</text>'
    )
    e = result.estimate
    line = (
        "No effect estimated."
        if e is None
        else f"Rate ratio {e.ratio:.2f} (95% interval {e.ci[0]:.2f}-{e.ci[1]:.2f})"
    )
    body.append(f'<text x="{left}" y="{base + 40}">{_esc(line)}</text>')
    return _svg(max(width, 420), base + 52, title, body)
