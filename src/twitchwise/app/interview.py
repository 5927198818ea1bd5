"""The interview as a use case: where it stands (:class:`InterviewView`), a reply checked against
the question it answers, a state sent back by a client checked id by id, and the result.

The command line (``twitchwise check``) and the web (the check page and ``/api/interview``)
both go through here; the engine itself is :mod:`twitchwise.reason.interview`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twitchwise.errors import InputError
from twitchwise.reason import interview

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer
    from twitchwise.app.core import Twitchwise

__all__ = [
    "Answered",
    "InterviewState",
    "InterviewView",
    "Policy",
    "Question",
    "Stop",
    "answer",
    "result",
    "start",
    "state_from",
    "view",
]

# the engine's types, for the interfaces (which go through this module, not the engine)
Answered = interview.Answered
InterviewState = interview.InterviewState
Policy = interview.Policy
Question = interview.Question
Stop = interview.Stop

Reply = bool | int | list[int] | None


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


def view(
    tw: Twitchwise, state: interview.InterviewState, policy: interview.Policy | None = None
) -> InterviewView:
    kb = tw.kb
    return InterviewView(
        state,
        interview.next_question(state, kb, policy or interview.Policy()),
        interview.progress(state, kb),
        tuple((a.text, interview.describe_answer(a, kb)) for a in state.asked),
    )


def start(
    tw: Twitchwise, text: str | None = None, *, age: int | None = None, sex: str | None = None
) -> InterviewView:
    """A new interview, from what the opening text says (nothing when there is none)."""
    from twitchwise.answer.build import with_demographics
    from twitchwise.evidence import Evidence

    opening = tw.read(text) if text and text.strip() else Evidence()
    if age is not None or sex is not None:
        opening = with_demographics(tw.kb, opening, age, sex)
    return view(tw, interview.InterviewState(start=opening))


def state_from(tw: Twitchwise, data: Mapping[str, Any]) -> interview.InterviewState:
    """A state sent back by a client (already shape-checked), with every id checked."""
    kb = tw.kb
    problems = []
    opening = data.get("start") or {}
    for i, o in enumerate(opening.get("observations", ())):
        if o["id"] not in kb.findings:
            problems.append((f"state.start.observations[{i}].id", f"unknown finding {o['id']!r}"))
    for i, a in enumerate(data.get("asked", ())):
        for fid in [*a.get("findings", ()), *a.get("answers", {})]:
            if fid not in kb.findings:
                problems.append((f"state.asked[{i}]", f"unknown finding {fid!r}"))
        if a.get("quantity") is not None and a.get("value") is None:
            problems.append((f"state.asked[{i}].value", "a quantity answer needs its value"))
    if problems:
        raise InputError(
            "the interview state is not one twitchwise gave out; send it back unchanged, "
            "or start again",
            problems=problems,
        )
    return interview.InterviewState.from_dict(data)


def answer(
    tw: Twitchwise,
    state: interview.InterviewState,
    question_id: str,
    reply: Reply,
    policy: interview.Policy | None = None,
) -> InterviewView:
    """Record the reply to the state's next question (which must be ``question_id``)."""
    policy = policy or interview.Policy()
    step = interview.next_question(state, tw.kb, policy)
    if step.question is None:
        assert step.stop is not None
        message = f"the interview has ended ({step.stop.reason}); ask for the result instead"
        raise InputError(message, field="question")
    q = step.question
    if question_id != q.id:
        message = f"the next question for this state is {q.id!r}, not {question_id!r}"
        raise InputError(message, problems=[("question", f"{message}; answer that one")])
    problem = reply_problem(q, reply)
    if problem:
        raise InputError(f"reply: {problem}", problems=[("reply", problem)])
    return view(tw, interview.answer(state, q, reply, tw.kb), policy)


def reply_problem(q: interview.Question, reply: object) -> str | None:
    """What is wrong with a reply to ``q`` (None when it can be recorded)."""
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


def result(
    tw: Twitchwise, state: interview.InterviewState, stop: interview.Stop | None = None
) -> tuple[Answer, dict[str, Any]]:
    """The answer for everything known, and its JSON as ``twitchwise check -f json`` gives it:
    the answer's own keys, ``questions`` (each asked question and its answer) and ``stopped``
    (``stop``, or why the default policy would stop here; None while it would go on)."""
    answer_ = tw.answer_for(interview.evidence(state, tw.kb))
    data = answer_.to_dict()
    data["questions"] = [
        {"finding": a.question, "text": a.text, "answer": a.answer} for a in state.asked
    ]
    stop = stop or interview.next_question(state, tw.kb).stop
    data["stopped"] = None if stop is None else {"reason": stop.reason, "text": stop.text}
    return answer_, data
