"""The data behind every API endpoint and page, built once here and shaped by the routes.

``routes/api.py`` turns these into JSON and ``routes/pages.py`` into HTML; neither builds
anything itself. Each function makes library calls only (:mod:`twitchwise.answer`,
:mod:`twitchwise.reason.interview`, :mod:`twitchwise.guides`, :mod:`twitchwise.journal`,
:mod:`twitchwise.insights`) and turns the library's input errors into :class:`ApiError`
with the field at fault.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from twitchwise.answer.build import answer_for, parser, with_demographics
from twitchwise.answer.build import ask as build_ask
from twitchwise.answer.build import assess as build_assess
from twitchwise.errors import InputError
from twitchwise.evidence import Evidence
from twitchwise.reason import interview
from twitchwise.web.errors import ApiError

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer
    from twitchwise.guides.model import Guide
    from twitchwise.guides.site import CausePage
    from twitchwise.insights.alerts import Alert
    from twitchwise.insights.analysis import Insights
    from twitchwise.journal.records import DayFactors, EpisodeIn
    from twitchwise.journal.store import ImportSummary, Journal, JournalData
    from twitchwise.knowledge.load import KnowledgeBase

__all__ = [
    "InterviewView",
    "JournalOverview",
    "ask",
    "assess",
    "cause",
    "causes",
    "findings",
    "guide",
    "import_stream",
    "import_upload",
    "interview_answer",
    "interview_back",
    "interview_result",
    "interview_start",
    "interview_state",
    "journal_export",
    "journal_overview",
    "journal_report",
    "log_episode",
    "set_day",
    "topics",
]

#: How far in the future an episode's time may be (clock differences).
FUTURE_SLACK = timedelta(minutes=5)
EXPORT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
REPORT_TYPES = {
    "html": ("text/html; charset=utf-8", "twitch-report.html"),
    "pdf": ("application/pdf", "twitch-report.pdf"),
    "fhir": ("application/fhir+json", "twitch-journal.fhir.json"),
}
STATS_MODULES = ("numpy", "scipy", "statsmodels")


# --------------------------------------------------------------------------- answers


def ask(text: str, age: int | None = None, sex: str | None = None) -> Answer:
    """The Quick Clear Answer for a description (``twitchwise.ask``); the form and the API share
    the API's length limit."""
    from twitchwise.web.models import MAX_TEXT

    if len(text) > MAX_TEXT:
        raise ApiError(
            422,
            f"the description is {len(text)} characters long; shorten it to at most {MAX_TEXT}",
            [("text", f"at most {MAX_TEXT} characters")],
        )
    if not text.strip():
        raise ApiError(
            422,
            "describe the twitch in words, for example: my left eyelid has twitched for 3 days",
            [("text", "must not be blank; describe the twitch in words")],
        )
    try:
        return build_ask(text, age=age, sex=sex)
    except InputError as exc:
        raise ApiError(422, str(exc)) from None


def assess(kb: KnowledgeBase, ids: Sequence[str], age: int | None, sex: str | None) -> Answer:
    """The answer for finding ids (``twitchwise.assess``); unknown ids name the closest."""
    errors = []
    for i, raw in enumerate(ids):
        fid = raw.strip().lstrip("!").strip()
        if fid not in kb.findings or kb.findings[fid].kind == "cue":
            close = difflib.get_close_matches(fid, [k for k in kb.findings if k != fid], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            errors.append(
                (f"findings[{i}]", f"unknown finding {fid!r}; {hint}GET /api/findings lists them")
            )
    if errors:
        raise ApiError(422, errors[0][1], errors)
    try:
        return build_assess(ids, age=age, sex=sex)
    except InputError as exc:
        raise ApiError(422, str(exc)) from None


def findings(kb: KnowledgeBase) -> list[dict[str, str]]:
    """Every finding (as ``twitchwise findings --format json``)."""
    return [
        {"id": f.id, "label": f.label, "kind": f.kind}
        for f in kb.findings.values()
        if f.kind != "cue"
    ]


def causes(kb: KnowledgeBase) -> list[dict[str, str]]:
    return [{"id": c.id, "name": c.name} for c in kb.causes.values()]


def regions(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """Body regions, head to foot, as (id, label)."""
    return [(f.id, f.label) for f in kb.findings.values() if f.kind == "region"]


# --------------------------------------------------------------------------- guides


def topics(kb: KnowledgeBase) -> list[dict[str, str]]:
    """Every guide topic (as ``twitchwise guide --list --format json``), with its kind."""
    from twitchwise.guides.build import topics as all_topics

    return [{"id": t.id, "title": t.title, "kind": t.kind} for t in all_topics(kb)]


def guide(topic: str, kb: KnowledgeBase) -> Guide:
    """The guide for a topic id or alias; 404 naming the closest topics when there is none."""
    from twitchwise.guides.build import find_topic

    try:
        found = find_topic(topic, kb)
    except InputError as exc:
        hint = re.search(r"did you mean [^?]*\?", str(exc))
        more = f"{hint.group(0)} " if hint else ""
        raise ApiError(
            404, f"unknown guide topic {topic!r}; {more}GET /api/guides lists every topic"
        ) from None
    return _guides(kb)[found.id]


def cause(cause_id: str, kb: KnowledgeBase) -> CausePage:
    from twitchwise.guides.site import cause_page

    if cause_id not in kb.causes:
        raise ApiError(404, f"unknown cause {cause_id!r}; GET /api/causes lists every cause")
    return cause_page(cause_id, kb, _guides(kb))


def _guides(kb: KnowledgeBase) -> dict[str, Guide]:
    cached = kb._memo.get("web_guides")
    if isinstance(cached, dict):
        return cached
    from twitchwise.guides.build import build_guide
    from twitchwise.guides.build import topics as all_topics

    built = {t.id: build_guide(t, kb) for t in all_topics(kb)}
    kb._memo["web_guides"] = built
    return built


# --------------------------------------------------------------------------- interview


@dataclass(frozen=True)
class InterviewView:
    """Where an interview stands: the state to send back, the next step, the progress."""

    state: interview.InterviewState
    step: interview.Step
    progress: interview.Progress
    transcript: tuple[tuple[str, str], ...] = ()  # (question, answer in words)

    @property
    def question(self) -> interview.Question | None:
        return self.step.question

    @property
    def stop(self) -> interview.Stop | None:
        return self.step.stop

    def to_dict(self) -> dict[str, Any]:
        q = self.step.question
        stop = self.step.stop
        return {
            "state": self.state.to_dict(),
            "question": None
            if q is None
            else {
                "id": q.id,
                "kind": q.kind,
                "text": q.text,
                "help": q.help,
                "options": [{"index": i, "label": o.label} for i, o in enumerate(q.options)],
            },
            "why": self.step.why,
            "stop": None if stop is None else {"reason": stop.reason, "text": stop.text},
            "progress": {
                "level": self.progress.level.value,
                "leading": [
                    {"id": cid, "name": name, "probability": round(p, 4)}
                    for cid, name, p in self.progress.leading
                ],
            },
            "asked": len(self.state.asked),
        }


def _view(state: interview.InterviewState, kb: KnowledgeBase) -> InterviewView:
    return InterviewView(
        state,
        interview.next_question(state, kb),
        interview.progress(state, kb),
        tuple((a.text, interview.describe_answer(a, kb)) for a in state.asked),
    )


def interview_start(
    kb: KnowledgeBase, text: str | None = None, age: int | None = None, sex: str | None = None
) -> InterviewView:
    """A new interview, from what the opening text says (nothing when there is none)."""
    start = parser().parse(text) if text and text.strip() else Evidence()
    if age is not None or sex is not None:
        try:
            start = with_demographics(start, age, sex)
        except InputError as exc:
            raise ApiError(422, str(exc)) from None
    return _view(interview.InterviewState(start=start), kb)


def interview_state(data: Mapping[str, Any], kb: KnowledgeBase) -> interview.InterviewState:
    """A state sent back by a client (already shape-checked), with every id checked."""
    errors = []
    start = data.get("start") or {}
    for i, o in enumerate(start.get("observations", ())):
        if o["id"] not in kb.findings:
            errors.append((f"state.start.observations[{i}].id", f"unknown finding {o['id']!r}"))
    for i, a in enumerate(data.get("asked", ())):
        for fid in [*a.get("findings", ()), *a.get("answers", {})]:
            if fid not in kb.findings:
                errors.append((f"state.asked[{i}]", f"unknown finding {fid!r}"))
        if a.get("quantity") is not None and a.get("value") is None:
            errors.append((f"state.asked[{i}].value", "a quantity answer needs its value"))
    if errors:
        raise ApiError(
            422,
            "the interview state is not one twitchwise gave out; send it back unchanged, "
            "or start again",
            errors,
        )
    return interview.InterviewState.from_dict(data)


def interview_answer(
    kb: KnowledgeBase,
    state: interview.InterviewState,
    question_id: str,
    reply: bool | int | list[int] | None,
) -> InterviewView:
    """Record the reply to the state's next question (which must be ``question_id``)."""
    step = interview.next_question(state, kb)
    if step.question is None:
        assert step.stop is not None
        message = f"the interview has ended ({step.stop.reason}); ask for the result instead"
        raise ApiError(422, message, [("question", message)])
    q = step.question
    if question_id != q.id:
        message = f"the next question for this state is {q.id!r}, not {question_id!r}"
        raise ApiError(422, message, [("question", f"{message}; answer that one")])
    problem = _reply_problem(q, reply)
    if problem:
        raise ApiError(422, f"reply: {problem}", [("reply", problem)])
    return _view(interview.answer(state, q, reply, kb), kb)


def _reply_problem(q: interview.Question, reply: object) -> str | None:
    if reply is None:
        return None
    n = len(q.options)
    if q.kind == "finding":
        return None if isinstance(reply, bool) else "a yes/no question takes true, false or null"
    if q.kind in ("one_of", "quantity"):
        if isinstance(reply, bool) or not isinstance(reply, int) or not 0 <= reply < n:
            return f"give the index of one option, 0 to {n - 1}, or null for not sure"
        return None
    if (
        not isinstance(reply, list)
        or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n for i in reply)
        or len(set(reply)) != len(reply)
    ):
        return f"give a list of option indexes from 0 to {n - 1} ([] for none), or null"
    return None


def interview_back(kb: KnowledgeBase, state: interview.InterviewState) -> InterviewView:
    return _view(state.back(), kb)


def interview_result(
    kb: KnowledgeBase, state: interview.InterviewState
) -> tuple[Answer, dict[str, Any]]:
    """The answer for everything known, and its JSON as ``twitchwise check -f json`` gives it."""
    answer = answer_for(kb, interview.evidence(state, kb))
    data = answer.to_dict()
    data["questions"] = [
        {"finding": a.question, "text": a.text, "answer": a.answer} for a in state.asked
    ]
    stop = interview.next_question(state, kb).stop
    data["stopped"] = None if stop is None else {"reason": stop.reason, "text": stop.text}
    return answer, data


# --------------------------------------------------------------------------- journal


def log_episode(
    journal: Journal,
    region: str,
    *,
    side: str | None = None,
    intensity: int | None = None,
    duration_s: float | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Log one episode; returns it as stored (``id``, ``at``, ``date``, ...)."""
    from twitchwise.journal.entry import region_id
    from twitchwise.journal.records import EpisodeIn

    try:
        region_found = region_id(region)
    except InputError as exc:
        raise ApiError(422, str(exc), [("region", str(exc))]) from None
    from twitchwise.journal.dates import RULE, moment_problem

    now = datetime.now().astimezone()
    problem = None if at is None else moment_problem(at)
    if problem is not None:  # before any time zone arithmetic, which could overflow
        raise ApiError(422, f"at: {problem}; {RULE}", [("at", f"{problem}; {RULE}")])
    moment = now if at is None else (at if at.tzinfo else at.astimezone())
    if moment > now + FUTURE_SLACK:
        raise ApiError(422, "at: is in the future", [("at", "is in the future")])
    try:
        episode = EpisodeIn(
            at=moment,
            day=moment.date(),
            region=region_found,
            side=side,
            intensity=intensity,
            duration_s=duration_s,
            note=note.strip() or None if note else None,
        )
    except InputError as exc:
        raise ApiError(422, str(exc)) from None
    (episode_id,) = journal.log([episode])
    return episode_dict(episode_id, episode)


def episode_dict(episode_id: int, e: EpisodeIn) -> dict[str, Any]:
    return {
        "id": episode_id,
        "at": e.at.isoformat(),
        "date": e.day.isoformat(),
        "region": e.region,
        "side": e.side,
        "intensity": e.intensity,
        "duration_s": e.duration_s,
        "note": e.note,
    }


def set_day(journal: Journal, day: date, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set the given factors of ``day`` (others are kept); returns the whole day."""
    from twitchwise.journal.dates import RULE, date_problem
    from twitchwise.journal.records import DayFactors

    problem = date_problem(day)
    if problem is not None:
        raise ApiError(422, f"day: {problem}; {RULE}", [("day", f"{problem}; {RULE}")])
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        raise ApiError(
            422,
            "give at least one factor, e.g. caffeine_mg or sleep_h",
            [("body", "give at least one factor, e.g. caffeine_mg or sleep_h")],
        )
    if "medicines" in given:
        given["medicines"] = tuple(m.strip() for m in given["medicines"] if m.strip())
    try:
        whole = journal.set_day(day, DayFactors(**given).checked())
    except InputError as exc:
        name = str(exc).split(" ", 1)[0]
        raise ApiError(422, str(exc), [(name, str(exc))]) from None
    return day_dict(day, whole)


def day_dict(day: date, factors: DayFactors) -> dict[str, Any]:
    return {"date": day.isoformat(), **factors.values()}


def journal_export(journal: Journal, fmt: str) -> tuple[str, str, str]:
    """(text, media type, file name) of the JSON or daily CSV export."""
    from twitchwise.journal.export import to_csv, to_json

    data = journal.read()
    text = to_json(data) if fmt == "json" else to_csv(data)
    return text, EXPORT_TYPES[fmt], f"twitchwise-journal.{fmt}"


def import_upload(journal: Journal, path: Path, name: str) -> list[ImportSummary]:
    """Import one uploaded file (saved at ``path``; ``name`` is what the person called it)."""
    from twitchwise.journal.imports import detect_format, fingerprint, read_batch
    from twitchwise.journal.store import FileInfo, ImportSummary

    try:
        fmt = detect_format(path)
        digest, size = fingerprint(path)
        before = journal.imported(digest)
        if before is not None:
            return [ImportSummary(name, fmt.removesuffix("_zip"), before)]
        batch = read_batch(path, fmt)
    except InputError as exc:
        message = str(exc).replace(str(path), name)
        raise ApiError(422, message, [("file", message)]) from None
    return journal.import_files([(FileInfo(name, digest, size, batch.format), batch)])


def import_stream(journal: Journal, stream: BinaryIO, filename: str | None) -> list[ImportSummary]:
    """Import an uploaded file: saved in a private temporary folder, read, then deleted."""
    name = safe_name(filename)
    with tempfile.TemporaryDirectory(prefix="twitchwise-upload-") as folder:
        os.chmod(folder, 0o700)
        path = Path(folder) / "upload"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out)
        if path.stat().st_size == 0:
            raise ApiError(422, f"{name} is empty", [("file", "the file is empty")])
        return import_upload(journal, path, name)


def import_summary(s: ImportSummary) -> dict[str, Any]:
    from twitchwise.journal.imports import describe_import

    return {
        "name": s.name,
        "format": s.format,
        "already_imported": s.already_imported.isoformat() if s.already_imported else None,
        "workouts_added": s.workouts_added,
        "workouts_known": s.workouts_known,
        "days_added": s.days_added,
        "days_updated": s.days_updated,
        "values_kept": s.values_kept,
        "episodes_added": s.episodes_added,
        "notes": list(s.notes),
        "message": describe_import(s),
    }


def safe_name(filename: str | None) -> str:
    """The uploaded file's own name, without any folder, for messages."""
    base = re.split(r"[\\/]", filename or "")[-1].strip()
    base = "".join(ch for ch in base if ch.isprintable())[:200]
    return base or "upload"


def insights(journal: Journal) -> Insights:
    from twitchwise.insights.analysis import analyse, require_extra

    require_extra(STATS_MODULES, "pip install 'twitchwise[insights]'")
    return analyse(journal.read())


def journal_report(journal: Journal, fmt: str) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of the doctor report: html, pdf or fhir."""
    import json

    from twitchwise.insights.analysis import require_extra

    media, filename = REPORT_TYPES[fmt]
    data = journal.read()
    if fmt == "fhir":
        require_extra(("fhir.resources",), "pip install 'twitchwise[report]'")
        from twitchwise.insights.fhir import fhir_bundle, validate_bundle

        bundle = fhir_bundle(data)
        validate_bundle(bundle)
        content = (json.dumps(bundle, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        return content, media, filename
    modules = STATS_MODULES + (("fpdf",) if fmt == "pdf" else ())
    require_extra(modules, "pip install 'twitchwise[insights,report]'")
    from twitchwise.insights.analysis import analyse
    from twitchwise.insights.report import build_report, render_html, render_pdf

    built = build_report(data, analyse(data))
    content = render_pdf(built) if fmt == "pdf" else render_html(built).encode("utf-8")
    return content, media, filename


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


def journal_overview(journal: Journal, kb: KnowledgeBase, recent: int = 8) -> JournalOverview:
    """Counts, the latest episodes, today's factors, charts, alerts and triggers."""
    from twitchwise.errors import ConfigError
    from twitchwise.insights.alerts import alerts_for
    from twitchwise.insights.charts import body_map_svg, calendar_svg, effects_svg

    data: JournalData = journal.read()
    labels = dict(regions(kb))
    latest = [
        {**e, "region_label": labels.get(e["region"] or "", "Somewhere not given")}
        for e in reversed(data.episodes[-recent:])
    ]
    today = date.today().isoformat()
    today_values = next((d for d in data.days if d["date"] == today), {})
    charts = {"calendar": calendar_svg(data), "body-map": body_map_svg(data, kb)}
    overview = JournalOverview(
        counts={
            "episodes": len(data.episodes),
            "days": len(data.days),
            "workouts": len(data.workouts),
        },
        recent=latest,
        today={k: v for k, v in today_values.items() if k != "date" and v is not None},
        charts=charts,
        notes=list(data.problems),  # rows left out for their date: say which
    )
    try:
        from twitchwise.insights.analysis import analyse, describe_effect, require_extra

        require_extra(STATS_MODULES, "pip install 'twitchwise[insights]'")
    except ConfigError as exc:
        overview.missing_extra = str(exc)
        overview.alerts = alerts_for(data, kb)
        return overview
    result = analyse(data, kb=kb)
    charts["effects"] = effects_svg(result.effects)
    overview.alerts = result.alerts
    overview.triggers = [describe_effect(e) for e in result.triggers]
    overview.notes = result.notes
    return overview
