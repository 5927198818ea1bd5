"""Insights: planted and null effects, minimum data, alerts through triage, JSON shape, charts."""

from __future__ import annotations

import json
import math
import stat
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fixtures.journal.insights import HEADER, daily_csv
from helpers import run
from twitchwise.app import default
from twitchwise.insights.alerts import alerts_for, pattern_findings
from twitchwise.insights.analysis import analyse
from twitchwise.insights.charts import body_map_svg, calendar_svg, effects_svg
from twitchwise.insights.stats import (
    LAGS,
    MIN_DAYS,
    benjamini_hochberg,
    daily_series,
    estimate_effects,
)
from twitchwise.journal.store import JournalData
from twitchwise.knowledge.schema import TriageLevel

KB = default().kb
PARSER = default().parser

EFFECT_KEYS = {
    "factor", "lag_days", "effect", "ci", "p_value", "q_value", "significant", "n_with",
    "n_without",
}  # fmt: skip
SVG = "{http://www.w3.org/2000/svg}"


def insights_json(csv: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, _, err = run(["import", str(csv)], capsys)
    assert code == 0, err
    code, out, err = run(["insights", "--format", "json"], capsys)
    assert code == 0, err
    return json.loads(out)


def significant(result: dict[str, Any]) -> list[tuple[str, int]]:
    return [(e["factor"], e["lag_days"]) for e in result["effects"] if e["significant"]]


# ---------------------------------------------------------------------- planted and null


def test_planted_next_day_caffeine_effect_is_found_and_nothing_else(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = insights_json(daily_csv(tmp_path / "planted.csv", "planted", seed=0), capsys)
    assert result["days"] == 180
    assert significant(result) == [("caffeine_mg", 1)]
    (caffeine,) = [
        e for e in result["effects"] if (e["factor"], e["lag_days"]) == ("caffeine_mg", 1)
    ]
    # the planted rate ratio is 1.4 per 100 mg; its interval should hold it
    assert caffeine["ci"][0] < 1.4 < caffeine["ci"][1]
    assert caffeine["effect"] > 1
    # every factor of the CSV is tested at every lag
    tested = {(e["factor"], e["lag_days"]) for e in result["effects"]}
    assert tested == {(f, lag) for f in HEADER[2:] for lag in LAGS}


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_effect_other_seeds(tmp_path: Path, seed: int) -> None:
    data = _journal(daily_csv(tmp_path / "planted.csv", "planted", seed=seed))
    found = [
        (e.factor, e.lag_days)
        for e in estimate_effects(daily_series(data)).effects
        if e.significant
    ]
    assert found == [("caffeine_mg", 1)]


def test_three_null_data_sets_give_at_most_one_false_effect(tmp_path: Path) -> None:
    false = []
    for kind in ("null_poisson", "null_overdispersed", "null_runs"):
        data = _journal(daily_csv(tmp_path / f"{kind}.csv", kind, seed=0))
        result = estimate_effects(daily_series(data))
        assert len(result.effects) == 18, result.notes
        false += [(kind, e.factor, e.lag_days) for e in result.effects if e.significant]
    assert len(false) <= 1, false


def test_effects_are_coherent(tmp_path: Path) -> None:
    data = _journal(daily_csv(tmp_path / "planted.csv", "planted", seed=0))
    effects = estimate_effects(daily_series(data)).effects
    for e in effects:
        assert e.ci[0] <= e.effect <= e.ci[1]
        assert 0 <= e.p_value <= e.q_value <= 1
        assert e.significant == (e.q_value < 0.05)
        assert e.n_with >= 5 and e.n_without >= 5
        assert e.n_with + e.n_without <= 180


def test_benjamini_hochberg_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = [0.001, 0.2, 0.03, 0.04, 0.5, 0.012, 0.9, 0.049]
    expected = multipletests(p, method="fdr_bh")[1]
    assert benjamini_hochberg(p) == pytest.approx(list(expected))
    assert benjamini_hochberg([]) == []


# ---------------------------------------------------------------------- not enough data


def test_too_few_days_says_not_enough_data(tmp_path: Path) -> None:
    data = _journal(daily_csv(tmp_path / "short.csv", "planted", seed=0, days=20))
    result = analyse(data, kb=KB, parser=PARSER, today=date(2025, 1, 25))
    assert result.effects == []
    assert any("not enough data yet" in n.lower() for n in result.notes), result.notes
    assert any(f"at least {MIN_DAYS} days" in n for n in result.notes)


def test_a_sparse_factor_gets_a_note_and_no_effect(tmp_path: Path) -> None:
    data = _journal(daily_csv(tmp_path / "d.csv", "null_poisson", seed=0, days=90))
    data.days = [  # alcohol recorded on every 9th day only
        replace(day, factors=replace(day.factors, alcohol_units=None)) if i % 9 else day
        for i, day in enumerate(data.days)
    ]
    result = estimate_effects(daily_series(data))
    assert "alcohol_units" not in {e.factor for e in result.effects}
    assert {e.factor for e in result.effects} == set(HEADER[2:]) - {"alcohol_units"}
    (note,) = [n for n in result.notes if n.startswith("alcohol")]
    assert "not enough data yet" in note and "28 needed" in note
    assert "Not recorded, so not tested: steps and heart-rate variability." in result.notes


def test_a_factor_without_variation_is_not_tested(tmp_path: Path) -> None:
    data = _journal(daily_csv(tmp_path / "d.csv", "null_poisson", seed=0, days=90))
    data.days = [replace(day, factors=replace(day.factors, caffeine_mg=200.0)) for day in data.days]
    result = estimate_effects(daily_series(data))
    assert "caffeine_mg" not in {e.factor for e in result.effects}
    assert any(n.startswith("caffeine: not enough variation yet") for n in result.notes)


def test_no_twitches_at_all() -> None:
    days = [{"date": f"2025-01-{d:02d}", "caffeine_mg": 100.0} for d in range(1, 31)]
    result = analyse(JournalData.from_dicts([], days, []), kb=KB, parser=PARSER)
    assert result.to_dict() == {
        "days": 30,
        "effects": [],
        "alerts": [],
        "notes": [
            "No twitches logged yet, so there is nothing to compare: log them with "
            "'twitchwise log' (or import a daily CSV with a twitches column)."
        ],
    }


def test_days_before_the_first_twitch_are_left_out() -> None:
    days = [
        {"date": (date(2025, 1, 1) + timedelta(days=i)).isoformat(), "steps": 5000 + i}
        for i in range(60)
    ]
    episodes = [_episode("2025-02-20")]
    series = daily_series(JournalData.from_dicts(episodes, days, []))
    assert series is not None
    assert series.start == date(2025, 2, 20)
    assert series.earlier_factor_days == 50 - 2  # the two days before it serve as lags
    notes = analyse(JournalData.from_dicts(episodes, days, []), kb=KB, parser=PARSER).notes
    assert any(
        n.startswith("48 days with factors before your first logged twitch (2025-02-20)")
        for n in notes
    ), notes


# ---------------------------------------------------------------------- alerts


def _episode(
    day: str, region: str | None = None, side: str | None = None, note: str | None = None
) -> dict[str, Any]:
    at = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
    return {
        "uid": f"{day}-{region}-{side}-{note}",
        "at": at.isoformat(),
        "date": day,
        "region": region,
        "side": side,
        "intensity": None,
        "duration_s": None,
        "note": note,
        "source": "log",
    }


def _days(start: str, n: int, every: int = 1) -> list[str]:
    first = date.fromisoformat(start)
    return [(first + timedelta(days=i)).isoformat() for i in range(0, n, every)]


def _alerts(episodes: list[dict[str, Any]]) -> dict[str, tuple[str, TriageLevel, str]]:
    data = JournalData.from_dicts(episodes, [], [])
    return {a.rule: (a.finding, a.level, a.pattern) for a in alerts_for(data, KB, PARSER)}


def test_twitching_for_more_than_two_weeks(tmp_path: Path) -> None:
    episodes = [_episode(d, "region_calf", "left") for d in _days("2026-03-01", 20, every=2)]
    alerts = _alerts(episodes)
    finding, level, pattern = alerts["twitch_over_2_weeks"]
    assert (finding, level) == ("duration_over_2_weeks", TriageLevel.SEE_DOCTOR_ROUTINE)
    assert "from 2026-03-01 to 2026-03-19 (19 days)" in pattern
    # ten days is not two weeks, and a gap of more than a week starts a new stretch
    assert "twitch_over_2_weeks" not in _alerts(episodes[:5])
    gap = [_episode("2026-01-01", "region_calf"), _episode("2026-01-20", "region_calf")]
    assert _alerts(gap) == {}


def test_weakness_in_a_note(tmp_path: Path) -> None:
    weak = [
        _episode("2026-03-01", "region_hand", "right", "my grip feels weak and my hand twitches")
    ]
    finding, level, pattern = _alerts(weak)["weakness_in_twitching_area"]
    assert (finding, level) == ("weakness", TriageLevel.SEE_DOCTOR_ROUTINE)
    assert pattern.startswith('Your note on 2026-03-01: "my grip feels weak')
    denied = [_episode("2026-03-01", "region_hand", "right", "hand twitching, no weakness")]
    assert _alerts(denied) == {}


def test_several_limbs() -> None:
    episodes = [
        _episode("2026-03-01", "region_arm", "left"),
        _episode("2026-03-02", "region_calf", "right"),
    ]
    found = pattern_findings(JournalData.from_dicts(episodes, [], []), KB, PARSER)
    assert found.present["multiple_sites"] == (
        "Twitching logged in 2 places in the 90 days to 2026-03-02: left arm, right leg."
    )
    # two places for a few days are not yet a reason to see a GP: the rule asks for twitching
    # that lasts over 2 weeks, spreads, or is all over the body (knowledge red_flags/routine.yaml)
    assert _alerts(episodes) == {}
    both_two_days = [_episode(d, "region_calf", "both") for d in ("2026-03-01", "2026-03-02")]
    assert _alerts(both_two_days) == {}


def test_spreading_to_new_regions() -> None:
    episodes = [_episode(d, "region_calf", "left") for d in _days("2026-03-01", 28)]
    episodes += [_episode(d, "region_thigh", "right") for d in _days("2026-03-12", 17)]
    episodes += [_episode(d, "region_arm", "right") for d in _days("2026-03-20", 9)]
    found = pattern_findings(JournalData.from_dicts(episodes, [], []), KB, PARSER)
    assert found.present["spreading"] == (
        "Twitching began in the left leg and spread to the right leg (2026-03-12), "
        "then right arm (2026-03-20)."
    )
    assert "multiple_sites" in found.present
    assert "twitch_spreading" in _alerts(episodes)
    # all at once is several places, not spreading
    together = [_episode("2026-03-01", r, "left") for r in ("region_calf", "region_arm")]
    found = pattern_findings(JournalData.from_dicts(together, [], []), KB, PARSER)
    assert "spreading" not in found.present


def test_spreading_with_weakness_and_numbness_is_urgent() -> None:
    """Through the same rules as ask: spreading + weakness + numbness is a same-day rule."""
    episodes = [_episode(d, "region_calf", "left") for d in _days("2026-03-01", 10)]
    episodes += [_episode("2026-03-12", "region_calf", "right")]
    episodes += [
        _episode("2026-03-15", "region_hand", "right", "legs feel weak and my feet are numb")
    ]
    alerts = alerts_for(JournalData.from_dicts(episodes, [], []), KB, PARSER)
    assert alerts[0].level is TriageLevel.SEE_DOCTOR_URGENT
    assert alerts[0].rule == "weakness_with_spreading_numbness"
    assert [a.level for a in alerts] == sorted((a.level for a in alerts), reverse=True)


def test_a_region_rule_uses_that_regions_own_duration() -> None:
    """An eyelid twitch of 10 days during 100 days of calf twitching is not 'eyelid > 3 months'."""
    episodes = [_episode(d, "region_calf", "left") for d in _days("2026-01-01", 100)]
    episodes += [_episode(d, "region_eyelid") for d in _days("2026-03-20", 10)]
    alerts = _alerts(episodes)
    assert "eyelid_twitch_over_3_months" not in alerts
    assert "twitch_over_2_weeks" in alerts
    long_eyelid = [_episode(d, "region_eyelid", "left") for d in _days("2026-01-01", 100, 3)]
    assert "eyelid_twitch_over_3_months" in _alerts(long_eyelid)


def test_tongue_twitching_is_urgent_as_in_ask() -> None:
    import twitchwise

    alerts = alerts_for(
        JournalData.from_dicts([_episode("2026-03-01", "region_tongue")], [], []), KB, PARSER
    )
    ask = twitchwise.assess(["twitching", "region_tongue"])
    assert alerts[0].level is ask.level is TriageLevel.SEE_DOCTOR_URGENT
    assert alerts[0].rule == "tongue_twitching"


def test_no_alerts_for_a_short_single_site_twitch() -> None:
    episodes = [_episode(d, "region_eyelid", "left") for d in _days("2026-03-01", 5)]
    assert alerts_for(JournalData.from_dicts(episodes, [], []), KB, PARSER) == []


# ---------------------------------------------------------------------- the command


def test_insights_json_shape(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["log", "twitch", "--region", "tongue", "--at", "2025-06-20T10:00"], capsys)
    result = insights_json(daily_csv(tmp_path / "d.csv", "planted", seed=0), capsys)
    assert set(result) == {"days", "effects", "alerts", "notes"}
    assert isinstance(result["days"], int)
    assert result["effects"]
    for e in result["effects"]:
        assert set(e) == EFFECT_KEYS
        assert isinstance(e["ci"], list) and len(e["ci"]) == 2
        assert e["lag_days"] in (0, 1, 2)
        assert isinstance(e["significant"], bool)
        assert all(isinstance(e[k], float) for k in ("effect", "p_value", "q_value"))
        assert all(math.isfinite(v) for v in e["ci"])
    assert result["alerts"][0] == {
        "level": "see_doctor_urgent",
        "finding": "region_tongue",
        "rule": "tongue_twitching",
        "text": result["alerts"][0]["text"],
        "source": result["alerts"][0]["source"],
        "pattern": "Twitching logged in the tongue on 1 day, the latest on 2025-06-20.",
    }
    assert all(isinstance(n, str) for n in result["notes"])


def test_insights_terminal(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["import", str(daily_csv(tmp_path / "d.csv", "planted", seed=0))], capsys)
    code, out, err = run(["insights"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("Insights from 180 days of journal (2025-01-01 to 2025-06-29, ")
    # issue 13: the heading no longer claims a 5% false discovery rate (it does not hold under
    # confounding); it says what the model does
    heading = "Triggers found (q < 0.05, every factor weighed against the others):"
    assert f"{heading}\n  caffeine, next day: 1." in out
    assert "about 1 in 20 still showed one" in out
    assert "Not a diagnosis." in out


def test_empty_journal(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["insights", "-f", "json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert (result["days"], result["effects"], result["alerts"]) == (0, [], [])
    assert result["notes"][0].startswith("No twitches logged yet")


def test_bad_format(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["insights", "--format", "yaml"], capsys)
    assert (code, out) == (2, "")
    assert err == "error: unknown format 'yaml'; use --format terminal or --format json\n"


def test_missing_insights_extra(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy -> ImportError
    code, out, err = run(["insights"], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "pip install 'twitchwise[insights]'" in err


# ---------------------------------------------------------------------- charts


def _svg_root(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    assert float(root.get("width", 0)) > 0 and float(root.get("height", 0)) > 0
    assert root.find(f"{SVG}title") is not None
    return root


def test_chart_files_are_valid_svg(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["import", str(daily_csv(tmp_path / "d.csv", "planted", seed=0))], capsys)
    run(["log", "twitch", "--region", "calf", "--side", "left", "--at", "2025-06-20T10:00"], capsys)
    run(
        ["log", "twitch", "--region", "eyelid", "--at", "2025-06-21T10:00", "--note", "<b>&"],
        capsys,
    )
    folder = tmp_path / "charts"
    code, out, err = run(["insights", "--chart", str(folder)], capsys)
    assert code == 0, err
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["body-map.svg", "calendar.svg", "effects.svg"]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        _svg_root(path.read_text(encoding="utf-8"))
    assert out.rstrip().endswith("effects.svg.")
    calendar = _svg_root((folder / "calendar.svg").read_text(encoding="utf-8"))
    tips = [t.text for t in calendar.iter(f"{SVG}title")]
    assert "2025-06-20: 1 twitch episode" in tips or any(
        t and t.startswith("2025-06-20: ") for t in tips
    )
    body = (folder / "body-map.svg").read_text(encoding="utf-8")
    assert "Calf, left: 1 episode" in body and "Eyelid, right: 1 episode" in body
    effects = _svg_root((folder / "effects.svg").read_text(encoding="utf-8"))
    assert len(effects.findall(f".//{SVG}circle")) == 18


def test_charts_of_an_empty_journal_are_valid_svg() -> None:
    empty = JournalData.from_dicts([], [], [])
    for text in (calendar_svg(empty), body_map_svg(empty, KB), effects_svg([])):
        _svg_root(text)


def test_charts_and_insights_are_safe_for_any_date() -> None:
    """The 0001-01-01 and 9999-12-31 rows that overflowed the calendar are left out and named
    (whatever built the data); a span from 1900 is drawn as its latest ten years."""
    started = time.perf_counter()
    data = JournalData.from_dicts(
        [_episode(d) for d in ("0001-01-01", "1900-01-01", "2025-06-01", "2025-06-02")]
        + [_episode("9999-12-31")],
        [{"date": "9999-12-31", "caffeine_mg": 100.0}, {"date": "2025-06-01", "sleep_h": 7.0}],
        [{"start": "9999-12-31T23:00:00-05:00", "duration_s": 60.0}],
    )
    assert len(data.episodes) == 3 and len(data.days) == 1 and data.workouts == []
    assert len(data.problems) == 4
    svg = calendar_svg(data)
    root = _svg_root(svg)
    assert len(root.findall(f"{SVG}rect")) <= 10 * 366 + 6
    assert "1 earlier twitch episode (before 2016) not shown." in svg
    assert "1900" not in [t.text for t in root.iter(f"{SVG}text")]
    result = analyse(data, kb=KB, parser=PARSER, today=date(2025, 6, 10))
    assert result.notes[:4] == data.problems
    left_out = "1 twitch episode more than 10 years before your latest entry is left out"
    assert any(left_out in note for note in result.notes), result.notes
    assert result.series is not None and result.series.start == date(2025, 6, 1)
    assert time.perf_counter() - started < 5


def _journal(csv: Path) -> JournalData:
    """The journal a daily CSV gives, without a database (the store's rules for counts)."""
    from twitchwise.journal.imports import read_file

    _, batch = read_file(csv)
    days = [{"date": d.isoformat(), **f.values()} for d, f in sorted(batch.days.items())]
    episodes = [
        _episode(d.isoformat()) for d, n in sorted(batch.episode_counts.items()) for _ in range(n)
    ]
    return JournalData.from_dicts(episodes, days, [])


# ---------------------------------------------------------------------- the joint model (issue 13)


def _simulated(
    counts: Any, factors: dict[str, Any], start: date = date(2025, 1, 6), missing: Any = None
) -> JournalData:
    """A journal of daily counts and factors (``missing[i]``: no factors on day i)."""
    days, episodes = [], []
    for i, n in enumerate(counts):
        day = (start + timedelta(days=i)).isoformat()
        if missing is None or not missing[i]:
            values = {k: float(v[i]) for k, v in factors.items() if not math.isnan(v[i])}
            days.append({"date": day, **values})
        episodes += [_episode(day)] * int(n)
    return JournalData.from_dicts(episodes, days, [])


def _six_factors(rng: Any, n: int) -> dict[str, Any]:
    import numpy as np

    return {
        "caffeine_mg": np.clip(np.round((200 + 100 * rng.normal(size=n)) / 50) * 50, 0, 600),
        "sleep_h": np.clip(np.round(rng.normal(7, 1, size=n) * 2) / 2, 3, 11),
        "water_l": np.clip(np.round(rng.normal(2, 0.5, size=n), 1), 0.2, 5),
        "workout_min": rng.choice([0, 0, 30, 45, 60], size=n).astype(float),
        "stress": rng.integers(0, 11, size=n).astype(float),
        "alcohol_units": rng.choice([0, 0, 0, 2, 4], size=n).astype(float),
    }


def _naive_p(counts: Any, x: Any) -> tuple[float, float]:
    """Coefficient and p-value of ``x`` alone in a Poisson model of the counts (statsmodels):
    what a model of one factor at a time sees."""
    import numpy as np
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    fit = GLM(counts, np.column_stack([np.ones(len(x)), x / 100]), family=families.Poisson())
    result = fit.fit(scale="X2")
    return float(result.params[1]), float(result.pvalues[1])


def test_a_factor_that_travels_with_the_real_trigger_is_not_blamed() -> None:
    """Caffeine and sleep move together (r about -0.5: short nights, more coffee); only sleep
    matters. On its own caffeine looks like a strong trigger; in the joint model the effect
    goes to sleep, where it belongs, and caffeine is not reported."""
    import numpy as np

    rng = np.random.default_rng(13)
    n = 365
    f = _six_factors(rng, n)
    s = rng.normal(size=n)
    f["sleep_h"] = np.clip(np.round((7 + s) * 2) / 2, 3, 11)
    c = -0.55 * s + np.sqrt(1 - 0.55**2) * rng.normal(size=n)
    f["caffeine_mg"] = np.clip(np.round((200 + 100 * c) / 50) * 50, 0, 600)
    assert np.corrcoef(f["sleep_h"], f["caffeine_mg"])[0, 1] < -0.4
    counts = rng.poisson(0.7 ** (f["sleep_h"] - 7))
    coef, p = _naive_p(counts, f["caffeine_mg"])
    assert coef > 0 and p < 1e-4  # alone, caffeine "explains" the twitches
    result = estimate_effects(daily_series(_simulated(counts, f)))
    found = {(e.factor, e.lag_days): e for e in result.effects if e.significant}
    assert ("sleep_h", 0) in found and found[("sleep_h", 0)].effect < 1
    assert found[("sleep_h", 0)].ci[0] < 0.7 < found[("sleep_h", 0)].ci[1]
    assert not [key for key in found if key[0] == "caffeine_mg"], found
    assert set(found) == {("sleep_h", 0)}


def test_a_weekly_rhythm_is_not_taken_for_a_trigger() -> None:
    """Twitches 50% higher on weekdays (work, not logged), coffee on weekdays and drinks on
    Fridays and Saturdays: caffeine and alcohol follow the week, and so do the twitches,
    but neither causes them. The day-of-week terms take the rhythm."""
    import numpy as np

    rng = np.random.default_rng(7)
    n = 364
    start = date(2025, 1, 6)  # a Monday
    weekday = (start.weekday() + np.arange(n)) % 7
    f = _six_factors(rng, n)
    f["caffeine_mg"] = np.where(
        weekday < 5, rng.choice([200, 300, 400], size=n), rng.choice([0, 100], size=n)
    ).astype(float)
    f["alcohol_units"] = np.where(
        (weekday == 4) | (weekday == 5), rng.choice([3, 5], size=n), 0
    ).astype(float)
    counts = rng.poisson(np.where(weekday < 5, 1.5, 1.0))
    coef, p = _naive_p(counts, f["caffeine_mg"])
    assert coef > 0 and p < 1e-3  # alone, caffeine follows the week's twitches
    result = estimate_effects(daily_series(_simulated(counts, f, start)))
    assert len(result.effects) == 18
    assert [(e.factor, e.lag_days) for e in result.effects if e.significant] == []
    # 1 + 6 days of the week + a trend of 1 + 3 knots + 18 factor x lag terms, and 2
    # missing-value terms: the first two days have no day before them for lags 1 and 2
    assert result.parameters == 1 + 6 + 4 + 18 + 2


def test_many_twitches_and_no_calm_days_still_give_effects() -> None:
    """About 6 twitches a day and not one calm day: a count model needs no zero days."""
    import numpy as np

    rng = np.random.default_rng(3)
    n = 180
    f = _six_factors(rng, n)
    before = np.r_[200.0, f["caffeine_mg"][:-1]]
    counts = np.maximum(rng.poisson(6 * 1.3 ** ((before - 200) / 100)), 1)
    assert (counts > 0).all()
    result = estimate_effects(daily_series(_simulated(counts, f)))
    assert len(result.effects) == 18, result.notes
    assert not [n for n in result.notes if "not enough" in n.lower()]
    assert ("caffeine_mg", 1) in [(e.factor, e.lag_days) for e in result.effects if e.significant]


def test_days_without_factors_are_kept_with_indicators() -> None:
    """40% of days without any factor logged: the factors are still tested (a day is not
    dropped because a neighbouring day lacks a value), with missing-value terms."""
    import numpy as np

    rng = np.random.default_rng(5)
    n = 180
    f = _six_factors(rng, n)
    counts = rng.poisson(1.0, size=n)
    missing = rng.random(n) < 0.4
    result = estimate_effects(daily_series(_simulated(counts, f, missing=missing)))
    assert len(result.effects) == 18, result.notes
    assert result.days == n - int(np.argmax(counts > 0))  # every day from the first twitch
    assert result.parameters == 1 + 6 + 2 + 18 + 3  # three indicators: lag 0, 1 and 2
    # the usable days of each lag are the days it was recorded
    caffeine = next(e for e in result.effects if e.factor == "caffeine_mg" and e.lag_days == 0)
    assert caffeine.n_with + caffeine.n_without < result.days


def test_each_lag_uses_every_day_its_own_day_was_logged() -> None:
    """A lag term does not need the other days logged: yesterday's caffeine counts for
    today's twitches when today was not logged (and today's when yesterday was not). So each
    lag is estimated from exactly the days whose day `lag` days before was logged, which is
    all the information a journal with days not logged holds (docs/insights.md, "What was
    tried")."""
    import numpy as np

    rng = np.random.default_rng(8)
    n = 180
    f = _six_factors(rng, n)
    counts = rng.poisson(1.0, size=n)
    missing = rng.random(n) < 0.4
    result = estimate_effects(daily_series(_simulated(counts, f, missing=missing)))
    first = int(np.argmax(counts > 0))  # the model's days run from the first twitch
    for lag in LAGS:
        logged = sum(1 for t in range(first, n) if t - lag >= 0 and not missing[t - lag])
        (effect,) = [e for e in result.effects if (e.factor, e.lag_days) == ("caffeine_mg", lag)]
        assert effect.n_with + effect.n_without == logged
        # ... more than the days with every lag logged
        assert logged > sum(
            1 for t in range(first, n) if t >= 2 and not missing[t - 2 : t + 1].any()
        )


def test_the_minimum_data_rule_says_what_is_missing() -> None:
    import numpy as np

    rng = np.random.default_rng(11)
    # 45 days of six factors: 28 numbers to estimate (26, and a missing-value term for lags 1
    # and 2 of the first days), so 58 days are needed
    f = _six_factors(rng, 45)
    counts = rng.poisson(1.0, size=45) + 1
    result = estimate_effects(daily_series(_simulated(counts, f)))
    assert result.effects == []
    assert result.notes == [
        "Not recorded, so not tested: steps and heart-rate variability.",
        "Not enough data yet to weigh caffeine, sleep, water, workout minutes, stress and "
        "alcohol against each other: the model estimates 28 numbers from 45 days and needs 30 "
        "days more than it estimates: log twitches and factors on 13 more days.",
    ]
    # sleep on 15 of 90 days: the other factors are tested, sleep is named with what it needs
    f = _six_factors(rng, 90)
    f["sleep_h"] = np.where(np.arange(90) % 6 == 0, f["sleep_h"], np.nan)
    counts = rng.poisson(1.0, size=90) + 1
    result = estimate_effects(daily_series(_simulated(counts, f)))
    assert {e.factor for e in result.effects} == set(HEADER[2:]) - {"sleep_h"}
    assert (
        "sleep: not enough data yet (recorded on 15 of the 90 days analysed, 28 needed): log "
        "sleep on 13 more days."
    ) in result.notes


def test_no_zero_day_rule_but_some_twitching_is_needed() -> None:
    import numpy as np

    rng = np.random.default_rng(2)
    f = _six_factors(rng, 120)
    counts = np.zeros(120, dtype=int)
    counts[[0, 50, 90]] = 1
    result = estimate_effects(daily_series(_simulated(counts, f)))
    assert result.effects == []
    assert result.notes == [
        "Not enough data yet: twitching was logged on 3 of the 120 days analysed; the model "
        "needs at least 5 days with twitching."
    ]


# ---------------------------------------------------------------------- blank is not zero


BLANK_CSV = """date,twitches,caffeine_mg,sleep_h
2025-03-01,0,100,7
2025-03-02,0,200,7.5
2025-03-03,0,,
2025-03-04,2,300,6
2025-03-05,,250,6.5
2025-03-06,,,
2025-03-07,1,100,8
2025-03-08,,200,
"""


def test_a_blank_twitches_cell_is_not_a_calm_day(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blank count is "not recorded" all the way to the insights, and zero days logged
    before the first episode count; the CSV export writes both back as they came."""
    from twitchwise.journal import open_journal

    csv = tmp_path / "days.csv"
    csv.write_text(BLANK_CSV)
    code, _, err = run(["import", str(csv)], capsys)
    assert code == 0, err
    with open_journal() as journal:
        series = daily_series(journal.summary())
    assert series is not None
    assert series.start == date(2025, 3, 1)  # the first logged 0, not the first episode
    assert series.counts == [0, 0, 0, 2, None, None, 1, None]
    assert series.episodes == 3
    code, out, _ = run(["export", "--format", "csv"], capsys)
    assert code == 0
    assert out.splitlines()[1:] == [
        "2025-03-01,0,100,7,,,,",
        "2025-03-02,0,200,7.5,,,,",
        "2025-03-03,0,,,,,,",
        "2025-03-04,2,300,6,,,,",
        "2025-03-05,,250,6.5,,,,",
        "2025-03-06,,,,,,,",
        "2025-03-07,1,100,8,,,,",
        "2025-03-08,,200,,,,,",
    ]
    # a later count fills a blank; a later blank does not erase a count; a logged twitch
    # counts on a blank day
    later = tmp_path / "later.csv"
    later.write_text("date,twitches\n2025-03-05,0\n2025-03-02,\n")
    assert run(["import", str(later)], capsys)[0] == 0
    assert run(["log", "twitch", "--region", "calf", "--at", "2025-03-06T10:00"], capsys)[0] == 0
    with open_journal() as journal:
        series = daily_series(journal.summary())
    assert series is not None
    assert series.counts == [0, 0, 0, 2, 0, 1, 1, None]


def test_without_blank_cells_days_without_episodes_are_calm() -> None:
    """Logged with 'twitchwise log' (no count was ever left blank), a day inside the span
    without an episode had none, as before."""
    episodes = [_episode("2025-03-01"), _episode("2025-03-04")]
    days = [{"date": "2025-03-02", "caffeine_mg": 100.0}]
    series = daily_series(JournalData.from_dicts(episodes, days, []))
    assert series is not None
    assert series.counts == [1, 0, 0, 1]


# ---------------------------------------------------------------------- the numbers


def test_the_fit_and_both_errors_match_statsmodels() -> None:
    """IRLS, the quasi-Poisson and the Newey-West covariance against statsmodels' GLM on
    consecutive days; with days missing, the Newey-West kernel runs over calendar days."""
    import numpy as np
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.stats.sandwich_covariance import S_hac_simple

    from twitchwise.insights.stats import _poisson, _variances

    rng = np.random.default_rng(1)
    n = 200
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 4)), rng.random(n) < 0.3])
    y = rng.poisson(
        np.exp(0.2 + X[:, 1:] @ np.array([0.3, -0.2, 0.0, 0.1, 0.4])) * rng.gamma(2, 0.5, n)
    )
    fitted = _poisson(X, y.astype(float))
    assert fitted is not None
    model = GLM(y, X, family=families.Poisson())
    quasi = model.fit(scale="X2")
    maxlags = math.floor(4 * (n / 100) ** (2 / 9))
    hac = model.fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True})
    assert fitted.params == pytest.approx(quasi.params, rel=1e-7, abs=1e-9)
    q_var, h_var = _variances(X, y, fitted.mu, np.arange(n))
    assert np.sqrt(q_var) == pytest.approx(quasi.bse, rel=1e-6)
    assert np.sqrt(h_var) == pytest.approx(hac.bse, rel=1e-6)
    # days 50-59 not in the model: the kernel pairs days by their dates, not by rows
    rows = np.r_[0:50, 60:n]
    X2, y2 = X[rows], y[rows].astype(float)
    fitted = _poisson(X2, y2)
    assert fitted is not None
    _, h_var = _variances(X2, y2, fitted.mu, rows)
    scores = np.zeros((n, X.shape[1]))
    scores[rows] = X2 * (y2 - fitted.mu)[:, None]
    bread = np.linalg.inv((X2.T * fitted.mu) @ X2)
    span_lags = math.floor(4 * (n / 100) ** (2 / 9))
    expected = (
        np.diag(bread @ S_hac_simple(scores, span_lags) @ bread)
        * len(rows)
        / (len(rows) - X.shape[1])
    )
    assert h_var == pytest.approx(expected, rel=1e-9)
    by_rows = np.diag(bread @ S_hac_simple(scores[rows], span_lags) @ bread)
    assert not np.allclose(h_var, by_rows * len(rows) / (len(rows) - X.shape[1]))


@pytest.mark.parametrize("df", [3, 12.5, 40, 153, 3600])
def test_the_t_distribution_matches_scipy(df: float) -> None:
    from scipy import stats

    from twitchwise.insights.stats import t_ppf, t_sf

    for t in (0.0, 0.01, 0.7, 1.96, 3.1, 8.0, 40.0):
        assert t_sf(t, df) == pytest.approx(stats.t.sf(t, df), rel=1e-9, abs=1e-300)
        assert t_sf(-t, df) == pytest.approx(stats.t.sf(-t, df), rel=1e-9)
    for q in (0.025, 0.5, 0.9, 0.975, 0.9995):
        assert t_ppf(q, df) == pytest.approx(stats.t.ppf(q, df), rel=1e-9, abs=1e-12)
