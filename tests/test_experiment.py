"""Self-experiments (N-of-1 trials): the schedule, persistence across restarts, the command
line's exact output and errors, the analysis on simulated journals, and the migration."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

import twitchwise.app.experiment as app_experiment
from helpers import run
from twitchwise.app.core import Twitchwise
from twitchwise.errors import InputError
from twitchwise.insights.experiment import (
    CHANGE,
    USUAL,
    Schedule,
    check_plan,
    draw_schedule,
    experiment_result,
    result_svg,
)
from twitchwise.journal.factors import FACTORS
from twitchwise.journal.rows import EpisodeRow, ExperimentRow, JournalData
from twitchwise.journal.store import HEAD_REVISION, open_journal
from twitchwise.journal.summary import JournalSummary
from twitchwise.knowledge.load import load_knowledge

START = date(2026, 3, 2)
SEED = 12345
KB = load_knowledge()
CAFFEINE = next(k for k in KB.plan.experiments if k.id == "caffeine")


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> list[date]:
    """The app's today, settable: ``today[0] = ...``; the seed of new schedules is fixed."""
    now = [START]
    monkeypatch.setattr(app_experiment, "_today", lambda: now[0])
    monkeypatch.setattr(app_experiment.secrets, "randbits", lambda bits: SEED)
    return now


# ---------------------------------------------------------------------- knowledge


def test_every_kind_has_words_and_a_real_factor() -> None:
    ids = [k.id for k in KB.plan.experiments]
    assert {"caffeine", "sleep", "magnesium_food", "stretching", "custom"} <= set(ids)
    for kind in KB.plan.experiments:
        assert kind.usual and kind.change and kind.question.endswith("?")
        assert kind.factor is None or kind.factor in FACTORS
        if kind.change_max is not None or kind.change_min is not None:
            assert kind.factor is not None
    assert "100 mg" in CAFFEINE.change and "mug of instant" in CAFFEINE.change


# ---------------------------------------------------------------------- schedule


@given(
    weeks=st.integers(1, 52),
    block_days=st.integers(1, 28),
    washout_days=st.integers(0, 26),
    seed=st.integers(0, 2**62),
)
def test_schedules_are_balanced_blocks_with_washouts_after_switches(
    weeks: int, block_days: int, washout_days: int, seed: int
) -> None:
    try:
        schedule = draw_schedule(
            START, weeks=weeks, block_days=block_days, washout_days=washout_days, seed=seed
        )
    except InputError as exc:
        assert exc.field in {"weeks", "block_days", "washout_days"}
        assert "\n" not in str(exc)
        assert washout_days > block_days - 2 or (weeks * 7 // block_days) // 2 * 2 < 2, str(exc)
        return
    letters = schedule.letters
    assert len(letters) % 2 == 0 and len(letters) >= 2
    assert letters.count(USUAL) == letters.count(CHANGE)
    assert all(letters[i : i + 2] in ("AB", "BA") for i in range(0, len(letters), 2))
    assert schedule.days == len(letters) * block_days <= weeks * 7
    assert schedule.end == START + timedelta(days=schedule.days - 1)
    # the same seed draws the same schedule
    again = draw_schedule(
        START, weeks=weeks, block_days=block_days, washout_days=washout_days, seed=seed
    )
    assert again == schedule
    for offset in range(schedule.days):
        day = START + timedelta(days=offset)
        block = offset // block_days
        assert schedule.block(day) == block
        assert schedule.condition(day) == letters[block]
        before = letters[block - 1] if block else USUAL
        expected = letters[block] != before and offset % block_days < washout_days
        assert schedule.washout(day) == expected
    assert schedule.block(START - timedelta(days=1)) is None
    assert schedule.block(schedule.end + timedelta(days=1)) is None


def test_allocations_are_random() -> None:
    drawn = {
        draw_schedule(START, weeks=6, block_days=7, washout_days=2, seed=s).letters
        for s in range(200)
    }
    assert drawn == {a + b + c for a in ("AB", "BA") for b in ("AB", "BA") for c in ("AB", "BA")}


@pytest.mark.parametrize(
    ("weeks", "block_days", "washout_days", "field"),
    [(0, 7, 2, "weeks"), (53, 7, 2, "weeks"), (1, 7, 2, "weeks"), (6, 0, 0, "block_days"),
     (6, 7, 6, "washout_days"), (6, 7, -1, "washout_days")],
)  # fmt: skip
def test_bad_plans_are_refused(weeks: int, block_days: int, washout_days: int, field: str) -> None:
    with pytest.raises(InputError) as info:
        check_plan(weeks, block_days, washout_days)
    assert info.value.field == field


# ---------------------------------------------------------------------- persistence


def test_an_experiment_survives_a_restart(home: Path, today: list[date]) -> None:
    tw = Twitchwise()
    with tw.open_journal() as journal:
        started = tw.experiment_start(journal, "caffeine")
        tw.experiment_check_in(journal, True, START)
    today[0] = START + timedelta(days=9)
    with Twitchwise().open_journal() as journal:  # a new process, as it were
        status = Twitchwise().experiment_status(journal)
    assert status.schedule == started.schedule
    assert status.day_number == 10 and status.state == "running"
    assert status.days_left == 42 - 9
    assert status.adherence.followed == 1 and status.missed == 8
    schedule = Schedule(START, 7, 2, status.schedule)
    assert status.condition == schedule.condition(today[0])
    assert status.instruction in (CAFFEINE.usual, CAFFEINE.change)


def test_one_experiment_at_a_time_and_nothing_half_written(home: Path, today: list[date]) -> None:
    tw = Twitchwise()
    with tw.open_journal() as journal:
        tw.experiment_start(journal, "sleep")
        with pytest.raises(InputError, match="still running"):
            tw.experiment_start(journal, "caffeine")
        with pytest.raises(InputError, match="unknown experiment 'cofee'"):
            tw.experiment_start(journal, "cofee")
        with pytest.raises(InputError, match="--change"):
            tw.experiment_start(journal, "custom")
        assert len(journal.experiments()) == 1
        tw.experiment_stop(journal, "ill")
        (row,) = journal.experiments()
        assert row.stopped_on == START and row.stop_reason == "ill"
        second = tw.experiment_start(journal, "custom", change="no screens after 10 pm")
        assert second.change == "no screens after 10 pm"
        assert len(journal.experiments()) == 2


def test_the_migration_upgrades_a_journal_that_holds_data(home: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from twitchwise.journal.store import MIGRATIONS

    home.mkdir(mode=0o700)
    path = home / "journal.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "INSERT INTO episodes (uid, at, local_date, source) "
                "VALUES ('old', '2026-03-01 12:00:00', '2026-03-01', 'log')"
            )
        )
    engine.dispose()
    path.chmod(0o600)
    with open_journal() as journal:
        assert journal.counts()["episodes"] == 1
        with journal.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == HEAD_REVISION == "0004"
        row = journal.start_experiment(
            kind="caffeine", change=None, started_on=START, block_days=7, washout_days=2,
            schedule="ABBA", seed=1, today=START,
        )  # fmt: skip
        assert journal.experiments()[0].id == row.id
        assert journal.read().episodes[0].uid == "old"
        journal.forget()
        assert journal.experiments() == []


# ---------------------------------------------------------------------- command line


def test_cli_start_status_log_stop_result(
    home: Path, today: list[date], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["experiment", "start", "caffeine"], capsys)
    assert code == 0, err
    letters = draw_schedule(START, weeks=6, block_days=7, washout_days=2, seed=SEED).letters
    names = {"A": "usual", "B": "change"}
    blocks = "".join(
        f"  block {i + 1}, {START + timedelta(days=7 * i)} to "
        f"{START + timedelta(days=7 * i + 6)}: {names[letter]}\n"
        for i, letter in enumerate(letters)
    )
    first = "cut-back" if letters[0] == CHANGE else "usual"
    instruction = CAFFEINE.change if letters[0] == CHANGE else CAFFEINE.usual
    washout = (
        "This is a washout day: keep to it, but it is not counted in the result.\n"
        if letters[0] == CHANGE
        else ""
    )
    assert out == (
        "Started: Cutting back on caffeine, 2026-03-02 to 2026-04-12, 6 blocks of 7 days in a "
        "random, balanced order:\n"
        f"{blocks}"
        f"On usual blocks: {CAFFEINE.usual}.\n"
        f"On change blocks: {CAFFEINE.change}.\n"
        "The first 2 days of a block that switches are washout days: keep to the block's plan; "
        "they are not counted.\n"
        "\n"
        "Experiment: Cutting back on caffeine (running), 2026-03-02 to 2026-04-12.\n"
        f"Today (2026-03-02) is day 1 of 42, a {first} day.\n"
        f"Today: {instruction}.\n"
        f"{washout}"
        "Days left: 42 (the result is ready after 2026-04-12).\n"
        "Adherence so far: not known yet (no check-ins).\n"
        "Days recorded: 0; missed (no check-in or twitch logged): 0.\n"
        "Check in today: twitchwise experiment log --followed (or --missed if you could not).\n"
    )
    code, out, err = run(["experiment", "log", "--missed", "--date", "2026-03-02"], capsys)
    assert (code, err) == (0, "")
    assert out == (
        "Checked in for 2026-03-02: did not keep to the plan. "
        "Adherence so far: kept to the plan on 0 of 1 day checked.\n"
    )
    code, out, err = run(["experiment", "status", "--format", "json"], capsys)
    body = json.loads(out)
    assert body["day"] == 1 and body["schedule"] == letters and body["days_left"] == 42
    assert body["adherence"] == {"followed": 0, "not_followed": 1, "unknown": 0, "share": 0.0}
    code, out, err = run(["experiment", "result"], capsys)
    assert code == 2 and out == ""
    assert err == (
        "error: the experiment runs until 2026-04-12; the result comes when it ends (to end it "
        "now: twitchwise experiment stop)\n"
    )
    today[0] = START + timedelta(days=3)
    code, out, err = run(["experiment", "stop", "--reason", "flu"], capsys)
    assert out == (
        "Stopped Cutting back on caffeine on 2026-03-05 (planned to run until 2026-04-12). "
        "'twitchwise experiment result' gives what it showed; a stopped experiment is reported "
        "as stopped.\n"
    )
    code, out, err = run(["experiment", "result", "--format", "json"], capsys)
    assert code == 0, err
    body = json.loads(out)
    assert body["experiment"]["state"] == "stopped" and body["effect"] is None
    assert any("Stopped early on 2026-03-05" in n and "flu" in n for n in body["notes"])
    assert any("Poor adherence" in n for n in body["notes"])
    assert any("Not enough days" in n for n in body["notes"])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["experiment", "start", "cofee"], "unknown experiment 'cofee'; did you mean 'caffeine'?"),
        (["experiment", "start", "caffeine", "--weeks", "0"], "--weeks must be from 1 to 52"),
        (["experiment", "start", "caffeine", "--washout-days", "9"], "--washout-days must be"),
        (["experiment", "start", "custom"], "say what you will change with --change"),
        (["experiment", "start", "sleep", "--format", "xml"], "unknown format 'xml'"),
        (["experiment", "status"], "there is no experiment yet; start one with"),
        (["experiment", "stop"], "there is no experiment yet"),
        (["experiment", "log", "--followed"], "there is no experiment yet"),
    ],
)
def test_cli_bad_input_is_one_line_and_status_2(
    home: Path, today: list[date], capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err, err
    with open_journal() as journal:
        assert journal.experiments() == []


def test_cli_second_start_is_refused(
    home: Path, today: list[date], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["experiment", "start", "sleep", "--format", "json"], capsys)[0] == 0
    code, out, err = run(["experiment", "start", "caffeine"], capsys)
    assert code == 2 and out == ""
    assert err == (
        "error: an experiment (sleep, started 2026-03-02) is still running until 2026-04-12; "
        "stop it first with 'twitchwise experiment stop'\n"
    )
    code, out, err = run(["experiment", "log", "--followed", "--date", "2026-03-01"], capsys)
    assert code == 2 and "is not a day of the experiment so far" in err


# ---------------------------------------------------------------------- analysis


def simulate(
    rng: random.Random,
    ratio: float,
    rate: float = 4.0,
    missed: float = 0.0,
    seed: int = 0,
    week_sd: float = 0.0,
) -> tuple[ExperimentRow, JournalSummary]:
    """Poisson days; ``week_sd``: each block's rate x exp(N(0, week_sd)) (good, bad weeks)."""
    schedule = draw_schedule(START, weeks=6, block_days=7, washout_days=2, seed=seed)
    weeks = [math.exp(rng.gauss(0, week_sd)) for _ in schedule.letters]
    episodes: list[EpisodeRow] = []
    check_ins: dict[date, bool] = {}
    for offset in range(schedule.days):
        day = START + timedelta(days=offset)
        lam = rate * (ratio if schedule.condition(day) == CHANGE else 1.0)
        lam *= weeks[offset // schedule.block_days]
        if rng.random() < missed:
            continue
        check_ins[day] = True
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        n, p, limit = 0, 1.0, math.exp(-lam)
        while (p := p * rng.random()) > limit:
            n += 1
        episodes += [EpisodeRow(f"{offset}-{i}", at, day) for i in range(n)]
    row = ExperimentRow(
        1, "caffeine", None, START, 7, 2, schedule.letters, seed,
        datetime(2026, 3, 2, tzinfo=UTC), check_ins=check_ins,
    )  # fmt: skip
    return row, JournalSummary.of(JournalData(episodes, [], [], []), 0)


AFTER = START + timedelta(days=60)


def test_a_strong_effect_is_found_and_said_plainly() -> None:
    rng = random.Random(7)
    found = 0
    for seed in range(20):  # 60% fewer twitches at 8 a day
        row, data = simulate(rng, 0.4, rate=8.0, seed=seed)
        result = experiment_result(row, CAFFEINE, data, AFTER)
        assert result.estimate is not None
        found += result.estimate.ci[1] < 1
    assert found >= 17
    assert result.summary.startswith("On cut-back days you logged ")
    assert "fewer twitches (95% interval " in result.summary
    assert result.status.state == "finished" and result.washout > 0
    out = result.render_terminal()
    assert "What this does not prove:" in out and "randomisation test over 8" in out
    svg = result_svg(result)
    assert svg.startswith("<svg") and "<title>" in svg and "Rate ratio" in svg


def test_no_effect_is_rarely_found_and_intervals_cover() -> None:
    rng = random.Random(11)
    false, covered = 0, 0
    for seed in range(40):
        row, data = simulate(rng, 1.0, seed=seed)
        e = experiment_result(row, CAFFEINE, data, AFTER).estimate
        assert e is not None
        false += e.detected
        covered += e.ci[0] <= 1 <= e.ci[1]
        assert 0 < e.randomisation_p <= 1 and e.smallest_p == 0.25
    assert false <= 4 and covered >= 36


def test_good_and_bad_weeks_are_not_taken_for_an_effect() -> None:
    """Whole weeks better or worse for reasons of their own (x exp(N(0, 0.3)) each): the
    interval weighs the difference against how much blocks vary, not days alone."""
    rng = random.Random(13)
    false, covered = 0, 0
    for seed in range(60):
        row, data = simulate(rng, 1.0, seed=seed, week_sd=0.3)
        e = experiment_result(row, CAFFEINE, data, AFTER).estimate
        assert e is not None and e.dispersion >= 1
        false += e.detected
        covered += e.ci[0] <= 1 <= e.ci[1]
    assert false <= 6 and covered >= 54


def test_the_estimate_is_the_quasi_poisson_model_of_the_block_totals() -> None:
    """The same rate ratio, standard error and t interval as statsmodels' Poisson GLM of the
    blocks' totals with the analysed days as exposure and the Pearson scale."""
    sm = pytest.importorskip("statsmodels.api")
    import numpy as np

    from twitchwise.insights.experiment import blocks_of, schedule_of

    row, data = simulate(random.Random(5), 0.6, seed=3, week_sd=0.3)
    result = experiment_result(row, CAFFEINE, data, AFTER)
    e = result.estimate
    assert e is not None
    blocks = blocks_of(result.days)
    assert len(blocks) == 6 and sum(n for _, n, _ in blocks) == result.usual_days + (
        result.change_days
    )
    x = np.array([1.0 if c == CHANGE else 0.0 for c, _, _ in blocks])
    fit = sm.GLM(
        np.array([float(t) for _, _, t in blocks]),
        sm.add_constant(x),
        family=sm.families.Poisson(),
        exposure=np.array([float(n) for _, n, _ in blocks]),
    ).fit(scale="X2")
    assert math.isclose(e.ratio, math.exp(fit.params[1]), rel_tol=1e-6)
    assert math.isclose(e.dispersion, max(fit.scale, 1.0), rel_tol=1e-6)
    se = fit.bse[1] * math.sqrt(max(fit.scale, 1.0) / fit.scale)
    t = scipy_t_ppf(0.975, 4)
    ci = (math.exp(fit.params[1] - t * se), math.exp(fit.params[1] + t * se))
    assert math.isclose(e.ci[0], ci[0], rel_tol=1e-6) and math.isclose(e.ci[1], ci[1], rel_tol=1e-6)
    assert e.allocations == 8 and schedule_of(row).letters == row.schedule


def scipy_t_ppf(q: float, df: int) -> float:
    stats = pytest.importorskip("scipy.stats")
    return float(stats.t.ppf(q, df))


def test_missed_days_are_left_out_and_reported() -> None:
    row, data = simulate(random.Random(3), 0.5, missed=0.3, seed=5)
    result = experiment_result(row, CAFFEINE, data, AFTER)
    missed = sum(1 for d in result.days if d.twitches is None)
    assert missed == result.status.missed > 0
    assert result.usual_days + result.change_days + result.washout + missed >= 42 - 2
    assert any("had no check-in and no twitch logged" in n for n in result.notes)


def test_adherence_from_the_factor_on_change_days() -> None:
    from twitchwise.journal.records import DayFactors
    from twitchwise.journal.rows import DayRow

    schedule = Schedule(START, 7, 0, "BA")
    days = [
        DayRow(START, DayFactors(caffeine_mg=80)),
        DayRow(START + timedelta(days=1), DayFactors(caffeine_mg=300)),
        DayRow(START + timedelta(days=8), DayFactors(caffeine_mg=300)),  # a usual day
    ]
    row = ExperimentRow(
        1, "caffeine", None, START, 7, 0, schedule.letters, 1, datetime(2026, 3, 2, tzinfo=UTC)
    )
    data = JournalSummary.of(JournalData([], days, [], []), 0)
    status = experiment_result(row, CAFFEINE, data, AFTER).status
    assert (status.adherence.followed, status.adherence.not_followed) == (1, 1)


# ---------------------------------------------------------------------- web


def test_web_api_status_check_in_and_result(
    tmp_path: Path, today: list[date], capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from twitchwise.journal.settings import JournalSettings
    from twitchwise.web.app import create_app
    from twitchwise.web.settings import WebSettings

    path = tmp_path / "journal.sqlite"
    settings = JournalSettings(f"sqlite:///{path}", path)
    client = TestClient(create_app(WebSettings(journal=settings)), base_url="http://127.0.0.1")
    r = client.get("/api/journal/experiment")
    assert r.status_code == 422 and "no experiment yet" in r.json()["error"]
    tw = Twitchwise(journal_settings=settings)
    with tw.open_journal() as journal:
        started = tw.experiment_start(journal, "caffeine")
    r = client.get("/api/journal/experiment")
    assert r.status_code == 200
    assert r.json() == started.to_dict() | {"checked_in_today": False}
    r = client.post("/api/journal/experiment/check-in", json={"followed": True})
    assert r.status_code == 200 and r.json()["adherence"]["followed"] == 1
    r = client.post("/api/journal/experiment/check-in", json={"followed": "maybe"})
    assert r.status_code == 422
    r = client.get("/api/journal/experiment/result")
    assert r.status_code == 422 and "runs until 2026-04-12" in r.json()["error"]
    today[0] = START + timedelta(days=50)
    r = client.get("/api/journal/experiment/result")
    assert r.status_code == 200 and r.json()["experiment"]["state"] == "finished"


def test_web_api_stop(tmp_path: Path, today: list[date]) -> None:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from twitchwise.journal.settings import JournalSettings
    from twitchwise.web.app import create_app
    from twitchwise.web.settings import WebSettings

    path = tmp_path / "journal.sqlite"
    settings = JournalSettings(f"sqlite:///{path}", path)
    client = TestClient(create_app(WebSettings(journal=settings)), base_url="http://127.0.0.1")
    r = client.post("/api/journal/experiment/stop", json={})
    assert r.status_code == 422 and "there is no experiment yet" in r.json()["error"]
    tw = Twitchwise(journal_settings=settings)
    with tw.open_journal() as journal:
        tw.experiment_start(journal, "caffeine")
    r = client.post("/api/journal/experiment/stop", json={"reason": "x" * 201})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    today[0] = START + timedelta(days=3)
    r = client.post("/api/journal/experiment/stop", json={"reason": "a cold"})
    assert r.status_code == 200
    assert (r.json()["state"], r.json()["today"]) == ("stopped", "2026-03-05")
    with tw.open_journal() as journal:
        assert tw.experiment_status(journal).to_dict() == r.json()
        row = journal.experiments()[-1]
    assert (row.stopped_on, row.stop_reason) == (START + timedelta(days=3), "a cold")
    r = client.post("/api/journal/experiment/stop", json={"reason": "again"})
    assert r.status_code == 422 and "no experiment is running" in r.json()["error"]
    r = client.get("/api/journal/experiment/result")
    assert r.status_code == 200 and r.json()["experiment"]["state"] == "stopped"
    assert any("Stopped early on 2026-03-05 (day 4 of 42): a cold." in n for n in r.json()["notes"])


def test_two_blocks_are_not_enough_to_weigh_a_difference() -> None:
    """Two blocks say nothing about how much blocks differ, so no interval is given."""
    schedule = Schedule(START, 7, 0, "AB")
    days = [START + timedelta(days=i) for i in range(14)]
    at = [datetime(d.year, d.month, d.day, 12, tzinfo=UTC) for d in days]
    episodes = [EpisodeRow(f"e{i}-{k}", at[i], d) for i, d in enumerate(days) for k in range(3)]
    row = ExperimentRow(
        1, "caffeine", None, START, 7, 0, schedule.letters, 1,
        datetime(2026, 3, 2, tzinfo=UTC), check_ins=dict.fromkeys(days, True),
    )  # fmt: skip
    data = JournalSummary.of(JournalData(episodes, [], [], []), 0)
    result = experiment_result(row, CAFFEINE, data, AFTER)
    assert result.estimate is None and (result.usual_days, result.change_days) == (7, 7)
    assert (
        "Not enough blocks to compare: 2 had analysed days, 3 are needed to weigh the "
        "difference against how much whole blocks vary."
    ) in result.notes
    assert result.summary == (
        "No effect could be estimated (21 twitches on usual days, 21 on cut-back days)."
    )
