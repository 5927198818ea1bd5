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
    finding, level, pattern = _alerts(episodes)["twitch_in_several_places"]
    assert (finding, level) == ("multiple_sites", TriageLevel.SEE_DOCTOR_ROUTINE)
    assert pattern == (
        "Twitching logged in 2 places in the 90 days to 2026-03-02: left arm, right leg."
    )
    # both calves are two limbs, but two places on a single day are not yet a reason to see a
    # GP (the rule asks for days of it); one calf (and the same calf without a side) is one place
    assert "twitch_in_several_places" not in _alerts(
        [_episode("2026-03-01", "region_calf", "both")]
    )
    both_two_days = [_episode(d, "region_calf", "both") for d in ("2026-03-01", "2026-03-02")]
    assert "twitch_in_several_places" in _alerts(both_two_days)
    one = [_episode("2026-03-01", "region_calf", "left"), _episode("2026-03-02", "region_calf")]
    assert _alerts(one) == {}


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
    assert "twitch_in_several_places" in _alerts(episodes)
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
    assert "Triggers found (false discovery rate 5%):\n  caffeine, next day: 1." in out
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
    monkeypatch.setitem(sys.modules, "statsmodels", None)  # import statsmodels -> ImportError
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
