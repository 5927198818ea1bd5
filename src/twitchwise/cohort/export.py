"""``twitchwise cohort export``: consenting people's journals written in the cohort format
(:mod:`.format`), pseudonymous, a batch at a time, resumable (docs/cohort.md#the-export).

::

    key = ExportKey(secret)                              # 32 bytes or more, kept secret
    target = destination(out, resume=False)              # refuses a folder in the way
    with CohortExport(target, key, buckets=8) as export:
        for account in consenting:                       # listed by the application object
            pid = key.person_id(account)
            if export.done(pid):                         # finished before an interruption
                export.seen(pid)
                continue
            rows = person_rows(summary, person_id=pid, shift_days=key.shift_days(account),
                               buckets=export.buckets)
            export.add(pid, rows)                        # None: nothing to export
        result = export.finish()                         # DIR.partial/ becomes DIR/ at once

**Privacy.** A person is a keyed hash of their account id (HMAC-SHA256 with the export's
secret key, 16 hexadecimal digits): never the id or the email, and no one without the key can
link it to an account. Every date of a person is moved by the same whole number of weeks,
1 to 3 back or forward, drawn from the same keyed hash (docs/cohort.md says why weeks and
not coarsening). Ages are written as bands, sexes as ``female``/``male`` or not given. Only
counts leave a journal: the twitches of each day, the region reported most that day (mapped
onto the format's closed vocabulary) and the six numeric daily factors; no note, no
medicine, no workout name, no file name, no episode time. The personal effects are those of
the insights' model (:func:`twitchwise.insights.stats.estimate_effects`), fitted on the
journal's own dates before they are moved. A self-experiment that has finished or was
stopped is one row of numbers from its own result
(:func:`twitchwise.insights.experiment.experiment_result`): the change on the closed
vocabulary (a change of the person's own is ``other``, never its words), the effect and its
error, blocks, days, adherence, whether it was stopped early (never why) and its first day,
moved like the rest.

**Streaming and resuming.** People are written in batches (:data:`BATCH_PEOPLE` people or
:data:`BATCH_DAYS` days, whichever comes first): each batch is one Parquet file per table and
bucket, written under a temporary name and renamed, and only then recorded, in one SQLite
transaction, in the folder's progress manifest (:data:`PROGRESS`: the pseudonymous ids of the
people finished, never an account id). Memory holds one batch, however many people. A run
that stops leaves ``DIR.partial/``; ``--resume`` deletes the files of a batch that was not
recorded, skips the people recorded, re-checks everyone's consent (a person recorded before
who has withdrawn it since is taken out of the files) and goes on. At the end the manifest
``cohort.json`` is written and ``DIR.partial/`` is renamed to ``DIR/`` in one step, so a
folder named ``DIR`` is always a whole export.

Nothing here touches a database or an account: :mod:`twitchwise.app.cohort` lists the
consenting accounts and reads each journal. pyarrow and numpy are imported inside functions
(the ``cohort`` extra).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from twitchwise.cohort.format import (
    AGE_BANDS,
    CHANGES,
    COLUMNS,
    FACTORS,
    LEVELS,
    MANIFEST,
    OTHER_ID,
    PARTITION,
    SEXES,
    TABLES,
    Manifest,
    answer_ids,
    bucket_of,
    check_columns,
)
from twitchwise.errors import ConfigError, InputError

__all__ = [
    "BATCH_DAYS",
    "BATCH_PEOPLE",
    "KEY_MIN_BYTES",
    "PROGRESS",
    "SHIFT_WEEKS",
    "STAGING_SUFFIX",
    "CohortExport",
    "Destination",
    "ExportKey",
    "ExportResult",
    "PersonRows",
    "age_band",
    "answer_rows",
    "destination",
    "experiment_rows",
    "format_change",
    "format_region",
    "person_rows",
    "require_export",
]

#: The shortest secret key accepted (bytes): 256 bits, as HMAC-SHA256's output.
KEY_MIN_BYTES = 32
#: The whole weeks a person's dates may be moved by (never 0: no one keeps their own dates).
SHIFT_WEEKS = (-3, -2, -1, 1, 2, 3)
#: The folder an export is written in until it is whole: ``DIR`` + this.
STAGING_SUFFIX = ".partial"
#: The progress manifest inside ``DIR.partial/`` (deleted when the export is whole).
PROGRESS = "export-progress.sqlite"
#: A batch is written when it holds this many people ...
BATCH_PEOPLE = 1000
#: ... or this many person-days, whichever comes first.
BATCH_DAYS = 250_000
#: At most this many people (those with nothing to export too) wait for their batch.
MAX_PENDING = 10_000
#: A progress line at most this often (seconds).
PROGRESS_EVERY_S = 10.0
#: Progress manifests this twitchwise reads.
PROGRESS_FORMAT = "twitchwise-cohort-export/4"

#: The journal's regions (the knowledge base's ``region_*`` ids, or plain words from an
#: import) on the format's closed vocabulary; anything else given is ``other``.
REGION_OF: dict[str, str] = {
    "eyelid": "eyelid",
    "face": "face", "lip": "face", "tongue": "face", "scalp": "face",
    "neck": "neck",
    "shoulder": "shoulder",
    "arm": "arm", "biceps": "arm",
    "hand": "hand", "thumb": "hand",
    "chest": "chest",
    "abdomen": "abdomen",
    "back": "back",
    "thigh": "thigh", "hamstring": "thigh",
    "calf": "calf",
    "foot": "foot",
}  # fmt: skip


#: The experiment kinds the format names (``twitchwise experiment start KIND``); any other
#: kind, a change of the person's own (``custom``) among them, is ``other``.
CHANGE_OF: dict[str, str] = {kind: kind for kind in CHANGES if kind != "other"}


def require_export() -> None:
    """:class:`ConfigError` naming the pip command when pyarrow or numpy is missing."""
    try:
        import numpy  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the cohort export needs the cohort extra: pip install 'twitchwise[cohort]'"
        ) from None


# ---------------------------------------------------------------------- the key


class ExportKey:
    """The export's secret: pseudonyms and date shifts are HMAC-SHA256 of an account id with
    it (each use with its own label, so one value says nothing of another)."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        secret = secret.strip()
        if len(secret) < KEY_MIN_BYTES:
            raise InputError(
                f"the export key has {len(secret)} bytes; it needs at least {KEY_MIN_BYTES} "
                "random bytes: make one with \"python -c 'import secrets; "
                "print(secrets.token_hex(32))'\" and keep it as secret as the database",
                field="key",
            )
        self._secret = secret

    def __repr__(self) -> str:
        return "ExportKey(<secret>)"

    def _mac(self, label: str, data: bytes = b"") -> bytes:
        message = b"twitchwise-cohort/" + label.encode() + b"/" + data
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def person_id(self, account: uuid.UUID) -> str:
        """The person's pseudonym: 16 hexadecimal digits (64 bits) of the keyed hash."""
        return self._mac("person", account.bytes)[:8].hex()

    def shift_days(self, account: uuid.UUID) -> int:
        """How many days every date of the person is moved by: a whole number of weeks,
        1 to 3 back or forward (:data:`SHIFT_WEEKS`), from the keyed hash."""
        value = int.from_bytes(self._mac("shift", account.bytes)[:8], "big")
        return 7 * SHIFT_WEEKS[value % len(SHIFT_WEEKS)]

    @property
    def fingerprint(self) -> str:
        """A check value of the key (a keyed hash of nothing): a resumed export must use the
        same key, and this tells; it says nothing of the key itself."""
        return self._mac("check").hex()[:16]


# ---------------------------------------------------------------------- one person


def age_band(age: int | None) -> str | None:
    """The format's band of an age in years (``18-29`` ... ``70+``); None when not given or
    under 18 (the bands start there)."""
    if age is None or age < 18:
        return None
    return AGE_BANDS[max(0, min((age - 20) // 10, len(AGE_BANDS) - 1))]


_band_of = age_band  # for person_rows, whose keyword argument has the same name


def format_region(region: str | None) -> str | None:
    """A stored region on the format's vocabulary: None when not given, ``other`` for any
    region the vocabulary does not have (never the stored text itself)."""
    if region is None or not region.strip():
        return None
    word = region.strip().lower().removeprefix("region_")
    return REGION_OF.get(word, "other")


def format_change(kind: str) -> str:
    """An experiment's kind on the format's vocabulary: ``other`` for a change of the
    person's own (``custom``) and for any kind the format does not name."""
    return CHANGE_OF.get(kind, "other")


@dataclass(frozen=True, slots=True)
class PersonRows:
    """One person's rows of each table (pyarrow record batches in the format's columns),
    their bucket and the first and last of their (moved) dates."""

    person_id: str
    bucket: int
    people: Any
    days: Any
    effects: Any
    first_day: date
    last_day: date
    experiments: Any = None
    answers: Any = None

    def table(self, name: str) -> Any:
        """The rows of the table ``name``."""
        return {"people": self.people, "days": self.days, "effects": self.effects,
                "experiments": self.experiments, "answers": self.answers}[name]  # fmt: skip

    @property
    def n_days(self) -> int:
        return int(self.days.num_rows)


def person_rows(
    summary: Any,
    *,
    person_id: str,
    shift_days: int,
    buckets: int,
    age: int | None = None,
    age_band: str | None = None,
    sex: str | None = None,
    experiments: Iterable[Any] = (),
    levels: Iterable[tuple[date, str]] = (),
    answers: Iterable[Any] = (),
    vocabulary: dict[str, tuple[str, ...]] | None = None,
) -> PersonRows | None:
    """A person's rows from their journal's summary (``Journal.summary``; its notes are never
    read); None when it has no day with a twitch count and no recorded answer (nothing to
    export; with answers and no such day: their people row and answers). ``experiments``
    are the results of their self-experiments (:func:`experiment_rows`); ``levels`` the day
    and triage level of each answer the hosted app gave them (its record of answers), of
    which each day takes the most urgent (:func:`day_levels`); ``answers`` those answers
    whole (:func:`answer_rows`, with the ``vocabulary`` of ids the export writes). ``age_band`` (a
    band the person chose, as the hosted profile keeps it) or ``age`` (in years, banded) and
    ``sex``: anything outside the format's vocabularies is written as not given.

    The days are those the insights analyse: from the first day twitches were counted to the
    last entry, less the days whose count was left blank. Each day's factors are the
    insights' (workout minutes filled from imported workouts); its region is the one reported
    most that day. The effects are the insights' model's, per factor and lag."""
    import pyarrow as pa

    from twitchwise.insights.stats import daily_series

    series = daily_series(summary)
    kept = [] if series is None else [i for i, c in enumerate(series.counts) if c is not None]
    answered = answer_rows(answers, person_id=person_id, shift_days=shift_days,
                           vocabulary=vocabulary or {})  # fmt: skip
    if not kept and not answered.num_rows:
        return None
    band = age_band if age_band in AGE_BANDS else _band_of(age)
    people = pa.RecordBatch.from_arrays(
        [
            pa.array([person_id], pa.string()),
            pa.array([band], pa.string()),
            pa.array([sex if sex in SEXES else None], pa.string()),
        ],
        schema=_schema("people"),
    )
    if series is None or not kept:  # answers without a journal day: no days, no effects
        days = pa.RecordBatch.from_pylist([], schema=_schema("days"))
        effects = pa.RecordBatch.from_pylist([], schema=_schema("effects"))
        dates: list[date] = []
    else:
        days, effects, dates = _days_and_effects(
            summary, series, kept, person_id=person_id, shift_days=shift_days, levels=levels
        )
    moved = sorted([*dates, *answered.column("date").to_pylist()])
    return PersonRows(
        person_id,
        bucket_of(person_id, buckets),
        people,
        days,
        effects,
        moved[0],
        moved[-1],
        experiment_rows(experiments, person_id=person_id, shift_days=shift_days),
        answered,
    )


def _days_and_effects(
    summary: Any, series: Any, kept: list[int], *, person_id: str, shift_days: int,
    levels: Iterable[tuple[date, str]],
) -> tuple[Any, Any, list[date]]:  # fmt: skip
    """The days table's rows of the journal's ``kept`` days (indexes into ``series``), the
    effects table's rows, and the days' moved dates."""
    import pyarrow as pa

    from twitchwise.insights.stats import LAGS

    lead = max(LAGS)
    regions = _day_regions(summary.groups)
    urgent = day_levels(levels)
    shift = timedelta(days=shift_days)
    dates: list[date] = []
    counts: list[int] = []
    where: list[str | None] = []
    triage: list[str | None] = []
    for i in kept:
        day = series.start + timedelta(days=i)
        count = int(series.counts[i] or 0)
        dates.append(day + shift)
        counts.append(count)
        where.append(regions.get(day) if count > 0 else None)
        triage.append(urgent.get(day))
    n = len(kept)
    columns: dict[str, Any] = {
        "person_id": pa.array([person_id] * n, pa.string()),
        "date": pa.array(dates, pa.date32()),
        "twitch_count": pa.array(counts, pa.int32()),
        "region": pa.array(where, pa.string()),
        "triage_level": pa.array(triage, pa.string()),
    }
    for factor in FACTORS:
        values = series.factors[factor]
        columns[factor] = pa.array([values[lead + i] for i in kept], pa.float64())
    days = pa.RecordBatch.from_arrays(
        [columns[name] for name in COLUMNS["days"]], schema=_schema("days")
    )
    return days, _effects(series, person_id), dates


def answer_rows(
    answers: Iterable[Any], *, person_id: str, shift_days: int,
    vocabulary: dict[str, tuple[str, ...]],
) -> Any:  # fmt: skip
    """The answers table's rows of a person's recorded answers (``Accounts.answers``: the
    day, triage level, question ids, finding ids and count of words not understood; never
    text), one each, the day moved by ``shift_days`` like the person's other dates. An id
    the ``vocabulary`` (the knowledge base of the export) does not have is written as
    ``other``, never itself; an id is written once per answer, in the order given. An
    answer whose level is outside the format is left out (the record holds none)."""
    import pyarrow as pa

    rows: dict[str, list[Any]] = {name: [] for name in COLUMNS["answers"]}
    shift = timedelta(days=shift_days)
    known = {name: set(vocabulary.get(name, ())) for name in ("questions", "findings")}
    for answer in answers:
        if answer.triage_level not in LEVELS:
            continue
        rows["person_id"].append(person_id)
        rows["date"].append(answer.day + shift)
        rows["triage_level"].append(answer.triage_level)
        for name in ("questions", "findings"):
            ids = (i if i in known[name] else OTHER_ID for i in getattr(answer, name))
            rows[name].append(list(dict.fromkeys(ids)))
        rows["not_understood"].append(max(0, int(answer.not_understood)))
    schema = _schema("answers")
    return pa.RecordBatch.from_arrays(
        [pa.array(rows[f.name], f.type) for f in schema], schema=schema
    )


def experiment_rows(results: Iterable[Any], *, person_id: str, shift_days: int) -> Any:
    """The experiments table's rows of a person's self-experiments that have finished or
    were stopped: one per result of the project's own analysis (``experiment_result`` of
    :mod:`twitchwise.insights.experiment`; a running one is left out).

    ``log_rr`` is the log of its rate ratio (change / usual), ``se`` its standard error (from
    the 95% interval, which is ``log_rr`` +- t(0.975, blocks_analysed - 2) se) and
    ``dispersion`` the blocks' Pearson dispersion (before the floor of 1 the person's own
    interval puts on it); all three null when no effect could be estimated. The analysed days
    and the twitches on them under each condition are written whatever the effect. The
    change is the format's (:func:`format_change`), the first day moved by ``shift_days``;
    the person's own words (a custom change, why it was stopped) are never read."""
    import pyarrow as pa

    from twitchwise.insights.experiment import ALPHA, blocks_of
    from twitchwise.insights.stats import t_ppf

    rows: dict[str, list[Any]] = {name: [] for name in COLUMNS["experiments"]}
    shift = timedelta(days=shift_days)
    for result in results:
        status = result.status
        if status.state not in ("finished", "stopped"):
            continue
        analysed = len(blocks_of(result.days))
        log_rr: float | None = None
        se: float | None = None
        dispersion: float | None = None
        e = result.estimate
        if e is not None and analysed > 2:
            crit = t_ppf(1 - ALPHA / 2, analysed - 2)
            log_rr = math.log(e.ratio)
            se = (math.log(e.ci[1]) - math.log(e.ci[0])) / (2 * crit)
            dispersion = float(e.pearson)
            if not (
                math.isfinite(log_rr) and math.isfinite(se) and se > 0
                and math.isfinite(dispersion) and dispersion >= 0
            ):  # fmt: skip
                log_rr = se = dispersion = None
        share = status.adherence.share
        rows["person_id"].append(person_id)
        rows["change"].append(format_change(status.kind))
        rows["start_date"].append(status.started_on + shift)
        rows["block_days"].append(status.block_days)
        rows["blocks"].append(len(status.schedule))
        rows["blocks_analysed"].append(analysed)
        rows["days"].append(len(result.days))
        rows["days_analysed"].append(result.usual_days + result.change_days)
        rows["usual_days"].append(result.usual_days)
        rows["change_days"].append(result.change_days)
        rows["usual_twitches"].append(result.usual_twitches)
        rows["change_twitches"].append(result.change_twitches)
        rows["adherence"].append(None if share is None else float(share))
        rows["stopped_early"].append(status.state == "stopped")
        rows["log_rr"].append(log_rr)
        rows["se"].append(se)
        rows["dispersion"].append(dispersion)
    schema = _schema("experiments")
    return pa.RecordBatch.from_arrays(
        [pa.array(rows[f.name], f.type) for f in schema], schema=schema
    )


def day_levels(levels: Iterable[tuple[date, str]]) -> dict[date, str]:
    """The most urgent triage level of each day's answers (levels outside the format's
    vocabulary are left out: nothing but its values is ever written)."""
    rank = {level: i for i, level in enumerate(LEVELS)}
    out: dict[date, str] = {}
    for day, level in levels:
        if level in rank and (day not in out or rank[level] > rank[out[day]]):
            out[day] = level
    return out


def _day_regions(groups: Iterable[Any]) -> dict[date, str]:
    """The region reported most on each date (the first reported among equals), on the
    format's vocabulary; dates whose episodes gave no region are left out."""
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for group in groups:  # by date, then by the time of the group's first episode
        region = format_region(group.region)
        if region is not None:
            per_day[group.date][region] += int(group.count)
    return {day: counter.most_common(1)[0][0] for day, counter in per_day.items()}


def _effects(series: Any, person_id: str) -> Any:
    """The insights' model's effects of the format's factors, as the effects table's rows:
    ``log_rr`` is the log of the rate ratio per step, ``se`` its standard error (from the
    95% interval, which is ``log_rr`` +- t(0.975, residual df) se)."""
    import pyarrow as pa

    from twitchwise.insights.stats import ALPHA, estimate_effects, t_ppf

    result = estimate_effects(series)
    rows: dict[str, list[Any]] = {name: [] for name in COLUMNS["effects"]}
    if result.effects and result.residual_df > 0:
        crit = t_ppf(1 - ALPHA / 2, result.residual_df)
        for e in result.effects:
            if e.factor not in FACTORS:
                continue
            log_rr = math.log(e.effect)
            se = (math.log(e.ci[1]) - math.log(e.ci[0])) / (2 * crit)
            if not (math.isfinite(log_rr) and math.isfinite(se) and se > 0):
                continue
            rows["person_id"].append(person_id)
            rows["factor"].append(e.factor)
            rows["lag_days"].append(e.lag_days)
            rows["log_rr"].append(log_rr)
            rows["se"].append(se)
            rows["n_days"].append(result.days)
    schema = _schema("effects")
    return pa.RecordBatch.from_arrays(
        [pa.array(rows[f.name], f.type) for f in schema], schema=schema
    )


def _schema(table: str) -> Any:
    from twitchwise.cohort.format import _arrow_schema

    return _arrow_schema(table)


# ---------------------------------------------------------------------- the folder


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an export goes: ``out`` once whole, ``staging`` until then; ``resume`` when
    ``staging`` holds an interrupted export to go on with."""

    out: Path
    staging: Path
    resume: bool


def destination(out: Path, *, resume: bool) -> Destination:
    """Check the folder ``out`` (nothing is written): :class:`InputError` when it holds a
    finished export or anything else, or when an interrupted export is there and ``resume``
    was not asked for."""
    out = Path(os.path.abspath(out))
    staging = out.with_name(out.name + STAGING_SUFFIX)
    if out.exists():
        if (out / MANIFEST).exists():
            raise InputError(
                f"{out} already holds a finished cohort export: give another folder with "
                "--out (or delete that one)",
                field="out",
            )
        if not out.is_dir() or any(out.iterdir()):
            raise InputError(
                f"{out} exists and is not an empty folder: give a new folder with --out; the "
                "export makes it",
                field="out",
            )
    if staging.exists():
        if not resume:
            raise InputError(
                f"an interrupted export is in {staging}: run the same command with --resume "
                "to go on with it, or delete that folder to start again",
                field="out",
            )
        if not (staging / PROGRESS).exists() and not (staging / MANIFEST).exists():
            raise InputError(
                f"{staging} is not an export in progress (it has no {PROGRESS}): delete it "
                "and export again",
                field="out",
            )
        return Destination(out, staging, True)
    return Destination(out, staging, False)


@dataclass
class ExportResult:
    """What an export did: people written, consenting people with nothing to write,
    people taken out because they withdrew consent during an interruption, and the
    manifest of the finished folder."""

    out: Path
    manifest: Manifest
    people: int
    empty: int
    withdrawn: int
    batches: int
    resumed: bool
    already_done: bool = False


@dataclass
class _Pending:
    """The batch being gathered: record batches per table and bucket, and its people."""

    pieces: dict[str, dict[int, list[Any]]] = field(
        default_factory=lambda: {table: defaultdict(list) for table in TABLES}
    )
    people: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    with_rows: int = 0
    days: int = 0


class CohortExport:
    """Writes one export into ``DIR.partial/`` and finishes it into ``DIR/`` (see the module
    docstring); use as a context manager, which closes the progress manifest."""

    def __init__(
        self,
        target: Destination,
        key: ExportKey,
        *,
        buckets: int = 8,
        batch_people: int = BATCH_PEOPLE,
        batch_days: int = BATCH_DAYS,
        source: str = "twitchwise cohort export",
        progress: Callable[[str], None] | None = None,
        questions: Iterable[str] = (),
        findings: Iterable[str] = (),
    ) -> None:
        if not 1 <= buckets <= 1000:
            raise InputError(f"--buckets must be 1 to 1000, not {buckets}", field="buckets")
        if batch_people < 1:
            raise InputError(f"--batch-size must be 1 or more, not {batch_people}")
        self.target = target
        self.staging = target.staging
        self.buckets = buckets
        self.batch_people = batch_people
        self.batch_days = batch_days
        self.source = source
        self.progress = progress
        #: The ids the answers' lists may hold: the knowledge base's (and ``other``).
        self.questions = answer_ids(sorted(set(questions) - {OTHER_ID}), "questions")
        self.findings = answer_ids(sorted(set(findings) - {OTHER_ID}), "findings")
        self._pending = _Pending()
        self._seen: list[str] = []
        self._started = self._said = time.monotonic()
        #: Seconds between progress lines.
        self.progress_every = PROGRESS_EVERY_S
        self._read = 0
        self.finished_before = target.resume and (self.staging / MANIFEST).exists()
        if self.finished_before:
            self._db: sqlite3.Connection | None = None
            return
        if not target.resume:
            try:
                self.staging.mkdir(mode=0o700, parents=True)
            except FileExistsError:
                raise InputError(
                    f"another export is writing {self.staging}: wait for it, or run with "
                    "--resume once it has stopped",
                    field="out",
                ) from None
        self._db = sqlite3.connect(self.staging / PROGRESS, isolation_level=None)
        self._db.execute("PRAGMA synchronous=FULL")
        if target.resume:
            self._reopen(key)
        else:
            self._create(key)

    # -------------------------------------------------------------- the manifest

    @property
    def db(self) -> sqlite3.Connection:
        assert self._db is not None, "the export is finished"
        return self._db

    def _create(self, key: ExportKey) -> None:
        db = self.db
        db.execute("BEGIN")
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute(
            "CREATE TABLE batches (batch INTEGER PRIMARY KEY, people INTEGER NOT NULL, "
            "days INTEGER NOT NULL)"
        )
        db.execute(
            "CREATE TABLE people (person_id TEXT PRIMARY KEY, batch INTEGER, seen INTEGER NOT "
            "NULL, first_day TEXT, last_day TEXT)"
        )
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", PROGRESS_FORMAT), ("key", key.fingerprint),
             ("buckets", str(self.buckets)), ("run", "1"),
             ("vocabulary", json.dumps([self.questions, self.findings]))],
        )  # fmt: skip
        db.execute("COMMIT")
        self.run = 1

    def _reopen(self, key: ExportKey) -> None:
        db = self.db
        try:
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"cannot read {self.staging / PROGRESS} ({exc}): delete {self.staging} and "
                "export again",
                field="out",
            ) from None
        if meta.get("format") != PROGRESS_FORMAT:
            raise InputError(
                f"{self.staging} was written by another version of the export: delete it and "
                "export again",
                field="out",
            )
        if meta.get("key") != key.fingerprint:
            raise InputError(
                f"the export in {self.staging} was started with another key: resume it with "
                "the same key (or delete it and export again)",
                field="key",
            )
        if meta.get("buckets") != str(self.buckets):
            raise InputError(
                f"the export in {self.staging} was started with --buckets "
                f"{meta.get('buckets')}: resume it with the same",
                field="buckets",
            )
        if meta.get("vocabulary") != json.dumps([self.questions, self.findings]):
            raise InputError(
                f"the export in {self.staging} was started with another knowledge base (its "
                "question and finding ids differ): resume it with the same twitchwise, or "
                "delete it and export again",
                field="out",
            )
        self.run = int(meta["run"]) + 1
        db.execute("UPDATE meta SET value = ? WHERE name = 'run'", (str(self.run),))
        self._drop_unrecorded()

    def _drop_unrecorded(self) -> None:
        """Delete what a run that stopped left half done: temporary files, and the files of
        a batch that was written but not recorded."""
        recorded = {row[0] for row in self.db.execute("SELECT batch FROM batches")}
        for table in TABLES:
            for path in (self.staging / table).glob(f"{PARTITION}=*/*"):
                if path.name.endswith(".tmp") or _batch_of(path) not in recorded:
                    path.unlink()

    def __enter__(self) -> CohortExport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -------------------------------------------------------------- people

    def done(self, person_id: str) -> bool:
        """Whether the person was finished by an earlier run of this export."""
        if self._db is None:
            return False
        found = self.db.execute("SELECT 1 FROM people WHERE person_id = ?", (person_id,))
        return found.fetchone() is not None

    def seen(self, person_id: str) -> None:
        """Note that a person finished earlier still consents (they stay in the export)."""
        self._seen.append(person_id)
        if len(self._seen) >= 1000:
            self._mark_seen()

    def _mark_seen(self) -> None:
        if not self._seen:
            return
        db = self.db
        own = not db.in_transaction
        if own:
            db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "UPDATE people SET seen = ? WHERE person_id = ?", [(self.run, p) for p in self._seen]
        )
        if own:
            db.execute("COMMIT")
        self._seen.clear()
        self._tick()

    def add(self, person_id: str, rows: PersonRows | None) -> None:
        """One consenting person's rows (None: nothing to export), written with the batch."""
        pending = self._pending
        self._read += 1
        if person_id in pending.ids:  # a second account with the same pseudonym: 2^-64
            return
        pending.ids.add(person_id)
        if rows is None:
            pending.people.append((person_id, None, None))
        else:
            for table in TABLES:
                piece = rows.table(table)
                if piece is not None and piece.num_rows:
                    pending.pieces[table][rows.bucket].append(piece)
            pending.people.append(
                (person_id, rows.first_day.isoformat(), rows.last_day.isoformat())
            )
            pending.with_rows += 1
            pending.days += rows.n_days
        if (
            pending.with_rows >= self.batch_people
            or pending.days >= self.batch_days
            or len(pending.people) >= MAX_PENDING
        ):
            self.flush()
        else:
            self._tick()

    def flush(self) -> None:
        """Write the batch gathered so far (one file per table and bucket), then record it
        and its people in the progress manifest in one transaction."""
        pending = self._pending
        self._pending = _Pending()
        if not pending.people:
            self._mark_seen()
            return
        import pyarrow as pa

        db = self.db
        number = int(db.execute("SELECT coalesce(max(batch), 0) + 1 FROM batches").fetchone()[0])
        if pending.with_rows:
            for table in TABLES:
                for bucket, pieces in sorted(pending.pieces[table].items()):
                    whole = pa.Table.from_batches(pieces, schema=_schema(table))
                    self._write(table, bucket, number, whole)
        db.execute("BEGIN IMMEDIATE")
        if pending.with_rows:
            db.execute(
                "INSERT INTO batches VALUES (?, ?, ?)", (number, pending.with_rows, pending.days)
            )
        db.executemany(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?)",
            [
                (pid, number if first is not None else None, self.run, first, last)
                for pid, first, last in pending.people
            ],
        )
        self._mark_seen()
        db.execute("COMMIT")
        self._tick()

    @property
    def vocabulary(self) -> dict[str, tuple[str, ...]]:
        """The ids the answers' lists may hold (``other`` among them), as the manifest says."""
        return self._manifest(0, "", "").vocabulary()

    def _manifest(self, people: int, first: str, last: str) -> Manifest:
        return Manifest(people=people, first_day=first, last_day=last, buckets=self.buckets,
                        source=self.source, questions=self.questions,
                        findings=self.findings)  # fmt: skip

    def _write(self, table: str, bucket: int, number: int, whole: Any) -> None:
        from twitchwise.cohort.format import _check_values

        check_columns(table, whole.column_names)
        _check_values(table, whole, self.vocabulary)
        folder = self.staging / table / f"{PARTITION}={bucket:03d}"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_parquet(whole, folder / f"part-{number:06d}.parquet")

    def _tick(self) -> None:
        """A progress line, at most every :attr:`progress_every` seconds."""
        now = time.monotonic()
        if self.progress is not None and now - self._said >= self.progress_every:
            self._said = now
            self._say()

    def _say(self) -> None:
        if self.progress is None:
            return
        exported, empty = self._counts()
        rate = self._read / max(time.monotonic() - self._started, 1e-9)
        self.progress(
            f"cohort export: {exported:,} people written, {empty:,} with nothing to export "
            f"({rate:.1f} journals/s)"
        )

    def _counts(self) -> tuple[int, int]:
        exported, empty = self.db.execute(
            "SELECT count(batch), count(*) - count(batch) FROM people"
        ).fetchone()
        return int(exported), int(empty)

    # -------------------------------------------------------------- the end

    def finish(self) -> ExportResult:
        """Write what is left, take out anyone recorded by an earlier run who no longer
        consents, write ``cohort.json`` and rename ``DIR.partial/`` to ``DIR/``."""
        if self.finished_before:
            manifest = _read_manifest_file(self.staging)
            self._publish()
            return ExportResult(
                self.target.out, manifest, manifest.people, 0, 0, 0, True, already_done=True
            )
        self.flush()
        withdrawn = self._take_out_withdrawn()
        self._fill_empty_tables()
        exported, empty = self._counts()
        first, last = self.db.execute(
            "SELECT min(first_day), max(last_day) FROM people WHERE batch IS NOT NULL"
        ).fetchone()
        batches = int(self.db.execute("SELECT count(*) FROM batches").fetchone()[0])
        manifest = self._manifest(exported, first or "", last or "")
        self.close()
        text = json.dumps(manifest.to_dict(), indent=2) + "\n"
        _write_atomic(self.staging / MANIFEST, text.encode())
        for suffix in ("", "-journal", "-wal", "-shm"):
            (self.staging / (PROGRESS + suffix)).unlink(missing_ok=True)
        self._publish()
        return ExportResult(
            self.target.out, manifest, exported, empty, withdrawn, batches, self.target.resume
        )

    def _take_out_withdrawn(self) -> int:
        """People recorded by an earlier run and not listed as consenting in this one: out of
        every file of their batch, then out of the progress manifest."""
        db = self.db
        gone: dict[int, set[str]] = defaultdict(set)
        empty_gone = 0
        for pid, number in db.execute(
            "SELECT person_id, batch FROM people WHERE seen < ?", (self.run,)
        ):
            if number is None:
                empty_gone += 1
            else:
                gone[int(number)].add(pid)
        if not gone and not empty_gone:
            return 0
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        for number, ids in sorted(gone.items()):
            drop = pa.array(sorted(ids), pa.string())
            for table in TABLES:
                for path in sorted(
                    (self.staging / table).glob(f"{PARTITION}=*/part-{number:06d}.parquet")
                ):
                    whole = pq.read_table(path, schema=_schema(table))
                    kept = whole.filter(pc.invert(pc.is_in(whole.column("person_id"), drop)))
                    if kept.num_rows != whole.num_rows:
                        _write_parquet(kept, path)
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM people WHERE seen < ?", (self.run,))
        db.execute("COMMIT")
        return sum(len(ids) for ids in gone.values())

    def _fill_empty_tables(self) -> None:
        """A table without any file gets one empty file (a cohort of no one still reads)."""
        import pyarrow as pa

        for table in TABLES:
            if not any((self.staging / table).glob(f"{PARTITION}=*/*.parquet")):
                folder = self.staging / table / f"{PARTITION}=000"
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                empty = pa.Table.from_batches([], schema=_schema(table))
                _write_parquet(empty, folder / f"part-{0:06d}.parquet")

    def _publish(self) -> None:
        """``DIR.partial/`` becomes ``DIR/`` in one rename (an empty ``DIR/`` is replaced)."""
        out = self.target.out
        if out.exists():
            out.rmdir()  # destination() made sure it is an empty folder
        os.replace(self.staging, out)
        _fsync_folder(out.parent)


def _batch_of(path: Path) -> int | None:
    """The batch number of a part file (``part-000012.parquet``), or None."""
    stem = path.name.removesuffix(".parquet")
    if not stem.startswith("part-") or not path.name.endswith(".parquet"):
        return None
    try:
        return int(stem.removeprefix("part-"))
    except ValueError:
        return None


def _write_parquet(whole: Any, path: Path) -> None:
    """Write a Parquet file under a temporary name, flush it to disk and rename it."""
    import pyarrow.parquet as pq

    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(whole, temporary, compression="zstd", row_group_size=1 << 20)
    _fsync_file(temporary)
    os.replace(temporary, path)


def _write_atomic(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(path: Path) -> None:
    if os.name == "nt":  # pragma: no cover - no directory handles there
        return
    _fsync_file(path)


def _read_manifest_file(folder: Path) -> Manifest:
    from twitchwise.cohort.format import read_manifest

    return read_manifest(folder)
