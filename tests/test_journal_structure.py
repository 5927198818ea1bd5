"""The journal's structure: light modules stay light, every list of daily factors is the
registry's (twitchwise.journal.factors), and the rows read from the journal are typed."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from twitchwise.journal.factors import FACTORS
from twitchwise.journal.records import DAY_COLUMNS, DayFactors
from twitchwise.journal.rows import DayRow, EpisodeRow, JournalData, WorkoutRow


def loaded_after(statement: str, *modules: str) -> list[str]:
    """Which of ``modules`` a fresh Python has loaded after running ``statement``."""
    script = f"import sys; {statement}; print(*sorted(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return out.stdout.split()


# ---------------------------------------------------------------------- import weight


def test_records_load_neither_pydantic_nor_the_answer_layer() -> None:
    heavy = ("pydantic", "twitchwise.answer", "sqlalchemy")
    assert loaded_after("import twitchwise.journal.records", *heavy) == []


def test_a_file_reader_does_not_load_sqlalchemy() -> None:
    assert loaded_after("import twitchwise.journal.imports.gpx", "sqlalchemy") == []


def test_rows_and_export_do_not_load_sqlalchemy() -> None:
    statement = "import twitchwise.journal.rows, twitchwise.journal.export"
    assert loaded_after(statement, "sqlalchemy", "alembic") == []


# ---------------------------------------------------------------------- the factor registry


def test_day_factors_has_a_field_of_the_registrys_type_per_factor() -> None:
    numeric = {f.name: f.type for f in dataclasses.fields(DayFactors) if f.name in FACTORS}
    assert list(numeric) == list(FACTORS)
    for column, factor in FACTORS.items():
        assert numeric[column] == f"{factor.type.__name__} | None", column
    assert set(DAY_COLUMNS) - set(FACTORS) == {"workout_type", "medicines"}


def test_the_registry_is_consistent() -> None:
    for column, factor in FACTORS.items():
        assert factor.column == column
        assert factor.option == "--" + column.replace("_", "-")
        assert factor.low < factor.high and factor.step > 0
        assert factor.fhir.category in ("survey", "activity", "vital-signs")
    assert len({f.id for f in FACTORS.values()}) == len(FACTORS)


def test_the_days_table_has_a_column_per_factor() -> None:
    from sqlalchemy import Integer, SmallInteger

    from twitchwise.journal.models import Day

    for column, factor in FACTORS.items():
        kind = Day.__table__.columns[column].type
        assert isinstance(kind, Integer | SmallInteger) == factor.integer, column


def test_the_json_import_reads_every_day_column() -> None:
    from twitchwise.journal.imports.journal_json import DayJSON

    assert set(DayJSON.model_fields) == {"date", *DAY_COLUMNS}


def test_the_daily_csv_has_the_registrys_csv_factors_in_order() -> None:
    from twitchwise.journal.imports.daily_csv import COLUMNS

    assert ("date", "twitches", *(c for c, f in FACTORS.items() if f.csv)) == COLUMNS


def test_log_day_has_the_registrys_option_for_every_factor() -> None:
    import typer.main

    from twitchwise.cli import app

    day = typer.main.get_command(app).commands["log"].commands["day"]  # type: ignore[attr-defined]
    options = {param.opts[0]: param for param in day.params}
    for factor in FACTORS.values():
        param = options[factor.option]
        assert param.name == factor.column
        assert param.help == factor.help
        assert param.type.name == factor.type.__name__, factor.option


def test_the_insights_steps_names_and_fhir_codes_are_the_registrys() -> None:
    from twitchwise.insights.stats import NAMES, STEPS

    assert list(STEPS) == list(NAMES) == list(FACTORS)
    assert {c: f.words for c, f in FACTORS.items()} == NAMES


def test_the_api_and_the_web_form_take_the_registrys_factors() -> None:
    pytest.importorskip("fastapi")
    from twitchwise.web.models import DayIn, DayPublic
    from twitchwise.web.routes.pages import DAY_FIELDS

    assert set(DayIn.model_fields) == set(DAY_COLUMNS)
    assert set(DayPublic.model_fields) == {"date", *DAY_COLUMNS}
    for column, factor in FACTORS.items():
        info = DayIn.model_fields[column]
        assert info.description == factor.label
    shown = [f for f in FACTORS.values() if f.form_step]
    assert tuple((f.column, f.title, f.unit, f"{f.form_step:g}") for f in shown) == DAY_FIELDS


# ---------------------------------------------------------------------- typed rows


def test_rows_are_typed_frozen_and_give_the_export_shape() -> None:
    at = datetime(2026, 3, 1, 13, 30, tzinfo=UTC)
    episode = EpisodeRow("u1", at, date(2026, 3, 2), region="region_calf", intensity=2)
    day = DayRow(date(2026, 3, 2), DayFactors(caffeine_mg=200.0, medicines=("a", "b")))
    workout = WorkoutRow(at, 600.0, sport="running")
    with pytest.raises(dataclasses.FrozenInstanceError):
        episode.note = "changed"  # type: ignore[misc]
    data = JournalData([episode], [day], [workout])
    assert data.to_dict() == {
        "episodes": [
            {
                "uid": "u1", "at": "2026-03-01T13:30:00+00:00", "date": "2026-03-02",
                "region": "region_calf", "side": None, "intensity": 2, "duration_s": None,
                "note": None, "source": "log",
            }
        ],
        "days": [{"date": "2026-03-02", **dict.fromkeys(DAY_COLUMNS), "caffeine_mg": 200.0,
                  "medicines": ["a", "b"]}],
        "workouts": [
            {
                "start": "2026-03-01T13:30:00+00:00", "duration_s": 600.0, "sport": "running",
                "distance_m": None, "energy_kj": None, "avg_hr_bpm": None, "source_file": None,
            }
        ],
        "experiments": [],
    }  # fmt: skip
    again = JournalData.from_dicts(**data.to_dict())
    assert again == data and again.problems == []


def test_rows_made_by_hand_outside_the_date_rule_are_left_out_and_named() -> None:
    early = EpisodeRow("old", datetime(1850, 1, 1, tzinfo=UTC), date(1850, 1, 1))
    fine = EpisodeRow("new", datetime(2025, 1, 1, tzinfo=UTC), date(2025, 1, 1))
    future = DayRow(date(9999, 12, 31), DayFactors(stress=2))
    data = JournalData([early, fine], [future], [])
    assert (data.episodes, data.days) == ([fine], [])
    assert [p.split(":")[0] for p in data.problems] == [
        "Left out episode old dated 1850-01-01",
        "Left out day 9999-12-31 dated 9999-12-31",
    ]
