"""The web's side of every use case: the application object's result, shaped for the routes.

``routes/api.py`` turns these into JSON and ``routes/pages.py`` into HTML; neither builds
anything itself, and neither does this module: each function makes its call on the
:class:`~twitchwise.app.Twitchwise` the app was created with and adds only what is the web's
own (the request size limit, 404 for what is not there, media types and file names, the
upload saved to a private temporary file). The library's input errors carry the field at
fault and become 422 responses in :mod:`twitchwise.web.errors`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from twitchwise.app.interview import InterviewView
from twitchwise.app.journal import JournalOverview, Output
from twitchwise.errors import InputError
from twitchwise.web.errors import ApiError

if TYPE_CHECKING:
    from fastapi.responses import Response

    from twitchwise.answer.model import Answer
    from twitchwise.app.core import Twitchwise
    from twitchwise.app.experiment import ExperimentPage
    from twitchwise.app.interview import InterviewState
    from twitchwise.guides.model import Guide
    from twitchwise.guides.site import CausePage
    from twitchwise.insights.analysis import Insights
    from twitchwise.insights.experiment import ExperimentStatus
    from twitchwise.journal.records import DayFactors, EpisodeIn
    from twitchwise.journal.store import ImportSummary, Journal

__all__ = [
    "InterviewView",
    "JournalOverview",
    "ask",
    "assess",
    "cause",
    "causes",
    "experiment_check_in",
    "experiment_page",
    "experiment_start",
    "experiment_stop",
    "findings",
    "guide",
    "import_stream",
    "import_upload",
    "interview_answer",
    "interview_back",
    "interview_result",
    "interview_start",
    "interview_state",
    "journal_days",
    "journal_episodes",
    "journal_export",
    "journal_overview",
    "journal_report",
    "log_episode",
    "set_day",
    "topics",
]

EXPORT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
REPORT_TYPES = {
    "html": ("text/html; charset=utf-8", "twitch-report.html"),
    "pdf": ("application/pdf", "twitch-report.pdf"),
    "fhir": ("application/fhir+json", "twitch-journal.fhir.json"),
}


# --------------------------------------------------------------------------- answers


def ask(tw: Twitchwise, text: str, age: int | None = None, sex: str | None = None) -> Answer:
    """The Quick Clear Answer for a description; the form and the API share the API's length
    limit."""
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
    return tw.ask(text, age=age, sex=sex)


def assess(tw: Twitchwise, ids: Sequence[str], age: int | None, sex: str | None) -> Answer:
    """The answer for finding ids; unknown ids name the closest."""
    return tw.assess(ids, age=age, sex=sex)


def findings(tw: Twitchwise) -> list[dict[str, str]]:
    return tw.findings()


def causes(tw: Twitchwise) -> list[dict[str, str]]:
    return tw.causes()


def regions(tw: Twitchwise) -> list[tuple[str, str]]:
    """Body regions, head to foot, as (id, label)."""
    return tw.regions()


# --------------------------------------------------------------------------- guides


def topics(tw: Twitchwise) -> list[dict[str, str]]:
    """Every guide topic (as ``twitchwise guide --list --format json``), with its kind."""
    return [{"id": t.id, "title": t.title, "kind": t.kind} for t in tw.topics()]


def guide(topic: str, tw: Twitchwise) -> Guide:
    """The guide for a topic id or alias; 404 naming the closest topics when there is none."""
    try:
        return tw.guide(topic)
    except InputError as exc:
        names = " or ".join(map(repr, exc.suggestions))
        close = f"did you mean {names}? " if names else ""
        raise ApiError(
            404, f"unknown guide topic {topic!r}; {close}GET /api/guides lists every topic"
        ) from None


def cause(cause_id: str, tw: Twitchwise) -> CausePage:
    if cause_id not in tw.kb.causes:
        raise ApiError(404, f"unknown cause {cause_id!r}; GET /api/causes lists every cause")
    return tw.cause_page(cause_id)


# --------------------------------------------------------------------------- interview


def interview_start(
    tw: Twitchwise, text: str | None = None, age: int | None = None, sex: str | None = None
) -> InterviewView:
    return tw.interview(text, age=age, sex=sex)


def interview_state(data: Mapping[str, Any], tw: Twitchwise) -> InterviewState:
    return tw.interview_state(data)


def interview_answer(
    tw: Twitchwise, state: InterviewState, question_id: str, reply: bool | int | list[int] | None
) -> InterviewView:
    return tw.interview_answer(state, question_id, reply)


def interview_back(tw: Twitchwise, state: InterviewState) -> InterviewView:
    return tw.interview_view(state.back())


def interview_result(tw: Twitchwise, state: InterviewState) -> tuple[Answer, dict[str, Any]]:
    return tw.interview_result(state)


# --------------------------------------------------------------------------- journal


def log_episode(
    tw: Twitchwise,
    journal: Journal,
    region: str,
    *,
    side: str | None = None,
    intensity: int | None = None,
    duration_s: float | None = None,
    at: datetime | None = None,
    note: str | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """Log one episode; returns it as stored (``id``, ``at``, ``date``, ...). ``id`` is the
    journal's row id, or with ``public`` (the hosted service) the episode's random public id."""
    episode_id, episode = tw.log_episode(
        journal,
        region,
        side=side,
        intensity=intensity,
        duration_s=duration_s,
        at=at,
        note=note,
    )
    return episode_dict(episode_id, episode, public=public)


def episode_dict(episode_id: int, e: EpisodeIn, *, public: bool = False) -> dict[str, Any]:
    """The episode as the API gives it: ``id`` is its row id in the local app (an integer, as
    it always was), and its public id (a random UUID) with ``public``: in the hosted service no
    sequential id leaves the server."""
    return {
        "id": str(e.public_id) if public else episode_id,
        "at": e.at.isoformat(),
        "date": e.day.isoformat(),
        "region": e.region,
        "side": e.side,
        "intensity": e.intensity,
        "duration_s": e.duration_s,
        "note": e.note,
    }


def set_day(
    tw: Twitchwise, journal: Journal, day: date, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Set the given factors of ``day`` (others are kept); returns the whole day."""
    return day_dict(day, tw.set_day(journal, day, values))


def day_dict(day: date, factors: DayFactors) -> dict[str, Any]:
    return {"date": day.isoformat(), **factors.values()}


def journal_episodes(journal: Journal, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """A page of episodes as the export has them (oldest first), and how many are stored."""
    rows, total = journal.episode_page(offset, limit)
    return [e.to_dict() for e in rows], total


def journal_days(journal: Journal) -> list[dict[str, Any]]:
    """Every day's factors, as the export has them (the episodes are not read)."""
    days, _ = journal.days()
    return [d.to_dict() for d in days]


#: A download up to this size is held in memory; a bigger one goes to a private temporary file
#: (deleted when sent), so that memory stays bounded however big the journal.
SPOOL_BYTES = 8 * 1024 * 1024


def journal_export(
    tw: Twitchwise,
    journal: Journal,
    fmt: str,
    profile: Mapping[str, Any] | None = None,
) -> tuple[BinaryIO, str, str]:
    """(content, media type, file name) of the JSON or daily CSV export; with accounts the
    JSON has the account's ``profile`` and its record of ``answers`` too (``profile``: the
    mapping :func:`~twitchwise.web.deps.profile_for_export` gives, both in it)."""
    account = dict(profile) if profile is not None else None
    answers = account.pop("answers", None) if account is not None else None
    output = tw.export(journal, fmt, account, answers)
    return _spooled(output), EXPORT_TYPES[fmt], f"twitchwise-journal.{fmt}"


def _spooled(output: Output) -> BinaryIO:
    """The output written out while the journal is open, in memory when small and in a
    private temporary file (mode 0600, no name, gone when closed) when not; ready to read."""
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed on open, closed when sent
        max_size=SPOOL_BYTES, prefix="twitchwise-download-"
    )
    try:
        for chunk in output.chunks:
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool  # type: ignore[return-value]


def download(content: bytes | BinaryIO, media_type: str, filename: str) -> Response:
    """A file to save: a small body as it is, a spooled one streamed in 64 kB blocks."""
    from fastapi.responses import Response, StreamingResponse

    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    if isinstance(content, bytes):
        return Response(content, media_type=media_type, headers=headers)

    def blocks() -> Iterator[bytes]:
        with content:
            while block := content.read(64 * 1024):
                yield block

    return StreamingResponse(blocks(), media_type=media_type, headers=headers)


def import_upload(tw: Twitchwise, journal: Journal, path: Path, name: str) -> list[ImportSummary]:
    """Import one uploaded file (saved at ``path``; ``name`` is what the person called it)."""
    return tw.import_files(journal, [(path, name)])


def import_stream(
    tw: Twitchwise, journal: Journal, stream: BinaryIO, filename: str | None
) -> list[ImportSummary]:
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
        return import_upload(tw, journal, path, name)


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
        "experiments_added": s.experiments_added,
        "notes": list(s.notes),
        "message": describe_import(s),
    }


def safe_name(filename: str | None) -> str:
    """The uploaded file's own name, without any folder, for messages."""
    base = re.split(r"[\\/]", filename or "")[-1].strip()
    base = "".join(ch for ch in base if ch.isprintable())[:200]
    return base or "upload"


def insights(tw: Twitchwise, journal: Journal) -> Insights:
    return tw.insights(journal)


def journal_report(tw: Twitchwise, journal: Journal, fmt: str) -> tuple[BinaryIO, str, str]:
    """(content, media type, file name) of the doctor report: html, pdf or fhir."""
    media, filename = REPORT_TYPES[fmt]
    tw.require_report(fmt)
    return _spooled(tw.report_output(journal, fmt)), media, filename


def journal_overview(tw: Twitchwise, journal: Journal, recent: int = 8) -> JournalOverview:
    """Counts, the latest episodes, today's factors, charts, alerts and triggers."""
    return tw.journal_overview(journal, recent)


def experiment_page(tw: Twitchwise, journal: Journal) -> ExperimentPage:
    """The journal page's self-experiment section."""
    return tw.experiment_page(journal)


def experiment_check_in(tw: Twitchwise, journal: Journal, followed: bool) -> ExperimentStatus:
    """Check in for today of the running experiment."""
    return tw.experiment_check_in(journal, followed)


def experiment_stop(tw: Twitchwise, journal: Journal, reason: str | None) -> ExperimentStatus:
    """Stop the running experiment early (today is its last day), as ``experiment stop``."""
    return tw.experiment_stop(journal, reason)


def experiment_start(
    tw: Twitchwise,
    journal: Journal,
    kind: str,
    *,
    weeks: int,
    block_days: int,
    washout_days: int,
    change: str | None,
) -> ExperimentStatus:
    """Start a self-experiment today."""
    return tw.experiment_start(
        journal, kind, weeks=weeks, block_days=block_days, washout_days=washout_days, change=change
    )
