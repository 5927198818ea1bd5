"""Population analytics (twitchwise.cohort, docs/cohort.md): the Parquet format the generator
writes, every Ibis query on DuckDB and on Spark over the same cohort, the small-cell rule, no
ids or free text in any output, the terminal report on a fixed seed, and the
DerSimonian-Laird meta-analysis against a hand-computed example. The self-experiments: their
table (written, refused when it breaks the format), their pooled effects from the counts
against the same steps in memory and those against statsmodels, the older pooling of a
cohort of format version 2, the small-cell rule on them, and the planted effect recovered."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from helpers import run

pytest.importorskip("ibis")
pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
np = pytest.importorskip("numpy")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from cohort_synth import (  # noqa: E402
    AGE_SHARES,
    CUSTOM_WORDS,
    PLANTED,
    PLANTED_EXPERIMENTS,
    START,
    baseline_rates,
    generate,
    simulate,
    simulate_experiments,
)

from twitchwise.cohort import format as cf  # noqa: E402
from twitchwise.cohort.engines import connect, java_available  # noqa: E402
from twitchwise.cohort.meta import (  # noqa: E402
    CountExperiment,
    CountParams,
    count_scores,
    dersimonian_laird,
    pooled_counts,
)
from twitchwise.cohort.queries import (  # noqa: E402
    NOT_UNDERSTOOD_BINS,
    QUERIES,
    experiment_pooled,
    experiment_scores,
    experiment_sums,
    meta_pooled,
)
from twitchwise.cohort.report import MIN_CELL, cohort_report  # noqa: E402
from twitchwise.errors import ConfigError, InputError  # noqa: E402

GOLDEN = ROOT / "tests" / "fixtures" / "cohort_report.txt"
SEED = 7


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 people x 120 days: big enough for groups of 10, small enough for some cells under."""
    out = tmp_path_factory.mktemp("cohort") / "c"
    generate(out, people=60, days=120, seed=SEED, buckets=3)
    return out


@pytest.fixture(scope="module")
def report(cohort: Path) -> Any:
    return cohort_report(cohort, "duckdb")


# --------------------------------------------------------------------------- the format


def test_the_generator_writes_the_format(cohort: Path) -> None:
    manifest = json.loads((cohort / "cohort.json").read_text())
    assert manifest["format"] == cf.FORMAT and manifest["version"] == cf.VERSION
    assert manifest["people"] == 60 and manifest["buckets"] == 3
    assert (manifest["first_day"], manifest["last_day"]) == ("2024-01-01", "2024-04-29")
    for table in cf.TABLES:
        files = sorted((cohort / table).glob("bucket=*/part-0.parquet"))
        assert [f.parent.name for f in files] == ["bucket=000", "bucket=001", "bucket=002"]
        for f in files:
            schema = pq.read_schema(f)
            assert schema.names == list(cf.COLUMNS[table]), (table, schema.names)
            bucket = int(f.parent.name.split("=")[1])
            ids = pq.read_table(f, columns=["person_id"]).column(0).to_pylist()
            assert all(cf.bucket_of(p, 3) == bucket for p in ids)
    days = pq.read_table(cohort / "days").to_pylist()
    assert len(days) == 60 * 120
    for row in days[:2000]:
        assert row["region"] in (*cf.REGIONS, None)
        assert row["triage_level"] in (*cf.LEVELS, None)
        assert (row["region"] is None) == (row["twitch_count"] == 0)
    people = pq.read_table(cohort / "people").to_pylist()
    assert {p["age_band"] for p in people} <= set(cf.AGE_BANDS)
    assert all(re.fullmatch(r"[0-9a-f]{16}", p["person_id"]) for p in people)
    # the answers: their ids the knowledge base's (the manifest lists them), each day's most
    # urgent level the days table's
    assert manifest["questions"] and manifest["findings"]
    vocabulary = cf.read_manifest(cohort).vocabulary()
    answers = pq.read_table(cohort / "answers").drop_columns(["bucket"]).to_pylist()
    assert len(answers) > 100 and len({a["person_id"] for a in answers}) > 30
    most: dict[tuple[str, date], str] = {}
    for a in answers:
        assert cf.answer_problem(a, vocabulary) is None, a
        key = (a["person_id"], a["date"])
        if key not in most or cf.LEVELS.index(a["triage_level"]) > cf.LEVELS.index(most[key]):
            most[key] = a["triage_level"]
    levels = {(d["person_id"], d["date"]): d["triage_level"] for d in days if d["triage_level"]}
    assert most == levels
    shares = {lvl: sum(a["triage_level"] == lvl for a in answers) / len(answers)
              for lvl in cf.LEVELS}  # fmt: skip
    assert shares["self_care"] > 0.6 and 0 < shares["see_doctor_urgent"] + shares["emergency"] < 0.2
    assert 0.3 < sum(bool(a["questions"]) for a in answers) / len(answers) < 0.9
    assert 0 < sum(a["not_understood"] > 0 for a in answers) / len(answers) < 0.4


def test_the_format_factors_are_the_registry_s_steps() -> None:
    from twitchwise.insights.stats import STEPS

    assert {f: step for f, (step, _) in cf.FACTORS.items()} == {
        f: STEPS[f][0] for f in cf.FACTORS
    }


def test_the_writer_refuses_values_outside_the_format(tmp_path: Path) -> None:
    sim = simulate(12, 40, 1)
    sim.days["region"] = [*sim.days["region"][:-1], "left calf, after coffee"]
    with pytest.raises(InputError, match="region holds values outside the format"):
        cf.write_cohort(tmp_path / "c", people=sim.people, days=sim.days,
                        effects=sim.effects, buckets=1, source="test")  # fmt: skip


def test_the_reader_refuses_a_column_the_format_lacks(cohort: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "c"
    shutil.copytree(cohort, copy)
    f = copy / "days" / "bucket=000" / "part-0.parquet"
    table = pq.read_table(f)
    pq.write_table(table.append_column("note", pa.array(["felt odd"] * len(table))), f)
    with pytest.raises(InputError, match="note"):
        cohort_report(copy)


# --------------------------------------------------------------------------- the meta-analysis


def test_dersimonian_laird_by_hand() -> None:
    """Four people: y = (0.10, 0.30, 0.50, -0.05), se = (0.10, 0.20, 0.15, 0.25).

    w = 1/se^2 = (100, 25, 44.444, 16); sum w = 185.444; sum w y = 38.9222;
    sum w y^2 = 14.40111; Q = 14.40111 - 38.9222^2 / 185.444 = 6.23188;
    C = sum w - sum w^2 / sum w = 185.444 - 12856.31 / 185.444 = 116.1174;
    tau^2 = (Q - 3) / C = 0.027833; I^2 = (Q - 3) / Q = 0.51860;
    w* = 1/(se^2 + tau^2) = (26.1826, 14.6344, 19.8751, 11.0269); sum w* = 71.719;
    mu = sum w* y / sum w* = 16.35644 / 71.719 = 0.22806; se(mu) = 1/sqrt(71.719) = 0.11808.
    """
    meta = dersimonian_laird([0.10, 0.30, 0.50, -0.05], [0.10, 0.20, 0.15, 0.25])
    assert meta.q == pytest.approx(6.23188, abs=1e-5)
    assert meta.tau2 == pytest.approx(0.027833, abs=1e-6)
    assert meta.i2 == pytest.approx(0.51860, abs=1e-5)
    assert meta.mu == pytest.approx(0.22806, abs=1e-5)
    assert meta.se == pytest.approx(0.11776, abs=1e-4)
    assert meta.ci == pytest.approx((0.22806 - 1.95996 * 0.11776, 0.22806 + 1.95996 * 0.11776),
                                    abs=1e-4)  # fmt: skip
    assert meta.prediction is not None and meta.prediction[0] < meta.ci[0]


def test_dersimonian_laird_matches_statsmodels() -> None:
    sm = pytest.importorskip("statsmodels.stats.meta_analysis")
    y = [0.12, -0.03, 0.25, 0.08, 0.40, 0.02, 0.15]
    se = [0.05, 0.08, 0.10, 0.04, 0.20, 0.06, 0.09]
    meta = dersimonian_laird(y, se)
    import numpy as np

    res = sm.combine_effects(np.array(y), np.array(se) ** 2, method_re="dl")
    assert meta.tau2 == pytest.approx(res.tau2, rel=1e-9)
    assert meta.mu == pytest.approx(res.mean_effect_re, rel=1e-9)
    assert meta.se == pytest.approx(res.sd_eff_w_re, rel=1e-9)


def test_no_heterogeneity_gives_tau2_zero() -> None:
    meta = dersimonian_laird([0.1, 0.1, 0.1], [0.1, 0.2, 0.3])
    assert meta.tau2 == 0 and meta.i2 == 0 and meta.mu == pytest.approx(0.1)


def test_the_report_pools_what_the_effects_table_holds(cohort: Path, report: Any) -> None:
    effects = pq.read_table(cohort / "effects").to_pylist()
    for f in report.to_dict()["factors"]:
        rows = [e for e in effects if e["factor"] == f["factor"]]
        meta = dersimonian_laird([e["log_rr"] for e in rows], [e["se"] for e in rows])
        assert f["people"] == len(rows)
        assert f["log_rr"] == pytest.approx(meta.mu, rel=1e-3)
        assert f["tau2"] == pytest.approx(meta.tau2, rel=1e-3, abs=1e-9)


def test_the_pooled_effect_recovers_the_planted_one() -> None:
    """30 simulated cohorts: the 95% interval holds the planted effect in at least 80% of
    them for every factor (bench/cohort_coverage.py runs 200 larger ones: 91-96%)."""
    hits = dict.fromkeys(PLANTED, 0)
    for seed in range(30):
        sim = simulate(120, 180, 500 + seed, experimenters=0.0)
        for f, (mu, _) in PLANTED.items():
            rows = [i for i, name in enumerate(sim.effects["factor"]) if name == f]
            meta = dersimonian_laird([sim.effects["log_rr"][i] for i in rows],
                                     [sim.effects["se"][i] for i in rows])  # fmt: skip
            hits[f] += meta.ci[0] <= mu <= meta.ci[1]
    assert min(hits.values()) >= 24, hits


# --------------------------------------------------------------------------- the report


def _counts(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _counts(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _counts(v, key)
    else:
        yield key, value


def test_no_count_under_ten_people_is_shown(report: Any) -> None:
    data = report.to_dict()
    people_keys = {
        "people",
        "twitching",
        "own_above",
        "own_below",
        "people_twitching",
        "own_excludes",
        "own_fewer",
        "own_more",
        "without_effect",
        "stopped_early",
        "people_with",
    }
    shown = [v for k, v in _counts(data) if k in people_keys and v is not None]
    assert shown and all(v == 0 or v >= MIN_CELL for v in shown)
    # what was held back is there as null, and listed
    assert data["suppressed"], "the small cohort has cells under 10 people"
    for s in data["suppressed"]:
        assert set(s) == {"table", "group", "item"}
    held = {(s["group"], s["item"]) for s in data["suppressed"] if s["table"].startswith("regions")}
    for dim, groups in data["groups"].items():
        for g in groups:
            for region, cell in g["regions"].items():
                if cell is None:
                    assert (g["group"], region) in held, (dim, g["group"], region)
    text = report.render_terminal()
    assert f"Suppressed (fewer than 10 people): {len(data['suppressed'])} cells" in text


def test_a_group_under_ten_people_is_not_shown(report: Any, cohort: Path) -> None:
    people = pq.read_table(cohort / "people").to_pylist()
    bands = {b: sum(p["age_band"] == b for p in people) for b in cf.AGE_BANDS}
    small = [b for b, n in bands.items() if 0 < n < MIN_CELL]
    assert small, bands
    shown = {g["group"] for g in report.groups["age_band"]}
    assert not shown & set(small)
    assert {s["group"] for s in report.suppressed if s["table"] == "people by age band"} >= set(
        small
    )


def test_a_cohort_under_ten_people_shows_nothing(tmp_path: Path) -> None:
    generate(tmp_path / "c", people=8, days=30, seed=1, buckets=1)
    data = cohort_report(tmp_path / "c").to_dict()
    assert data["cohort"] == {"people": None} and data["factors"] == [] and data["groups"] == {}
    assert data["experiments"] == []
    assert data["suppressed"] == [{"table": "cohort", "group": "all", "item": None}]


def test_no_person_id_or_free_text_in_any_output(cohort: Path, report: Any) -> None:
    ids = pq.read_table(cohort / "people", columns=["person_id"]).column(0).to_pylist()
    outputs = [report.render_terminal(), report.render_json(), report.render_html()]
    for out in outputs:
        for pid in ids:
            assert pid not in out
    # every string value in the JSON is from the format's vocabularies (the answers' ids
    # from the manifest's), a label or a date
    vocabulary = cf.read_manifest(cohort).vocabulary()
    for key in ("questions", "findings"):
        ids = [x["id"] for x in report.answers[key]]
        assert ids and set(ids) <= set(vocabulary[key]), key
    allowed = {*vocabulary["questions"], *vocabulary["findings"], "urgent_or_emergency",
               "people_with", "questions", "findings", "not understood", "people by words",
               *(name for name, _, _ in NOT_UNDERSTOOD_BINS),
               *cf.REGIONS, *cf.LEVELS, *cf.AGE_BANDS, *cf.SEXES, "not_given", *cf.FACTORS,
               *cf.CHANGES, "own_excludes", "own_fewer", "own_more", "without_effect",
               "counts", "inverse_variance",
               "stopped_early", "adherence", "experiments",
               "duckdb", "own_above", "own_below", "twitching", "all",
               "winter", "spring", "summer", "autumn",
               *(step for _, step in cf.FACTORS.values())}  # fmt: skip
    for key, value in _counts(report.to_dict()):
        if not isinstance(value, str) or key == "notes":
            continue
        assert (
            value in allowed
            or re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
            or re.fullmatch(r"[a-z ]+ by [a-z ]+|factors", value)
            or re.fullmatch(r"\w+ lag \d", value)
        ), (key, value)


def test_the_terminal_report_on_a_fixed_seed(report: Any) -> None:
    text = report.render_terminal()
    if os.environ.get("TWITCHWISE_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_html_and_json(report: Any) -> None:
    page = report.render_html()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "Regions of twitching by week" in page
    data = json.loads(report.render_json())
    assert [f["factor"] for f in data["factors"]] == list(cf.FACTORS)
    assert [g["group"] for g in data["groups"]["season"]] == ["winter", "spring"]


# --------------------------------------------------------------------------- self-experiments


def test_the_generator_writes_the_experiments_table(cohort: Path) -> None:
    rows = pq.read_table(cohort / "experiments").drop_columns(["bucket"]).to_pylist()
    assert rows and {r["change"] for r in rows} <= set(cf.CHANGES)
    assert "other" in {r["change"] for r in rows}  # a change of one's own, never its words
    for f in (cohort / "experiments").rglob("*.parquet"):
        assert CUSTOM_WORDS.encode() not in f.read_bytes() and b"sister" not in f.read_bytes()
    for r in rows:
        assert cf.experiment_problem(r) is None, r
        assert r["usual_days"] + r["change_days"] == r["days_analysed"]
        assert (r["dispersion"] is None) == (r["log_rr"] is None)
        if r["log_rr"] is not None and r["usual_twitches"] and r["change_twitches"]:
            ratio = (r["change_twitches"] / r["change_days"]) / (
                r["usual_twitches"] / r["usual_days"]
            )
            assert r["log_rr"] == pytest.approx(math.log(ratio), rel=1e-9)
        assert r["block_days"] == 7 and r["blocks"] in (6, 8)
        assert r["days"] < r["blocks"] * 7 if r["stopped_early"] else r["days"] == r["blocks"] * 7
        assert (r["log_rr"] is None) == (r["se"] is None)
        assert START <= r["start_date"] <= date(2024, 4, 29)


def _crafted(tmp_path: Path, experiments: list[dict[str, Any]], people: int = 40) -> Path:
    """A cohort of ``people`` people with a day each, and these experiments (an effect
    without counts gets 20 twitches on 15 usual days, and on 15 change days as many as the
    effect says, dispersion 1.2)."""
    ids = [f"{i + 1:016x}" for i in range(people)]
    columns: dict[str, list[Any]] = {name: [] for name in cf.COLUMNS["experiments"]}
    defaults = {"start_date": date(2024, 2, 5), "block_days": 7, "blocks": 6,
                "blocks_analysed": 6, "days": 42, "days_analysed": 30, "usual_days": 15,
                "change_days": 15, "usual_twitches": 20, "change_twitches": 20,
                "adherence": 0.95, "stopped_early": False, "log_rr": None, "se": None,
                "dispersion": None}  # fmt: skip
    for row in experiments:
        whole = {**defaults, **row, "person_id": ids[row["person"]]}
        if whole["log_rr"] is not None and "dispersion" not in row:
            whole["dispersion"] = 1.2
            whole["change_twitches"] = max(1, round(20 * math.exp(whole["log_rr"])))
        for name in columns:
            columns[name].append(whole[name])
    return _one_day_each(tmp_path / "crafted", ids, experiments=columns)


def _one_day_each(out: Path, ids: list[str], **tables: Any) -> Path:
    """Write a cohort of these people (sex and age not given), each with one day with a
    twitch in the calf, no effects, and ``tables`` (experiments, answers and their ids)."""
    people = len(ids)
    cf.write_cohort(
        out,
        people={"person_id": ids, "age_band": [None] * people, "sex": [None] * people},
        days={"person_id": ids, "date": [date(2024, 2, 5)] * people,
              "twitch_count": [1] * people, "region": ["calf"] * people,
              "triage_level": [None] * people,
              **{f: [1.0] * people for f in cf.FACTORS}},
        effects={name: [] for name in cf.COLUMNS["effects"]},
        buckets=2,
        source="test",
        **tables,
    )  # fmt: skip
    return out


def _counted(rows: list[dict[str, Any]], change: str) -> list[CountExperiment]:
    """The experiments of ``change`` with an effect, as the pooling from the counts takes
    them."""
    return [
        CountExperiment(r["person_id"], r["usual_days"], r["change_days"], r["usual_twitches"],
                        r["change_twitches"], r["blocks_analysed"], r["dispersion"])
        for r in rows
        if r["change"] == change and r["log_rr"] is not None
    ]  # fmt: skip


def _by_hand(rows: list[dict[str, Any]], change: str) -> tuple[Any, int, int, int]:
    """The report's pooling in memory: from the counts (the same steps as the engines,
    :func:`pooled_counts`); and the people whose own interval (each person's experiments of
    the change combined by inverse variance, t with the summed degrees of freedom) lies below
    or above 0, and who stopped one early."""
    _, fewer, more, stopped = _by_hand_older(rows, change)
    return pooled_counts(_counted(rows, change)), fewer, more, stopped


def _by_hand_older(rows: list[dict[str, Any]], change: str) -> tuple[Any, int, int, int]:
    """The older pooling of a cohort of format version 2, by hand: each person's experiments
    of the change combined by inverse variance, then DerSimonian-Laird; and the people whose
    own interval (t with the summed degrees of freedom) lies below or above 0, and who
    stopped one early."""
    from twitchwise.insights.stats import t_ppf

    person: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["change"] == change:
            person.setdefault(r["person_id"], []).append(r)
    y, se, fewer, more, stopped = [], [], 0, 0, 0
    for runs in person.values():
        stopped += any(r["stopped_early"] for r in runs)
        got = [r for r in runs if r["log_rr"] is not None]
        if not got:
            continue
        sw = sum(1 / r["se"] ** 2 for r in got)
        mean = sum(r["log_rr"] / r["se"] ** 2 for r in got) / sw
        half = t_ppf(0.975, sum(r["blocks_analysed"] - 2 for r in got)) / math.sqrt(sw)
        fewer += mean + half < 0
        more += mean - half > 0
        y.append(mean)
        se.append(1 / math.sqrt(sw))
    return dersimonian_laird(y, se), fewer, more, stopped


def test_the_report_pools_what_the_experiments_table_holds(cohort: Path, report: Any) -> None:
    rows = pq.read_table(cohort / "experiments").to_pylist()
    shown = report.to_dict()["experiments"]
    assert shown, "the fixed seed pools at least one change"
    for x in shown:
        meta, fewer, more, stopped = _by_hand(rows, x["change"])
        assert x["method"] == "counts"
        assert x["people"] == meta.k >= MIN_CELL
        assert x["log_rr"] == pytest.approx(meta.mu, rel=1e-3)
        assert x["se"] == pytest.approx(meta.se, rel=1e-3)
        assert x["tau2"] == pytest.approx(meta.tau2, rel=1e-3, abs=1e-9)
        assert x["q"] == pytest.approx(meta.q, rel=1e-3)
        assert x["rate_ratio"] == pytest.approx(math.exp(meta.mu), rel=1e-3)
        assert x["ci"] == pytest.approx([math.exp(v) for v in meta.ci], rel=1e-3)
        assert x["own_excludes"] in (fewer + more, None)
        assert x["stopped_early"] in (stopped, None)


def test_experiments_by_hand_and_the_small_cell_rule(tmp_path: Path) -> None:
    """caffeine: 12 people with an effect, 11 of them clearly fewer twitches and 1 clearly
    more (so neither side is shown: the total less the other would give the 1), 3 more who
    ran it without an effect, one person with two experiments (combined); sleep: 9 people
    (not pooled); magnesium-rich food: 10 people, none clear, 2 stopped early, adherence
    known for 4; stretching: nobody."""
    experiments: list[dict[str, Any]] = []
    for i in range(11):
        experiments.append({"person": i, "change": "caffeine", "log_rr": -1.0 - 0.05 * i,
                            "se": 0.1 + 0.01 * i})  # fmt: skip
    experiments.append({"person": 0, "change": "caffeine", "log_rr": -0.2, "se": 0.3,
                        "blocks_analysed": 4, "stopped_early": True})  # fmt: skip
    experiments.append({"person": 11, "change": "caffeine", "log_rr": 0.9, "se": 0.1})
    for i in range(12, 15):
        experiments.append({"person": i, "change": "caffeine", "blocks_analysed": 2})
    for i in range(15, 24):
        experiments.append({"person": i, "change": "sleep", "log_rr": -0.1, "se": 0.4})
    for i in range(24, 34):
        experiments.append({"person": i, "change": "magnesium_food", "log_rr": 0.02 * i - 0.5,
                            "se": 0.5, "stopped_early": i < 26,
                            "adherence": 0.9 if i < 28 else None})  # fmt: skip
    folder = _crafted(tmp_path, experiments)
    data = cohort_report(folder).to_dict()
    rows = pq.read_table(folder / "experiments").to_pylist()
    shown = {x["change"]: x for x in data["experiments"]}
    assert list(shown) == ["caffeine", "magnesium_food"]
    caffeine, magnesium = shown["caffeine"], shown["magnesium_food"]
    meta, fewer, more, _ = _by_hand(rows, "caffeine")
    assert (meta.k, fewer, more) == (12, 11, 1)
    assert caffeine["people"] == 12 and caffeine["log_rr"] == pytest.approx(meta.mu, rel=1e-3)
    assert caffeine["tau2"] == pytest.approx(meta.tau2, rel=1e-3)
    assert caffeine["i2"] == pytest.approx(meta.i2, rel=1e-3)
    assert caffeine["own_excludes"] == 12 and caffeine["share_own_excludes"] == 1.0
    assert caffeine["own_fewer"] is None and caffeine["own_more"] is None
    assert caffeine["without_effect"] is None and caffeine["stopped_early"] is None
    assert caffeine["adherence"] == 0.95
    assert magnesium["people"] == 10 and magnesium["own_excludes"] == 0
    assert (magnesium["own_fewer"], magnesium["own_more"]) == (0, 0)
    assert magnesium["stopped_early"] is None and magnesium["adherence"] is None
    assert magnesium["without_effect"] == 0
    held = {(s["group"], s["item"]) for s in data["suppressed"] if s["table"] == "experiments"}
    assert held == {
        ("all", "sleep"),
        ("caffeine", "own_fewer"), ("caffeine", "own_more"),
        ("caffeine", "without_effect"), ("caffeine", "stopped_early"),
        ("magnesium_food", "stopped_early"), ("magnesium_food", "adherence"),
    }  # fmt: skip
    report = cohort_report(folder)
    text = report.render_terminal()
    assert "Not pooled (fewer than 10 people with an effect): earlier bedtime." in text
    assert "less caffeine" in text and "magnesium-rich food" in text
    assert "daily stretching" not in text  # nobody ran it: nothing to hold back
    assert "  experiments: 7" in text
    page = report.render_html()
    assert "How self-experiments came out across people" in page and "earlier bedtime" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"change": "no screens after 10 pm"}, "change outside the format"),
        ({"se": None}, "with an effect and error that do not fit"),
        ({"se": -0.1}, "with an effect and error that do not fit"),
        ({"blocks_analysed": 2}, "with an effect and error that do not fit"),
        ({"adherence": 1.5}, "out of range"),
        ({"dispersion": None}, "with an effect and error that do not fit"),
        ({"dispersion": -0.5}, "with an effect and error that do not fit"),
        ({"usual_days": 14}, "out of range"),
        ({"change_twitches": -1}, "out of range"),
        ({"days_analysed": 50}, "out of range"),
    ],
)
def test_the_reader_refuses_experiments_that_break_the_format(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    """Rows written past the writer (which refuses them too) are refused before any query."""
    good = [{"person": i, "change": "caffeine", "log_rr": -0.2, "se": 0.3} for i in range(12)]
    folder = _crafted(tmp_path, good)
    f = next((folder / "experiments").rglob("*.parquet"))
    table = pq.read_table(f)
    first = {**table.slice(0, 1).to_pylist()[0], **change}
    schema = table.schema
    pq.write_table(pa.concat_tables([pa.Table.from_pylist([first], schema=schema),
                                     table.slice(1)]), f)  # fmt: skip
    with pytest.raises(InputError, match=message):
        cohort_report(folder)
    # the writer refuses the row too (a change: by the vocabulary's check)
    words = r"experiments\.change holds values outside" if "change" in change else "experiments: "
    with pytest.raises(InputError, match=words):
        cf.write_table(tmp_path / "again", "experiments", {k: [v] for k, v in first.items()}, 1)


def test_the_reader_refuses_experiments_of_the_wrong_type_or_version(
    cohort: Path, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "c"
    shutil.copytree(cohort, copy)
    for f in (copy / "experiments").rglob("*.parquet"):
        table = pq.read_table(f)
        se = pa.array([None if v is None else str(v) for v in table.column("se").to_pylist()],
                      pa.string())  # fmt: skip
        pq.write_table(table.set_column(table.schema.get_field_index("se"), "se", se), f)
    with pytest.raises(InputError, match="experiments table has columns of the wrong type: se"):
        cohort_report(copy)
    old = tmp_path / "old"
    shutil.copytree(cohort, old)
    manifest = json.loads((old / "cohort.json").read_text())
    (old / "cohort.json").write_text(json.dumps({**manifest, "version": 1}))
    with pytest.raises(InputError, match="format version 1; this twitchwise reads versions 2 to 4"):
        cf.read_manifest(old)
    shutil.rmtree(old / "experiments")
    (old / "cohort.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="experiments/ holds no Parquet file"):
        cf.read_manifest(old)


def test_the_pooled_experiment_effect_recovers_the_planted_one() -> None:
    """12 simulated cohorts of 400 people: the 95% interval of the pooling from the counts
    holds the planted effect of every change in at least 10 of them (the pooling from each
    person's effect, of a cohort of version 2, holds it in 9 of them for a change of one's
    own; bench/cohort_coverage.py --experiments runs 200 cohorts of 1,000 people)."""
    hits = dict.fromkeys(PLANTED_EXPERIMENTS, 0)
    for c in range(12):
        rng = np.random.default_rng([77, c])
        age = rng.choice(len(AGE_SHARES), size=400, p=AGE_SHARES)
        ids = [f"{i:016x}" for i in range(400)]
        columns, _ = simulate_experiments(ids, np.exp(baseline_rates(rng, age)), START, 365,
                                          300 + c)  # fmt: skip
        rows = [dict(zip(columns, values, strict=True))
                for values in zip(*columns.values(), strict=True)]  # fmt: skip
        for change, (mu, _) in PLANTED_EXPERIMENTS.items():
            meta = pooled_counts(_counted(rows, change))
            hits[change] += meta.ci[0] <= mu <= meta.ci[1]
    assert min(hits.values()) >= 10, hits


def _statsmodels_fit(experiments: list[CountExperiment], kappa: float) -> tuple[float, float]:
    """The fixed-effect rate ratio of experiments (one per person) as a Poisson model of the
    two conditions' totals with a baseline per experiment, the analysed days as exposure and
    weights 1 / phi: its log and its Pearson statistic."""
    sm = pytest.importorskip("statsmodels.api")
    n = len(experiments)
    y, x, offset, weights = [], [], [], []
    for j, e in enumerate(experiments):
        phi = 1.0 + kappa * (e.usual_twitches + e.change_twitches) / e.blocks
        for change, days, twitches in ((0, e.usual_days, e.usual_twitches),
                                       (1, e.change_days, e.change_twitches)):  # fmt: skip
            y.append(twitches)
            x.append([float(change)] + [float(j == i) for i in range(n)])
            offset.append(math.log(days))
            weights.append(1.0 / phi)
    fit = sm.GLM(np.array(y), np.array(x), family=sm.families.Poisson(),
                 offset=np.array(offset), var_weights=np.array(weights)).fit(tol=1e-12)  # fmt: skip
    return float(fit.params[0]), float(fit.pearson_chi2)


def test_the_pooling_from_counts_against_statsmodels() -> None:
    """One change's experiments of a simulated cohort (one each per person): the fixed-effect
    step's rate ratio and Q are statsmodels' Poisson model of the totals with a baseline per
    experiment and weights 1/phi; tau^2 is DerSimonian and Laird's moments of Q; the pooled
    ratio solves the random-effects score, and mu is its log less tau^2 / 2; kappa is the
    Pearson statistics' excess."""
    from twitchwise.cohort.meta import count_start, pool_counts
    from twitchwise.insights.stats import t_ppf

    rng = np.random.default_rng(5)
    ids = [f"{i:016x}" for i in range(200)]
    columns, _ = simulate_experiments(ids, np.exp(baseline_rates(rng, np.full(200, 2))), START,
                                      365, 5, share=0.9)  # fmt: skip
    rows = [dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)]  # fmt: skip
    experiments = _counted(rows, "caffeine")
    k = len(experiments)
    assert k == len({e.person for e in experiments}) > 40
    start = count_start(experiments)
    excess = sum(e.dispersion * (e.blocks - 2) - (e.blocks - 2) for e in experiments)
    per_block = sum((e.blocks - 2) * (e.usual_twitches + e.change_twitches) / e.blocks
                    for e in experiments)  # fmt: skip
    assert excess > 0 and start.kappa == pytest.approx(excess / per_block, rel=1e-12)
    fixed, pearson = _statsmodels_fit(experiments, start.kappa)
    at_fixed = count_scores(experiments, CountParams(fixed, start.kappa))
    assert abs(at_fixed.sa) < 1e-6 * at_fixed.si
    assert at_fixed.q == pytest.approx(pearson, rel=1e-9)
    tau2_raw = (pearson - (k - 1)) / (at_fixed.s1 - at_fixed.s2 / at_fixed.s1)
    meta = pooled_counts(experiments)
    assert meta.k == k and meta.q == pytest.approx(pearson, rel=1e-9)
    assert tau2_raw > 0 and meta.tau2 == pytest.approx(tau2_raw, rel=1e-6)
    assert meta.i2 == pytest.approx((pearson - (k - 1)) / pearson, rel=1e-6)
    log_rr = meta.mu + tau2_raw / 2
    at_random = count_scores(experiments, CountParams(log_rr, start.kappa, meta.tau2))
    assert abs(at_random.sa) < 1e-8 * at_random.si
    crit = t_ppf(0.975, k - 1)
    assert meta.ci == pytest.approx((meta.mu - crit * meta.se, meta.mu + crit * meta.se))
    robust = math.sqrt(at_random.sa2 * k / (k - 1)) / at_random.si
    assert robust < meta.se < 1.5 * robust  # plus the variance of tau^2 / 2
    # the same through the driver with the sums of every change at once
    both = pool_counts({"caffeine": start, "sleep": count_start(_counted(rows, "sleep"))},
                       lambda params: {c: count_scores(_counted(rows, c), p)
                                       for c, p in params.items()})  # fmt: skip
    for change, alone in (("caffeine", meta), ("sleep", pooled_counts(_counted(rows, "sleep")))):
        got = both[change]
        assert (got.k, got.tau2) == (alone.k, pytest.approx(alone.tau2, rel=1e-8, abs=1e-12))
        assert (got.mu, got.se) == pytest.approx((alone.mu, alone.se), rel=1e-8)


def test_a_cohort_of_version_2_is_pooled_the_older_way(
    cohort: Path, report: Any, tmp_path: Path
) -> None:
    """A cohort of format version 2 (its experiments without counts) is read, and its
    self-experiments pooled from each person's effect (DerSimonian-Laird), as before, with a
    note and a line saying so; everything else is as in version 3."""
    import shutil

    old = tmp_path / "v2"
    shutil.copytree(cohort, old)
    for f in (old / "experiments").rglob("*.parquet"):
        pq.write_table(pq.read_table(f).drop_columns(list(cf.COUNTS)), f)
    manifest = json.loads((old / "cohort.json").read_text())
    (old / "cohort.json").write_text(json.dumps({**manifest, "version": 2}))
    data = cohort_report(old).to_dict()
    rows = pq.read_table(old / "experiments").to_pylist()
    assert data["experiments"]
    for x in data["experiments"]:
        meta, fewer, more, _ = _by_hand_older(rows, x["change"])
        assert x["method"] == "inverse_variance" and x["people"] == meta.k
        assert x["log_rr"] == pytest.approx(meta.mu, rel=1e-3)
        assert x["tau2"] == pytest.approx(meta.tau2, rel=1e-3, abs=1e-9)
        assert x["own_excludes"] in (fewer + more, None)
    assert "format version 2" in data["notes"][-1]
    new = report.to_dict()
    for key in ("cohort", "factors", "groups"):
        assert data[key] == new[key]
    assert [x["people"] for x in data["experiments"]] == [x["people"] for x in new["experiments"]]
    text = cohort_report(old).render_terminal()
    assert "Pooled from each person's own effect, without counts" in text
    # columns of version 3 in a cohort that says version 2 are refused
    (old / "cohort.json").write_text(json.dumps(manifest | {"version": 2}))
    shutil.rmtree(old / "experiments")
    shutil.copytree(cohort / "experiments", old / "experiments")
    with pytest.raises(InputError, match="columns the format does not allow"):
        cohort_report(old)


# --------------------------------------------------------------------------- answers


def _answer_table(cohort: Path) -> list[dict[str, Any]]:
    return pq.read_table(cohort / "answers").drop_columns(["bucket"]).to_pylist()


def test_the_report_counts_what_the_answers_table_holds(cohort: Path, report: Any) -> None:
    """Every shown share, count and id of the answers sections by hand from the table."""
    answers = _answer_table(cohort)
    people = {p["person_id"]: p for p in pq.read_table(cohort / "people").to_pylist()}
    data = report.to_dict()["answers"]
    shown = 0
    for g in data["levels"]["sex"]:
        mine = [a for a in answers if (people[a["person_id"]]["sex"] or "not_given") == g["group"]]
        assert g["people"] == len({a["person_id"] for a in mine}) >= MIN_CELL
        for lvl, cell in g["levels"].items():
            at = [a for a in mine if a["triage_level"] == lvl]
            if cell is not None:
                shown += 1
                assert cell["people"] == len({a["person_id"] for a in at})
                assert cell["share"] == pytest.approx(len(at) / len(mine), abs=5e-4)
        urgent = [a for a in mine if a["triage_level"] in ("see_doctor_urgent", "emergency")]
        if g["urgent_or_emergency"] is not None:
            assert g["urgent_or_emergency"]["share"] == pytest.approx(
                len(urgent) / len(mine), abs=5e-4
            )
    assert shown
    for key in ("questions", "findings"):
        counted: dict[str, tuple[set[str], int]] = {}
        for a in answers:
            for i in a[key]:
                ids, n = counted.get(i, (set(), 0))
                counted[i] = (ids | {a["person_id"]}, n + 1)
        expected = [
            {"id": i, "people": len(ids), "answers": n}
            for i, (ids, n) in sorted(counted.items(),
                                      key=lambda kv: (-kv[1][1], -len(kv[1][0]), kv[0]))
            if len(ids) >= MIN_CELL
        ]  # fmt: skip
        assert data[key] == expected and expected, key
        held = {s["item"] for s in report.suppressed if s["table"] == key}
        assert held == {i for i, (ids, _) in counted.items() if len(ids) < MIN_CELL}
    n = data["not_understood"]
    assert n["people"] == len({a["person_id"] for a in answers}) and n["answers"] == len(answers)
    assert n["answers_with"] == sum(a["not_understood"] > 0 for a in answers)
    assert n["words"] == sum(a["not_understood"] for a in answers)
    assert n["people_with"] == len({a["person_id"] for a in answers if a["not_understood"]})


def _answered(tmp_path: Path, answers: list[tuple[int, str, list[str], list[str], int]],
              people: int = 40) -> Path:  # fmt: skip
    """A cohort of ``people`` people (sex and age not given) with a day each, and these
    answers: (person, level, questions, findings, words not understood)."""
    ids = [f"{i + 1:016x}" for i in range(people)]
    columns: dict[str, list[Any]] = {name: [] for name in cf.COLUMNS["answers"]}
    for person, level, questions, findings, words in answers:
        for name, value in (("person_id", ids[person]), ("date", date(2024, 2, 5)),
                            ("triage_level", level), ("questions", questions),
                            ("findings", findings), ("not_understood", words)):  # fmt: skip
            columns[name].append(value)
    return _one_day_each(
        tmp_path / "answered",
        ids,
        answers=columns,
        questions=("where", "sleep", "how_long"),
        findings=("twitching", "region_calf"),
    )


def test_answers_by_hand_and_the_small_cell_rule(tmp_path: Path) -> None:
    """40 people: 30 at self-care, 15 routine, 12 urgent, 3 emergency (one each, some two).
    Emergency rests on 3 people: held, and so is urgent (the smallest shown level: with the
    total, the shares shown would give emergency away); urgent or emergency together rests
    on 12 people (the emergency ones among them): shown. Questions: 'where' of 20 people,
    'sleep' of 4 (held); words not understood: 12 people with some (10 with one word, 2 with
    3 words: the bin of 2-4 held, and the bin of 1 with it, or it would be the rest)."""
    rows: list[tuple[int, str, list[str], list[str], int]] = []
    for i in range(30):
        rows.append((i, "self_care", ["where"] if i < 20 else [], ["twitching"], int(i < 10)))
    for i in range(15):
        rows.append((i, "see_doctor_routine", ["sleep"] if i < 4 else [], [], 0))
    for i in range(30, 42):
        rows.append((i % 40, "see_doctor_urgent", [], ["region_calf", "twitching"], 0))
    for i in range(36, 39):
        rows.append((i, "emergency", [], [], 3 if i < 38 else 0))
    folder = _answered(tmp_path, rows)
    data = cohort_report(folder).to_dict()
    [group] = data["answers"]["levels"]["sex"]
    total = len(rows)
    assert group["group"] == "not_given" and group["people"] == 40
    assert group["levels"] == {
        "self_care": {"people": 30, "share": pytest.approx(30 / total, abs=5e-4)},
        "see_doctor_routine": {"people": 15, "share": pytest.approx(15 / total, abs=5e-4)},
        "see_doctor_urgent": None,
        "emergency": None,
    }
    assert group["urgent_or_emergency"] == {
        "people": 12,
        "share": pytest.approx(15 / total, abs=5e-4),
    }
    held = {(s["table"], s["group"], s["item"]) for s in data["suppressed"]}
    assert {("answer levels by sex", "not_given", "see_doctor_urgent"),
            ("answer levels by sex", "not_given", "emergency"),
            ("questions", "all", "sleep")} <= held  # fmt: skip
    assert data["answers"]["questions"] == [{"id": "where", "people": 20, "answers": 20}]
    assert data["answers"]["findings"] == [
        {"id": "twitching", "people": 40, "answers": 42},
        {"id": "region_calf", "people": 12, "answers": 12},
    ]
    words = data["answers"]["not_understood"]
    assert (words["people"], words["answers"], words["people_with"]) == (40, total, 12)
    assert (words["answers_with"], words["words"]) == (12, 16)
    assert words["people_by_words"] == {"1": None, "2-4": None, "5-9": {"people": 0, "share": 0},
                                        "10+": {"people": 0, "share": 0}}  # fmt: skip
    # one side of "urgent or emergency" held (emergency: 1 person; with it routine, the
    # smallest shown level) and the other shown: the combined share would give it away
    rows = [r for r in rows if r[1] != "emergency"] + [(36, "emergency", [], [], 0)]
    rows += [(i, "see_doctor_urgent", [], [], 0) for i in range(20, 30)]
    data = cohort_report(_answered(tmp_path / "b", rows)).to_dict()
    [group] = data["answers"]["levels"]["sex"]
    assert group["levels"]["emergency"] is None and group["levels"]["see_doctor_routine"] is None
    assert group["levels"]["see_doctor_urgent"] == {
        "people": 22,
        "share": pytest.approx(22 / len(rows), abs=5e-4),
    }
    assert group["urgent_or_emergency"] is None
    text = cohort_report(_answered(tmp_path / "c", rows)).render_terminal()
    assert "How often answers were urgent or an emergency" in text
    assert "  answer levels by sex: 3" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"triage_level": "see a doctor today"}, "triage level outside the format"),
        ({"questions": ["where", "my left calf"]}, "question ids outside the cohort's"),
        ({"findings": ["twitching", "twitching"]}, "finding ids outside the cohort's or one"),
        ({"not_understood": -1}, "count of words not understood below 0"),
    ],
)
def test_the_reader_refuses_answers_that_break_the_format(
    tmp_path: Path, change: dict[str, Any], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows written past the writer (which refuses them too) are refused before any query,
    in one line with exit status 2 from the command line."""
    folder = _answered(tmp_path, [(i, "self_care", ["where"], ["twitching"], 0)
                                  for i in range(12)])  # fmt: skip
    f = next(f for f in (folder / "answers").rglob("*.parquet") if pq.read_metadata(f).num_rows)
    table = pq.read_table(f)
    first = {**table.slice(0, 1).to_pylist()[0], **change}
    pq.write_table(pa.concat_tables([pa.Table.from_pylist([first], schema=table.schema),
                                     table.slice(1)]), f)  # fmt: skip
    with pytest.raises(InputError, match=message):
        cohort_report(folder)
    code, out, err = run(["cohort", "report", str(folder)], capsys)
    assert (code, out) == (2, "") and err.count("\n") == 1 and message in err, err
    with pytest.raises(InputError, match="answers"):
        cf.write_table(tmp_path / "again", "answers", {k: [v] for k, v in first.items()}, 1,
                       cf.read_manifest(folder).vocabulary())  # fmt: skip


def test_the_reader_refuses_answers_of_the_wrong_type_or_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    folder = _answered(tmp_path, [(i, "self_care", ["where"], [], 0) for i in range(12)])
    copy = tmp_path / "text"
    shutil.copytree(folder, copy)
    for f in (copy / "answers").rglob("*.parquet"):
        table = pq.read_table(f)
        words = pa.array([" ".join(v) for v in table.column("questions").to_pylist()])
        pq.write_table(table.set_column(table.schema.get_field_index("questions"), "questions",
                                        words), f)  # fmt: skip
    with pytest.raises(InputError, match="answers table has columns of the wrong type: questions"):
        cohort_report(copy)
    manifest = json.loads((folder / "cohort.json").read_text())
    (folder / "cohort.json").write_text(json.dumps({**manifest, "questions": ["where", "Where?"]}))
    code, out, err = run(["cohort", "report", str(folder)], capsys)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "questions must be" in err, err
    shutil.rmtree(folder / "answers")
    (folder / "cohort.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="answers/ holds no Parquet file"):
        cf.read_manifest(folder)


@pytest.mark.parametrize("version", [2, 3])
def test_a_cohort_of_version_2_or_3_has_no_answers(
    cohort: Path, report: Any, tmp_path: Path, version: int
) -> None:
    """An older cohort (no answers table, no ids in its manifest) is read: the answer
    sections say there are none, everything else is as before."""
    import shutil

    old = tmp_path / f"v{version}"
    shutil.copytree(cohort, old)
    shutil.rmtree(old / "answers")
    if version == 2:
        for f in (old / "experiments").rglob("*.parquet"):
            pq.write_table(pq.read_table(f).drop_columns(list(cf.COUNTS)), f)
    manifest = json.loads((old / "cohort.json").read_text())
    for key in ("questions", "findings"):
        del manifest[key]
    (old / "cohort.json").write_text(json.dumps({**manifest, "version": version}))
    older = cohort_report(old)
    data = older.to_dict()
    assert data["answers"] is None
    assert any(f"format version {version}, before the answers table" in n for n in data["notes"])
    new = report.to_dict()
    for key in ("cohort", "factors", "groups"):
        assert data[key] == new[key]
    assert not any(s["table"].startswith(("answer", "questions", "findings", "not under"))
                   for s in data["suppressed"])  # fmt: skip
    assert f"Answers: none (a cohort of format version {version}" in older.render_terminal()
    assert "before the answers table" in older.render_html()


# --------------------------------------------------------------------------- the command line


def test_cli_report_json(cohort: Path, capsys: pytest.CaptureFixture[str], report: Any) -> None:
    code, out, err = run(["cohort", "report", str(cohort), "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out) == report.to_dict()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/folder"], "no folder /no/such/folder: give the folder of a cohort"),
        (["{tmp}"], "is not a twitchwise cohort (it has no cohort.json)"),
        (["{cohort}", "--engine", "oracle"], "unknown engine 'oracle'; use --engine duckdb"),
        (["{cohort}", "--format", "pdf"], "unknown format 'pdf'; use --format terminal, json"),
    ],
)
def test_cli_bad_input(
    args: list[str], message: str, cohort: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    args = [a.format(tmp=tmp_path, cohort=cohort) for a in args]
    code, out, err = run(["cohort", "report", *args], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


def test_a_missing_extra_names_the_pip_command(
    cohort: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ibis", None)
    with pytest.raises(ConfigError, match=r"pip install 'twitchwise\[cohort\]'"):
        connect("duckdb")
    code, _, err = run(["cohort", "report", str(cohort)], capsys)
    assert code == 2 and "pip install 'twitchwise[cohort]'" in err


def test_spark_without_java_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setattr("twitchwise.cohort.engines.java_available", lambda: False)
    with pytest.raises(ConfigError, match="needs Java 17"):
        connect("spark")


# --------------------------------------------------------------------------- Spark

spark_ready = pytest.mark.skipif(
    not java_available() or __import__("importlib.util").util.find_spec("pyspark") is None,
    reason="the Spark tests need pyspark (pip install 'twitchwise[spark]') and Java 17",
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from twitchwise.cohort.engines import spark_session

    session = spark_session(cores=2, shuffle_partitions=2, memory="1g")
    yield session
    session.stop()


def _normal(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples of plain values (float sums may differ in the last bits)."""
    out = []
    for r in rows:
        out.append(tuple((k, round(v, 9 - max(0, int(math.log10(abs(v))) if v else 0))
                          if isinstance(v, float) else str(v) if v is not None else None)
                         for k, v in sorted(r.items())))  # fmt: skip
    return sorted(out, key=repr)


@spark_ready
def test_every_query_gives_the_same_rows_on_duckdb_and_spark(cohort: Path, spark: Any) -> None:
    duck, sparky = connect("duckdb"), connect("spark", session=spark)
    try:
        dt, st = duck.tables(cohort), sparky.tables(cohort)
        tau2 = {("caffeine_mg", 0): 0.01, ("sleep_h", 0): 0.0025}
        crit = {df: 2.0 + 1 / df for df in range(1, 20)}
        scored = {"caffeine": CountParams(-0.2, 0.08, 0.02, 0.01, 50.0),
                  "sleep": CountParams(-0.1, 0.0)}  # fmt: skip
        named = {
            **QUERIES,
            "meta_pooled": lambda t: meta_pooled(t, tau2),
            "experiment_sums": lambda t: experiment_sums(t, crit),
            "experiment_pooled": lambda t: experiment_pooled(t, {"caffeine": 0.02}),
            "experiment_scores": lambda t: experiment_scores(t, scored),
        }
        for name, query in named.items():
            a, b = _normal(duck.rows(query(dt))), _normal(sparky.rows(query(st)))
            assert a, name
            assert a == b, name
    finally:
        duck.close()
        sparky.close()


@spark_ready
def test_the_report_is_the_same_on_spark(cohort: Path, spark: Any, report: Any) -> None:
    on_spark = cohort_report(cohort, "spark", session=spark).to_dict()
    expected = report.to_dict()
    assert on_spark.pop("engine") == "spark" and expected.pop("engine") == "duckdb"
    assert on_spark == expected


@spark_ready
def test_spark_finds_the_same_broken_answers(tmp_path: Path, spark: Any) -> None:
    """The reader's check of the answers in the engine counts the same rows on both."""
    folder = _answered(tmp_path, [(i, "self_care", ["where"], ["twitching"], 0)
                                  for i in range(12)])  # fmt: skip
    f = next(f for f in (folder / "answers").rglob("*.parquet") if pq.read_metadata(f).num_rows)
    table = pq.read_table(f)
    bad = [{**table.slice(0, 1).to_pylist()[0], **change} for change in (
        {"triage_level": "soon"}, {"questions": ["where", "where"]},
        {"findings": ["twitching", "my calf"]}, {"not_understood": -2})]  # fmt: skip
    pq.write_table(pa.concat_tables([pa.Table.from_pylist(bad, schema=table.schema), table]), f)
    duck, sparky = connect("duckdb"), connect("spark", session=spark)
    try:
        query = QUERIES["answer_problems"]
        found = [e.rows(query(e.tables(folder))) for e in (duck, sparky)]
        assert found[0] == found[1] == [{"rows": 16, "bad_level": 1, "bad_count": 1,
                                         "bad_questions": 1, "bad_findings": 1}]  # fmt: skip
    finally:
        duck.close()
        sparky.close()
