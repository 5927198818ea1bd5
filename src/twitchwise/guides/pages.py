"""The pages that hold the depth the guides link to, as plain data.

- a cause page per cause (:func:`cause_page`): what it is, how it causes twitching, what points
  to it, what you can do, when to see a doctor and what a doctor may check;
- the anatomy page (:func:`anatomy_page`): every muscle, nerve and structure the guides name;
- the self-care page (:func:`self_care_page`): every piece of general advice, filled for a
  typical adult, and the fluid, nutrient and caffeine tables;
- the medicines page (:func:`medicines_page`): each medicine class, what it does and what to do;
- a myths page per seed topic (:func:`myths_page`): the seed article's wrong or loose claims
  and what the evidence says.

Each page lists its sources in order of first citation, the order of its numbered notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from twitchwise.answer.model import SourceOut
from twitchwise.errors import InputError
from twitchwise.guides.build import guide_values, seed_corrections
from twitchwise.guides.model import Cited, Guide, LinkOut
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import Cause, Topic
from twitchwise.reason.advice import by_priority, fill
from twitchwise.reason.model import CauseModel, cause_model

#: A finding "points to" a cause when it multiplies the odds by at least this much.
POINTS_TO_RATIO = 1.5
POINTS_AWAY_RATIO = 0.5
MAX_POINTS = 12
#: Advice kinds that belong to the doctor and medicine sections, not to self-care.
NOT_SELF_CARE = frozenset({"doctor", "medicine", "gp"})
#: Self-care sections: (title, advice kinds), in page order.
SELF_CARE_SECTIONS = (
    ("Rest and training", ("rest", "training", "warm_up", "stretch", "injury")),
    ("Sleep and stress", ("sleep", "stress", "reassurance")),
    ("Caffeine", ("caffeine",)),
    ("Fluids and heat", ("fluids",)),
    ("Food and supplements", ("nutrition", "nutrition_magnesium", "nutrition_potassium",
                              "nutrition_calcium", "nutrition_b12", "supplements")),
    ("Alcohol", ("alcohol",)),
    ("Eyes and screens", ("eyes",)),
    ("Keep a diary", ("track",)),
)  # fmt: skip

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


def sources_of(kb: KnowledgeBase, ids: Iterable[str]) -> tuple[SourceOut, ...]:
    """The sources of ``ids`` in order of first citation, each once."""
    return tuple(SourceOut(s.id, s.title, s.url, s.publisher) for s in kb.source_list(ids))


# --------------------------------------------------------------------------- causes


@dataclass(frozen=True)
class CausePage:
    """What a cause page shows: the cause as the knowledge base describes it."""

    id: str
    name: str
    explanation: str
    mechanism: str
    points_to: tuple[str, ...]
    points_away: tuple[str, ...]
    self_care: tuple[str, ...]
    doctor: str
    tests: tuple[str, ...]
    guides: tuple[LinkOut, ...]
    sources: tuple[SourceOut, ...]


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
    # "less likely with: eyelid" says little: regions only count for the cause they point to
    away = [
        label
        for ratio, label, kind in sorted(ratios)
        if ratio <= POINTS_AWAY_RATIO and kind not in ("region", "side")
    ]
    return tuple(to[:MAX_POINTS]), tuple(away[:4])


def cause_page(
    cause_id: str,
    kb: KnowledgeBase,
    guides: dict[str, Guide] | None = None,
    model: CauseModel | None = None,
) -> CausePage:
    """What the page of one cause shows (``guides``: every guide by topic id, to link back to
    those that name the cause; ``model``: the cause model of ``kb``, looked up when not given)."""
    if cause_id not in kb.causes:
        raise InputError(f"unknown cause {cause_id!r}; 'twitchwise causes' lists every cause")
    if model is None:
        model = cause_model(kb)
    cause = kb.causes[cause_id]
    to, away = finding_pointers(kb, cause, model)
    mentioned = [
        LinkOut(g.id, g.title) for g in (guides or {}).values() if cause_id in g.cause_ids()
    ]
    return CausePage(
        id=cause.id,
        name=cause.name,
        explanation=cause.explanation,
        mechanism=cause.mechanism,
        points_to=to,
        points_away=away,
        self_care=tuple(cause.self_care),
        doctor=cause.doctor,
        tests=tuple(cause.tests),
        guides=tuple(mentioned),
        sources=sources_of(kb, cause.sources),
    )


# --------------------------------------------------------------------------- anatomy


@dataclass(frozen=True, slots=True)
class AnatomyOut:
    id: str
    kind: str
    name: str
    text: str
    region: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class AnatomyPage:
    general: tuple[AnatomyOut, ...]
    muscles: tuple[AnatomyOut, ...]
    nerves: tuple[AnatomyOut, ...]
    sources: tuple[SourceOut, ...]


def anatomy_page(kb: KnowledgeBase) -> AnatomyPage:
    """Every anatomy entry: how a twitch happens, then the muscles, then nerves and structures."""
    entries = [
        AnatomyOut(
            a.id,
            a.kind,
            a.name,
            a.text,
            kb.findings[a.region].label if a.region else "",
            tuple(a.sources),
        )
        for a in kb.anatomy.values()
    ]
    general = tuple(a for a in entries if a.kind == "general")
    muscles = tuple(a for a in entries if a.kind == "muscle")
    nerves = tuple(a for a in entries if a.kind in ("nerve", "structure"))
    cited = [s for group in (general, muscles, nerves) for a in group for s in a.sources]
    return AnatomyPage(general, muscles, nerves, sources_of(kb, cited))


# --------------------------------------------------------------------------- self-care


@dataclass(frozen=True, slots=True)
class AdviceItem:
    id: str
    kind: str
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FluidRowOut:
    activity: str
    seed: str
    authority: str
    verdict: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FluidReferenceOut:
    group: str
    total_l: float
    drinks_l: float
    note: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NutrientOut:
    id: str
    name: str
    role: str
    intake: str
    upper_limit: str
    foods: tuple[str, ...]
    cautions: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DrinkOut:
    id: str
    name: str
    mg: float
    serving: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaffeineLimitOut:
    group: str
    mg_per_day: float
    single_dose_mg: float | None
    note: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SelfCarePage:
    sections: tuple[tuple[str, tuple[AdviceItem, ...]], ...]
    fluids: tuple[FluidRowOut, ...]
    fluid_reference: tuple[FluidReferenceOut, ...]
    nutrients: tuple[NutrientOut, ...]
    drinks: tuple[DrinkOut, ...]
    caffeine_limits: tuple[CaffeineLimitOut, ...]
    sources: tuple[SourceOut, ...]


def self_care_page(kb: KnowledgeBase) -> SelfCarePage:
    """Every piece of general advice (filled for a typical adult), and the reference tables."""
    values = guide_values(kb)
    items = [
        AdviceItem(a.id, a.kind, text, tuple(a.sources))
        for a in by_priority(kb.plan.advice)
        if a.kind not in NOT_SELF_CARE and (text := fill(kb, a, values))
    ]
    sections = []
    placed: set[str] = set()
    for title, kinds in SELF_CARE_SECTIONS:
        section = tuple(i for i in items if i.kind in kinds)
        placed |= {i.id for i in section}
        if section:
            sections.append((title, section))
    rest = tuple(i for i in items if i.id not in placed)
    if rest:
        sections.append(("Other tips", rest))
    plan = kb.plan
    fluids = tuple(
        FluidRowOut(r.activity, r.seed, r.authority, r.verdict, tuple(r.sources))
        for r in plan.fluid_seed_table
    )
    reference = tuple(
        FluidReferenceOut(
            FLUID_GROUPS.get(r.group, r.group),
            r.total_l,
            r.drinks_l,
            r.note or "",
            tuple(r.sources),
        )
        for r in plan.fluid_reference
    )
    nutrients = tuple(
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
        for n in plan.nutrients
    )
    drinks = tuple(
        DrinkOut(d.id, d.name, d.mg, d.serving, tuple(d.sources)) for d in plan.caffeine_drinks
    )
    limits = tuple(
        CaffeineLimitOut(
            LIMIT_GROUPS.get(c.group, c.group),
            c.mg_per_day,
            c.single_dose_mg,
            c.note or "",
            tuple(c.sources),
        )
        for c in plan.caffeine_limits
    )
    cited = [s for _, section in sections for i in section for s in i.sources]
    for table in (fluids, reference, nutrients, drinks, limits):
        cited += [s for row in table for s in row.sources]
    return SelfCarePage(
        tuple(sections), fluids, reference, nutrients, drinks, limits, sources_of(kb, cited)
    )


# --------------------------------------------------------------------------- medicines


@dataclass(frozen=True, slots=True)
class MedicineOut:
    id: str
    name: str
    #: What the medicine does that can cause twitching or cramps (its finding's ``help``).
    does: str
    #: The causes of twitching it makes more likely, by name.
    leads_to: tuple[LinkOut, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class MedicinesPage:
    medicines: tuple[MedicineOut, ...]
    advice: tuple[Cited, ...]
    sources: tuple[SourceOut, ...]


def medicines_page(kb: KnowledgeBase, model: CauseModel | None = None) -> MedicinesPage:
    """Each medicine class that makes a cause of twitching more likely: what it does and which
    causes it leads to; then what to do (never stop a prescribed medicine on your own)."""
    if model is None:
        model = cause_model(kb)
    out = []
    for finding in kb.findings.values():
        if finding.kind != "medicine":
            continue
        leads = [
            LinkOut(cid, kb.causes[cid].name)
            for cid, terms in zip(model.causes, model.terms, strict=True)
            for t in terms
            if t.finding == finding.id and t.ratio >= POINTS_TO_RATIO
        ]
        if leads:
            out.append(
                MedicineOut(
                    finding.id,
                    finding.label,
                    " ".join((finding.help or "").split()),
                    tuple(dict.fromkeys(leads)),
                    tuple(finding.sources),
                )
            )
    values = guide_values(kb)
    advice = []
    for item in by_priority(kb.plan.advice):
        if item.kind == "medicine" and (text := fill(kb, item, values)):
            advice.append(Cited(text, tuple(item.sources)))
    cited = [s for m in out for s in m.sources] + [s for a in advice for s in a.sources]
    return MedicinesPage(tuple(out), tuple(advice), sources_of(kb, cited))


# --------------------------------------------------------------------------- checker


#: Finding kinds that describe how a twitch behaves (its pattern and how long it has lasted).
PATTERN_KINDS = frozenset({"pattern", "duration"})


def twitch_words(kb: KnowledgeBase) -> tuple[str, ...]:
    """The words for how a twitch behaves that ``twitchwise ask`` understands (the labels of
    the pattern and duration findings, and of the findings about when it twitches)."""
    return tuple(
        f.label
        for f in kb.findings.values()
        if f.kind in PATTERN_KINDS or f.id.startswith("twitch_")  # twitch_at_night
    )


# --------------------------------------------------------------------------- myths


@dataclass(frozen=True, slots=True)
class CorrectionOut:
    id: str
    claim: str
    correct: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class MythsPage:
    topic: LinkOut
    corrections: tuple[CorrectionOut, ...]
    sources: tuple[SourceOut, ...]


#: The seeds' claims say which article a quote is from ("... (knee)"): a note for the
#: knowledge base's reviewers, not for readers.
SEED_TAG = re.compile(r"\s*\((?:knee|after a workout)\)")


def myths_page(topic: Topic, kb: KnowledgeBase) -> MythsPage:
    """What the seed article behind ``topic`` gets wrong, and what the evidence says."""
    by_id = {c.id: c for c in kb.seeds.corrections}
    out = tuple(
        CorrectionOut(
            c,
            SEED_TAG.sub("", " ".join(by_id[c].claim.split())),
            by_id[c].correct,
            tuple(by_id[c].sources),
        )
        for c in seed_corrections(kb, topic)
    )
    cited = [s for c in out for s in c.sources]
    return MythsPage(LinkOut(topic.id, topic.title), out, sources_of(kb, cited))
