"""The REST API under ``/api``: JSON in, the library's own JSON out.

Every handler parses its input (pydantic models in :mod:`twitchwise.web.models`), makes one
call into :mod:`twitchwise.web.service` (which calls the application object) and returns the
result as a ``JSONResponse``, so the library's dictionaries go out as they are (the
``response_model`` is for the schema only).
``POST /api/ask`` returns exactly ``twitchwise.ask(text).to_dict()``, the JSON of
``twitchwise ask --format json``.
Errors share one shape (:mod:`twitchwise.web.errors`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from twitchwise.web import service
from twitchwise.web.deps import AppDep, ExportProfileDep, JournalDep, SettingsDep, keep_answer
from twitchwise.web.models import (
    EPISODES_PAGE,
    MAX_EPISODES_PAGE,
    MAX_OFFSET,
    AnswerPublic,
    AskIn,
    AssessIn,
    CauseNamePublic,
    CheckInIn,
    DayIn,
    DayPublic,
    EpisodeLogIn,
    EpisodePublic,
    ErrorPublic,
    FindingPublic,
    ImportsPublic,
    InterviewAnswerIn,
    InterviewResultIn,
    InterviewResultPublic,
    InterviewStartIn,
    InterviewStepPublic,
    JournalEpisodePublic,
    StopIn,
    TopicPublic,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic, "description": text}
    for status, text in (
        (400, "Malformed request (the body is not valid JSON)"),
        (403, "A cross-site request that would change data"),
        (404, "Not found"),
        (413, "The body is larger than the limit"),
        (422, "A field is missing or invalid: `errors` names each one and what to send"),
        (500, "Unexpected error (details only in the server's log)"),
        (503, "The journal, an optional extra or the knowledge base is not available"),
    )
}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


def _file(content: bytes | BinaryIO, media_type: str, filename: str) -> Response:
    return service.download(content, media_type, filename)


# --------------------------------------------------------------------------- answers


@router.post("/ask", response_model=AnswerPublic, summary="Answer a description in lay words")
def ask(body: AskIn, tw: AppDep, request: Request) -> JSONResponse:
    """The Quick Clear Answer: the contract's JSON, identical to `twitchwise ask -f json`."""
    answer = service.ask(tw, body.text, body.age, body.sex)
    keep_answer(request, answer)
    return JSONResponse(answer.to_dict())


@router.post("/assess", response_model=AnswerPublic, summary="Answer from finding ids")
def assess(body: AssessIn, tw: AppDep, request: Request) -> JSONResponse:
    """The same answer from finding ids; `!id` is a finding the person does not have."""
    answer = service.assess(tw, body.findings, body.age, body.sex)
    keep_answer(request, answer)
    return JSONResponse(answer.to_dict())


@router.get("/findings", response_model=list[FindingPublic], summary="Every finding id")
def findings(tw: AppDep) -> JSONResponse:
    return JSONResponse(service.findings(tw))


@router.get("/causes", response_model=list[CauseNamePublic], summary="Every cause id")
def causes(tw: AppDep) -> JSONResponse:
    return JSONResponse(service.causes(tw))


@router.get("/guides", response_model=list[TopicPublic], summary="Every guide topic")
def guides(tw: AppDep) -> JSONResponse:
    return JSONResponse([{"id": t["id"], "title": t["title"]} for t in service.topics(tw)])


@router.get("/guides/{topic}", summary="The guide for a body region or situation")
def guide(topic: str, tw: AppDep) -> JSONResponse:
    """The guide as `twitchwise guide TOPIC --format json` gives it (with `schema_version`)."""
    return JSONResponse(service.guide(topic, tw).to_dict())


# --------------------------------------------------------------------------- interview


@router.post("/interview/start", response_model=InterviewStepPublic, summary="Start an interview")
def interview_start(body: InterviewStartIn, tw: AppDep) -> JSONResponse:
    """The first question. The server keeps nothing: send `state` back with each answer."""
    return JSONResponse(service.interview_start(tw, body.text, body.age, body.sex).to_dict())


@router.post(
    "/interview/answer", response_model=InterviewStepPublic, summary="Answer the next question"
)
def interview_answer(body: InterviewAnswerIn, tw: AppDep) -> JSONResponse:
    """Record the reply to the state's next question; gives the new state and question."""
    state = service.interview_state(body.state.model_dump(), tw)
    return JSONResponse(service.interview_answer(tw, state, body.question, body.reply).to_dict())


@router.post(
    "/interview/result", response_model=InterviewResultPublic, summary="The interview's answer"
)
def interview_result(body: InterviewResultIn, tw: AppDep, request: Request) -> JSONResponse:
    """The answer for what is known so far, the questions asked and why it stopped."""
    state = service.interview_state(body.state.model_dump(), tw)
    answer, data = service.interview_result(tw, state)
    keep_answer(request, answer, [a.question for a in state.asked])
    return JSONResponse(data)


# --------------------------------------------------------------------------- journal


@router.get(
    "/journal/episodes",
    response_model=list[JournalEpisodePublic],
    summary="The episodes, a page at a time",
)
def episodes(
    journal: JournalDep,
    limit: Annotated[
        int, Query(ge=1, le=MAX_EPISODES_PAGE, description="Episodes per page.")
    ] = EPISODES_PAGE,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Episodes to skip (oldest first).")
    ] = 0,
) -> JSONResponse:
    """Episodes oldest first, as `twitchwise export` has them: `limit` of them (1000 unless
    asked) from the `offset`-th. `X-Total-Count` says how many the journal holds, and a `Link`
    header (`rel="next"`) gives the next page while there is one."""
    rows, total = service.journal_episodes(journal, offset, limit)
    headers = {"X-Total-Count": str(total)}
    if offset + limit < total:
        headers["Link"] = (
            f'</api/journal/episodes?offset={offset + limit}&limit={limit}>; rel="next"'
        )
    return JSONResponse(rows, headers=headers)


@router.post(
    "/journal/episodes", status_code=201, response_model=EpisodePublic, summary="Log an episode"
)
def log_episode(
    body: EpisodeLogIn, journal: JournalDep, tw: AppDep, settings: SettingsDep
) -> JSONResponse:
    """201 with the episode as stored. Its `id` is the journal's row id (an integer) in the
    local app; with accounts, the episode's public id, a random UUID (no sequential id leaves
    a hosted service)."""
    episode = service.log_episode(
        tw,
        journal,
        body.region,
        side=body.side,
        intensity=body.intensity,
        duration_s=body.duration_s,
        at=body.at,
        note=body.note,
        public=settings.accounts,
    )
    return JSONResponse(episode, status_code=201)


@router.get("/journal/days", response_model=list[DayPublic], summary="Every day's factors")
def days(journal: JournalDep) -> JSONResponse:
    return JSONResponse(service.journal_days(journal))


@router.put("/journal/days/{day}", response_model=DayPublic, summary="Set a day's factors")
def set_day(day: date, body: DayIn, journal: JournalDep, tw: AppDep) -> JSONResponse:
    """Set the factors given for that day; the ones left out keep their value."""
    return JSONResponse(service.set_day(tw, journal, day, body.model_dump(exclude_none=True)))


@router.get("/journal/insights", summary="Triggers, alerts and notes from the journal")
def insights(journal: JournalDep, tw: AppDep) -> JSONResponse:
    """As `twitchwise insights --format json` (needs the `insights` extra, else 503)."""
    return JSONResponse(service.insights(tw, journal).to_dict())


@router.get("/journal/experiment", summary="Where the self-experiment stands")
def experiment_status(journal: JournalDep, tw: AppDep) -> JSONResponse:
    """As `twitchwise experiment status --format json`: today's instruction, adherence, days
    left (422 when there is no experiment yet)."""
    return JSONResponse(tw.experiment_status(journal).to_dict())


@router.post("/journal/experiment/check-in", summary="Check in for a day of the experiment")
def experiment_check_in(body: CheckInIn, journal: JournalDep, tw: AppDep) -> JSONResponse:
    """As `twitchwise experiment log --followed|--missed [--date D]`; returns the status."""
    return JSONResponse(tw.experiment_check_in(journal, body.followed, body.date).to_dict())


@router.post("/journal/experiment/stop", summary="Stop the self-experiment early")
def experiment_stop(body: StopIn, journal: JournalDep, tw: AppDep) -> JSONResponse:
    """As `twitchwise experiment stop [--reason R]`: today becomes its last day (422 when
    none is running); returns the status."""
    return JSONResponse(service.experiment_stop(tw, journal, body.reason).to_dict())


@router.get("/journal/experiment/result", summary="The self-experiment's result")
def experiment_result(journal: JournalDep, tw: AppDep) -> JSONResponse:
    """As `twitchwise experiment result --format json` (once it has ended or been stopped;
    needs the `insights` extra)."""
    return JSONResponse(tw.experiment_result(journal).to_dict())


@router.get(
    "/journal/export",
    summary="Export the journal",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def export(
    journal: JournalDep,
    tw: AppDep,
    profile: ExportProfileDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """Everything as JSON (with accounts, the account's profile too), or the daily CSV; both
    can be imported again."""
    return _file(*service.journal_export(tw, journal, format, profile))


@router.post("/journal/import", response_model=ImportsPublic, summary="Import a file")
def import_file(
    journal: JournalDep, tw: AppDep, file: Annotated[UploadFile, File(description="The file.")]
) -> JSONResponse:
    """FIT, GPX, TCX, Apple Health export.xml/zip, daily CSV or a twitchwise JSON export;
    the format is read from the content. A file imported before adds nothing. Send the
    `twitchwise_csrf` cookie (set by any page) back in the `X-CSRF-Token` header, else 403."""
    summaries = service.import_stream(tw, journal, file.file, file.filename)
    return JSONResponse({"imported": [service.import_summary(s) for s in summaries]})


@router.get(
    "/journal/report",
    summary="The doctor report",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {}, "application/pdf": {}, "application/fhir+json": {}}}
    },
)
def report(
    journal: JournalDep,
    tw: AppDep,
    format: Annotated[Literal["html", "pdf", "fhir"], Query()] = "html",
) -> Response:
    """HTML or PDF for a doctor, or a FHIR R4 Bundle (needs the extras, else 503)."""
    return _file(*service.journal_report(tw, journal, format))
