"""Assemble a :class:`~twitchwise.guides.model.Guide` from the knowledge base.

Nothing here is prose about a topic: the topic (``topics/*.yaml``) names its findings, anatomy,
emphasised causes, extra warning signs, advice and corrections and holds its overview and FAQ;
everything else comes from the same knowledge base and ranking engine that answer
``twitchwise ask``:

- the answer names the ranker's three leading causes for the topic's findings, then the topic's
  overview;
- the warning-sign box holds the red flags that mention one of the topic's findings, the red
  flags about the twitch's own pattern (duration, spread) and those the topic lists, each
  shortened to its sign (the start of its reason) and grouped by what to do;
- the causes are the ranker's leading 3-6, each in one sentence (the topic's "why" for it, or
  the first sentence of the cause's explanation);
- "what to do" is the advice the topic lists and the advice whose conditions its findings meet,
  filled with the figures for a typical adult;
- "when to see a GP" is the one GP rule of the knowledge base (advice ``gp_rule``) and what to
  tell the GP;
- the depth (how each cause works, anatomy, tables, medicines, corrections) is on other pages,
  which the guide names in ``more``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from twitchwise.answer.model import SourceOut
from twitchwise.errors import InputError
from twitchwise.evidence import Evidence, Observation, merge
from twitchwise.guides.model import (
    AdviceOut,
    Cited,
    FaqOut,
    Guide,
    GuideCause,
    LinkOut,
    MoreOut,
    WarningGroup,
    WarningSign,
)
from twitchwise.knowledge.facts import caffeine_limit
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import Advice, RedFlag, Topic, TriageLevel
from twitchwise.reason.advice import applies, by_priority, fill, fluid_values, fmt
from twitchwise.reason.model import CauseModel, cause_model
from twitchwise.reason.rank import RankedCause, rank

#: The core lists at most this many of the ranker's causes, and at least MIN_CAUSES.
CORE_CAUSES = 6
MIN_CAUSES = 3
#: A ranked cause below this probability is left to the "how each cause works" links.
MIN_CAUSE_PROBABILITY = 0.03
#: The first cause is called "most likely" only at this probability and this lead over the next.
MOST_LIKELY = 0.15
MOST_LIKELY_LEAD = 1.25
#: Causes at or above this probability are "leading": their advice applies to the guide.
LEADING_PROBABILITY = 0.08
#: How many advice items the core shows (the self-care page has every one).
CORE_ADVICE = 5
#: Finding kinds that describe the twitch itself: a red flag made only of these applies to
#: every guide (lasting more than 2 weeks, spreading, getting worse).
PATTERN_KINDS = frozenset({"pattern", "duration"})
#: The advice that holds the one GP rule and what to tell the GP, in this order.
GP_ADVICE = ("gp_rule", "see_doctor_plain")
#: Findings that make a topic one about children (:func:`for_children`).
CHILD_FINDINGS = frozenset({"age_under_18"})

#: What to do for each group of the warning-sign box, most urgent first: (action, level, title).
ACTIONS = (
    ("emergency", TriageLevel.EMERGENCY, "Call 999 (112 in Europe, 911 in the US) now"),
    ("today", TriageLevel.SEE_DOCTOR_URGENT, "Get help today: call your GP or NHS 111"),
    ("days", TriageLevel.SEE_DOCTOR_URGENT, "See your GP within a few days"),
    ("gp", TriageLevel.SEE_DOCTOR_ROUTINE, "See a GP"),
)
#: An urgent red flag whose reason says this is a matter of days, not of today ("see your GP
#: within days"; not "within days of starting a medicine", which says when the sign appears).
WITHIN_DAYS = re.compile(r"\bwithin (?:a few )?days\b(?! of\b)")
#: Where a red flag's reason stops naming the sign and starts saying what it means.
SIGN_END = re.compile(
    r"(?<!that)(?<!which)(?<!who)(?<!you)(?<!this)(?<! or)"
    r"\s(?:can|could|may|might|needs?|should|suggests?|means?|points?|(?:is|are)(?! getting))\s"
    r"|[.;]\s|[.;]$"
)
#: "... alongside twitching" says nothing in a guide about twitching.
WITH_TWITCHING = re.compile(r",?\s+(?:with|alongside|along with)\s+(?:the\s+)?twitching$")


# --------------------------------------------------------------------------- topics


def topics(kb: KnowledgeBase) -> list[Topic]:
    """Every guide topic, regions first, in knowledge-base order."""
    return sorted(kb.topics.values(), key=lambda t: t.kind != "region")


def _key(name: str) -> str:
    """A topic name as topics spell it: lower case, ``-`` for ``_`` and spaces."""
    return "-".join(str(name).strip().lower().replace("_", " ").split())


def _names(kb: KnowledgeBase) -> dict[str, str]:
    """Every topic id and alias (lower case) -> the topic's id."""
    names: dict[str, str] = {}
    for topic in kb.topics.values():
        for alias in [topic.id, *topic.aliases]:
            names.setdefault(alias.lower(), topic.id)
    return names


def find_topic(name: str, kb: KnowledgeBase) -> Topic:
    """The topic called ``name`` (its id or an alias, any case, ``_`` or space for ``-``).

    Raises :class:`InputError` naming the closest topics when there is none (the command line
    goes further with :func:`resolve_topic`).
    """
    key = _key(name)
    names = _names(kb)
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


@dataclass(frozen=True)
class TopicMatch:
    """What to show for a name: one topic, or (``topic`` None) the topics that fit it equally.

    ``note`` says why, whenever the name is not the topic's own id; with no topic it is a whole
    error line that names the closest guides.
    """

    topic: Topic | None
    note: str = ""
    choices: tuple[Topic, ...] = ()


#: A misspelt name is read as the closest topic name only at this similarity (difflib ratio),
#: and only when it is this much closer than the closest name of any other topic.
SPELLING_CUTOFF = 0.75
SPELLING_LEAD = 0.1
#: Names less similar than this to every topic name fit nothing.
SPELLING_FLOOR = 0.7
#: Words left out when a name is compared with a body region's words ("back of my neck").
_FILLER = frozenset({"my", "the", "a", "an", "of", "in", "on", "at", "muscle", "muscles"})
#: At most this many topics are listed for a name that fits several.
MAX_CHOICES = 8


def resolve_topic(name: str, kb: KnowledgeBase) -> TopicMatch:
    """What to show for ``name``, saying why when it is not a topic's own id.

    In order: a topic id; one of its aliases ("quads": thigh); the singular or plural of an id
    or alias ("tongues": tongue); a body region's words from the knowledge base ("collarbone",
    "side of my head") when one topic covers that region; a misspelling clearly closest to one
    topic's name ("kne": knee). A name that fits several topics equally (a region with no guide
    of its own, such as "leg", or a misspelling as close to two topics) gives those topics as
    ``choices``. Only a name that fits nothing raises :class:`InputError`.
    """
    key = _key(name)
    if not key:
        raise InputError("name a topic, for example: twitchwise guide knee", field="topic")
    names = _names(kb)

    def shown(topic_id: str, why: str, tail: str = "") -> TopicMatch:
        topic = kb.topics[topic_id]
        return TopicMatch(topic, f"{why}: showing {topic.id!r} ({topic.title}){tail}")

    def several(topic_ids: list[str], why: str) -> TopicMatch:
        ids = list(dict.fromkeys(topic_ids))[:MAX_CHOICES]
        return TopicMatch(
            None,
            f"{why}; the closest guides are {', '.join(ids)}: "
            f"run 'twitchwise guide {ids[0]}' (or another of them)",
            tuple(kb.topics[i] for i in ids),
        )

    if key in kb.topics:
        return TopicMatch(kb.topics[key])
    if key in names:
        return shown(names[key], f"{name!r} has no guide of its own", ", which covers it")
    for variant in _number_variants(key):
        if variant in names:
            return shown(names[variant], f"{name!r} has no guide of its own", ", which covers it")
    regions = _region_topics(key, kb)
    if len(regions) == 1:
        ((topic_id, label),) = regions.items()
        return shown(topic_id, f"{name!r} has no guide of its own", f", which covers the {label}")
    if regions:
        return several(list(regions), f"{name!r} has no guide of its own")
    best: dict[str, float] = {}
    for ratio, topic_id in sorted(
        ((difflib.SequenceMatcher(None, key, n).ratio(), names[n]) for n in names),
        reverse=True,
    ):
        best.setdefault(topic_id, ratio)
    ranked = list(best.items())
    top = ranked[0][1] if ranked else 0.0
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if top >= SPELLING_CUTOFF and top - runner_up >= SPELLING_LEAD:
        return shown(ranked[0][0], f"no topic is called {name!r}", ", the closest name")
    close = [t for t, r in ranked if r >= max(SPELLING_FLOOR, top - SPELLING_LEAD)]
    if close:
        return several(close, f"no topic is called {name!r}")
    raise InputError(
        f"unknown topic {name!r}; run 'twitchwise guide --list' to see every topic",
        field="topic",
    )


def _number_variants(key: str) -> list[str]:
    """The singular or plural of a name ("tongues" -> "tongue", "glute" -> "glutes")."""
    if key.endswith("ies"):
        return [key[:-3] + "y", key[:-1]]
    if key.endswith("es"):
        return [key[:-2], key[:-1]]
    if key.endswith("s"):
        return [key[:-1]]
    return [key + "s"]


def _words(text: str) -> str:
    """A name or a region's phrase as its content words ("back-of-my-neck" -> "back neck")."""
    words = text.lower().replace("-", " ").replace("_", " ").split()
    return " ".join(w for w in words if w not in _FILLER)


def _region_topics(key: str, kb: KnowledgeBase) -> dict[str, str]:
    """The region topics that cover the body region a name is a word for (topic id -> the
    region's label, lower case); every topic of that region's area when none covers it."""
    wanted = {_words(key), *(_words(v) for v in _number_variants(key))} - {""}
    regions = [
        f
        for f in kb.findings.values()
        if f.kind == "region"
        and wanted & {_words(s) for s in [f.id.removeprefix("region_"), *f.synonyms]}
    ]
    out: dict[str, str] = {}
    for finding in regions:
        label = finding.label.lower()
        # the topics made of this region (or a region it is part of), narrowest first
        for rid in [finding.id, *finding.implies]:
            covering = [
                t.id for t in kb.topics.values() if t.kind == "region" and rid in t.findings
            ]
            if covering:
                out.update((t, label) for t in covering)
                break
        else:
            area = [
                t.id
                for t in kb.topics.values()
                for f in t.findings
                if t.kind == "region"
                and kb.findings[f].kind == "region"
                and finding.area is not None
                and kb.findings[f].area == finding.area
            ]
            out.update((t, label) for t in area)
    return out


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
    ctx = _context(topic, kb, model)
    topic = ctx.topic
    causes = _causes(ctx)
    values = guide_values(kb, ctx.present)
    answer = _answer(topic, causes, kb)
    guide = Guide(
        id=topic.id,
        title=topic.title,
        kind=topic.kind,
        subject=topic.subject,
        summary=" ".join(a.text for a in answer),
        answer=tuple(answer),
        warnings=tuple(_warnings(ctx)),
        causes=tuple(causes),
        advice=tuple(_advice(ctx, _leading(ctx, causes), values)[:CORE_ADVICE]),
        gp=tuple(_gp(ctx, values)),
        faq=tuple(FaqOut(f.question, f.answer, tuple(f.sources)) for f in topic.faq),
        more=tuple(_more(ctx, causes)),
        related=tuple(LinkOut(r, kb.topics[r].title) for r in topic.related),
        ask=f'twitchwise ask "{topic.example}"',
        sources=(),
    )
    return _with_sources(kb, guide)


def _context(topic: str | Topic, kb: KnowledgeBase, model: CauseModel | None) -> _Context:
    if isinstance(topic, str):
        topic = find_topic(topic, kb)
    if model is None:
        model = cause_model(kb)
    evidence = _evidence(kb, topic.findings)
    ranking = rank(kb, evidence, model)
    return _Context(kb, topic, evidence, evidence.present, ranking, model)


def _leading(ctx: _Context, causes: list[GuideCause]) -> set[str]:
    """Causes whose advice applies to the guide: the leading ones, and the first in any case."""
    leading = {c.id for c in causes if c.probability >= LEADING_PROBABILITY}
    return leading | {r.id for r in ctx.ranking[:1]}


def topic_advice(
    topic: str | Topic, kb: KnowledgeBase, model: CauseModel | None = None
) -> list[AdviceOut]:
    """Every piece of advice that applies to a topic, in the guide's order (the guide's core
    shows the first :data:`CORE_ADVICE`; the self-care page has the rest)."""
    ctx = _context(topic, kb, model)
    causes = _causes(ctx)
    return _advice(ctx, _leading(ctx, causes), guide_values(kb, ctx.present))


def _evidence(kb: KnowledgeBase, finding_ids: Iterable[str]) -> Evidence:
    """The topic's findings as a person's evidence, with the findings they imply."""
    ids = list(dict.fromkeys(finding_ids))
    implied = [i for f in ids for i in sorted(kb.closure[f]) if i not in ids]
    observations = [Observation(f, text=kb.findings[f].label) for f in ids]
    observations += [Observation(f, text=kb.findings[f].label, derived=True) for f in implied]
    return Evidence(observations=merge(observations))


# --------------------------------------------------------------------------- the answer


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (up to the first ". ")."""
    head, _, _ = " ".join(text.split()).partition(". ")
    return head if head.endswith((".", "?", "!")) else head + "."


def _lower_first(text: str) -> str:
    """ "Tired muscles" -> "tired muscles", but "MND" stays "MND"."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _answer(topic: Topic, causes: list[GuideCause], kb: KnowledgeBase) -> list[Cited]:
    """Two or three sentences: the topic's own overview, then the leading causes. A grave,
    rare cause (motor neurone disease) among the first three is never called "common": it is
    named, as in an answer's summary, as something a doctor needs to check."""
    grave = [c for c in causes[:3] if kb.causes[c.id].grave]
    top = [c for c in causes if not kb.causes[c.id].grave][:3]
    out = []
    if topic.overview:
        out.append(Cited(" ".join(topic.overview.split()), tuple(topic.sources)))
    if top:
        out.append(
            Cited(
                f"The most common causes are {_joined(top)}.",
                tuple(dict.fromkeys(s for c in top for s in c.sources[:1])),
            )
        )
    if grave:
        out.append(
            Cited(
                f"A doctor needs to check for {_joined(grave)}, which is rare.",
                tuple(dict.fromkeys(s for c in grave for s in c.sources[:1])),
            )
        )
    return out


def _joined(causes: list[GuideCause]) -> str:
    """ "a", "a and b", "a, b, and c": the causes' short names in lower case."""
    names = [_lower_first(_short_name(c.name)) for c in causes]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _short_name(name: str) -> str:
    """A cause's name without its explanation in brackets: "Benign fasciculation syndrome"."""
    return re.sub(r"\s*\([^)]*\)$", "", name)


# --------------------------------------------------------------------------- causes


def _causes(ctx: _Context) -> list[GuideCause]:
    """The ranker's leading causes for the topic (3 to 6), most likely first."""
    kb, topic = ctx.kb, ctx.topic
    emphasis = {e.cause: e for e in topic.emphasis}
    chosen = [r for r in ctx.ranking if r.probability >= MIN_CAUSE_PROBABILITY][:CORE_CAUSES]
    if len(chosen) < MIN_CAUSES:
        chosen = ctx.ranking[:MIN_CAUSES]
    out = []
    for i, r in enumerate(chosen):
        cause = kb.causes[r.id]
        e = emphasis.get(r.id)
        after = chosen[i + 1].probability if i + 1 < len(chosen) else 0.0
        clear_lead = r.probability >= MOST_LIKELY and r.probability >= MOST_LIKELY_LEAD * after
        # a grave, rare cause is something a doctor needs to check, never "most likely"
        clear_lead = clear_lead and not cause.grave
        out.append(
            GuideCause(
                id=r.id,
                name=cause.name,
                label="Most likely" if i == 0 and clear_lead else "",
                probability=round(r.probability, 4),
                text=first_sentence(e.why if e else cause.explanation),
                sources=tuple(e.sources if e else cause.sources[:2]),
            )
        )
    return out


# --------------------------------------------------------------------------- warning signs


def uncovered(flags: list[RedFlag], kb: KnowledgeBase) -> list[RedFlag]:
    """``flags`` less each one that another covers at the same or a higher level (an eyelid
    twitch of more than 3 months is also one of more than 2 weeks); of two that cover each
    other at one level, the first stays. The warning box and the checklist both show these."""
    return [
        flag
        for i, flag in enumerate(flags)
        if not any(
            j != i
            and other.level.rank >= flag.level.rank
            and _implies(kb, flag, other)
            and not (j > i and other.level == flag.level and _implies(kb, other, flag))
            for j, other in enumerate(flags)
        )
    ]


def _warnings(ctx: _Context) -> list[WarningGroup]:
    """The warning-sign box: the topic's red flags as short signs, grouped by what to do."""
    kb = ctx.kb
    kept = uncovered([flag for _, flag in _topic_flags(ctx)], kb)
    groups: dict[str, list[WarningSign]] = {action: [] for action, _, _ in ACTIONS}
    for flag in kept:
        sign = WarningSign(
            flag.id, flag.level.value, sign_of(flag), flag.reason, tuple(flag.sources)
        )
        if any(s.sign == sign.sign for s in groups[action_of(flag)]):
            continue
        groups[action_of(flag)].append(sign)
    return [
        WarningGroup(action, level.value, title, tuple(groups[action]))
        for action, level, title in ACTIONS
        if groups[action]
    ]


def _topic_flags(ctx: _Context) -> list[tuple[int, RedFlag]]:
    """Red flags relevant to the topic, most urgent first; within a level, those about the
    topic's own findings, then those the topic lists, then the twitch's own pattern."""
    kb, topic = ctx.kb, ctx.topic
    own = {f for f in ctx.present if kb.findings[f].kind not in ("twitch", "demographic")}
    own |= {f for f in topic.findings if kb.findings[f].kind == "demographic"}
    chosen: list[tuple[int, RedFlag]] = []
    for flag in kb.red_flags:
        ids = {f for group in flag.groups() for f in group}
        # about the twitch's own pattern: every group is met by a pattern or a duration, or by
        # the twitch itself ("a twitch, anywhere, for more than 2 weeks")
        pattern_only = all(
            all(kb.findings[f].kind in PATTERN_KINDS for f in group)
            or any(kb.findings[f].kind == "twitch" for f in group)
            for group in flag.groups()
        )
        if ids & own:
            chosen.append((0, flag))
        elif flag.id in topic.red_flags:
            chosen.append((1, flag))
        elif pattern_only:
            chosen.append((2, flag))
    chosen.sort(key=lambda item: (-item[1].level.rank, item[0]))
    return chosen


def _implies(kb: KnowledgeBase, flag: RedFlag, other: RedFlag) -> bool:
    """Whether ``other`` fires whenever ``flag`` does: each of its groups is met by every
    finding of one of ``flag``'s groups (an eyelid twitch of more than 3 months is also a twitch
    of more than 2 weeks)."""
    groups = flag.groups()
    return all(
        any(all(kb.closure[f] & set(wanted) for f in mine) for mine in groups)
        for wanted in other.groups()
    )


def action_of(flag: RedFlag) -> str:
    """What to do for a red flag, as the warning-sign box and the checklist group it:
    emergency, today, within a few days (an urgent flag whose reason says so), or see a GP."""
    if flag.level is TriageLevel.EMERGENCY:
        return "emergency"
    if flag.level is TriageLevel.SEE_DOCTOR_URGENT:
        return "days" if WITHIN_DAYS.search(flag.reason) else "today"
    return "gp"


def sign_of(flag: RedFlag) -> str:
    """The sign a red flag is about, in a few words: its reason up to where the reason starts
    saying what the sign means ("Numbness between the legs, around the genitals or bottom")."""
    text = " ".join(flag.reason.split())
    match = SIGN_END.search(text)
    sign = text[: match.start()] if match else text
    sign = WITH_TWITCHING.sub("", sign.rstrip(" ,"))
    return sign[:1].upper() + sign[1:]


# --------------------------------------------------------------------------- what to do


Values = dict[str, str]


def guide_values(kb: KnowledgeBase, present: Iterable[str] = ()) -> Values:
    """Advice placeholders filled for a typical adult with these findings."""
    found = frozenset(present)
    values = {"caffeine_limit_mg": fmt(caffeine_limit(kb, found))}
    values |= fluid_values(kb, "pregnant" if "pregnant" in found else None)
    # no {tests}: the plain doctor advice (without a test list) is the one shown
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
        if for_children(topic):
            break  # the general advice is written for adults
        if advice.kind in kinds or advice.kind in ("medicine", "doctor"):
            continue
        if applies(advice, ctx.present, leading, None) and fill(kb, advice, values):
            chosen[advice.id] = advice
            kinds.add(advice.kind)
    listed = {aid: i for i, aid in enumerate(topic.advice)}
    ordered = sorted(
        chosen.values(), key=lambda a: (listed.get(a.id, len(listed)), a.priority, a.id)
    )
    return [AdviceOut(a.id, a.kind, fill(kb, a, values) or "", tuple(a.sources)) for a in ordered]


def for_children(topic: Topic) -> bool:
    """Whether a topic is about children (one of its findings is :data:`CHILD_FINDINGS`). Its
    guide shows only the advice the topic lists: the knowledge base's general advice gives adult
    figures (400 mg of caffeine, 7 hours of sleep), so a children's topic says what it has to say
    about caffeine and sleep itself, with its own sources."""
    return bool(CHILD_FINDINGS & set(topic.findings))


def _gp(ctx: _Context, values: Values) -> list[Cited]:
    """The one GP rule and what to tell the GP (advice ``gp_rule``, ``see_doctor_plain``)."""
    by_id = {a.id: a for a in ctx.kb.plan.advice}
    out = []
    for aid in GP_ADVICE:
        advice = by_id.get(aid)
        text = fill(ctx.kb, advice, values) if advice is not None else None
        if advice is not None and text:
            out.append(Cited(text, tuple(advice.sources)))
    return out


# --------------------------------------------------------------------------- depth


def _more(ctx: _Context, causes: list[GuideCause]) -> list[MoreOut]:
    """The pages that hold the depth, and what on them concerns this topic."""
    kb, topic = ctx.kb, ctx.topic
    cause_ids = list(dict.fromkeys([c.id for c in causes] + [e.cause for e in topic.emphasis]))
    out = [
        MoreOut(
            "causes",
            "causes",
            "How each cause works",
            tuple(LinkOut(c, kb.causes[c].name) for c in cause_ids),
        ),
        MoreOut(
            "anatomy",
            "anatomy",
            "Muscles and nerves",
            tuple(LinkOut(a, kb.anatomy[a].name) for a in topic.anatomy),
        ),
        MoreOut("self-care", "self-care", "Self-care, food and drink", ()),
        MoreOut("medicines", "medicines", "Medicines that can cause twitching", ()),
    ]
    if topic.seed is not None:
        out.append(MoreOut("myths", topic.id, "What popular articles get wrong", ()))
    return out


def seed_corrections(kb: KnowledgeBase, topic: Topic) -> list[str]:
    """Ids of the corrections a seed topic's myths page shows: the topic's own, and every
    correction of its seed article."""
    wanted = set(topic.corrections)
    return [
        c.id
        for c in kb.seeds.corrections
        if c.id in wanted or (topic.seed is not None and c.seed in (topic.seed, "both"))
    ]


# --------------------------------------------------------------------------- sources


def _cited(guide: Guide) -> list[str]:
    """Every source id the guide cites, in the order a reader meets them."""
    groups: list[tuple[str, ...]] = [c.sources for c in guide.answer]
    groups += [s.sources for s in guide.signs()]
    groups += [c.sources for c in guide.causes]
    groups += [a.sources for a in guide.advice]
    groups += [g.sources for g in guide.gp]
    groups += [f.sources for f in guide.faq]
    return list(dict.fromkeys(s for group in groups for s in group))


def _with_sources(kb: KnowledgeBase, guide: Guide) -> Guide:
    sources = tuple(
        SourceOut(s.id, s.title, s.url, s.publisher) for s in kb.source_list(_cited(guide))
    )
    return replace(guide, sources=sources)
