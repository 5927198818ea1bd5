"""What is known about one person: findings (present, denied, unsure) and quantities.

The understanding layer produces :class:`Evidence` from text; ``assess`` builds it from finding
ids; the reasoning layer consumes it. An unmentioned finding is simply absent from it: unknown,
not denied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: A red flag read by the backstop model (understand/backstop.py), not by a phrase: possible.
MODEL_DOUBT = "model"
#: A red flag's function said to be wrong in vague words ("my swallowing feels off"): possible.
VAGUE_DOUBT = "vague"
#: Reasons a red flag's denial is in doubt, or it was read by the backstop model: the flag is
#: possible (see :attr:`Evidence.possible`).
DENIAL_DOUBTS = frozenset(
    {"hedged denial", "long-range denial", "retracted", "resolved", MODEL_DOUBT, VAGUE_DOUBT}
)
#: Every value ``Observation.doubt`` may take besides "" (a hedge, a typo-corrected word).
DOUBTS = DENIAL_DOUBTS | {"hedged", "spelling"}


@dataclass(frozen=True, slots=True)
class Observation:
    """One finding as reported: ``negated`` when denied, ``uncertain`` when hedged.

    ``doubt`` says why a finding is uncertain: "hedged", "spelling" (a typo-corrected word), or
    for a red flag read fail-safe from a doubtful denial one of :data:`DENIAL_DOUBTS`, or
    :data:`MODEL_DOUBT` when the backstop model read it where no phrase did.
    """

    id: str
    negated: bool = False
    uncertain: bool = False
    text: str = ""
    start: int | None = None
    end: int | None = None
    derived: bool = False
    doubt: str = ""


@dataclass(frozen=True)
class Evidence:
    observations: tuple[Observation, ...] = ()
    quantities: Mapping[str, float] = field(default_factory=dict)
    not_understood: tuple[str, ...] = ()
    medicines: tuple[str, ...] = ()

    @property
    def present(self) -> frozenset[str]:
        """Findings reported as present (hedged ones included: safety first); red flags whose
        denial is in doubt are in :attr:`possible` instead."""
        return frozenset(
            o.id for o in self.observations if not o.negated and o.doubt not in DENIAL_DOUBTS
        )

    @property
    def possible(self) -> frozenset[str]:
        """Red flags read fail-safe from a doubtful denial ("I don't think...", a denial far
        from the finding, one taken back, or something that has stopped): neither present nor
        denied. Triage counts them toward the urgent and emergency levels."""
        return frozenset(
            o.id for o in self.observations if not o.negated and o.doubt in DENIAL_DOUBTS
        )

    @property
    def negated(self) -> frozenset[str]:
        return frozenset(o.id for o in self.observations if o.negated)

    @property
    def uncertain(self) -> frozenset[str]:
        return frozenset(o.id for o in self.observations if o.uncertain and not o.negated)

    def get(self, finding: str) -> Observation | None:
        for o in self.observations:
            if o.id == finding:
                return o
        return None


def merge(observations: Iterable[Observation]) -> tuple[Observation, ...]:
    """One observation per finding, in order of first mention.

    A finding both affirmed and denied counts as present (safety first); it is uncertain only
    when every affirming mention was hedged.
    """
    by_id: dict[str, list[Observation]] = {}
    for obs in observations:
        by_id.setdefault(obs.id, []).append(obs)
    out = []
    for fid, group in by_id.items():
        positive = [o for o in group if not o.negated]
        if positive:
            firm = [o for o in positive if not o.uncertain]
            chosen = (firm or positive)[0]
            out.append(
                Observation(
                    fid,
                    False,
                    not firm,
                    chosen.text,
                    chosen.start,
                    chosen.end,
                    all(o.derived for o in positive),
                    "" if firm else chosen.doubt,
                )
            )
        else:
            first = group[0]
            out.append(
                Observation(
                    fid,
                    True,
                    False,
                    first.text,
                    first.start,
                    first.end,
                    all(o.derived for o in group),
                )
            )
    out.sort(key=lambda o: (o.start is None, o.start if o.start is not None else 0))
    return tuple(out)


def with_implied(evidence: Evidence, closure: Mapping[str, frozenset[str]]) -> Evidence:
    """The evidence plus every finding its present findings imply (``closure``: id -> ids).

    A possible finding (a red flag read with doubt) implies nothing: what it would imply is
    as doubtful as it is.
    """
    have = {o.id for o in evidence.observations if not o.negated}
    extra = [
        Observation(implied, text=o.text, derived=True)
        for o in evidence.observations
        if not o.negated and o.doubt not in DENIAL_DOUBTS
        for implied in closure[o.id]
        if implied not in have
    ]
    if not extra:
        return evidence
    return Evidence(
        merge([*evidence.observations, *extra]),
        evidence.quantities,
        evidence.not_understood,
        evidence.medicines,
    )
