"""The pages: Jinja2 templates, and htmx partials of the same templates.

Each handler gets its data from :mod:`twitchwise.web.service` (the functions the API uses) and
renders it. A request made by htmx (``HX-Request: true``) gets only the part of the page that
changes; any other request gets the whole page, so every form works without JavaScript.
Every form post carries the CSRF token (:data:`~twitchwise.web.deps.CsrfChecked`).
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from twitchwise.answer.model import DISCLAIMER
from twitchwise.answer.render import LEVEL_TITLE
from twitchwise.answer.render import context as answer_context
from twitchwise.errors import InputError
from twitchwise.guides.render import Links
from twitchwise.journal.records import FACTORS
from twitchwise.web import service
from twitchwise.web.deps import (
    AppDep,
    CsrfChecked,
    CsrfToken,
    ExportProfileDep,
    JournalDep,
    TemplatesDep,
    keep_answer,
)
from twitchwise.web.errors import ApiError
from twitchwise.web.models import InterviewStateIn
from twitchwise.web.security import CSRF_COOKIE

router = APIRouter(include_in_schema=False)

#: Where the links inside a guide point in the web app.
GUIDE_LINKS = Links(
    topic="/guides/{id}", cause="/causes/{id}", checker="/check", sources="#tw-sources", home="/"
)
#: The daily factors on the journal page, in order, with their input step.
DAY_FIELDS = tuple(
    (f.column, f.title, f.unit, f"{f.form_step:g}") for f in FACTORS.values() if f.form_step
)
Form_ = Annotated[str, Form()]


def _render(
    request: Request,
    templates: Any,
    name: str,
    context: dict[str, Any],
    status: int = 200,
) -> HTMLResponse:
    """A template with the CSRF token, setting the token's cookie when it is new."""
    token = getattr(request.state, "csrf_token", None) or request.cookies.get(CSRF_COOKIE, "")
    response: HTMLResponse = templates.TemplateResponse(
        request,
        name,
        {"csrf": token, "disclaimer": DISCLAIMER, "path": request.url.path, **context},
        status_code=status,
    )
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


#: A refused input: the web's own checks (ApiError) or the library's (InputError, which names
#: the fields at fault).
Refused = (ApiError, InputError)


def _message(exc: ApiError | InputError) -> str:
    return str(exc.detail) if isinstance(exc, ApiError) else str(exc)


def _field_errors(exc: ApiError | InputError, default: str) -> dict[str, str]:
    if isinstance(exc, ApiError):
        errors = [(e["field"], e["message"]) for e in exc.errors]
    else:
        errors = [(f, str(exc)) for f, _ in exc.problems]
    if not errors:
        return {default: _message(exc)}
    return {f.split("[")[0].split(".")[0]: m for f, m in errors}


def _optional_int(value: str, name: str, low: int, high: int) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(
            422, f"{name}: give a whole number from {low} to {high}", [(name, "not valid")]
        )
    return int(text)


# --------------------------------------------------------------------------- ask

#: How much of a too-long description is shown back in the form (the API's limit).
MAX_FORM_ECHO = 5000


@router.get("/", response_class=HTMLResponse)
def home(request: Request, templates: TemplatesDep, csrf: CsrfToken) -> HTMLResponse:
    return _render(request, templates, "web/home.html.j2", {"form": {}})


@router.post("/ask", response_class=HTMLResponse)
def ask(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    text: Form_ = "",
    age: Form_ = "",
    sex: Form_ = "",
) -> HTMLResponse:
    # never echo more than the limit back: a huge body gets its error, not itself
    form = {"text": text[:MAX_FORM_ECHO], "age": age[:10], "sex": sex[:10]}
    context: dict[str, Any] = {"form": form}
    status = 200
    try:
        years = _optional_int(age, "age", 0, 120)
        if sex not in ("", "female", "male"):
            raise ApiError(422, "sex: choose female or male, or leave it", [("sex", "not valid")])
        answer = service.ask(tw, text, years, sex or None)
        keep_answer(request, answer)
        context.update(_answer(answer))
    except Refused as exc:
        context["errors"] = _field_errors(exc, "text")
        status = 422
    name = "web/partials/answer.html.j2" if _htmx(request) else "web/home.html.j2"
    return _render(request, templates, name, context, status)


def _answer(answer: Any) -> dict[str, Any]:
    return {"answer": answer, **answer_context(answer)}


# --------------------------------------------------------------------------- interview


@router.get("/check", response_class=HTMLResponse)
def check(request: Request, templates: TemplatesDep, csrf: CsrfToken) -> HTMLResponse:
    return _render(request, templates, "web/check.html.j2", {"view": None, "form": {}})


@router.post("/check/start", response_class=HTMLResponse)
def check_start(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    text: Form_ = "",
    age: Form_ = "",
) -> HTMLResponse:
    try:
        years = _optional_int(age, "age", 0, 120)
        view = service.interview_start(tw, text, years)
    except Refused as exc:
        context = {"view": None, "form": {"text": text, "age": age}}
        context["errors"] = _field_errors(exc, "text")
        return _render(request, templates, _check_template(request), context, 422)
    return _render(request, templates, _check_template(request), _interview(view))


@router.post("/check/answer", response_class=HTMLResponse)
def check_answer(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    state: Form_,
    question: Form_ = "",
    reply: Form_ = "",
    choice: Annotated[list[int] | None, Form()] = None,
    action: Form_ = "answer",
) -> HTMLResponse:
    current = _state(state, tw)
    if action == "back":
        view = service.interview_back(tw, current)
    elif action == "finish":
        return _render(request, templates, _check_template(request), _result(request, tw, current))
    else:
        value: bool | int | list[int] | None
        if reply == "unsure":
            value = None
        elif reply in ("yes", "no"):
            value = reply == "yes"
        elif reply.isdigit():
            value = int(reply)
        else:
            value = list(choice or [])
        view = service.interview_answer(tw, current, question, value)
    if view.stop is not None:
        return _render(
            request, templates, _check_template(request), _result(request, tw, view.state)
        )
    return _render(request, templates, _check_template(request), _interview(view))


def _check_template(request: Request) -> str:
    return "web/partials/interview.html.j2" if _htmx(request) else "web/check.html.j2"


def _state(raw: str, tw: Any) -> Any:
    try:
        model = InterviewStateIn.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        raise ApiError(
            422, "the interview's state was damaged; start the interview again"
        ) from None
    return service.interview_state(model.model_dump(), tw)


def _interview(view: service.InterviewView) -> dict[str, Any]:
    return {
        "view": view,
        "state_json": json.dumps(view.state.to_dict(), separators=(",", ":")),
        "level_title": LEVEL_TITLE[view.progress.level],
        "number": len(view.state.asked) + 1,
    }


def _result(request: Request, tw: Any, state: Any) -> dict[str, Any]:
    answer, data = service.interview_result(tw, state)
    keep_answer(request, answer, [a.question for a in state.asked])
    transcript = [(a.text, tw.describe_answer(a)) for a in state.asked]
    stopped = data["stopped"]
    stop_text = stopped["text"] if stopped else "Stopped at your request."
    return {
        "view": None,
        "result": True,
        "transcript": transcript,
        "stop_text": stop_text,
        **_answer(answer),
    }


# --------------------------------------------------------------------------- guides


@router.get("/guides", response_class=HTMLResponse)
def guides(request: Request, templates: TemplatesDep, tw: AppDep) -> HTMLResponse:
    topics = service.topics(tw)
    context = {
        "regions": [t for t in topics if t["kind"] == "region"],
        "situations": [t for t in topics if t["kind"] != "region"],
        "causes": service.causes(tw),
    }
    return _render(request, templates, "web/guides.html.j2", context)


@router.get("/guides/{topic}", response_class=HTMLResponse)
def guide(topic: str, request: Request, templates: TemplatesDep, tw: AppDep) -> HTMLResponse:
    found = service.guide(topic, tw)
    html = _guide_html(found)
    context = {"title": found.title, "guide_html": html, "description": found.summary}
    return _render(request, templates, "web/guide.html.j2", context)


def _guide_html(guide: Any) -> Markup:
    return Markup(guide.render("html", links=GUIDE_LINKS))  # noqa: S704 - autoescaped template


@router.get("/causes/{cause_id}", response_class=HTMLResponse)
def cause(cause_id: str, request: Request, templates: TemplatesDep, tw: AppDep) -> HTMLResponse:
    page = service.cause(cause_id, tw)
    return _render(request, templates, "web/cause.html.j2", {"c": page, "title": page.name})


# --------------------------------------------------------------------------- journal


#: What a form that redirects back to the journal page did (``/journal?done=...``): fixed
#: texts, so nothing from the address is shown on the page.
DONE = {
    "followed": "Checked in for today: you kept to the plan.",
    "missed": "Checked in for today: you could not keep to the plan. Thank you for saying so.",
    "started": "Your self-experiment has started; today's plan is below.",
    "stopped": "Your self-experiment is stopped; today was its last day. What it showed is below.",
}


@router.get("/journal", response_class=HTMLResponse)
def journal_page(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    journal: JournalDep,
    csrf: CsrfToken,
    done: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    extra = {"message": DONE[done]} if done in DONE else {}
    return _render(request, templates, "web/journal.html.j2", _journal(journal, tw, **extra))


def _journal(journal: Any, tw: Any, **extra: Any) -> dict[str, Any]:
    overview = service.journal_overview(tw, journal)
    charts = {k: Markup(v) for k, v in overview.charts.items()}  # noqa: S704 - escaped SVG
    experiment = service.experiment_page(tw, journal)
    if experiment.chart is not None:
        charts["experiment"] = Markup(experiment.chart)  # noqa: S704 - escaped SVG
    return {
        "o": overview,
        "x": experiment,
        "charts": charts,
        "regions": service.regions(tw),
        "day_fields": DAY_FIELDS,
        "factors": FACTORS,
        "today": date.today().isoformat(),
        **extra,
    }


def _journal_response(
    request: Request, templates: Any, journal: Any, tw: Any, status: int = 200, **extra: Any
) -> HTMLResponse:
    name = "web/partials/journal.html.j2" if _htmx(request) else "web/journal.html.j2"
    return _render(request, templates, name, _journal(journal, tw, **extra), status)


@router.post("/journal/episode", response_class=HTMLResponse)
def journal_episode(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    journal: JournalDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    region: Form_ = "",
    side: Form_ = "",
) -> HTMLResponse:
    try:
        if side not in ("", "left", "right", "both"):
            raise ApiError(422, "side: choose left, right or both", [("side", "not valid")])
        if not region.strip():
            raise ApiError(422, "tap the body region that twitched", [("region", "missing")])
        episode = service.log_episode(tw, journal, region, side=side or None)
    except Refused as exc:
        return _journal_response(request, templates, journal, tw, 422, error=_message(exc))
    where = dict(service.regions(tw)).get(episode["region"], "a twitch")
    if side:
        where += ", both sides" if side == "both" else f", {side} side"
    message = f"Logged: {where}, at {episode['at'][11:16]}."
    return _journal_response(request, templates, journal, tw, message=message)


@router.post("/journal/day", response_class=HTMLResponse)
def journal_day(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    journal: JournalDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    day: Form_ = "",
    caffeine_mg: Form_ = "",
    sleep_h: Form_ = "",
    water_l: Form_ = "",
    workout_min: Form_ = "",
    stress: Form_ = "",
    alcohol_units: Form_ = "",
) -> HTMLResponse:
    raw = {
        "caffeine_mg": caffeine_mg,
        "sleep_h": sleep_h,
        "water_l": water_l,
        "workout_min": workout_min,
        "stress": stress,
        "alcohol_units": alcohol_units,
    }
    try:
        when = _day(day)
        values: dict[str, Any] = {}
        for name, text in raw.items():
            if text.strip():
                values[name] = _number(name, text)
        saved = service.set_day(tw, journal, when, values)
    except Refused as exc:
        return _journal_response(request, templates, journal, tw, 422, error=_message(exc))
    shown = ", ".join(
        f"{FACTORS[k].label} {v:g}" for k, v in saved.items() if k in FACTORS and v is not None
    )
    message = f"Saved for {saved['date']}: {shown}."
    return _journal_response(request, templates, journal, tw, message=message)


def _day(text: str) -> date:
    from twitchwise.app.entry import parse_day

    return parse_day(text or None, name="the date")


def _number(name: str, text: str) -> float:
    factor = FACTORS[name]
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        value = float("nan")
    ok = value == value and factor.low <= value <= factor.high  # False for NaN
    if not ok or (factor.integer and not value.is_integer()):
        kind = "a whole number" if factor.integer else "a number"
        message = f"{factor.label}: give {kind} from {factor.low:g} to {factor.high:g}"
        raise ApiError(422, message, [(name, message)])
    return int(value) if factor.integer else value


@router.post("/journal/import", response_class=HTMLResponse)
def journal_import(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    journal: JournalDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    from twitchwise.journal.imports import describe_import

    try:
        if file is None or not file.filename:
            raise ApiError(422, "choose a file to import first", [("file", "missing")])
        summaries = service.import_stream(tw, journal, file.file, file.filename)
    except Refused as exc:
        return _journal_response(request, templates, journal, tw, 422, error=_message(exc))
    message = " ".join(describe_import(s) for s in summaries)
    return _journal_response(request, templates, journal, tw, message=message)


def _done(request: Request, templates: Any, journal: Any, tw: Any, done: str) -> Response:
    """After a form that changed the journal: htmx gets the section again with what was
    done; a plain form post is redirected to the page (POST, redirect, GET), so reloading
    it does not post again."""
    if _htmx(request):
        return _journal_response(request, templates, journal, tw, message=DONE[done])
    return RedirectResponse(f"/journal?done={done}#experiment", status_code=303)


@router.post("/journal/experiment/check-in", response_model=None)
def journal_experiment_check_in(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    journal: JournalDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    followed: Form_ = "",
) -> Response:
    try:
        if followed not in ("yes", "no"):
            raise ApiError(422, "say whether you kept to today's plan", [("followed", "not valid")])
        service.experiment_check_in(tw, journal, followed == "yes")
    except Refused as exc:
        return _journal_response(request, templates, journal, tw, 422, error=_message(exc))
    return _done(request, templates, journal, tw, "followed" if followed == "yes" else "missed")


@router.post("/journal/experiment/stop", response_model=None)
def journal_experiment_stop(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    journal: JournalDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    reason: Form_ = "",
    confirm: Form_ = "",
) -> Response:
    try:
        if confirm != "yes":
            raise ApiError(
                422,
                'tick "Yes, stop it today" to stop the experiment early',
                [("confirm", "missing")],
            )
        service.experiment_stop(tw, journal, reason.strip() or None)
    except Refused as exc:
        return _journal_response(request, templates, journal, tw, 422, error=_message(exc))
    return _done(request, templates, journal, tw, "stopped")


@router.post("/journal/experiment/start", response_model=None)
def journal_experiment_start(
    request: Request,
    templates: TemplatesDep,
    tw: AppDep,
    journal: JournalDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    kind: Form_ = "",
    weeks: Form_ = "6",
    block_days: Form_ = "7",
    washout_days: Form_ = "2",
    change: Form_ = "",
) -> Response:
    try:
        if not kind.strip():
            raise ApiError(422, "choose what to test", [("kind", "missing")])
        service.experiment_start(
            tw,
            journal,
            kind,
            weeks=_whole(weeks, "weeks", 1, 52),
            block_days=_whole(block_days, "block_days", 1, 28),
            washout_days=_whole(washout_days, "washout_days", 0, 26),
            change=change.strip() or None,
        )
    except Refused as exc:
        return _journal_response(request, templates, journal, tw, 422, error=_message(exc))
    return _done(request, templates, journal, tw, "started")


def _whole(text: str, name: str, low: int, high: int) -> int:
    value = _optional_int(text, name, low, high)
    if value is None:
        raise ApiError(
            422, f"{name}: give a whole number from {low} to {high}", [(name, "missing")]
        )
    return value


@router.get("/journal/report")
def journal_report(
    journal: JournalDep,
    tw: AppDep,
    format: Annotated[Literal["html", "pdf", "fhir"], Query()] = "html",
) -> Response:
    content, media, filename = service.journal_report(tw, journal, format)
    return _download(content, media, filename)


@router.get("/journal/export")
def journal_export(
    journal: JournalDep,
    tw: AppDep,
    profile: ExportProfileDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    content, media, filename = service.journal_export(tw, journal, format, profile)
    return _download(content, media, filename)


def _download(content: bytes | BinaryIO, media: str, filename: str) -> Response:
    return service.download(content, media, filename)


# --------------------------------------------------------------------------- the rest


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, templates: TemplatesDep) -> HTMLResponse:
    """A page of every API endpoint, from the OpenAPI schema (no Swagger UI, no CDN)."""
    schema = request.app.openapi()
    endpoints = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
        }
        for path, methods in schema.get("paths", {}).items()
        for method, op in methods.items()
    ]
    context = {"endpoints": endpoints, "title": "API", "version": schema["info"]["version"]}
    return _render(request, templates, "web/docs.html.j2", context)


@router.get("/assets/site.css")
def site_css() -> Response:
    """The static site's stylesheet, shared by the pages."""
    return Response(_site_css(), media_type="text/css; charset=utf-8")


@lru_cache(maxsize=1)
def _site_css() -> str:
    return (
        resources.files("twitchwise")
        .joinpath("templates", "site", "site.css")
        .read_text(encoding="utf-8")
    )
