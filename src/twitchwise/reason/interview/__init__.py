"""The adaptive interview behind ``twitchwise check``: which question next, and when to stop.

The engine is pure and stateless. An :class:`InterviewState` (what was known at the start and
every question asked with its answer) goes in; :func:`next_question` returns the next
:class:`Question`, or a :class:`Stop` that says why no more are needed. The state is plain data
(``to_dict``/``from_dict``), so the web app can keep it in a form and the journal can save it.

The package has four parts, each importing only the ones before it:

- :mod:`~twitchwise.reason.interview.state`: questions, answers, the state and its JSON;
- :mod:`~twitchwise.reason.interview.evidence`: answers recorded, and the evidence they add up
  to;
- :mod:`~twitchwise.reason.interview.model`: what the policy needs from a knowledge base,
  precomputed once (:class:`InterviewModel`; a caller may hold one and pass it as ``model=``);
- :mod:`~twitchwise.reason.interview.policy`: which question next, and when to stop.

The policy, in order (the reasoning is in docs/interview.md):

1. **Emergency reached**: stop. Nothing can raise the triage further; the person should act.
2. **Required red-flag questions**: a question is *required* when one "yes" to it would raise
   the triage to urgent or emergency, given what is known: every condition of such a rule but
   one holds, and that one is still unknown (for a one-condition rule, from the start). They are
   asked first, the most valuable first, whatever the budget. The knowledge base groups them
   into short screens ("Have you had any of these?") so the screen costs one question.
3. **Triage value**: the question most likely to raise the triage (each level weighted by how
   far it would raise it; rules still two steps away count at a discount), while that chance is
   worth a question.
4. **Causes**: the question with the largest expected information gain over causes (entropy of
   the naive-Bayes posterior of :mod:`twitchwise.reason.rank`), while an answer could still
   change the leading cause and the budget allows.
5. Stop, and say why.

Unknown stays unknown: "not sure" adds nothing, so an interview answered "not sure" throughout
ends with exactly what it started with. A finding is never asked twice, and never asked when
an answer already settles it (a present finding brings what it implies; a denied finding rules
out everything that implies it).
"""

from twitchwise.knowledge.facts import quantity_findings
from twitchwise.reason.interview.evidence import (
    CAFFEINE_FINDINGS,
    KEPT_QUANTITIES,
    answer,
    answer_from,
    describe_answer,
    evidence,
    findings_evidence,
)
from twitchwise.reason.interview.model import InterviewModel, interview_model
from twitchwise.reason.interview.policy import (
    DEFAULT_POLICY,
    Policy,
    Progress,
    next_question,
    progress,
    run,
)
from twitchwise.reason.interview.state import (
    Answered,
    InterviewState,
    Option,
    Question,
    QuestionKind,
    Step,
    Stop,
)

__all__ = [
    "CAFFEINE_FINDINGS",
    "DEFAULT_POLICY",
    "KEPT_QUANTITIES",
    "Answered",
    "InterviewModel",
    "InterviewState",
    "Option",
    "Policy",
    "Progress",
    "Question",
    "QuestionKind",
    "Step",
    "Stop",
    "answer",
    "answer_from",
    "describe_answer",
    "evidence",
    "findings_evidence",
    "interview_model",
    "next_question",
    "progress",
    "quantity_findings",
    "run",
]
