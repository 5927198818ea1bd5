"""Score twitchwise on a file of clinician-labelled cases (``twitchwise eval CASES.yaml``).

::

    from twitchwise.app.evaluation import evaluate, load_cases

    cases = load_cases("cases.yaml")      # validated; InputError names the case and the fix
    result = evaluate(cases)              # answers every case with twitchwise.ask
    result.triage_acceptable.rate         # 0.92
    result.under_triaged                  # the serious cases triaged too low, first of all
    result.to_dict()                      # the JSON of `twitchwise eval --format json`
    result.render("html")                 # or "terminal", "json"

The case format and every metric are described in docs/eval.md. This package depends only on
the answer and knowledge layers: nothing here reads the journal or the web app.
"""

from twitchwise.app.evaluation.cases import (
    FINDING_STATUSES,
    MAX_FILE_BYTES,
    Case,
    load_cases,
    parse_cases,
)
from twitchwise.app.evaluation.score import (
    CalibrationBin,
    CaseResult,
    Evaluation,
    FindingScore,
    Miss,
    Rate,
    evaluate,
)

__all__ = [
    "FINDING_STATUSES",
    "MAX_FILE_BYTES",
    "CalibrationBin",
    "Case",
    "CaseResult",
    "Evaluation",
    "FindingScore",
    "Miss",
    "Rate",
    "evaluate",
    "load_cases",
    "parse_cases",
]
