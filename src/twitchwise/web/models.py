"""What the REST API accepts (``*In``) and returns (``*Public``), as pydantic models.

The ``*Public`` models describe the responses for the OpenAPI schema; the routes return the
library's own dictionaries (``Answer.to_dict()``, ``Guide.to_dict()``), so the API gives
exactly what the command line's ``--format json`` gives. ``FIELD_HINTS`` says, per field, what
to send instead when a value is refused.
"""

from __future__ import annotations

from datetime import date, datetime
from datetime import date as dt_date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from twitchwise.journal.records import FACTORS, INTENSITY_RANGE, MAX_DURATION_S

#: The longest description accepted (characters).
MAX_TEXT = 5000
#: The most questions an interview state may record.
MAX_ASKED = 100
#: Episodes per page of ``GET /api/journal/episodes``: by default, and at most.
EPISODES_PAGE = 1000
MAX_EPISODES_PAGE = 10_000
#: The largest offset accepted (more than any journal holds).
MAX_OFFSET = 1_000_000_000

EXAMPLE_TEXT = "my left eyelid has twitched for 3 days, exam week, 5 hours sleep"

#: What to do about a refused field, added to the validator's message.
FIELD_HINTS: dict[str, str] = {
    "text": f'describe the twitch in words, e.g. "{EXAMPLE_TEXT}"',
    "age": "give the age in whole years from 0 to 120, or leave it out",
    "sex": 'use "female" or "male", or leave it out',
    "findings": 'give finding ids such as ["twitching", "!weakness"]; GET /api/findings lists them',
    "state": "send back the state exactly as the last interview response gave it",
    "question": "give the id of the question the last interview response asked",
    "reply": (
        "true/false for a yes/no question, an option index for one_of and quantity, a list of "
        "indexes for choice ([] is none of these), or null for not sure"
    ),
    "reason": "say why you stopped in at most 200 characters, or leave it out",
    "region": "a body region such as calf or eyelid, or an id from GET /api/findings",
    "side": 'use "left", "right" or "both", or leave it out',
    "intensity": "a whole number from 1 (faint) to 5",
    "duration_s": f"seconds, from 0 to {int(MAX_DURATION_S)}",
    "limit": f"episodes per page: a whole number from 1 to {MAX_EPISODES_PAGE:,}",
    "offset": "how many episodes to skip: a whole number from 0",
    "at": "an ISO 8601 time such as 2026-03-01T07:30:00+01:00",
    "file": "upload one file as multipart/form-data in the field 'file'",
    "format": "see the allowed values in /openapi.json",
    **{
        name: f"a number from {f.low:g} to {f.high:g}, or leave it out"
        for name, f in FACTORS.items()
    },
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


# --------------------------------------------------------------------------- answers


class CheckInIn(_In):
    """A self-experiment's check-in: whether the plan was kept on ``date`` (default today)."""

    followed: bool
    date: dt_date | None = None


class StopIn(_In):
    """Stopping the running self-experiment early, with why (kept with the result)."""

    reason: str | None = Field(None, max_length=200, description="Why it was stopped.")


class AskIn(_In):
    """A description in the person's own words."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": EXAMPLE_TEXT, "age": 30}]},
    )

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="The description.")
    age: int | None = Field(None, ge=0, le=120, strict=True, description="Age in years.")
    sex: Literal["female", "male"] | None = None

    _text = field_validator("text")(_not_blank)


class AssessIn(_In):
    """Finding ids instead of text; ``!`` before an id marks a finding the person lacks."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"findings": ["twitching", "region_calf", "!weakness"], "age": 34}]
        },
    )

    findings: list[str] = Field(min_length=1, max_length=300)
    age: int | None = Field(None, ge=0, le=120, strict=True)
    sex: Literal["female", "male"] | None = None


class ReasonPublic(BaseModel):
    finding: str
    text: str
    source: str


class TriagePublic(BaseModel):
    level: Literal["self_care", "see_doctor_routine", "see_doctor_urgent", "emergency"]
    reasons: list[ReasonPublic]


class CausePublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str
    probability: float = Field(ge=0, le=1)
    for_: list[str] = Field(alias="for")
    against: list[str]
    explanation: str


class FindingOutPublic(BaseModel):
    id: str
    negated: bool
    text: str


class PlanPublic(BaseModel):
    kind: str
    text: str
    source: str


class SourcePublic(BaseModel):
    id: str
    title: str
    url: str


class AnswerPublic(BaseModel):
    """The Quick Clear Answer: the contract's JSON, identical to ``twitchwise ask -f json``."""

    summary: str
    triage: TriagePublic
    causes: list[CausePublic]
    findings: list[FindingOutPublic]
    not_understood: list[str]
    plan: list[PlanPublic]
    sources: list[SourcePublic]


class FindingPublic(BaseModel):
    id: str
    label: str
    kind: str


class CauseNamePublic(BaseModel):
    id: str
    name: str


class TopicPublic(BaseModel):
    id: str
    title: str


# --------------------------------------------------------------------------- interview


class ObservationState(_In):
    id: str
    negated: bool = False
    uncertain: bool = False
    text: str = Field("", max_length=MAX_TEXT)
    start: int | None = None
    end: int | None = None
    derived: bool = False
    doubt: str = Field("", max_length=40)


class StartState(_In):
    observations: list[ObservationState] = Field(default_factory=list, max_length=500)
    quantities: dict[str, float] = Field(default_factory=dict, max_length=50)
    not_understood: list[str] = Field(default_factory=list, max_length=200)
    medicines: list[str] = Field(default_factory=list, max_length=100)


class AnsweredState(_In):
    question: str = Field(max_length=200)
    text: str = Field("", max_length=MAX_TEXT)
    findings: list[str] = Field(default_factory=list, max_length=100)
    answers: dict[str, bool] = Field(default_factory=dict, max_length=100)
    quantity: str | None = None
    value: float | None = None


class InterviewStateIn(_In):
    """The interview so far, as the last response gave it (the server keeps nothing)."""

    start: StartState = Field(default_factory=StartState)
    asked: list[AnsweredState] = Field(default_factory=list, max_length=MAX_ASKED)


class InterviewStartIn(_In):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "my eyelid keeps twitching"}]}
    )

    text: str | None = Field(None, max_length=MAX_TEXT, description="Optional opening text.")
    age: int | None = Field(None, ge=0, le=120, strict=True)
    sex: Literal["female", "male"] | None = None


class InterviewAnswerIn(_In):
    state: InterviewStateIn
    question: str = Field(description="The id of the question being answered.")
    reply: bool | int | list[int] | None = Field(
        description="true/false; an option index; a list of option indexes; null: not sure."
    )


class InterviewResultIn(_In):
    state: InterviewStateIn


class OptionPublic(BaseModel):
    index: int
    label: str


class QuestionPublic(BaseModel):
    id: str
    kind: Literal["finding", "choice", "one_of", "quantity"]
    text: str
    help: str | None
    options: list[OptionPublic]


class StopPublic(BaseModel):
    reason: str
    text: str


class LeadingPublic(BaseModel):
    id: str
    name: str
    probability: float


class ProgressPublic(BaseModel):
    level: str
    leading: list[LeadingPublic]


class InterviewStepPublic(BaseModel):
    """The state to send back, and the next question or why the interview stopped."""

    state: dict[str, Any]
    question: QuestionPublic | None
    why: Literal["red_flag", "triage", "causes"] | None
    stop: StopPublic | None
    progress: ProgressPublic
    asked: int


class AskedPublic(BaseModel):
    finding: str
    text: str
    answer: bool | None


class InterviewResultPublic(AnswerPublic):
    """The answer (as ``POST /api/ask``), the questions asked, and why it stopped."""

    questions: list[AskedPublic]
    stopped: StopPublic | None


# --------------------------------------------------------------------------- journal


class EpisodeLogIn(_In):
    """One twitch episode; only the region is required."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"region": "calf", "side": "left", "intensity": 2}]},
    )

    region: str = Field(min_length=1, max_length=100)
    side: Literal["left", "right", "both"] | None = None
    intensity: int | None = Field(None, ge=INTENSITY_RANGE[0], le=INTENSITY_RANGE[1], strict=True)
    duration_s: float | None = Field(None, ge=0, le=MAX_DURATION_S)
    at: datetime | None = Field(None, description="When; default now. ISO 8601.")
    note: str | None = Field(None, max_length=2000)


class EpisodePublic(BaseModel):
    id: int
    at: str
    date: str
    region: str | None
    side: str | None
    intensity: int | None
    duration_s: float | None
    note: str | None


class JournalEpisodePublic(BaseModel):
    uid: str
    at: str
    date: str
    region: str | None
    side: str | None
    intensity: int | None
    duration_s: float | None
    note: str | None
    source: str


def _factor(name: str) -> Any:
    f = FACTORS[name]
    if f.integer:
        return Field(None, ge=int(f.low), le=int(f.high), description=f.label)
    return Field(None, ge=f.low, le=f.high, description=f.label)


class DayIn(_In):
    """The factors of one day to set; factors left out keep their value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"caffeine_mg": 300, "sleep_h": 5.5, "stress": 7}]},
    )

    caffeine_mg: float | None = _factor("caffeine_mg")
    sleep_h: float | None = _factor("sleep_h")
    water_l: float | None = _factor("water_l")
    workout_min: float | None = _factor("workout_min")
    workout_type: str | None = Field(None, max_length=100)
    stress: int | None = _factor("stress")
    alcohol_units: float | None = _factor("alcohol_units")
    medicines: list[str] | None = Field(None, max_length=50)
    steps: int | None = _factor("steps")
    hrv_ms: float | None = _factor("hrv_ms")


class DayPublic(BaseModel):
    date: date
    caffeine_mg: float | None = None
    sleep_h: float | None = None
    water_l: float | None = None
    workout_min: float | None = None
    workout_type: str | None = None
    stress: int | None = None
    alcohol_units: float | None = None
    medicines: list[str] | None = None
    steps: int | None = None
    hrv_ms: float | None = None


class ImportPublic(BaseModel):
    name: str
    format: str
    already_imported: str | None
    workouts_added: int
    workouts_known: int
    days_added: int
    days_updated: int
    values_kept: int
    episodes_added: int
    experiments_added: int = 0
    notes: list[str]
    message: str


class ImportsPublic(BaseModel):
    imported: list[ImportPublic]


# --------------------------------------------------------------------------- errors


class FieldErrorPublic(BaseModel):
    field: str
    message: str


class ErrorPublic(BaseModel):
    """The one error shape of the API (``ok`` is always false)."""

    ok: Literal[False] = False
    error: str
    status: int
    errors: list[FieldErrorPublic] = Field(default_factory=list)


# --------------------------------------------------------------------------- accounts


class ProfileIn(BaseModel):
    """The account's optional profile: each value from its list, or null ("prefer not to
    say"). Never a date of birth."""

    model_config = ConfigDict(extra="forbid")

    age_band: Literal["18-29", "30-39", "40-49", "50-59", "60-69", "70+"] | None = None
    sex: Literal["female", "male"] | None = None


class AccountPublic(BaseModel):
    """The signed-in account (hosted service): never its password or tokens."""

    id: str
    email: str
    created_at: datetime
    consent: bool = Field(description="Whether the account allows keeping its health data.")
    profile: ProfileIn = Field(description="The optional age band and sex; null: not given.")


class TokenPublic(BaseModel):
    """One of the account's API tokens: never its secret (shown once, when made)."""

    id: str
    name: str
    scopes: list[Literal["read", "write"]]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
