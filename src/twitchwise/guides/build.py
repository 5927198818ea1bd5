"""Assemble a :class:`~twitchwise.guides.model.Guide` from the knowledge base.

Nothing here is prose about a topic: the topic (``topics/*.yaml``) names its findings, anatomy,
emphasised causes, extra warning signs, advice and corrections, and everything else comes from
the same knowledge base and ranking engine that answer ``twitchwise ask``:

- the causes are ranked by :func:`twitchwise.reason.rank.rank` on the topic's findings, and the
  topic's emphasised causes are added with their topic-specific "why";
- the warning signs are the red flags that mention one of the topic's findings, the red flags
  about the twitch's own pattern (duration, spread), and those the topic lists;
- "what to do" is the advice whose conditions the topic's findings and leading causes meet,
  plus the advice the topic lists, filled with the figures for a typical adult;
- the tables, medicines, tests and corrections are read straight from the knowledge base.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from twitchwise.answer.model import SourceOut
from twitchwise.errors import InputError
from twitchwise.evidence import Evidence, Observation, merge
from twitchwise.guides.model import (
    AdviceOut,
    AnatomyOut,
    CaffeineLimitOut,
    Cited,
    CorrectionOut,
    DoctorStep,
    DrinkOut,
    FaqOut,
    FluidReferenceOut,
    FluidRowOut,
    Guide,
    GuideCause,
    LinkOut,
    MedicineOut,
    NutrientOut,
    TestsOut,
    WarningSign,
)
from twitchwise.knowledge.facts import caffeine_limit
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import Advice, Anatomy, Cause, RedFlag, Topic, TriageLevel
from twitchwise.reason.advice import applies, by_priority, fill, fluid_values, fmt, no_test
from twitchwise.reason.model import CauseModel, cause_model
from twitchwise.reason.rank import RankedCause, rank
from twitchwise.reason.triage import LEVEL_TITLES

#: How many of the ranker's leading causes a guide lists (the topic's emphasis comes on top).
RANKED_CAUSES = 6
#: A ranked cause below this probability is listed only if the topic emphasises it.
MIN_RANKED_PROBABILITY = 0.02
#: Causes at or above this probability are "leading": their advice applies to the guide.
LEADING_PROBABILITY = 0.08
#: Tiers of how likely a cause is for the topic, by the ranker's probability.
TIERS = ((0.15, "Most likely"), (0.05, "Common"), (0.01, "Less common"), (0.0, "Rare"))
#: A finding "points to" a cause when it multiplies the odds by at least this much.
POINTS_TO_RATIO = 1.5
POINTS_AWAY_RATIO = 0.5
MAX_POINTS = 8
#: Finding kinds that describe the twitch itself: a red flag made only of these applies to
#: every guide (lasting more than 2 weeks, spreading, getting worse).
PATTERN_KINDS = frozenset({"pattern", "duration"})

FLUID_GROUPS = {
    "efsa_women": "Women (EFSA)",
    "efsa_men": "Men (EFSA)",
    "efsa_pregnant": "Pregnancy (EFSA)",
    "efsa_breastfeeding": "Breastfeeding (EFSA)",
    "nasem_women": "Women (NASEM, US/Canada)",
    "nasem_men": "Men (NASEM, US/Canada)",
    "exercise_per_kg_lost": "Exercise: per kg of body weight lost",
}
LIMIT_GROUPS = {"adult": "Adults", "pregnant": "Pregnant or breastfeeding", "under_18": "Under 18"}


# --------------------------------------------------------------------------- topics


def topics(kb: KnowledgeBase) -> list[Topic]:
    """Every guide topic, regions first, in knowledge-base order."""
    return sorted(kb.topics.values(), key=lambda t: t.kind != "region")


def find_topic(name: str, kb: KnowledgeBase) -> Topic:
    """The topic called ``name`` (its id or an alias, any case, ``_`` or space for ``-``).

    Raises :class:`InputError` naming the closest topics when there is none.
    """
    key = "-".join(str(name).strip().lower().replace("_", " ").split())
    names: dict[str, str] = {}
    for topic in kb.topics.values():
        for alias in [topic.id, *topic.aliases]:
            names.setdefault(alias.lower(), topic.id)
    if key in names:
        return kb.topics[names[key]]
    close = difflib.get_close_matches(key, list(names), n=6, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[c] for c in close))[:3]
    hint = f"did you mean {' or '.join(repr(s) for s in suggestions)}? " if suggestions else ""
    raise InputError(
        f"unknown topic {name!r}; {hint}run 'twitchwise guide --list' to see every topic",
        field="topic",
        suggestions=suggestions,
    )


# --------------------------------------------------------------------------- assembly


@dataclass
class _Context:
    kb: KnowledgeBase
    topic: Topic
    evidence: Evidence
    present: frozenset[str]
    ranking: list[RankedCause]
    model: CauseModel


def build_guide(topic: str | Topic, kb: KnowledgeBase, model: CauseModel | None = None) -> Guide:
    """The guide for a topic id, alias or :class:`Topic` (``model``: the cause model of
    ``kb``, looked up by :func:`~twitchwise.reason.model.cause_model` when not given)."""
    if isinstance(topic, str):
        topic = find_topic(topic, kb)
    if model is None:
        model = cause_model(kb)
    evidence = _evidence(kb, topic.findings)
    ranking = rank(kb, evidence, model)
    ctx = _Context(kb, topic, evidence, evidence.present, ranking, model)
    causes = _causes(ctx)
    leading = {c.id for c in causes if c.probability >= LEADING_PROBABILITY}
    leading |= {r.id for r in ctx.ranking[:1]}
    values = _values(ctx)
    advice = _advice(ctx, leading, values)
    warnings = _warnings(ctx)
    doctor = _doctor(ctx, values)
    corrections = _corrections(ctx)
    medicines, medicine_advice = _medicines(ctx, values)
    guide = Guide(
        id=topic.id,
        title=topic.title,
        kind=topic.kind,
        subject=topic.subject,
        summary=_summary(topic, causes),
        overview=Cited(topic.overview, tuple(topic.sources)) if topic.overview else None,
        general=tuple(_anatomy(kb, a) for a in kb.anatomy.values() if a.kind == "general"),
        anatomy=tuple(_anatomy(kb, kb.anatomy[a]) for a in topic.anatomy),
        causes=tuple(causes),
        warnings=tuple(warnings),
        advice=tuple(advice),
        fluids=tuple(
            FluidRowOut(r.activity, r.seed, r.authority, r.verdict, tuple(r.sources))
            for r in kb.plan.fluid_seed_table
        ),
        fluid_reference=tuple(
            FluidReferenceOut(
                FLUID_GROUPS.get(r.group, r.group),
                r.total_l,
                r.drinks_l,
                r.note or "",
                tuple(r.sources),
            )
            for r in kb.plan.fluid_reference
        ),
        nutrients=tuple(
            NutrientOut(
                n.id,
                n.name,
                n.role,
                n.intake,
                n.upper_limit,
                tuple(f"{f.food}: {f.amount}" for f in n.foods),
                tuple(n.cautions),
                tuple(n.sources),
            )
            for n in kb.plan.nutrients
        ),
        drinks=tuple(
            DrinkOut(d.id, d.name, d.mg, d.serving, tuple(d.sources))
            for d in kb.plan.caffeine_drinks
        ),
        caffeine_limits=tuple(
            CaffeineLimitOut(
                LIMIT_GROUPS.get(c.group, c.group),
                c.mg_per_day,
                c.single_dose_mg,
                c.note or "",
                tuple(c.sources),
            )
            for c in kb.plan.caffeine_limits
        ),
        medicines=tuple(medicines),
        medicine_advice=medicine_advice,
        doctor=tuple(doctor),
        tests=tuple(
            TestsOut(c.id, c.name, c.tests, tuple(kb.causes[c.id].sources[:1]))
            for c in causes
            if c.tests
        ),
        corrections=tuple(corrections),
        takeaways=tuple(_takeaways(ctx, causes, advice, warnings, doctor)),
        faq=tuple(FaqOut(f.question, f.answer, tuple(f.sources)) for f in topic.faq),
        related=tuple(LinkOut(r, kb.topics[r].title) for r in topic.related),
        ask=f'twitchwise ask "{topic.example}"',
        mention=tuple(
            f.label
            for f in kb.findings.values()
            if f.kind in PATTERN_KINDS or f.id.startswith("twitch_")  # twitch_at_night
        ),
        sources=(),
    )
    return _with_sources(kb, guide)


def _evidence(kb: KnowledgeBase, finding_ids: Iterable[str]) -> Evidence:
    """The topic's findings as a person's evidence, with the findings they imply."""
    ids = list(dict.fromkeys(finding_ids))
    implied = [i for f in ids for i in sorted(kb.closure[f]) if i not in ids]
    observations = [Observation(f, text=kb.findings[f].label) for f in ids]
    observations += [Observation(f, text=kb.findings[f].label, derived=True) for f in implied]
    return Evidence(observations=merge(observations))


def _tier(probability: float) -> str:
    return next(label for floor, label in TIERS if probability >= floor)


def _causes(ctx: _Context) -> list[GuideCause]:
    """The ranker's leading causes plus the topic's emphasis, most likely first."""
    kb, topic = ctx.kb, ctx.topic
    emphasis = {e.cause: e for e in topic.emphasis}
    by_id = {r.id: r for r in ctx.ranking}
    ranked = [r.id for r in ctx.ranking[:RANKED_CAUSES] if r.probability >= MIN_RANKED_PROBABILITY]
    chosen = [by_id[c] for c in dict.fromkeys([*ranked, *emphasis])]
    chosen.sort(key=lambda r: (-r.probability, r.id))
    out = []
    for r in chosen:
        cause = kb.causes[r.id]
        e = emphasis.get(r.id)
        to, away = finding_pointers(kb, cause, ctx.model)
        out.append(
            GuideCause(
                id=r.id,
                name=cause.name,
                tier=_tier(r.probability),
                probability=round(r.probability, 4),
                why=e.why if e else cause.explanation,
                sources=tuple(e.sources if e else cause.sources[:2]),
                points_to=to,
                points_away=away,
                mechanism=cause.mechanism,
                tests=tuple(t for t in cause.tests if not no_test(t)),
                emphasised=e is not None,
            )
        )
    return out


def finding_pointers(
    kb: KnowledgeBase, cause: Cause, model: CauseModel
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Labels of the findings that most raise and most lower this cause's odds."""
    ratios: list[tuple[float, str, str]] = []
    for term in model.likelihoods(cause.id):
        finding = kb.findings[term.finding]
        if finding.kind == "cue":
            continue
        ratios.append((term.ratio, finding.label, finding.kind))
    to = [label for ratio, label, _ in sorted(ratios, reverse=True) if ratio >= POINTS_TO_RATIO]
    # "less likely with: eyelid" says little in a guide about the knee: regions only count for
    away = [  # the cause they point to
        label
        for ratio, label, kind in sorted(ratios)
        if ratio <= POINTS_AWAY_RATIO and kind not in ("region", "side")
    ]
    return tuple(to[:MAX_POINTS]), tuple(away[:3])


def _anatomy(kb: KnowledgeBase, a: Anatomy) -> AnatomyOut:
    region = kb.findings[a.region].label if a.region else ""
    return AnatomyOut(a.id, a.kind, a.name, a.text, region, tuple(a.sources))


# --------------------------------------------------------------------------- warning signs


def _warnings(ctx: _Context) -> list[WarningSign]:
    """Red flags relevant to the topic, most urgent first."""
    kb, topic = ctx.kb, ctx.topic
    own = {f for f in ctx.present if kb.findings[f].kind not in ("twitch", "demographic")}
    own |= {f for f in topic.findings if kb.findings[f].kind == "demographic"}
    chosen: list[tuple[int, RedFlag]] = []
    for flag in kb.red_flags:
        ids = {f for group in flag.groups() for f in group}
        pattern_only = all(kb.findings[f].kind in PATTERN_KINDS for f in ids)
        # within a level: signs about the topic's own findings first, then the topic's list
        if ids & own:
            chosen.append((0, flag))
        elif flag.id in topic.red_flags:
            chosen.append((1, flag))
        elif pattern_only:
            chosen.append((2, flag))
    chosen.sort(key=lambda item: (-item[1].level.rank, item[0]))
    return [
        WarningSign(
            id=r.id,
            level=r.level.value,
            level_title=LEVEL_TITLES[r.level],
            reason=r.reason,
            when=_conditions(kb, r),
            sources=tuple(r.sources),
        )
        for _, r in chosen
    ]


def _conditions(kb: KnowledgeBase, flag: RedFlag) -> str:
    parts = []
    for group in flag.groups():
        labels = [kb.findings[f].label for f in group]
        parts.append(labels[0] if len(labels) == 1 else "any of: " + ", ".join(labels))
    return " + ".join(parts)


# --------------------------------------------------------------------------- what to do


Values = dict[str, str]


def _values(ctx: _Context) -> Values:
    """Advice placeholders filled for a typical adult with this topic's findings."""
    kb = ctx.kb
    values = {"caffeine_limit_mg": fmt(caffeine_limit(kb, ctx.present))}
    values |= fluid_values(kb, "pregnant" if "pregnant" in ctx.present else None)
    # no {tests}: the guide lists what a doctor may check per cause, so the plain doctor
    # advice (without a test list) is the one shown
    return values


def _advice(ctx: _Context, leading: set[str], values: Values) -> list[AdviceOut]:
    """The advice the topic lists, then (one per kind) the advice that applies to it."""
    kb, topic = ctx.kb, ctx.topic
    by_id = {a.id: a for a in kb.plan.advice}
    chosen: dict[str, Advice] = {}
    kinds: set[str] = set()
    for aid in topic.advice:
        advice = by_id[aid]
        if advice.id not in chosen and fill(kb, advice, values) is not None:
            chosen[advice.id] = advice
            kinds.add(advice.kind)
    for advice in by_priority(kb.plan.advice):
        if advice.kind in kinds or advice.kind == "medicine":
            continue
        if applies(advice, ctx.present, leading, None) and fill(kb, advice, values):
            chosen[advice.id] = advice
            kinds.add(advice.kind)
    listed = {aid: i for i, aid in enumerate(topic.advice)}
    ordered = sorted(
        chosen.values(), key=lambda a: (listed.get(a.id, len(listed)), a.priority, a.id)
    )
    return [
        AdviceOut(a.id, a.kind, fill(kb, a, values) or "", tuple(a.sources))
        for a in ordered
        if a.kind != "medicine"
    ]


def _doctor(ctx: _Context, values: Values) -> list[DoctorStep]:
    """One step per triage level: what to do at that level, from the doctor advice."""
    steps = []
    for level in TriageLevel:
        for advice in by_priority(ctx.kb.plan.advice):
            if advice.kind != "doctor" or level not in advice.when_levels:
                continue
            text = fill(ctx.kb, advice, values)
            if text is not None:
                steps.append(
                    DoctorStep(level.value, LEVEL_TITLES[level], text, tuple(advice.sources))
                )
                break
    return steps


def _medicines(ctx: _Context, values: Values) -> tuple[list[MedicineOut], Cited | None]:
    """Medicine findings that make a cause of twitching more likely, and what to do."""
    kb, model = ctx.kb, ctx.model
    out = []
    for finding in kb.findings.values():
        if finding.kind != "medicine":
            continue
        leads = [
            kb.causes[cid].name
            for cid, terms in zip(model.causes, model.terms, strict=True)
            for t in terms
            if t.finding == finding.id and t.ratio >= POINTS_TO_RATIO
        ]
        if leads:
            out.append(MedicineOut(finding.id, finding.label, tuple(leads), tuple(finding.sources)))
    advice = None
    for item in by_priority(kb.plan.advice):
        if item.kind == "medicine" and not item.when_all:
            text = fill(kb, item, values)
            if text is not None:
                advice = Cited(text, tuple(item.sources))
                break
    return out, advice


def _corrections(ctx: _Context) -> list[CorrectionOut]:
    """The topic's corrections, and every correction of the seed article it covers."""
    topic = ctx.topic
    wanted = set(topic.corrections)
    out = []
    for c in ctx.kb.seeds.corrections:
        of_seed = topic.seed is not None and c.seed in (topic.seed, "both")
        if c.id in wanted or of_seed:
            out.append(CorrectionOut(c.id, c.claim, c.correct, tuple(c.sources)))
    return out


# --------------------------------------------------------------------------- summary


def _lower_first(text: str) -> str:
    """ "Tired muscles" -> "tired muscles", but "MND" stays "MND"."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _join_or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _summary(topic: Topic, causes: list[GuideCause]) -> str:
    top = [_lower_first(c.name) for c in causes[:3]]
    return (
        f"Twitching {topic.subject} is usually harmless and most often comes from "
        f"{_join_or(top)}. What matters is strength: see a doctor if the muscle gets weaker "
        "or thinner, or the twitching lasts more than 2 weeks."
    )


def _takeaways(
    ctx: _Context,
    causes: list[GuideCause],
    advice: list[AdviceOut],
    warnings: list[WarningSign],
    doctor: list[DoctorStep],
) -> list[Cited]:
    kb, topic = ctx.kb, ctx.topic
    top = causes[:3]
    out = [
        Cited(
            f"The usual causes {topic.subject}: {_join_or([_lower_first(c.name) for c in top])}.",
            tuple(s for c in top for s in c.sources[:1]),
        )
    ]
    first = next((c for c in causes if c.emphasised), None)
    if first is not None:
        out.append(Cited(first.why, first.sources))
    strength = next((a for a in kb.plan.advice if a.kind == "reassurance"), None)
    if strength is not None:
        out.append(Cited(strength.text, tuple(strength.sources)))
    self_care = next((d for d in doctor if d.level == TriageLevel.SELF_CARE.value), None)
    if self_care is not None:
        out.append(Cited(self_care.text, self_care.sources))
    urgent = next((w for w in warnings if w.level == TriageLevel.EMERGENCY.value), None)
    if urgent is not None:
        out.append(Cited(f"Emergency: {urgent.reason}", urgent.sources))
    return out


# --------------------------------------------------------------------------- sources


def _cited(guide: Guide) -> list[str]:
    """Every source id the guide cites, in order of first citation."""
    groups: list[tuple[str, ...]] = []
    for section in (guide.general, guide.anatomy, guide.causes, guide.warnings, guide.advice):
        groups += [item.sources for item in section]
    for table in (guide.fluids, guide.fluid_reference, guide.nutrients, guide.drinks):
        groups += [item.sources for item in table]
    groups += [item.sources for item in guide.caffeine_limits]
    groups += [item.sources for item in guide.medicines]
    if guide.medicine_advice is not None:
        groups.append(guide.medicine_advice.sources)
    groups += [item.sources for item in guide.doctor]
    groups += [item.sources for item in guide.tests]
    groups += [item.sources for item in guide.corrections]
    groups += [item.sources for item in guide.takeaways]
    groups += [item.sources for item in guide.faq]
    if guide.overview is not None:
        groups.insert(0, guide.overview.sources)
    return list(dict.fromkeys(s for group in groups for s in group))


def _with_sources(kb: KnowledgeBase, guide: Guide) -> Guide:
    from dataclasses import replace

    sources = tuple(
        SourceOut(s.id, s.title, s.url, s.publisher) for s in kb.source_list(_cited(guide))
    )
    return replace(guide, sources=sources)
