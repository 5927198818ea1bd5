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

__all__ = ["DIMENSIONS", "QUERIES", "Z95", "meta_pooled", "meta_sums", "overview"]

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


def _named() -> dict[str, Callable[..., Any]]:
    named: dict[str, Callable[..., Any]] = {
        "overview": overview,
        "people_count": people_count,
        "meta_sums": meta_sums,
    }
    for dim in DIMENSIONS:
        named[f"people_by_{dim}"] = lambda t, dim=dim: group_sizes(t, dim)
        named[f"regions_by_{dim}"] = lambda t, dim=dim: regions_by(t, dim)
        named[f"levels_by_{dim}"] = lambda t, dim=dim: levels_by(t, dim)
    return named


#: Every query of the report that takes only the tables (``meta_pooled`` also takes tau^2).
QUERIES: dict[str, Callable[[Tables], Any]] = _named()
