"""``twitchwise cohort report``: the population report of a cohort, on DuckDB or Spark.

It runs the queries of :mod:`.queries` on an engine, pools the personal effects and the
self-experiments' effects (:mod:`.meta`) and applies the small-cell rule: no count of fewer
than :data:`MIN_CELL` people (and no share, effect or group built on one) is shown; every
cell held back is listed in ``suppressed``. Counts of 0 are shown (they point at no one).
Person ids never leave the engine: every query returns aggregates.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twitchwise.cohort.format import CHANGES, FACTORS, LEVELS, REGIONS, VERSION, read_manifest
from twitchwise.cohort.queries import DIMENSIONS, URGENT
from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.cohort.format import Manifest
    from twitchwise.cohort.meta import Meta

__all__ = ["MIN_CELL", "CohortReport", "cohort_report"]

#: The smallest number of people a shown count, share or effect may rest on.
MIN_CELL = 10

DIMENSION_NAMES = {"age_band": "age band", "sex": "sex", "season": "season", "week": "week"}
SEASONS = ("winter", "spring", "summer", "autumn")
#: The changes of self-experiments in words (the JSON keeps the format's names).
CHANGE_NAMES = {
    "caffeine": "less caffeine",
    "sleep": "earlier bedtime",
    "magnesium_food": "magnesium-rich food",
    "stretching": "daily stretching",
    "other": "own change",
}
LEVEL_NAMES = {
    "self_care": "self-care",
    "see_doctor_routine": "routine",
    "see_doctor_urgent": "urgent",
    "emergency": "emergency",
}


def _pooled(meta: Meta) -> dict[str, Any]:
    """The keys every pooled estimate has in the report's JSON (a factor's, a change's)."""
    return {
        "rate_ratio": _round(math.exp(meta.mu)),
        "ci": [_round(math.exp(meta.ci[0])), _round(math.exp(meta.ci[1]))],
        "prediction_interval": (
            [_round(math.exp(meta.prediction[0])), _round(math.exp(meta.prediction[1]))]
            if meta.prediction
            else None
        ),
        "log_rr": _round(meta.mu),
        "se": _round(meta.se),
        "tau2": _round(meta.tau2),
        "i2": _round(meta.i2),
        "q": _round(meta.q),
    }


def _round(value: float, digits: int = 4) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


@dataclass(slots=True)
class CohortReport:
    """The report: its JSON (:meth:`to_dict`), terminal text and HTML page."""

    engine: str
    cohort: dict[str, Any]
    factors: list[dict[str, Any]] = field(default_factory=list)
    experiments: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    min_cell: int = MIN_CELL
    #: The hosted app's answers (format version 4; None for an older cohort or one under
    #: ``min_cell`` people): levels by group, questions, findings, words not understood.
    answers: dict[str, Any] | None = None
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "min_cell": self.min_cell,
            "cohort": self.cohort,
            "factors": self.factors,
            "experiments": self.experiments,
            "groups": self.groups,
            "answers": self.answers,
            "suppressed": self.suppressed,
            "notes": self.notes,
        }

    def render_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def render_terminal(self) -> str:
        return "\n".join(_terminal(self)) + "\n"

    def render_html(self) -> str:
        return _html(self)

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return self.render_json()
        if fmt == "html":
            return self.render_html()
        return self.render_terminal()


# ---------------------------------------------------------------------- building


class _Guard:
    """The small-cell rule, and the list of what it held back."""

    def __init__(self, min_cell: int) -> None:
        self.min_cell = min_cell
        self.held: list[dict[str, Any]] = []

    def count(self, people: int, table: str, group: str, item: str | None) -> int | None:
        if 0 < people < self.min_cell:
            self.held.append({"table": table, "group": group, "item": item})
            return None
        return people


def cohort_report(
    root: Path, engine: str = "duckdb", *, session: Any = None, min_cell: int = MIN_CELL
) -> CohortReport:
    """The report of the cohort in the folder ``root``, computed on ``engine`` ("duckdb" or
    "spark"; for Spark an existing ``session`` may be given)."""
    from twitchwise.cohort.engines import connect

    manifest = read_manifest(root)
    eng = connect(engine, session=session)
    try:
        return _build(eng, root, min_cell, manifest)
    finally:
        eng.close()


def _build(eng: Any, root: Path, min_cell: int, manifest: Manifest) -> CohortReport:
    from twitchwise.cohort import queries

    t = eng.tables(root, manifest)
    _check_experiments(eng, t)
    _check_answers(eng, t)
    guard = _Guard(min_cell)
    [over] = eng.rows(queries.overview(t))
    [counted] = eng.rows(queries.people_count(t))
    people = int(counted["people"])
    cohort: dict[str, Any] = {
        "people": people,
        "person_days": int(over["person_days"]),
        "first_day": str(over["first_day"]),
        "last_day": str(over["last_day"]),
        "people_twitching": int(over["people_twitching"] or 0),
        "twitch_days": int(over["twitch_days"] or 0),
    }
    report = CohortReport(eng.name, cohort, min_cell=min_cell, version=t.version)
    if people < min_cell:
        report.cohort = {"people": None}
        report.suppressed.append({"table": "cohort", "group": "all", "item": None})
        report.notes.append(f"The cohort has fewer than {min_cell} people: nothing of it is shown.")
        return report
    report.factors = _factors(eng, t, guard)
    report.experiments = _experiments(eng, t, guard)
    for dim in DIMENSIONS:
        report.groups[dim] = _groups(eng, t, dim, guard)
    report.answers = _answers(eng, t, guard)
    report.suppressed = guard.held
    report.notes.append(
        f"Counts are of people; no count of 1 to {min_cell - 1} people is shown, nor any "
        "share or effect resting on one (listed under suppressed)."
    )
    words = (
        "Self-experiments: the rate ratio of twitches on change days over usual days (below 1: "
        "fewer with the change), each person's experiments of a change counted as one "
        f"person; a change with fewer than {min_cell} people's effects is not pooled."
    )
    if t.version >= 3:
        words += (
            " Pooled from each experiment's counts, days compared as planned: a change kept "
            "on fewer days shows a smaller effect (docs/cohort.md#pooled-self-experiments)."
        )
    else:
        words += (
            f" This cohort is of format version {t.version}, without each experiment's "
            "counts: its self-experiments are pooled from each person's own effect, and when "
            "people twitch a few times a day or less the pooled ratio of a change that works "
            "leans towards 1: read a pooled reduction as at least that large, or export the "
            "cohort again (docs/cohort.md#pooled-self-experiments)."
        )
    report.notes.append(_answers_note(t.version, min_cell))
    report.notes.append(words)
    return report


def _answers_note(version: int, min_cell: int) -> str:
    """What the answers sections are, or why there are none, in words."""
    if version < 4:
        return (
            f"Answers: this cohort is of format version {version}, before the answers table: "
            "it has no answers of the hosted app (export it again to have them)."
        )
    return (
        "Answers: the hosted app's recorded answers (consenting people only). Each level's "
        "share is of the group's answers; when a level is held back, others may be too "
        f"(the shares add up), so that what is held rests on {min_cell} people or more."
    )


def _check_answers(eng: Any, t: Any) -> None:
    """Refuse an answers table that breaks the format's rules (its values; the columns and
    their types were checked when it was read)."""
    from twitchwise.cohort import queries

    if t.answers is None:
        return
    [found] = eng.rows(queries.answer_problems(t))
    _refuse(
        "answers",
        (found["bad_level"], "with a triage level outside the format's"),
        (found["bad_questions"], "with question ids outside the cohort's or one twice"),
        (found["bad_findings"], "with finding ids outside the cohort's or one twice"),
        (found["bad_count"], "with a count of words not understood below 0"),
    )


def _refuse(table: str, *counts: tuple[int, str]) -> None:
    """One line naming every broken rule of ``table`` with its number of rows, if any."""
    problems = [f"{n} {what}" for n, what in counts if n]
    if problems:
        raise InputError(
            f"the cohort's {table} table breaks the format (docs/cohort.md): rows "
            f"{'; '.join(problems)}",
            field="dir",
        )


def _answers(eng: Any, t: Any, guard: _Guard) -> dict[str, Any] | None:
    """The answers sections, with the small-cell rule (None for a cohort without answers)."""
    if t.answers is None:
        return None
    return {
        "levels": {dim: _answer_groups(eng, t, dim, guard) for dim in DIMENSIONS},
        "questions": _answer_ids(eng, t, "questions", guard),
        "findings": _answer_ids(eng, t, "findings", guard),
        "not_understood": _not_understood(eng, t, guard),
    }


def _complement(counts: Mapping[str, int], held: set[str], min_cell: int, *,
                disjoint: bool) -> set[str]:  # fmt: skip
    """Cells that add up to a total that is shown: when the cells held back rest on fewer
    than ``min_cell`` people (the total less the cells shown would give them), hold back
    the smallest shown cells too until they do. People of ``disjoint`` cells add up; else
    the people of several cells are at least those of the largest."""
    held = set(held)

    def enough() -> bool:
        people = [counts[c] for c in held]
        return (sum(people) if disjoint else max(people)) >= min_cell

    if not held or enough():
        return held
    for cell in sorted((c for c in counts if c not in held and counts[c] > 0),
                       key=lambda c: (counts[c], c)):  # fmt: skip
        held.add(cell)
        if enough():
            break
    return held


def _answer_groups(eng: Any, t: Any, dim: str, guard: _Guard) -> list[dict[str, Any]]:
    """Per group of ``dim`` with ``min_cell`` people or more: the share of its answers at each
    triage level and at urgent or emergency, each resting on the people with such an answer
    (held back from 1 to ``min_cell - 1``, with shown ones that would give them away)."""
    from twitchwise.cohort import queries

    sizes = {r[dim]: r for r in eng.rows(queries.answers_by(t, dim))}
    cells: dict[Any, dict[str, dict[str, Any]]] = {}
    for r in eng.rows(queries.answer_levels_by(t, dim)):
        cells.setdefault(r[dim], {})[r["triage_level"]] = r
    table = f"answer levels by {DIMENSION_NAMES[dim]}"
    out = []
    for value in _order(dim, list(sizes)):
        group, size = str(value), sizes[value]
        people = guard.count(int(size["people"]), table, group, None)
        if people is None:
            continue  # the whole group: its cells rest on it
        answers = int(size["answers"])
        found = cells.get(value, {})
        counts = {lvl: int(found[lvl]["people"]) if lvl in found else 0 for lvl in LEVELS}
        small = {lvl for lvl, n in counts.items() if 0 < n < guard.min_cell}
        held = _complement(counts, small, guard.min_cell, disjoint=False)
        levels: dict[str, Any] = {}
        for lvl in LEVELS:
            if lvl in held:
                guard.held.append({"table": table, "group": group, "item": lvl})
                levels[lvl] = None
                continue
            n = int(found[lvl]["answers"]) if lvl in found else 0
            levels[lvl] = {"people": counts[lvl], "share": _round(n / answers, 3)}
        urgent: dict[str, Any] | None = None
        if held & set(URGENT) and held != set(URGENT):
            # one of the two held, or held with others: the share would split what is held
            guard.held.append({"table": table, "group": group, "item": "urgent_or_emergency"})
        else:
            n = sum(int(found[lvl]["answers"]) for lvl in URGENT if lvl in found)
            urgent = {"people": int(size["urgent_people"]), "share": _round(n / answers, 3)}
        out.append({"group": group, "people": people, "levels": levels,
                    "urgent_or_emergency": urgent})  # fmt: skip
    return out


def _answer_ids(eng: Any, t: Any, name: str, guard: _Guard) -> list[dict[str, Any]]:
    """The ids of the answers' ``name`` list held by ``min_cell`` people's answers or more, most
    answers first: ``id``, ``people``, ``answers``; the others are held back."""
    from twitchwise.cohort import queries

    rows = sorted(eng.rows(queries.answer_ids(t, name)),
                  key=lambda r: (-int(r["answers"]), -int(r["people"]), str(r["id"])))  # fmt: skip
    out = []
    for r in rows:
        if guard.count(int(r["people"]), name, "all", str(r["id"])) is None:
            continue
        out.append({"id": str(r["id"]), "people": int(r["people"]), "answers": int(r["answers"])})
    return out


def _not_understood(eng: Any, t: Any, guard: _Guard) -> dict[str, Any]:
    """The words not understood: people with an answer and their answers; of them the people
    and answers with a word or more not understood, the words, and the people per bin of
    their words over all their answers, each under the small-cell rule (the people with none
    are the rest of the people, so they count too; the bins add up to the people with)."""
    from twitchwise.cohort import queries

    table = "not understood"
    [r] = eng.rows(queries.not_understood(t))
    people, answers = int(r["people"]), int(r["answers"])
    out: dict[str, Any] = {"people": guard.count(people, table, "all", None),
                           "answers": answers, "people_with": None, "answers_with": None,
                           "share_answers_with": None, "words": None,
                           "words_per_answer": None, "people_by_words": None}  # fmt: skip
    if out["people"] is None:
        out["answers"] = None
        return out
    with_ = int(r["people_with"] or 0)
    if 0 < with_ < guard.min_cell or 0 < people - with_ < guard.min_cell:
        guard.held.append({"table": table, "group": "all", "item": "people_with"})
        return out
    words, answers_with = int(r["words"] or 0), int(r["answers_with"] or 0)
    out |= {
        "people_with": with_,
        "answers_with": answers_with,
        "share_answers_with": _round(answers_with / answers, 3) if answers else 0,
        "words": words,
        "words_per_answer": _round(words / answers, 3) if answers else 0,
    }
    counts = {name: 0 for name, _, _ in queries.NOT_UNDERSTOOD_BINS}
    for b in eng.rows(queries.not_understood_people(t)):
        counts[str(b["bin"])] = int(b["people"])
    small = {b for b, n in counts.items() if 0 < n < guard.min_cell}
    held = _complement(counts, small, guard.min_cell, disjoint=True)
    bins: dict[str, Any] = {}
    for b, n in counts.items():
        if b in held:
            guard.held.append({"table": table, "group": "people by words", "item": b})
            bins[b] = None
        else:
            bins[b] = {"people": n, "share": _round(n / with_, 3) if with_ else 0}
    out["people_by_words"] = bins
    return out


def _check_experiments(eng: Any, t: Any) -> None:
    """Refuse an experiments table that breaks the format's rules (the reader's check of its
    values; the columns and their types were checked when it was read)."""
    from twitchwise.cohort import queries

    [found] = eng.rows(queries.experiment_problems(t))
    _refuse(
        "experiments",
        (found["bad_change"], "with a change outside the format's"),
        (found["bad_effect"], "with an effect and error that do not fit"),
        (found["bad_counts"], "with blocks, days or adherence out of range"),
    )


def _factors(eng: Any, t: Any, guard: _Guard) -> list[dict[str, Any]]:
    from twitchwise.cohort import queries
    from twitchwise.cohort.meta import Sums, pool, tau_squared

    rows = {(r["factor"], int(r["lag_days"])): r for r in eng.rows(queries.meta_sums(t))}
    shown: dict[tuple[str, int], Sums] = {}
    for key, r in sorted(rows.items(), key=lambda kv: (list(FACTORS).index(kv[0][0]), kv[0][1])):
        if guard.count(int(r["people"]), "factors", "all", label(key)) is None:
            continue
        if int(r["k"]) < 2:
            continue
        shown[key] = Sums(int(r["k"]), r["sw"], r["swy"], r["swy2"], r["sw2"])
    if not shown:
        return []
    tau2 = {key: tau_squared(s)[0] for key, s in shown.items()}
    pooled = {(r["factor"], int(r["lag_days"])): r for r in eng.rows(queries.meta_pooled(t, tau2))}
    out = []
    for key, s in shown.items():
        meta = pool(s, pooled[key]["sw"], pooled[key]["swy"])
        r = rows[key]
        people = int(r["people"])
        out.append(
            {
                "factor": key[0],
                "lag_days": key[1],
                "step": FACTORS[key[0]][1],
                "people": people,
                **_pooled(meta),
                "share_matters": _round(meta.share_matters, 3),
                "share_more": _round(meta.share_more, 3),
                "share_fewer": _round(meta.share_fewer, 3),
                # people whose own interval lies above / below no effect (counts under the
                # small-cell rule are held back)
                "own_above": guard.count(int(r["above"]), "factors", label(key), "own_above"),
                "own_below": guard.count(int(r["below"]), "factors", label(key), "own_below"),
            }
        )
    return out


def _experiments(eng: Any, t: Any, guard: _Guard) -> list[dict[str, Any]]:
    """Per change, the people's experiments pooled with the small-cell rule: a change with
    fewer than ``min_cell`` people's effects is not pooled (listed), and no count of 1 to
    ``min_cell - 1`` people is shown. From the experiments' counts (:func:`.meta.pool_counts`)
    in a cohort of format version 3; from each person's effect (DerSimonian-Laird) in one of
    version 2, or for a change whose experiments have no twitch on one side."""
    from twitchwise.cohort import queries
    from twitchwise.cohort.meta import Sums, pool, tau_squared
    from twitchwise.insights.stats import t_ppf

    dfs = sorted(int(r["df"]) for r in eng.rows(queries.experiment_dfs(t)))
    crit = {df: t_ppf(0.975, df) for df in dfs if df > 0}
    rows = {r["change"]: r for r in eng.rows(queries.experiment_sums(t, crit))}
    shown: dict[str, Sums] = {}
    for change in CHANGES:
        r = rows.get(change)
        if r is None:
            continue
        people = int(r["people"] or 0)
        if people < guard.min_cell:  # (or nobody's experiment gave an effect)
            guard.held.append({"table": "experiments", "group": "all", "item": change})
            continue
        shown[change] = Sums(people, r["sw"], r["swy"], r["swy2"], r["sw2"])
    if not shown:
        return []
    metas = _from_counts(eng, t, list(shown)) if t.version >= 3 else {}
    older = {change: s for change, s in shown.items() if change not in metas}
    if older:
        tau2 = {change: tau_squared(s)[0] for change, s in older.items()}
        pooled = {r["change"]: r for r in eng.rows(queries.experiment_pooled(t, tau2))}
        for change, s in older.items():
            metas[change] = pool(s, pooled[change]["sw"], pooled[change]["swy"])
    out = []
    for change, s in shown.items():
        meta = metas[change]
        r = rows[change]
        people = s.k

        def count(n: Any, item: str, change: str = change) -> int | None:
            return guard.count(int(n or 0), "experiments", change, item)

        fewer, more = int(r["fewer"] or 0), int(r["more"] or 0)
        excludes = count(fewer + more, "own_excludes")
        if excludes is not None and any(0 < n < guard.min_cell for n in (fewer, more)):
            # one side is small: show neither, or it would be the total less the other
            for item in ("own_fewer", "own_more"):
                guard.held.append({"table": "experiments", "group": change, "item": item})
            own_fewer = own_more = None
        else:
            own_fewer, own_more = count(fewer, "own_fewer"), count(more, "own_more")
        adherence = None
        if int(r["adherence_people"] or 0) >= guard.min_cell:
            adherence = _round(float(r["adherence"]), 3)
        elif int(r["adherence_people"] or 0) > 0:
            guard.held.append({"table": "experiments", "group": change, "item": "adherence"})
        out.append(
            {
                "change": change,
                "method": "inverse_variance" if change in older else "counts",
                "people": people,
                "without_effect": count(int(r["ran"]) - people, "without_effect"),
                **_pooled(meta),
                # people whose own 95% interval excludes no effect (either side), and of them
                # those with fewer / more twitches with the change
                "own_excludes": excludes,
                "share_own_excludes": (None if excludes is None else _round(excludes / people, 3)),
                "own_fewer": own_fewer,
                "own_more": own_more,
                "stopped_early": count(r["stopped"], "stopped_early"),
                "adherence": adherence,
                "days_analysed": _round(float(r["days"]), 3),
            }
        )
    return out


def _from_counts(eng: Any, t: Any, changes: list[str]) -> dict[str, Any]:
    """The pooled effect of each of ``changes`` from its experiments' counts, a pass over
    the engine per step (:func:`.meta.pool_counts`); a change whose experiments have no
    twitch on one side (the ratio would be 0 or infinite) is left out."""
    from twitchwise.cohort import queries
    from twitchwise.cohort.meta import CountParams, CountStart, ScoreSums, pool_counts

    starts = {}
    for r in eng.rows(queries.experiment_counts(t)):
        start = CountStart(r["excess"], r["df_mean"], r["mh_change"], r["mh_usual"])
        if r["change"] in changes and start.mh_change > 0 and start.mh_usual > 0:
            starts[r["change"]] = start

    def scores(params: Mapping[str, CountParams]) -> dict[str, ScoreSums]:
        names = ("sa", "si", "sa2", "q", "s1", "s2", "sg2")
        return {
            r["change"]: ScoreSums(int(r["k"]), *(float(r[n]) for n in names))
            for r in eng.rows(queries.experiment_scores(t, params))
        }

    return dict(pool_counts(starts, scores)) if starts else {}


def label(key: tuple[str, int]) -> str:
    return f"{key[0]} lag {key[1]}"


def _order(dim: str, values: list[Any]) -> list[Any]:
    fixed = {"season": SEASONS}.get(dim)
    if fixed:
        return [v for v in fixed if v in values]
    return sorted(values, key=str)


def _groups(eng: Any, t: Any, dim: str, guard: _Guard) -> list[dict[str, Any]]:
    from twitchwise.cohort import queries

    sizes = {r[dim]: r for r in eng.rows(queries.group_sizes(t, dim))}
    regions: dict[Any, dict[str, int]] = {}
    for r in eng.rows(queries.regions_by(t, dim)):
        regions.setdefault(r[dim], {})[r["region"]] = int(r["people"])
    levels: dict[Any, dict[str, int]] = {}
    for r in eng.rows(queries.levels_by(t, dim)):
        levels.setdefault(r[dim], {})[r["triage_level"]] = int(r["people"])
    name = DIMENSION_NAMES[dim]
    out = []
    for value in _order(dim, list(sizes)):
        group = str(value)
        people = guard.count(int(sizes[value]["people"]), f"people by {name}", group, None)
        if people is None:
            continue  # the whole group: its cells rest on it
        twitching = guard.count(
            int(sizes[value]["twitching"]), f"people by {name}", group, "twitching"
        )
        entry: dict[str, Any] = {"group": group, "people": people, "twitching": twitching}
        for kind, found, items in (
            ("regions", regions, REGIONS),
            ("levels", levels, LEVELS),
        ):
            cells: dict[str, Any] = {}
            for item in items:
                n = found.get(value, {}).get(item, 0)
                shown = guard.count(n, f"{kind} by {name}", group, item)
                cells[item] = (
                    None if shown is None else {"people": shown, "share": _round(shown / people, 3)}
                )
            entry[kind] = cells
        out.append(entry)
    return out


# ---------------------------------------------------------------------- rendering


def _pct(cell: dict[str, Any] | None) -> str:
    return "<10" if cell is None else f"{round(100 * cell['share'])}%"


def _num(value: int | None) -> str:
    return "<10" if value is None else f"{value:,}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        first = r[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join([first, *rest]).rstrip())
    return lines


def _factor_rows(report: CohortReport) -> list[list[str]]:
    rows = []
    for f in report.factors:
        pi = f["prediction_interval"]
        rows.append(
            [
                f"{f['factor']} (lag {f['lag_days']})",
                f"per {f['step']}",
                _num(f["people"]),
                f"{f['rate_ratio']:.3f}",
                f"{f['ci'][0]:.3f}-{f['ci'][1]:.3f}",
                f"{pi[0]:.2f}-{pi[1]:.2f}" if pi else "-",
                f"{f['tau2']:.4f}",
                f"{round(100 * f['i2'])}%",
                f"{round(100 * f['share_matters'])}%",
                _num(f["own_above"]),
                _num(f["own_below"]),
            ]
        )
    return rows


def _experiment_rows(report: CohortReport) -> list[list[str]]:
    rows = []
    for x in report.experiments:
        pi = x["prediction_interval"]
        share = x["share_own_excludes"]
        rows.append(
            [
                CHANGE_NAMES[x["change"]],
                _num(x["people"]),
                f"{x['rate_ratio']:.3f}",
                f"{x['ci'][0]:.3f}-{x['ci'][1]:.3f}",
                f"{pi[0]:.2f}-{pi[1]:.2f}" if pi else "-",
                f"{x['tau2']:.4f}",
                f"{round(100 * x['i2'])}%",
                "<10" if share is None else f"{round(100 * share)}%",
                _num(x["own_fewer"]),
                _num(x["own_more"]),
                _num(x["without_effect"]),
                _num(x["stopped_early"]),
                "<10" if x["adherence"] is None else f"{round(100 * x['adherence'])}%",
            ]
        )
    return rows


EXPERIMENT_HEADER = [
    "change", "people", "rate ratio", "95% CI", "95% PI", "tau^2", "I^2", "own CI excl. 1",
    "fewer", "more", "no effect", "stopped early", "adherence",
]  # fmt: skip


def _older_method(report: CohortReport) -> list[str]:
    """What to say of changes pooled from each person's own effect (a cohort of format
    version 2, or no twitch on one side), in words."""
    older = [CHANGE_NAMES[x["change"]] for x in report.experiments
             if x["method"] == "inverse_variance"]  # fmt: skip
    if not older:
        return []
    return [
        f"Pooled from each person's own effect, without counts: {', '.join(older)}; at low "
        "twitch counts such a pooled reduction leans towards 1: read it as at least that large."
    ]


def _not_pooled(report: CohortReport) -> list[str]:
    """The changes held back as a whole, in words."""
    held = [
        CHANGE_NAMES[s["item"]]
        for s in report.suppressed
        if s["table"] == "experiments" and s["group"] == "all"
    ]
    if not held:
        return []
    return [f"Not pooled (fewer than {report.min_cell} people with an effect): {', '.join(held)}."]


FACTOR_HEADER = [
    "factor", "step", "people", "rate ratio", "95% CI", "95% PI", "tau^2", "I^2",
    "matters", "own CI >1", "own CI <1",
]  # fmt: skip


def _terminal(report: CohortReport) -> list[str]:
    c = report.cohort
    lines = [f"Cohort report (engine: {report.engine})", ""]
    if c.get("people") is None:
        return [*lines, *report.notes]
    lines += [
        f"{c['people']:,} people, {c['person_days']:,} person-days from {c['first_day']} to "
        f"{c['last_day']}; {c['people_twitching']:,} people reported twitching on "
        f"{c['twitch_days']:,} days.",
        f'Small cells: no count of fewer than {report.min_cell} people is shown ("<10"); '
        "what was held back is listed at the end.",
        "",
        "Which factors precede twitching: the personal effects pooled across people",
        "(random-effects meta-analysis, DerSimonian-Laird; rate ratio of the daily twitch count",
        "per step; PI: where one new person's effect falls; matters: share of people whose",
        "effect is beyond 1.1 either way; own CI: people whose own interval excludes 1)",
        "",
    ]
    lines += _table(FACTOR_HEADER, _factor_rows(report)) if report.factors else ["(none shown)"]
    lines += [
        "",
        "How self-experiments came out across people (pooled N-of-1 effects)",
        "(random-effects model of people's effects, from each experiment's counts: the rate",
        "ratio of twitches on change days over usual days, below 1 fewer with the change; PI:",
        "where one new person's effect falls; own CI: people whose own interval excludes 1,",
        "and of them with fewer or more twitches; no effect: people whose experiments gave none)",
        *_older_method(report),
        "",
    ]
    lines += (
        _table(EXPERIMENT_HEADER, _experiment_rows(report))
        if report.experiments
        else ["(none pooled)"]
    )
    lines += _not_pooled(report)
    for dim in ("age_band", "sex", "season"):
        groups = report.groups.get(dim, [])
        name = DIMENSION_NAMES[dim]
        for kind, items, title in (
            ("regions", REGIONS, "Regions of twitching"),
            ("levels", LEVELS, "Triage levels"),
        ):
            lines += ["", f"{title} by {name} (share of the group's people)", ""]
            if not groups:
                lines.append("(no group of 10 or more people)")
                continue
            header = [name, *[g["group"] for g in groups]]
            rows = [
                ["people", *[_num(g["people"]) for g in groups]],
                ["twitching", *[_num(g["twitching"]) for g in groups]],
            ]
            rows += [
                [LEVEL_NAMES.get(item, item), *[_pct(g[kind][item]) for g in groups]]
                for item in items
            ]
            lines += _table(header, rows)
    weeks = report.groups.get("week", [])
    lines += ["", "By week: people logging, reporting twitching, and each triage level", ""]
    header = ["week", "logging", "twitching", *[LEVEL_NAMES[x] for x in LEVELS]]
    rows = [
        [g["group"], _num(g["people"]), _num(g["twitching"]),
         *[_num(None if g["levels"][x] is None else g["levels"][x]["people"]) for x in LEVELS]]
        for g in weeks
    ]  # fmt: skip
    lines += _table(header, rows) if rows else ["(no week of 10 or more people)"]
    lines += ["", "Regions by week are in --format json and html.", ""]
    lines += _answer_lines(report)
    lines += _suppressed_summary(report)
    return lines


#: How many question and finding ids the terminal shows (JSON and HTML: every one shown).
TOP_IDS = 15


def _answer_level_rows(groups: list[dict[str, Any]]) -> list[list[str]]:
    """Rows of a triage-level table of answers: people, then each level's share and urgent
    or emergency, one column per group."""
    rows = [["people", *[_num(g["people"]) for g in groups]]]
    rows += [[LEVEL_NAMES[x], *[_pct(g["levels"][x]) for g in groups]] for x in LEVELS]
    rows.append(["urgent or emergency", *[_pct(g["urgent_or_emergency"]) for g in groups]])
    return rows


def _answer_week_rows(groups: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [g["group"], _num(g["people"]), _pct(g["urgent_or_emergency"]),
         *[_pct(g["levels"][x]) for x in LEVELS]]
        for g in groups
    ]  # fmt: skip


ANSWER_WEEK_HEADER = ["week", "people", "urgent or emergency", *[LEVEL_NAMES[x] for x in LEVELS]]


def _id_rows(items: list[dict[str, Any]]) -> list[list[str]]:
    return [[x["id"], _num(x["people"]), _num(x["answers"])] for x in items]


def _not_understood_lines(n: dict[str, Any]) -> list[str]:
    if n["people"] is None:
        return ["(fewer than 10 people with an answer)"]
    lines = [f"{n['answers']:,} answers of {n['people']:,} people."]
    if n["people_with"] is None:
        return [*lines, "Answers with a word not understood: held back (fewer than 10 people "
                        "on one side)."]  # fmt: skip
    lines.append(
        f"{n['answers_with']:,} answers ({round(100 * n['share_answers_with'])}%) of "
        f"{n['people_with']:,} people had a word or more not understood: {n['words']:,} "
        f"words, {n['words_per_answer']:.3f} per answer."
    )
    bins = n["people_by_words"] or {}
    lines.append("People by the words not understood over all their answers: " + ", ".join(
        f"{b}: {_num(None if c is None else c['people'])}" for b, c in bins.items()))  # fmt: skip
    return lines


def _answer_lines(report: CohortReport) -> list[str]:
    """The answers sections of the terminal report."""
    a = report.answers
    if a is None:
        return [
            f"Answers: none (a cohort of format version {report.version}, before the answers "
            "table; export it again to have them).",
            "",
        ]
    lines = ["How often answers were urgent or an emergency (the hosted app's recorded answers;",
             "share of the group's answers at each triage level)"]  # fmt: skip
    for dim in ("age_band", "sex", "season"):
        groups = a["levels"].get(dim, [])
        name = DIMENSION_NAMES[dim]
        lines += ["", f"Triage levels of answers by {name}", ""]
        if not groups:
            lines.append("(no group of 10 or more people with an answer)")
            continue
        lines += _table([name, *[g["group"] for g in groups]], _answer_level_rows(groups))
    lines += ["", "Triage levels of answers by week", ""]
    weeks = _answer_week_rows(a["levels"].get("week", []))
    lines += _table(ANSWER_WEEK_HEADER, weeks) if weeks else ["(no week of 10 or more people)"]
    for key, title in (("questions", "The interview's questions asked most"),
                       ("findings", "Findings reported most")):  # fmt: skip
        items = a[key]
        lines += ["", f"{title} (people and answers; the first {TOP_IDS}, every one in json "
                      "and html)", ""]  # fmt: skip
        lines += (
            _table(["id", "people", "answers"], _id_rows(items[:TOP_IDS]))
            if items
            else ["(none held by 10 or more people)"]
        )
    lines += ["", "Words not understood", "", *_not_understood_lines(a["not_understood"]), ""]
    return lines


def _suppressed_summary(report: CohortReport) -> list[str]:
    if not report.suppressed:
        return [f"Suppressed: nothing (every count rests on {report.min_cell} or more people)."]
    tables: dict[str, int] = {}
    for s in report.suppressed:
        tables[s["table"]] = tables.get(s["table"], 0) + 1
    lines = [
        f"Suppressed (fewer than {report.min_cell} people): {len(report.suppressed)} cells",
    ]
    lines += [f"  {table}: {n}" for table, n in tables.items()]
    return lines


def _answer_html(report: CohortReport, parts: list[str], table: Any) -> None:
    """The answers sections of the HTML page."""
    esc = html.escape
    a = report.answers
    if a is None:
        parts.append(f"<h2>Answers</h2><p>None: a cohort of format version {report.version}, "
                     "before the answers table; export it again to have them.</p>")  # fmt: skip
        return
    parts.append("<h2>How often answers were urgent or an emergency</h2>")
    parts.append("<p>The hosted app's recorded answers: the share of the group's answers at "
                 "each triage level.</p>")  # fmt: skip
    for dim in ("age_band", "sex", "season"):
        groups = a["levels"].get(dim, [])
        name = DIMENSION_NAMES[dim]
        parts.append(f"<h3>Triage levels of answers by {esc(name)}</h3>")
        table([name, *[g["group"] for g in groups]], _answer_level_rows(groups))
    parts.append("<h3>Triage levels of answers by week</h3>")
    table(ANSWER_WEEK_HEADER, _answer_week_rows(a["levels"].get("week", [])))
    parts.append("<h2>The interview's questions asked most</h2>")
    table(["id", "people", "answers"], _id_rows(a["questions"]))
    parts.append("<h2>Findings reported most</h2>")
    table(["id", "people", "answers"], _id_rows(a["findings"]))
    parts.append("<h2>Words not understood</h2>")
    parts += [f"<p>{esc(line)}</p>" for line in _not_understood_lines(a["not_understood"])]


def _html(report: CohortReport) -> str:
    esc = html.escape
    c = report.cohort
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>twitchwise cohort report</title>",
        "<style>body{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.2rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}"
        "</style></head><body>",
        f"<h1>Cohort report</h1><p>Engine: {esc(report.engine)}.</p>",
    ]

    def table(header: list[str], rows: list[list[str]]) -> None:
        parts.append("<table><thead><tr>")
        parts.extend(f'<th scope="col">{esc(h)}</th>' for h in header)
        parts.append("</tr></thead><tbody>")
        for r in rows:
            parts.append("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in r) + "</tr>")
        parts.append("</tbody></table>")

    if c.get("people") is None:
        parts += [f"<p>{esc(n)}</p>" for n in report.notes]
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"
    parts.append(
        f"<p>{c['people']:,} people, {c['person_days']:,} person-days from "
        f"{esc(c['first_day'])} to {esc(c['last_day'])}; {c['people_twitching']:,} people "
        f"reported twitching. No count of fewer than {report.min_cell} people is shown.</p>"
    )
    parts.append("<h2>Which factors precede twitching</h2>")
    table(FACTOR_HEADER, _factor_rows(report))
    parts.append("<h2>How self-experiments came out across people (pooled N-of-1 effects)</h2>")
    parts.append(
        "<p>The rate ratio of twitches on change days over usual days (below 1: fewer with the "
        "change), people's effects pooled by a random-effects model from each experiment's "
        "counts.</p>"
    )
    if report.experiments:
        table(EXPERIMENT_HEADER, _experiment_rows(report))
    else:
        parts.append("<p>None pooled.</p>")
    parts += [f"<p>{esc(line)}</p>" for line in _older_method(report)]
    parts += [f"<p>{esc(line)}</p>" for line in _not_pooled(report)]
    for dim in DIMENSIONS:
        groups = report.groups.get(dim, [])
        name = DIMENSION_NAMES[dim]
        for kind, items, title in (
            ("regions", REGIONS, "Regions of twitching"),
            ("levels", LEVELS, "Triage levels"),
        ):
            parts.append(f"<h2>{esc(title)} by {esc(name)}</h2>")
            if dim == "week":
                header = ["week", "logging", "twitching", *[LEVEL_NAMES.get(i, i) for i in items]]
                rows = [
                    [g["group"], _num(g["people"]), _num(g["twitching"]),
                     *[_pct(g[kind][i]) for i in items]]
                    for g in groups
                ]  # fmt: skip
            else:
                header = [name, *[g["group"] for g in groups]]
                rows = [["people", *[_num(g["people"]) for g in groups]]]
                rows += [
                    [LEVEL_NAMES.get(i, i), *[_pct(g[kind][i]) for g in groups]] for i in items
                ]
            table(header, rows)
    _answer_html(report, parts, table)
    parts.append("<h2>Suppressed</h2><ul>")
    parts += [f"<li>{esc(line.strip())}</li>" for line in _suppressed_summary(report)]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"
