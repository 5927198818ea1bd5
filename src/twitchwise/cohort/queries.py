"""Every cohort query, written once with Ibis; the same expression runs on DuckDB and on Spark
(:mod:`.engines`). Each function takes the cohort's :class:`~.engines.Tables` and returns an
Ibis expression of one small result (a few rows per group): the data stay in the engine and
only aggregates come back. None of them returns a person id.

:data:`QUERIES` names them all; ``tests/test_cohort.py`` runs each on both engines over the
same cohort and compares the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twitchwise.cohort.engines import Tables
from twitchwise.cohort.format import ANSWER_IDS, CHANGES, LEVELS
from twitchwise.cohort.meta import CountParams

__all__ = [
    "ANSWERS",
    "DIMENSIONS",
    "NOT_UNDERSTOOD_BINS",
    "QUERIES",
    "URGENT",
    "Z95",
    "answer_ids",
    "answer_levels_by",
    "answer_problems",
    "answers_by",
    "experiment_counts",
    "experiment_dfs",
    "experiment_pooled",
    "experiment_problems",
    "experiment_scores",
    "experiment_sums",
    "meta_pooled",
    "meta_sums",
    "not_understood",
    "not_understood_people",
    "overview",
]

#: The groups every report is broken down by.
DIMENSIONS = ("age_band", "sex", "season", "week")
#: The two-sided 95% normal quantile, for "this person's own interval excludes no effect".
Z95 = 1.959963984540054
#: What a missing age band or sex is reported as.
NOT_GIVEN = "not_given"


def _calendar(days: Any) -> Any:
    """The days with their season (meteorological, northern hemisphere) and ISO week (the
    Monday it starts on)."""
    import ibis

    month = days.date.month()
    season = ibis.cases(
        (month.isin([12, 1, 2]), "winter"),
        (month.isin([3, 4, 5]), "spring"),
        (month.isin([6, 7, 8]), "summer"),
        else_="autumn",
    )
    return days.mutate(season=season, week=days.date.truncate("W").cast("date"))


def _people(t: Tables) -> Any:
    """The people, a missing age band or sex as ``not_given``."""
    return t.people.mutate(
        age_band=t.people.age_band.fill_null(NOT_GIVEN), sex=t.people.sex.fill_null(NOT_GIVEN)
    )


def _days(t: Tables) -> Any:
    """Every day with its person's age band and sex, its season and week."""
    people = _people(t)
    return _calendar(t.days).join(people, "person_id")


def overview(t: Tables) -> Any:
    """One row: people, person-days, the first and last day, days and people with twitching."""
    d = t.days
    twitching = d.twitch_count > 0
    return d.aggregate(
        people=d.person_id.nunique(),
        person_days=d.count(),
        first_day=d.date.min(),
        last_day=d.date.max(),
        twitch_days=twitching.cast("int64").sum(),
        people_twitching=d.person_id.nunique(where=twitching),
    )


def people_count(t: Tables) -> Any:
    """One row: the people in the cohort (with or without days)."""
    return t.people.aggregate(people=t.people.count())


def group_sizes(t: Tables, dim: str) -> Any:
    """People per group: in the cohort for age band and sex, with a day logged in it for a
    season or week; with the people who reported twitching there."""
    if dim in ("age_band", "sex"):
        people = _people(t)
        twitching = t.days.filter(t.days.twitch_count > 0).select("person_id").distinct()
        marked = people.left_join(
            twitching.mutate(twitched=1), people.person_id == twitching.person_id
        )
        return marked.group_by(dim).aggregate(
            people=marked.count(), twitching=marked.twitched.notnull().cast("int64").sum()
        )
    d = _calendar(t.days)
    return d.group_by(dim).aggregate(
        people=d.person_id.nunique(),
        twitching=d.person_id.nunique(where=d.twitch_count > 0),
    )


def regions_by(t: Tables, dim: str) -> Any:
    """People (and days) per group and region of twitching."""
    d = _days(t)
    d = d.filter((d.twitch_count > 0) & d.region.notnull())
    return d.group_by([dim, "region"]).aggregate(people=d.person_id.nunique(), days=d.count())


def levels_by(t: Tables, dim: str) -> Any:
    """People (and days) per group and triage level of the answers they had."""
    d = _days(t)
    d = d.filter(d.triage_level.notnull())
    return d.group_by([dim, "triage_level"]).aggregate(people=d.person_id.nunique(), days=d.count())


def meta_sums(t: Tables) -> Any:
    """Per factor and lag, the sums a DerSimonian-Laird meta-analysis needs (weights
    ``w = 1/se^2``), and how many people's own 95% interval lies above or below no effect."""
    e = t.effects
    w = 1.0 / (e.se * e.se)
    return e.group_by(["factor", "lag_days"]).aggregate(
        people=e.person_id.nunique(),
        k=e.count(),
        sw=w.sum(),
        swy=(w * e.log_rr).sum(),
        swy2=(w * e.log_rr * e.log_rr).sum(),
        sw2=(w * w).sum(),
        above=((e.log_rr - Z95 * e.se) > 0).cast("int64").sum(),
        below=((e.log_rr + Z95 * e.se) < 0).cast("int64").sum(),
    )


def meta_pooled(t: Tables, tau2: Mapping[tuple[str, int], float]) -> Any:
    """Per factor and lag, the random-effects sums: weights ``1/(se^2 + tau^2)`` with the
    between-person variance ``tau2`` of each factor and lag."""
    import ibis

    e = t.effects
    cases = [
        ((e.factor == factor) & (e.lag_days == lag), ibis.literal(float(value)))
        for (factor, lag), value in sorted(tau2.items())
    ]
    tau = ibis.cases(*cases, else_=ibis.literal(0.0)) if cases else ibis.literal(0.0)
    w = 1.0 / (e.se * e.se + tau)
    return e.group_by(["factor", "lag_days"]).aggregate(sw=w.sum(), swy=(w * e.log_rr).sum())


# ---------------------------------------------------------------------- self-experiments


def experiment_problems(t: Tables) -> Any:
    """One row: the experiments and how many break the format's rules (the reader's check,
    :func:`.format.experiment_problem`, in the engine): a change outside the vocabulary; an
    effect without its error or the other way round, an error not finite and above 0, an
    effect from fewer than 3 analysed blocks; counts that do not fit; adherence not a share;
    in a cohort of version 3, the counts of each condition (``bad_counts`` too) and the
    dispersion (``bad_effect``: given exactly with an effect, finite and not negative; an
    effect with days of each condition and a twitch)."""
    e = t.experiments
    has = e.log_rr.notnull()
    bad_effect = (
        (has != e.se.notnull())
        | (has & (e.se.isnan() | e.se.isinf() | (e.se <= 0)))
        | (has & (e.log_rr.isnan() | e.log_rr.isinf()))
        | (has & (e.blocks_analysed < 3))
    )
    bad_counts = (
        (e.blocks_analysed < 0)
        | (e.blocks_analysed > e.blocks)
        | (e.block_days < 1)
        | (e.days_analysed < 0)
        | (e.days_analysed > e.days)
        | (e.adherence.notnull() & ((e.adherence < 0) | (e.adherence > 1)))
    )
    if t.version >= 3:
        bad_counts = (
            bad_counts
            | (e.usual_days < 0)
            | (e.change_days < 0)
            | (e.usual_twitches < 0)
            | (e.change_twitches < 0)
            | ((e.usual_days + e.change_days) != e.days_analysed)
        )
        d = e.dispersion
        bad_effect = (
            bad_effect
            | (has != d.notnull())
            | (has & (d.isnan() | d.isinf() | (d < 0)))
            | (has & ((e.usual_days < 1) | (e.change_days < 1)))
            | (has & ((e.usual_twitches + e.change_twitches) < 1))
        )
    return e.aggregate(
        rows=e.count(),
        bad_change=(~e.change.isin(CHANGES)).fill_null(True).cast("int64").sum(),
        bad_effect=bad_effect.fill_null(True).cast("int64").sum(),
        bad_counts=bad_counts.fill_null(True).cast("int64").sum(),
    )


def _experiments_by_person(t: Tables) -> Any:
    """One row per person and change: their experiments of it combined by inverse variance
    (one person's experiments of one change estimate one effect, theirs): ``sw`` the sum of
    ``1/se^2`` and ``swy`` of ``log_rr/se^2`` (null without an effect), ``df`` the sum of
    their degrees of freedom (analysed blocks - 2 each); whether one was stopped early, the
    mean adherence and analysed days."""
    e = t.experiments
    has = e.log_rr.notnull()
    w = 1.0 / (e.se * e.se)
    return e.group_by(["person_id", "change"]).aggregate(
        sw=w.sum(),
        swy=(w * e.log_rr).sum(),
        df=(e.blocks_analysed - 2).sum(where=has),
        stopped=e.stopped_early.cast("int64").max(),
        adherence=e.adherence.mean(),
        days=e.days_analysed.mean(),
    )


def _t_quantile(df: Any, crit: Mapping[int, float]) -> Any:
    """The 97.5% t quantile of each degrees of freedom in ``crit`` (given by the caller: the
    engines have no t distribution); 1.96 for any other."""
    import ibis

    cases = [(df == value, ibis.literal(float(q))) for value, q in sorted(crit.items())]
    return ibis.cases(*cases, else_=ibis.literal(Z95)) if cases else ibis.literal(Z95)


def experiment_dfs(t: Tables) -> Any:
    """The degrees of freedom people's combined effects have (one row per value, no count):
    the report looks up their t quantiles for :func:`experiment_sums`."""
    p = _experiments_by_person(t)
    return p.filter(p.df.notnull()).select("df").distinct()


def experiment_sums(t: Tables, crit: Mapping[int, float]) -> Any:
    """Per change: the people who ran it (``ran``) and those with an effect (``people``);
    the DerSimonian-Laird sums over the people's effects (``w = 1/se^2``); how many people's
    own 95% interval (``y +- t(df) se``, the t quantiles in ``crit``) lies below no effect
    (fewer twitches with the change) or above it; the people who stopped one early; the mean
    adherence (and the people it rests on) and analysed days per person."""
    p = _experiments_by_person(t)
    y = p.swy / p.sw
    half = _t_quantile(p.df, crit) / p.sw.sqrt()
    return p.group_by("change").aggregate(
        ran=p.count(),
        people=p.sw.notnull().cast("int64").sum(),
        sw=p.sw.sum(),
        swy=p.swy.sum(),
        swy2=(p.swy * p.swy / p.sw).sum(),
        sw2=(p.sw * p.sw).sum(),
        fewer=((y + half) < 0).cast("int64").sum(),
        more=((y - half) > 0).cast("int64").sum(),
        stopped=p.stopped.sum(),
        adherence=p.adherence.mean(),
        adherence_people=p.adherence.notnull().cast("int64").sum(),
        days=p.days.mean(),
    )


def experiment_pooled(t: Tables, tau2: Mapping[str, float]) -> Any:
    """Per change, the random-effects sums: weights ``1/(se^2 + tau^2)`` of each person's
    (combined) effect, with the between-person variance ``tau2`` of each change."""
    import ibis

    p = _experiments_by_person(t)
    p = p.filter(p.sw.notnull())
    cases = [(p.change == change, ibis.literal(float(v))) for change, v in sorted(tau2.items())]
    tau = ibis.cases(*cases, else_=ibis.literal(0.0)) if cases else ibis.literal(0.0)
    w = 1.0 / (1.0 / p.sw + tau)
    return p.group_by("change").aggregate(sw=w.sum(), swy=(w * p.swy / p.sw).sum())


def _per_change(change: Any, values: Mapping[str, float]) -> Any:
    """A number per change (each change's own, as a literal; 0 for any other)."""
    import ibis

    cases = [(change == c, ibis.literal(float(v))) for c, v in sorted(values.items())]
    return ibis.cases(*cases, else_=ibis.literal(0.0)) if cases else ibis.literal(0.0)


def _with_effect(t: Tables) -> Any:
    """The experiments with an effect, their counts as floats: ``n0``, ``n1`` the analysed
    usual and change days, ``y1`` the twitches on change days, ``total`` on both, ``df`` the
    blocks - 2 (format version 3)."""
    e = t.experiments
    e = e.filter(e.log_rr.notnull())
    n0, n1 = e.usual_days.cast("float64"), e.change_days.cast("float64")
    y0, y1 = e.usual_twitches.cast("float64"), e.change_twitches.cast("float64")
    return e.mutate(n0=n0, n1=n1, y0=y0, y1=y1, total=y0 + y1,
                    blocks_f=e.blocks_analysed.cast("float64"))  # fmt: skip


def experiment_counts(t: Tables) -> Any:
    """Per change, over the experiments with an effect (format version 3): the sums of
    :class:`.meta.CountStart`: the Pearson statistics' excess over their degrees of
    freedom and the degrees of freedom times the mean block total (``kappa``), and Mantel
    and Haenszel's sums (the start of the pooled rate ratio)."""
    e = _with_effect(t)
    df = e.blocks_f - 2.0
    days = e.n0 + e.n1
    return e.group_by("change").aggregate(
        excess=(e.dispersion * df - df).sum(),
        df_mean=(df * e.total / e.blocks_f).sum(),
        mh_change=(e.y1 * e.n0 / days).sum(),
        mh_usual=(e.y0 * e.n1 / days).sum(),
    )


def experiment_scores(t: Tables, params: Mapping[str, CountParams]) -> Any:
    """Per change of ``params`` (its pooled log rate ratio, kappa, tau^2 ...; the other
    changes are left out), the sums of :class:`.meta.ScoreSums`: every experiment's score
    ``A = (y1 - T p) / phi`` and
    information ``I = T p (1 - p) / phi`` with ``p = n1 R / (n0 + n1 R)`` and
    ``phi = 1 + kappa T / blocks``, added up per person, then over people: ``sum h A``,
    ``sum h I``, ``sum (h A)^2`` with ``h = 1 / (1 + tau^2 I)``; ``sum A^2 / I``,
    ``sum I``, ``sum I^2``; ``sum g^2`` of the moment equation of tau^2
    (:func:`.meta.count_scores` does the same in memory)."""
    import math

    e = _with_effect(t)
    e = e.filter(e.change.isin(sorted(params)))
    ratio = _per_change(e.change, {c: math.exp(p.log_rr) for c, p in params.items()})
    kappa = _per_change(e.change, {c: p.kappa for c, p in params.items()})
    p = e.n1 * ratio / (e.n0 + e.n1 * ratio)
    phi = 1.0 + kappa * e.total / e.blocks_f
    e = e.mutate(a=(e.y1 - e.total * p) / phi, i=e.total * p * (1.0 - p) / phi)
    per = e.group_by(["person_id", "change"]).aggregate(a=e.a.sum(), i=e.i.sum())
    tau2 = _per_change(per.change, {c: p.tau2 for c, p in params.items()})
    raw = _per_change(per.change, {c: p.tau2_raw for c, p in params.items()})
    total = _per_change(per.change, {c: p.total for c, p in params.items()})
    h = 1.0 / (1.0 + tau2 * per.i)
    g = per.a * per.a / per.i - (1.0 - per.i / total) - raw * (per.i - per.i * per.i / total)
    return per.group_by("change").aggregate(
        k=per.count(),
        sa=(h * per.a).sum(),
        si=(h * per.i).sum(),
        sa2=(h * per.a * h * per.a).sum(),
        q=(per.a * per.a / per.i).sum(),
        s1=per.i.sum(),
        s2=(per.i * per.i).sum(),
        sg2=(g * g).sum(),
    )


# ---------------------------------------------------------------------- answers (version 4)

#: The triage levels of "urgent or an emergency".
URGENT = ("see_doctor_urgent", "emergency")
#: The bins of the words a person did not have understood over all their answers (people
#: with one or more): (name, lowest, highest or None).
NOT_UNDERSTOOD_BINS = (("1", 1, 1), ("2-4", 2, 4), ("5-9", 5, 9), ("10+", 10, None))


def _answers(t: Tables) -> Any:
    """Every answer with its person's age band and sex, its season and week."""
    return _calendar(t.answers).join(_people(t), "person_id")


def answer_problems(t: Tables) -> Any:
    """One row: the answers and how many break the format's rules (the reader's check,
    :func:`.format.answer_problem`, in the engine): a level outside the format's
    (``bad_level``); a list that is null, holds an id outside the cohort's vocabulary (the
    manifest's, and ``other``) or an id twice (``bad_questions``, ``bad_findings``); a count
    of words not understood below 0 or null (``bad_count``)."""
    a = t.answers
    out: dict[str, Any] = {
        "rows": a.count(),
        "bad_level": (~a.triage_level.isin(LEVELS)).fill_null(True).cast("int64").sum(),
        "bad_count": (a.not_understood < 0).fill_null(True).cast("int64").sum(),
    }
    for name in ANSWER_IDS:
        ids = a[name]
        allowed = list(t.vocabulary.get(name, ()))
        outside = ids.filter(lambda i, allowed=allowed: i.isnull() | ~i.isin(allowed)).length()
        bad = ids.isnull() | (outside > 0) | (ids.unique().length() != ids.length())
        out[f"bad_{name}"] = bad.fill_null(True).cast("int64").sum()
    return a.aggregate(**out)


def answers_by(t: Tables, dim: str) -> Any:
    """Per group: the people with an answer in it and their answers; the people with an
    urgent or emergency answer."""
    a = _answers(t)
    return a.group_by(dim).aggregate(
        people=a.person_id.nunique(),
        answers=a.count(),
        urgent_people=a.person_id.nunique(where=a.triage_level.isin(URGENT)),
    )


def answer_levels_by(t: Tables, dim: str) -> Any:
    """Per group and triage level: the people with an answer at that level, and the answers."""
    a = _answers(t)
    return a.group_by([dim, "triage_level"]).aggregate(
        people=a.person_id.nunique(), answers=a.count()
    )


def answer_ids(t: Tables, name: str) -> Any:
    """Per id of an answer's ``name`` list (``questions``: the interview's questions asked;
    ``findings``: the findings reported): the people whose answers hold it and the answers."""
    a = t.answers
    each = a.select("person_id", id=a[name].unnest())
    return each.group_by("id").aggregate(people=each.person_id.nunique(), answers=each.count())


def not_understood(t: Tables) -> Any:
    """One row: people with an answer and their answers; of them, the people and answers with
    a word or more not understood, and the words."""
    a = t.answers
    some = a.not_understood > 0
    return a.aggregate(
        people=a.person_id.nunique(),
        answers=a.count(),
        people_with=a.person_id.nunique(where=some),
        answers_with=some.cast("int64").sum(),
        words=a.not_understood.cast("int64").sum(),
    )


def not_understood_people(t: Tables) -> Any:
    """People per bin of the words they did not have understood over all their answers
    (:data:`NOT_UNDERSTOOD_BINS`; people with none are not in it)."""
    import ibis

    a = t.answers
    per = a.group_by("person_id").aggregate(words=a.not_understood.cast("int64").sum())
    per = per.filter(per.words > 0)
    cases = [
        ((per.words >= low) if high is None else per.words.between(low, high), name)
        for name, low, high in NOT_UNDERSTOOD_BINS
    ]
    binned = per.mutate(bin=ibis.cases(*cases, else_="10+"))
    return binned.group_by("bin").aggregate(people=binned.count())


def _named() -> dict[str, Callable[..., Any]]:
    named: dict[str, Callable[..., Any]] = {
        "overview": overview,
        "people_count": people_count,
        "meta_sums": meta_sums,
        "experiment_problems": experiment_problems,
        "experiment_dfs": experiment_dfs,
        "experiment_counts": experiment_counts,
    }
    for dim in DIMENSIONS:
        named[f"people_by_{dim}"] = lambda t, dim=dim: group_sizes(t, dim)
        named[f"regions_by_{dim}"] = lambda t, dim=dim: regions_by(t, dim)
        named[f"levels_by_{dim}"] = lambda t, dim=dim: levels_by(t, dim)
    named["answer_problems"] = answer_problems
    for dim in DIMENSIONS:
        named[f"answers_by_{dim}"] = lambda t, dim=dim: answers_by(t, dim)
        named[f"answer_levels_by_{dim}"] = lambda t, dim=dim: answer_levels_by(t, dim)
    for name in ANSWER_IDS:
        named[f"answer_{name}"] = lambda t, name=name: answer_ids(t, name)
    named["not_understood"] = not_understood
    named["not_understood_people"] = not_understood_people
    return named


#: Every query of the report that takes only the tables (``meta_pooled`` and
#: ``experiment_pooled`` also take tau^2, ``experiment_sums`` the t quantiles,
#: ``experiment_scores`` the pooled values; ``experiment_counts`` and ``experiment_scores``
#: need a cohort of format version 3, those of answers one of version 4: :data:`ANSWERS`).
QUERIES: dict[str, Callable[[Tables], Any]] = _named()
#: The queries of :data:`QUERIES` that need the answers table (format version 4).
ANSWERS = tuple(name for name in QUERIES if name.startswith(("answer", "not_understood")))
