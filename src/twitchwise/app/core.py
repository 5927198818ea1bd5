"""The :class:`Twitchwise` object: the knowledge base, the parser, the journal's settings and the
caches built from them, and every use case the interfaces offer.

Nothing here draws a screen or knows HTTP: the command line and the web app call these methods
and translate the results and the :class:`~twitchwise.errors.InputError` they raise (each names
the input at fault in ``field``). Everything heavy is imported when first used, so creating an
instance costs nothing and ``twitchwise ask`` loads only what an answer needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer
    from twitchwise.app.entry import TextEntries
    from twitchwise.app.experiment import ExperimentPage
    from twitchwise.app.interview import InterviewView
    from twitchwise.app.journal import ImportFile, JournalOverview, Output
    from twitchwise.evidence import Evidence
    from twitchwise.guides.model import Guide
    from twitchwise.guides.site import CausePage
    from twitchwise.insights.analysis import Insights
    from twitchwise.insights.experiment import ExperimentResult, ExperimentStatus
    from twitchwise.journal.records import DayFactors, EpisodeIn
    from twitchwise.journal.settings import JournalSettings
    from twitchwise.journal.store import ImportSummary, Journal, JournalData
    from twitchwise.journal.summary import JournalSummary
    from twitchwise.knowledge.load import KnowledgeBase
    from twitchwise.knowledge.schema import Topic
    from twitchwise.reason.interview import Answered, InterviewState, Policy, Stop
    from twitchwise.understand.parse import Parser

__all__ = ["Twitchwise", "default"]

#: ``progress(path, size)`` gives a ``(done, total)`` callback for reading one file, or None.
Progress = Callable[[Path, int], "Callable[[int, int], None] | None"]


class Twitchwise:
    """One twitchwise: the state the use cases share, built once and on first use.

    ``kb`` defaults to the packaged knowledge base and ``journal_settings`` to the settings of
    the environment (``TWITCHWISE_HOME``, ...). An instance is safe to share between threads:
    what it builds lazily is built under a lock, and everything it holds is immutable.
    """

    def __init__(
        self,
        kb: KnowledgeBase | None = None,
        *,
        journal_settings: JournalSettings | None = None,
    ) -> None:
        self._kb = kb
        self._journal_settings = journal_settings
        self._parser: Parser | None = None
        self._guides: dict[str, Guide] | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        loaded = "loaded" if self._kb is not None else "not loaded yet"
        return f"<Twitchwise knowledge base {loaded}>"

    # ------------------------------------------------------------------ state

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base (the packaged one unless another was given)."""
        if self._kb is None:
            with self._lock:
                if self._kb is None:
                    from twitchwise.knowledge.load import load_knowledge

                    self._kb = load_knowledge()
        return self._kb

    @property
    def parser(self) -> Parser:
        """The understanding layer's parser for this knowledge base."""
        if self._parser is None:
            with self._lock:
                if self._parser is None:
                    from twitchwise.understand.parse import load_parser

                    self._parser = load_parser(self.kb)
        return self._parser

    @property
    def journal_settings(self) -> JournalSettings:
        """The journal's settings: those given, else the environment's as they are now
        (``TWITCHWISE_HOME``, ...; read again on each use, so a changed environment counts)."""
        if self._journal_settings is not None:
            return self._journal_settings
        from twitchwise.journal.settings import journal_settings

        return journal_settings()

    # ------------------------------------------------------------------ answers

    def read(self, text: str, today: date | None = None) -> Evidence:
        """What a lay description says, as evidence (findings, quantities, doubts)."""
        return self.parser.parse(text, today=today)

    def ask(
        self,
        text: str,
        *,
        age: int | None = None,
        sex: str | None = None,
        today: date | None = None,
    ) -> Answer:
        """The Quick Clear Answer for a lay description of a twitch."""
        from twitchwise.answer.build import answer_text

        return answer_text(self.kb, self.parser, text, age=age, sex=sex, today=today)

    def assess(
        self, findings: Iterable[str], *, age: int | None = None, sex: str | None = None
    ) -> Answer:
        """The answer for finding ids; ``"!id"`` marks a finding the person does not have."""
        from twitchwise.answer.build import answer_ids

        return answer_ids(self.kb, findings, age=age, sex=sex)

    def answer_for(self, evidence: Evidence) -> Answer:
        from twitchwise.answer.build import answer_for

        return answer_for(self.kb, evidence)

    def finding_ids(self, ids: Iterable[str]) -> list[tuple[str, bool]]:
        """Finding ids as given (``"!id"``: denied) as (id, denied); unknown ids are refused
        together, each with the closest, in one :class:`InputError`."""
        from twitchwise.knowledge.facts import finding_ids

        return finding_ids(self.kb, ids)

    def findings(self) -> list[dict[str, str]]:
        """Every finding a person can have: id, label and kind."""
        return [
            {"id": f.id, "label": f.label, "kind": f.kind}
            for f in self.kb.findings.values()
            if f.kind != "cue"  # internal words for composing findings, not findings themselves
        ]

    def causes(self) -> list[dict[str, str]]:
        return [{"id": c.id, "name": c.name} for c in self.kb.causes.values()]

    def regions(self) -> list[tuple[str, str]]:
        """Body regions, head to foot, as (id, label)."""
        return [(f.id, f.label) for f in self.kb.findings.values() if f.kind == "region"]

    # ------------------------------------------------------------------ guides

    def topics(self) -> list[Topic]:
        from twitchwise.guides.build import topics

        return topics(self.kb)

    def find_topic(self, name: str) -> Topic:
        """A topic by id or alias; an :class:`InputError` naming the closest ones otherwise."""
        from twitchwise.guides.build import find_topic

        return find_topic(name, self.kb)

    def guide(self, topic: str | Topic) -> Guide:
        """The guide for a topic (built once per instance)."""
        found = self.find_topic(topic) if isinstance(topic, str) else topic
        return self.guides()[found.id]

    def guides(self) -> dict[str, Guide]:
        """Every guide, by topic id (built once per instance)."""
        if self._guides is None:
            with self._lock:
                if self._guides is None:
                    from twitchwise.guides.build import build_guide

                    self._guides = {t.id: build_guide(t, self.kb) for t in self.topics()}
        return self._guides

    def cause_page(self, cause_id: str) -> CausePage:
        from twitchwise.guides.site import cause_page

        if cause_id not in self.kb.causes:
            raise InputError(
                f"unknown cause {cause_id!r}; 'twitchwise causes' lists every cause",
                field="cause",
            )
        return cause_page(cause_id, self.kb, self.guides())

    # ------------------------------------------------------------------ interview

    def interview(
        self, text: str | None = None, *, age: int | None = None, sex: str | None = None
    ) -> InterviewView:
        """A new interview, from what the opening text says (nothing when there is none)."""
        from twitchwise.app.interview import start

        return start(self, text, age=age, sex=sex)

    def interview_view(self, state: InterviewState, policy: Policy | None = None) -> InterviewView:
        """Where an interview stands: its next question (or why it stops) and the progress."""
        from twitchwise.app.interview import view

        return view(self, state, policy)

    def interview_answer(
        self,
        state: InterviewState,
        question_id: str,
        reply: bool | int | list[int] | None,
        policy: Policy | None = None,
    ) -> InterviewView:
        """Record the reply to the state's next question (which must be ``question_id``)."""
        from twitchwise.app.interview import answer

        return answer(self, state, question_id, reply, policy)

    def interview_state(self, data: Mapping[str, Any]) -> InterviewState:
        """A state sent back by a client, every id checked."""
        from twitchwise.app.interview import state_from

        return state_from(self, data)

    def interview_run(
        self, state: InterviewState, answers: Mapping[str, bool], policy: Policy | None = None
    ) -> tuple[InterviewState, Stop]:
        """Answer every question from ``answers`` (finding id to yes or no) until it stops."""
        from twitchwise.reason import interview

        return interview.run(state, answers, self.kb, policy or interview.Policy())

    def interview_result(
        self, state: InterviewState, stop: Stop | None = None
    ) -> tuple[Answer, dict[str, Any]]:
        """The answer for everything known, and its JSON with the questions and the stop."""
        from twitchwise.app.interview import result

        return result(self, state, stop)

    def describe_answer(self, answered: Answered) -> str:
        from twitchwise.reason import interview

        return interview.describe_answer(answered, self.kb)

    # ------------------------------------------------------------------ journal

    def open_journal(self) -> Journal:
        """The journal of :attr:`journal_settings`, opened (and migrated) now."""
        from twitchwise.journal.store import open_journal

        return open_journal(self.journal_settings)

    # ------------------------------------------------------------------ readiness

    def check_knowledge(self) -> None:
        """Load the knowledge base now, if it is not yet (``KnowledgeError`` when it cannot
        be): a server is ready to answer only once it is loaded."""
        _ = self.kb

    def check_journal(self, journal: Journal) -> None:
        """``JournalError`` unless ``journal``'s database answers a trivial query."""
        journal.ping()

    def log_episode(
        self,
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
        """Log one episode (``at`` defaults to now); returns its id and the episode."""
        from twitchwise.app.journal import log_episode

        return log_episode(
            self,
            journal,
            region,
            side=side,
            intensity=intensity,
            duration_s=duration_s,
            at=at,
            note=note,
            at_name=at_name,
        )

    def entries_from_text(self, text: str, at: datetime | None = None) -> TextEntries:
        """Episodes and the day's factors a lay sentence states (nothing written)."""
        from twitchwise.app.entry import entries_from_text

        return entries_from_text(self.kb, self.parser, text, at)

    def log_text(self, journal: Journal, text: str, at: datetime | None = None) -> TextEntries:
        """Log what a lay sentence states; returns what was logged."""
        entries = self.entries_from_text(text, at)
        if not entries.empty:
            journal.log(entries.episodes, entries.day, entries.factors)
        return entries

    def set_day(
        self, journal: Journal, day: date, values: Mapping[str, Any], *, day_name: str = "day"
    ) -> DayFactors:
        """Set the given factors of ``day`` (others are kept); returns the whole day."""
        from twitchwise.app.journal import set_day

        return set_day(journal, day, values, day_name=day_name)

    def day_factors(self, values: Mapping[str, Any]) -> DayFactors:
        """A day's factors from what a person gave (None: not given), tidied and checked."""
        from twitchwise.app.journal import day_factors

        return day_factors(values)

    def prepare_import(self, files: Sequence[tuple[Path, str]]) -> list[ImportFile]:
        """Find each file's format and fingerprint, before any journal is opened: a file
        twitchwise cannot import is an :class:`InputError` naming it."""
        from twitchwise.app.journal import prepare_import

        return prepare_import(files)

    def import_files(
        self,
        journal: Journal,
        files: Sequence[ImportFile | tuple[Path, str]],
        progress: Progress | None = None,
    ) -> list[ImportSummary]:
        """Import files, given as (path, name to show) or prepared: all read and checked first,
        then written in one transaction; a file imported before, or given twice, adds
        nothing."""
        from twitchwise.app.journal import import_files

        return import_files(journal, files, progress)

    def export(
        self,
        journal: Journal | JournalData,
        fmt: str,
        profile: Mapping[str, Any] | None = None,
        answers: Sequence[Mapping[str, Any]] | None = None,
    ) -> Output:
        """The JSON (everything) or daily CSV export, written as it is read (an
        :class:`~twitchwise.app.journal.Output`: read its chunks while the journal is open).
        ``profile``: the hosted account's age band and sex, in the JSON (``profile``);
        ``answers``: its record of answers (``answers``)."""
        from twitchwise.app.journal import export

        return export(journal, fmt, profile, answers)

    def require_insights(self) -> None:
        """A :class:`~twitchwise.errors.ConfigError` naming the install command when the
        ``insights`` extra is missing."""
        from twitchwise.app.journal import require_insights

        require_insights()

    def require_report(self, fmt: str) -> None:
        """As :meth:`require_insights`, for the doctor report in ``fmt``."""
        from twitchwise.app.journal import require_report

        require_report(fmt)

    def insights(self, journal: Journal | JournalData | JournalSummary) -> Insights:
        """The statistical insights of a journal (needs the ``insights`` extra)."""
        from twitchwise.app.journal import insights

        return insights(self, journal)

    def report(self, journal: Journal | JournalData, fmt: str) -> bytes:
        """The doctor report as ``html``, ``pdf`` or ``fhir`` (JSON) bytes."""
        from twitchwise.app.journal import report

        return report(self, journal, fmt)

    def report_output(self, journal: Journal | JournalData, fmt: str) -> Output:
        """The doctor report written as it is read (an :class:`~twitchwise.app.journal.Output`:
        read its chunks while the journal is open): the FHIR bundle of a large journal is
        never held whole."""
        from twitchwise.app.journal import report_output

        return report_output(self, journal, fmt)

    def journal_overview(self, journal: Journal, recent: int = 8) -> JournalOverview:
        """Counts, the latest episodes, today's factors, charts, alerts and triggers."""
        from twitchwise.app.journal import overview

        return overview(self, journal, recent)

    # ------------------------------------------------------------------ self-experiments

    def experiment_start(
        self,
        journal: Journal,
        kind: str,
        *,
        weeks: int = 6,
        block_days: int = 7,
        washout_days: int = 2,
        change: str | None = None,
        today: date | None = None,
        seed: int | None = None,
    ) -> ExperimentStatus:
        """Start a randomised self-experiment of ``kind`` today (one runs at a time)."""
        from twitchwise.app.experiment import start

        return start(
            self,
            journal,
            kind,
            weeks=weeks,
            block_days=block_days,
            washout_days=washout_days,
            change=change,
            today=today,
            seed=seed,
        )

    def experiment_status(self, journal: Journal, today: date | None = None) -> ExperimentStatus:
        """Where the latest experiment stands: today's instruction, adherence, days left."""
        from twitchwise.app.experiment import status

        return status(self, journal, today)

    def experiment_check_in(
        self,
        journal: Journal,
        followed: bool,
        day: date | None = None,
        today: date | None = None,
    ) -> ExperimentStatus:
        """Whether the plan was kept on ``day`` (default today)."""
        from twitchwise.app.experiment import check_in

        return check_in(self, journal, followed, day, today)

    def experiment_stop(
        self, journal: Journal, reason: str | None = None, today: date | None = None
    ) -> ExperimentStatus:
        """Stop the running experiment early (today is its last day)."""
        from twitchwise.app.experiment import stop

        return stop(self, journal, reason, today)

    def experiment_result(self, journal: Journal, today: date | None = None) -> ExperimentResult:
        """The result of the latest experiment once it has finished or been stopped."""
        from twitchwise.app.experiment import result

        return result(self, journal, today)

    def experiment_results(
        self, journal: Journal, today: date | None = None
    ) -> list[ExperimentResult]:
        """Every finished or stopped experiment's result (for the doctor report)."""
        from twitchwise.app.experiment import finished_results

        return finished_results(self, journal, today)

    def experiment_page(self, journal: Journal, today: date | None = None) -> ExperimentPage:
        """The journal page's self-experiment section: the latest experiment (where it
        stands, or its result and chart once ended) and the kinds to start one with."""
        from twitchwise.app.experiment import page

        return page(self, journal, today)


_default: Twitchwise | None = None
_default_lock = threading.Lock()


def default() -> Twitchwise:
    """The process's default instance (the packaged knowledge base, the environment's
    journal settings), made on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Twitchwise()
    return _default
