"""``twitchwise cohort export`` (docs/cohort.md#the-export), on SQLite and on PostgreSQL: only
consenting, enabled accounts; withdrawn consent honoured (in a later export, and in a resumed
one); no free text, account id or email anywhere in the folder; ages banded, dates moved by
whole weeks, regions on the vocabulary; the insights' model's effects; the self-experiments'
results (finished and stopped ones; a change of one's own as ``other``, never its words nor
why it was stopped); ``cohort report`` on the folder as it is, with its small-cell rule; an
interrupted export resumed to the same cohort as one run, never mistaken for a whole one;
one line and exit status 2 for bad input; memory that does not grow with the number of
people."""

from __future__ import annotations

import json
import math
import random
import re
import secrets
import sqlite3
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import run
from server_db import database, pg_execute, pg_problem, pg_schema, pg_url

pytest.importorskip("argon2", reason="the server extra is not installed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")

from argon2 import PasswordHasher  # noqa: E402

from twitchwise.cli import main  # noqa: E402
from twitchwise.cohort import export as cx  # noqa: E402
from twitchwise.cohort import format as cf  # noqa: E402
from twitchwise.cohort.report import MIN_CELL  # noqa: E402
from twitchwise.errors import InputError  # noqa: E402
from twitchwise.journal.records import (  # noqa: E402
    Batch,
    DayFactors,
    EpisodeIn,
    ExperimentIn,
    FileInfo,
    WorkoutIn,
)
from twitchwise.journal.settings import JournalSettings  # noqa: E402
from twitchwise.journal.store import open_journal  # noqa: E402
from twitchwise.server.accounts import AccountInfo, Accounts, AnswerInfo  # noqa: E402
from twitchwise.server.credentials import Passwords  # noqa: E402
from twitchwise.server.db import make_engine, upgrade  # noqa: E402

KEY = "0f" * 32  # 64 characters
START = date(2025, 1, 6)  # a Monday
PASSWORD = "a long enough password"
HEX16 = re.compile(r"[0-9a-f]{16}")


def cheap() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Person:
    account: AccountInfo
    marker: str  # in their email, notes, medicines, workout names and file names
    kind: str  # "yes" (consents, has a journal), "empty", "no" (no consent) or "disabled"

    @property
    def exported(self) -> bool:
        return self.kind == "yes"


@dataclass
class Hosted:
    url: str
    people: list[Person]
    accounts: Accounts
    key_file: Path

    def withdraw(self, person: Person) -> None:
        self.accounts.set_consent(person.account.id, False)

    def export(self, out: Path, *more: str) -> list[str]:
        return ["cohort", "export", "--database-url", self.url, "--key-file",
                str(self.key_file), "--out", str(out), *more]  # fmt: skip


def journal_of(seed: int, days: int, marker: str) -> Batch:
    """A person's journal: daily factors, twitches that rise with caffeine, and free text
    carrying ``marker`` everywhere the journal has any."""
    rng = random.Random(seed)
    out_days: dict[date, DayFactors] = {}
    episodes: list[EpisodeIn] = []
    regions = ["region_calf", "region_eyelid", "region_tongue", "left knee", "calf", None]
    base = rng.uniform(-0.5, 0.5)
    for i in range(days):
        day = START + timedelta(days=i)
        caffeine = rng.choice([0, 100, 200, 300, 400])
        out_days[day] = DayFactors(
            caffeine_mg=caffeine,
            sleep_h=round(rng.uniform(5, 9), 1),
            stress=rng.randrange(0, 11),
            medicines=(f"PILL-{marker}",),
            workout_type=f"YOGA-{marker}",
        )
        rate = math.exp(base + 0.25 * (caffeine - 200) / 100)
        count = sum(rng.random() < rate / 4 for _ in range(4 + int(rate)))
        for j in range(count):
            at = datetime(day.year, day.month, day.day, 7 + j, 15, tzinfo=UTC)
            episodes.append(EpisodeIn(at=at, day=day, region=rng.choice(regions),
                                      note=f"NOTE-{marker} felt it {j}"))  # fmt: skip
    workouts = [WorkoutIn(datetime(2025, 1, 8, 18, tzinfo=UTC), 1800, sport=f"SPORT-{marker}")]
    return Batch("json", days=out_days, episodes=episodes, workouts=workouts,
                 experiments=experiments_of(seed, days, marker))  # fmt: skip


def experiments_of(seed: int, days: int, marker: str) -> list[ExperimentIn]:
    """Self-experiments, by ``seed`` modulo 3: a finished caffeine one then a finished sleep
    one; a change of one's own (its words carrying ``marker``) stopped early (why, too); or
    one still running (started three days ago)."""
    rng = random.Random(seed)

    def one(kind: str, start: date, schedule: str, *, change: str | None = None,
            stopped: date | None = None, reason: str | None = None) -> ExperimentIn:  # fmt: skip
        last = start + timedelta(days=7 * len(schedule) - 1)
        check_ins = {
            start + timedelta(days=i): rng.random() < 0.9
            for i in range(((stopped or last) - start).days + 1)
            if start + timedelta(days=i) < START + timedelta(days=days) and rng.random() < 0.9
        }
        return ExperimentIn(kind, change, start, 7, 2, schedule, rng.getrandbits(40),
                            datetime(start.year, start.month, start.day, tzinfo=UTC),
                            stopped, reason, check_ins)  # fmt: skip

    if seed % 3 == 0:
        return [one("caffeine", START, "ABBABA"),
                one("sleep", START + timedelta(days=42), "BAABAB")]  # fmt: skip
    if seed % 3 == 1:
        stopped = START + timedelta(days=7 + 31)
        return [one("custom", START + timedelta(days=7), "ABBABAAB",
                    change=f"CHANGE-{marker} no screens after ten", stopped=stopped,
                    reason=f"STOP-{marker} felt worse")]  # fmt: skip
    return [one("caffeine", date.today() - timedelta(days=3), "ABBABA")]


def profile_of(i: int) -> tuple[str | None, str | None]:
    """The profile person ``i`` chose (some give neither, some one of the two)."""
    band = cf.AGE_BANDS[i % len(cf.AGE_BANDS)] if i % 4 != 3 else None
    sex = cf.SEXES[i % 2] if i % 5 != 4 else None
    return band, sex


def answers_of(i: int) -> list[tuple[date, str]]:
    """The day and triage level of each answer the hosted app gave person ``i``: two on one
    day (the more urgent one wins), one on another, none for every third person."""
    if i % 3 == 2:
        return []
    day = START + timedelta(days=3 + i)
    return [(day, "self_care"), (day, cf.LEVELS[1 + i % 3]),
            (day + timedelta(days=20), cf.LEVELS[i % 4])]  # fmt: skip


def recorded(i: int, day: date, level: str, marker: str) -> AnswerInfo:
    """An answer as the hosted app records it for person ``i``: an interview's (even
    ``i``) or not; an id of the knowledge base's form that it does not have (the person's
    marker, in lower case: never in the export, where it is ``other``), words not
    understood for some."""
    unknown = marker.lower()
    questions = ("emergency_signs", "where", unknown) if i % 2 == 0 else ()
    return AnswerInfo(day, level, questions, ("twitching", unknown, "region_calf"), i % 3)


def most_urgent(i: int) -> dict[date, str]:
    out: dict[date, str] = {}
    for day, level in answers_of(i):
        if day not in out or cf.LEVELS.index(level) > cf.LEVELS.index(out[day]):
            out[day] = level
    return out


def populate(url: str, tmp_path: Path, *, consenting: int = 12, days: int = 84) -> Hosted:
    """An upgraded database with ``consenting`` people who consent and have journals, one
    who consents with an empty journal, two who do not consent (with journals) and one who
    consents but is disabled."""
    engine = make_engine(url)
    open_journal(JournalSettings.from_url(url)).close()  # twitchwise db upgrade, quietly
    upgrade(engine)
    accounts = Accounts(engine, passwords=cheap())
    people: list[Person] = []
    plan = [("yes", True)] * consenting + [("empty", True), ("no", False), ("no", False),
                                           ("disabled", True)]  # fmt: skip
    with open_journal(JournalSettings.from_url(url)) as root:
        for i, (kind, consent) in enumerate(plan):
            marker = f"M{i:02d}X{secrets.token_hex(3)}"
            made = accounts.create_account(f"{marker.lower()}@example.org", PASSWORD,
                                           consent=consent)  # fmt: skip
            if kind == "disabled":
                accounts.disable_account(made.id)
            band, sex = profile_of(i)
            accounts.set_profile(made.id, age_band=band, sex=sex)
            for day, level in answers_of(i) if kind != "empty" else []:  # only with consent
                accounts.record_answer(made.id, recorded(i, day, level, marker))
            if kind != "empty":
                info = FileInfo(f"FILE-{marker}.json", secrets.token_hex(32), 10, "json")
                root.for_owner(made.id).import_files([(info, journal_of(i, days, marker))])
            people.append(Person(made, marker, kind))
    key_file = tmp_path / "cohort.key"
    key_file.write_text(KEY + "\n")
    return Hosted(url, people, accounts, key_file)


@pytest.fixture(scope="module")
def sqlite_site(tmp_path_factory: pytest.TempPathFactory) -> Hosted:
    folder = tmp_path_factory.mktemp("hosted")
    return populate(f"sqlite:///{folder / 'hosted.sqlite'}", folder)


@pytest.fixture(scope="module")
def exported(sqlite_site: Hosted, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "cohort"
    assert main(sqlite_site.export(out, "--batch-size", "5")) == 0
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hosted]:
    with database(request.param, tmp_path) as url:
        hosted = populate(url, tmp_path)
        yield hosted
        hosted.accounts.engine.dispose()


def tables(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, sorted (the partition column left out)."""
    out = {}
    for table in cf.TABLES:
        rows = pq.read_table(folder / table).drop_columns(["bucket"]).to_pylist()
        out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def pseudonyms(site: Hosted, who: list[Person]) -> set[str]:
    key = cx.ExportKey(KEY.encode())
    return {key.person_id(p.account.id) for p in who}


def report_json(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(["cohort", "report", str(folder), "--format", "json"], capsys)
    assert code == 0, err
    return dict(json.loads(out))


# --------------------------------------------------------------------------- who is in it


def test_only_consenting_people_and_withdrawn_consent_honoured(
    site: Hosted, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first"
    code, out, err = run(site.export(first, "--batch-size", "4"), capsys)
    assert code == 0, err
    assert out.strip() == (
        f"exported 12 people to {first} (1 consenting account had nothing to export)"
    )
    in_it = {p["person_id"] for p in tables(first)["people"]}
    assert in_it == pseudonyms(site, [p for p in site.people if p.exported])
    outside = [p for p in site.people if not p.exported]
    assert not in_it & pseudonyms(site, outside)
    manifest = cf.read_manifest(first)
    assert manifest.people == 12 and manifest.buckets == 8
    # each person's age band and sex exactly as their profile gives them (null: not given)
    key = cx.ExportKey(KEY.encode())
    chosen = {
        key.person_id(p.account.id): dict(zip(("age_band", "sex"), profile_of(i), strict=True))
        for i, p in enumerate(site.people)
    }
    people_rows = tables(first)["people"]
    assert {r["person_id"]: {"age_band": r["age_band"], "sex": r["sex"]}
            for r in people_rows} == {pid: chosen[pid] for pid in in_it}  # fmt: skip
    assert {r["age_band"] for r in people_rows} > {None} and {r["sex"] for r in people_rows} > {
        None
    }

    # the report reads the folder as it is, with its small-cell rule
    data = report_json(first, capsys)
    assert data["cohort"]["people"] == 12
    assert [f["factor"] for f in data["factors"]][:3] == ["caffeine_mg"] * 3
    caffeine = data["factors"][0]
    assert caffeine["lag_days"] == 0 and caffeine["ci"][0] > 1  # the planted effect
    _check_small_cells(data)
    # self-experiments: of consenting people only; under 10 people per change, none pooled
    ran = {r["person_id"] for r in tables(first)["experiments"]}
    assert ran == pseudonyms(site, [p for p in site.people[:12] if int(p.marker[1:3]) % 3 != 2])
    assert data["experiments"] == []
    assert {s["item"] for s in data["suppressed"] if s["table"] == "experiments"} == {
        "caffeine", "sleep", "other"
    }

    # consent withdrawn: in no later export
    gone = site.people[0]
    site.withdraw(gone)
    second = tmp_path / "second"
    code, out, err = run(site.export(second), capsys)
    assert code == 0, err
    in_it = {p["person_id"] for p in tables(second)["people"]}
    assert in_it == pseudonyms(site, [p for p in site.people if p.exported and p is not gone])
    for table, rows in tables(second).items():
        assert pseudonyms(site, [gone]).isdisjoint(r["person_id"] for r in rows), table
    assert report_json(second, capsys)["cohort"]["people"] == 11


def test_triage_levels_are_the_most_urgent_recorded_answer_of_the_day(
    site: Hosted, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each exported day's triage level is the most urgent of the answers the hosted app
    recorded for the person that day (moved with their dates); null on the other days; a
    person who withdraws consent loses every recorded answer."""
    out = tmp_path / "levels"
    code, _, err = run(site.export(out), capsys)
    assert code == 0, err
    key = cx.ExportKey(KEY.encode())
    days = tables(out)["days"]
    expected: dict[tuple[str, date], str] = {}
    for i, person in enumerate(site.people):
        if person.exported:
            shift = timedelta(days=key.shift_days(person.account.id))
            pid = key.person_id(person.account.id)
            expected.update({(pid, d + shift): lvl for d, lvl in most_urgent(i).items()})
    found = {(r["person_id"], r["date"]): r["triage_level"] for r in days if r["triage_level"]}
    assert found == expected and len(found) >= 10
    assert {v for v in found.values()} <= set(cf.LEVELS)
    gone = site.people[0]
    assert site.accounts.answers(gone.account.id)
    site.withdraw(gone)
    assert site.accounts.answers(gone.account.id) == []
    never = [p for p in site.people if p.kind == "no"]
    assert all(site.accounts.answers(p.account.id) == [] for p in never)


def test_the_answers_are_the_recorded_answers_of_consenting_people(
    site: Hosted, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One row per recorded answer of each exported person, the day moved like their days,
    the level, the ids (one the knowledge base does not have as ``other``) and the count;
    none of anyone else; a person who withdraws consent is in no later export's answers. A
    consenting person with answers and no journal is exported with them (no days)."""
    key = cx.ExportKey(KEY.encode())
    only = site.accounts.create_account("only-answers@example.org", PASSWORD, consent=True)
    site.accounts.set_profile(only.id, age_band="30-39", sex=None)
    mine = [AnswerInfo(START + timedelta(days=5), "see_doctor_urgent", (), ("twitching",), 1),
            AnswerInfo(START + timedelta(days=9), "self_care", ("where",), (), 0)]  # fmt: skip
    for a in mine:
        assert site.accounts.record_answer(only.id, a)
    out = tmp_path / "answers"
    code, stdout, err = run(site.export(out), capsys)
    assert code == 0, err
    assert stdout.startswith("exported 13 people") and "1 consenting account had nothing" in stdout
    alone, shift = key.person_id(only.id), timedelta(days=key.shift_days(only.id))
    assert [r for r in tables(out)["people"] if r["person_id"] == alone] == [
        {"person_id": alone, "age_band": "30-39", "sex": None}
    ]
    assert not [r for t in ("days", "effects", "experiments") for r in tables(out)[t]
                if r["person_id"] == alone]  # fmt: skip
    rows = tables(out)["answers"]
    expected = [
        {"person_id": alone, "date": a.day + shift, "triage_level": a.triage_level,
         "questions": list(a.questions), "findings": list(a.findings),
         "not_understood": a.not_understood}
        for a in mine
    ]  # fmt: skip
    for i, person in enumerate(site.people):
        if not person.exported:
            continue
        pid = key.person_id(person.account.id)
        shift = timedelta(days=key.shift_days(person.account.id))
        for day, level in answers_of(i):
            a = recorded(i, day, level, person.marker)
            expected.append({
                "person_id": pid, "date": day + shift, "triage_level": level,
                "questions": ["emergency_signs", "where", "other"] if a.questions else [],
                "findings": ["twitching", "other", "region_calf"],
                "not_understood": i % 3,
            })  # fmt: skip
    order = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
    assert sorted(rows, key=order) == sorted(expected, key=order) and len(rows) >= 20
    # each answer's day moved exactly like the person's days (the same weekday, the days'
    # triage level the most urgent of the answers that day)
    days = {(r["person_id"], r["date"]): r["triage_level"] for r in tables(out)["days"]}
    for r in rows:
        if (r["person_id"], r["date"]) in days:
            level = days[(r["person_id"], r["date"])]
            assert cf.LEVELS.index(level) >= cf.LEVELS.index(r["triage_level"])
    # the report: its answers sections under the small-cell rule (9 people with answers:
    # nothing of them shown, every id listed as held back)
    assert len({r["person_id"] for r in rows}) == 9
    data = report_json(out, capsys)
    _check_small_cells(data)
    answers = data["answers"]
    assert answers["findings"] == answers["questions"] == []
    assert answers["not_understood"]["people"] is None
    assert all(groups == [] for groups in answers["levels"].values())
    held = {(s["table"], s["item"]) for s in data["suppressed"]}
    assert {("findings", "twitching"), ("findings", "other"), ("findings", "region_calf"),
            ("questions", "where"), ("not understood", None)} <= held  # fmt: skip
    # withdrawn: in no later export
    gone = site.people[0]
    site.withdraw(gone)
    again = tmp_path / "again"
    assert run(site.export(again), capsys)[0] == 0
    later = tables(again)["answers"]
    assert later and key.person_id(gone.account.id) not in {r["person_id"] for r in later}
    assert len(later) == len(rows) - len(answers_of(0))
    assert site.accounts.delete_account(only.id)  # and a deleted account's, the same
    last = tmp_path / "last"
    assert run(site.export(last), capsys)[0] == 0
    assert alone not in {r["person_id"] for t in tables(last).values() for r in t}


def test_consenting_accounts_are_listed_a_page_at_a_time(site: Hosted) -> None:
    wanted = sorted(
        (p.account.id for p in site.people if p.kind in ("yes", "empty")),
        key=lambda i: i.bytes,
    )
    assert len(wanted) == 13  # 12 with journals, 1 without; not the disabled one
    for page in (1, 3, 13, 500):
        assert list(site.accounts.consenting_accounts(page=page)) == wanted
    site.withdraw(site.people[5])
    listed = list(site.accounts.consenting_accounts(page=4))
    assert site.people[5].account.id not in listed and len(listed) == 12


def _check_small_cells(data: dict[str, Any]) -> None:
    counted = {"people", "twitching", "own_above", "own_below", "people_twitching",
               "own_excludes", "own_fewer", "own_more", "without_effect", "stopped_early",
               "people_with"}  # fmt: skip

    def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, k)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v, key)
        else:
            yield key, value

    shown = [v for k, v in walk(data) if k in counted and v is not None]
    assert shown and all(v == 0 or v >= MIN_CELL for v in shown), shown
    assert data["suppressed"], "weeks at the edges hold fewer than 10 people"
    weeks = {g["group"] for g in data["groups"]["week"]}
    held = {s["group"] for s in data["suppressed"] if s["table"] == "people by week"}
    assert held and not held & weeks


def test_a_role_under_row_level_security_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app's role sees no account to list: one line saying so, not an empty export."""
    if pg_problem() is not None:
        pytest.skip(pg_problem() or "")
    with pg_schema() as schema:
        site = populate(pg_url(schema), tmp_path, consenting=2, days=10)
        role = "tw_cohort_" + secrets.token_hex(6)
        pg_execute(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
        )
        try:
            site.url = pg_url(schema, user=role)
            out = tmp_path / "cohort"
            code, stdout, err = run(site.export(out), capsys)
            assert code == 2 and stdout == ""
            assert err.count("\n") == 1 and "BYPASSRLS" in err, err
            assert not out.exists() and not Path(f"{out}.partial").exists()
        finally:
            site.accounts.engine.dispose()
            pg_execute(f"DROP OWNED BY {role}", f"DROP SCHEMA {schema} CASCADE",
                       f"DROP ROLE {role}")  # fmt: skip


def test_an_export_of_no_one_still_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    capsys.readouterr()
    (tmp_path / "k").write_text(KEY)
    out = tmp_path / "cohort"
    argv = ["cohort", "export", "--database-url", url, "--key-file", str(tmp_path / "k"),
            "--out", str(out)]  # fmt: skip
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert stdout.startswith("exported 0 people")
    assert report_json(out, capsys)["cohort"] == {"people": None}


# --------------------------------------------------------------------------- privacy


def test_no_free_text_raw_id_or_email_anywhere(exported: Path, sqlite_site: Hosted) -> None:
    secrets_ = set()
    for p in sqlite_site.people:
        secrets_ |= {p.marker, p.marker.lower(), p.account.email, str(p.account.id),
                     p.account.id.hex}  # fmt: skip
    allowed = {value for values in cf.VOCABULARY.values() for value in values}
    ids = cf.read_manifest(exported).vocabulary()
    assert len(ids["questions"]) > 100 and len(ids["findings"]) > 100  # the knowledge base's
    assert stat.S_IMODE(exported.stat().st_mode) == 0o700
    files = sorted(exported.rglob("*"))
    assert {f.name for f in files if f.is_file() and f.suffix != ".parquet"} == {"cohort.json"}
    for f in files:
        assert not any(s.lower() in str(f).lower() for s in secrets_), f
        if not f.is_file():
            continue
        raw = f.read_bytes()
        assert not any(s.encode() in raw for s in secrets_), f
        if f.suffix != ".parquet":
            continue
        parquet = pq.ParquetFile(f)
        metadata = parquet.schema_arrow.metadata or {}
        assert not any(s.encode() in b"".join([*metadata, *metadata.values()]) for s in secrets_)
        table = parquet.read()
        assert set(table.column_names) <= set(cf.COLUMNS[f.parent.parent.name])
        for field in table.schema:
            values = table.column(field.name).to_pylist()
            if pa.types.is_string(field.type):
                for value in values:
                    assert (
                        value is None
                        or value in allowed
                        or (field.name == "person_id" and HEX16.fullmatch(value))
                    ), (f, field.name, value)
            elif pa.types.is_list(field.type):  # the answers' ids: the manifest's
                assert field.name in cf.ANSWER_IDS, field
                for value in values:
                    assert set(value) <= set(ids[field.name]), (f, field.name, value)
            else:
                assert (
                    pa.types.is_floating(field.type)
                    or pa.types.is_integer(field.type)
                    or pa.types.is_date(field.type)
                    or pa.types.is_boolean(field.type)
                ), field


def test_ages_are_banded_and_regions_on_the_vocabulary() -> None:
    assert [cx.age_band(a) for a in (None, 12, 17, 18, 29, 30, 39, 45, 59, 60, 69, 70, 101)] == [
        None, None, None, "18-29", "18-29", "30-39", "30-39", "40-49", "50-59", "60-69",
        "60-69", "70+", "70+",
    ]  # fmt: skip
    assert cx.format_region("region_calf") == "calf"
    assert cx.format_region("Region_Hamstring") == "thigh"
    assert cx.format_region("region_tongue") == "face"
    assert cx.format_region("my left knee, after the run") == "other"
    assert cx.format_region("  ") is None and cx.format_region(None) is None
    assert set(cx.REGION_OF.values()) <= set(cf.REGIONS)

    from twitchwise.journal.rows import JournalData
    from twitchwise.journal.summary import JournalSummary

    batch = journal_of(1, 40, "AGE")
    from twitchwise.journal.rows import DayRow, EpisodeRow

    data = JournalData(
        [EpisodeRow(f"u{i}", e.at, e.day, e.region, note=e.note) for i, e in
         enumerate(batch.episodes)],
        [DayRow(day, factors) for day, factors in sorted(batch.days.items())],
        [],
    )  # fmt: skip
    summary = JournalSummary.of(data, 0)
    cases = [(35, "female", "30-39", "female"), (72, "intersex", "70+", None),
             (None, None, None, None)]  # fmt: skip
    for age, sex, band, written in cases:
        rows = cx.person_rows(summary, person_id="00000000000000ab", shift_days=7, buckets=4,
                              age=age, sex=sex)  # fmt: skip
        assert rows is not None
        assert rows.people.to_pylist() == [
            {"person_id": "00000000000000ab", "age_band": band, "sex": written}
        ]
        assert rows.people.schema.names == ["person_id", "age_band", "sex"]
    for band, written in (("40-49", "40-49"), ("1980-05-01", None), (None, None)):
        rows = cx.person_rows(summary, person_id="00000000000000ab", shift_days=7, buckets=4,
                              age_band=band, sex="male")  # fmt: skip
        assert rows is not None and rows.people.to_pylist() == [
            {"person_id": "00000000000000ab", "age_band": written, "sex": "male"}
        ]  # a chosen band as it is; never anything else


def test_dates_are_moved_by_whole_weeks_and_counts_kept(
    exported: Path, sqlite_site: Hosted
) -> None:
    key = cx.ExportKey(KEY.encode())
    days = tables(exported)["days"]
    shifts = set()
    with open_journal(JournalSettings.from_url(sqlite_site.url)) as root:
        for person in [p for p in sqlite_site.people if p.exported][:4]:
            pid = key.person_id(person.account.id)
            shift = key.shift_days(person.account.id)
            shifts.add(shift)
            assert shift in (-21, -14, -7, 7, 14, 21)
            mine = {r["date"]: r for r in days if r["person_id"] == pid}
            summary = root.for_owner(person.account.id).summary(notes_days=0)
            counts = summary.day_counts()
            where: dict[date, Counter[str]] = {}
            for g in summary.groups:
                if g.region is not None:
                    region = cx.format_region(g.region) or ""
                    where.setdefault(g.date, Counter())[region] += g.count
            # the days the insights analyse: from the first twitch to the last entry
            first = min(counts)
            assert START <= first < START + timedelta(days=7)
            assert len(mine) == (START + timedelta(days=83) - first).days + 1
            for i in range(len(mine)):
                day = first + timedelta(days=i)
                row = mine[day + timedelta(days=shift)]
                assert row["date"].weekday() == day.weekday()
                assert row["twitch_count"] == counts.get(day, 0)
                if day in where:
                    top = max(where[day].values())
                    assert where[day][row["region"]] == top
                else:  # no twitch, or none with a region given
                    assert row["region"] is None
    assert len(shifts) > 1, "each person is moved by their own number of weeks"


def test_the_effects_are_those_of_the_insights_model(exported: Path, sqlite_site: Hosted) -> None:
    from twitchwise.insights.stats import ALPHA, daily_series, estimate_effects, t_ppf

    key = cx.ExportKey(KEY.encode())
    effects = tables(exported)["effects"]
    person = sqlite_site.people[3]
    pid = key.person_id(person.account.id)
    with open_journal(JournalSettings.from_url(sqlite_site.url)) as root:
        summary = root.for_owner(person.account.id).summary()
    result = estimate_effects(daily_series(summary))
    expected = {(e.factor, e.lag_days): e for e in result.effects if e.factor in cf.FACTORS}
    mine = {(r["factor"], r["lag_days"]): r for r in effects if r["person_id"] == pid}
    assert set(mine) == set(expected) and len(mine) == 9  # caffeine, sleep, stress at 3 lags
    crit = t_ppf(1 - ALPHA / 2, result.residual_df)
    for k, row in mine.items():
        e = expected[k]
        assert row["log_rr"] == pytest.approx(math.log(e.effect), rel=1e-9)
        low, high = (
            math.exp(row["log_rr"] - crit * row["se"]),
            math.exp(row["log_rr"] + crit * row["se"]),
        )
        assert (low, high) == pytest.approx(e.ci, rel=1e-9)
        assert row["n_days"] == result.days > 80


def test_the_experiments_are_those_of_the_experiment_analysis(
    exported: Path, sqlite_site: Hosted
) -> None:
    """Each consenting person's finished and stopped experiments, one row each, with the
    numbers ``twitchwise experiment result`` gives them (the days and twitches of each
    condition, the blocks' dispersion); a running one is left out."""
    from twitchwise.app.core import Twitchwise
    from twitchwise.app.experiment import results_of
    from twitchwise.insights.experiment import ALPHA, blocks_of
    from twitchwise.insights.stats import t_ppf

    key = cx.ExportKey(KEY.encode())
    rows = tables(exported)["experiments"]
    tw = Twitchwise()
    seen: Counter[tuple[str, bool, bool]] = Counter()
    with open_journal(JournalSettings.from_url(sqlite_site.url)) as root:
        for person in sqlite_site.people:
            pid, shift = key.person_id(person.account.id), key.shift_days(person.account.id)
            mine = sorted((r for r in rows if r["person_id"] == pid),
                          key=lambda r: r["start_date"])  # fmt: skip
            journal = root.for_owner(person.account.id)
            stored = journal.experiments()
            if not person.exported:
                assert not mine
                continue
            results = results_of(tw, stored, journal.summary(0), date.today())
            assert len(mine) == len(results)
            for row, result in zip(mine, results, strict=True):
                s = result.status
                assert row["change"] == ("other" if s.kind == "custom" else s.kind)
                assert row["start_date"] == s.started_on + timedelta(days=shift)
                assert row["start_date"].weekday() == s.started_on.weekday()
                assert (row["block_days"], row["blocks"]) == (7, len(s.schedule))
                analysed = len(blocks_of(result.days))
                assert row["blocks_analysed"] == analysed
                assert row["days"] == len(result.days)
                assert row["days_analysed"] == result.usual_days + result.change_days
                assert (row["usual_days"], row["change_days"]) == (result.usual_days,
                                                                   result.change_days)
                assert (row["usual_twitches"], row["change_twitches"]) == (
                    result.usual_twitches, result.change_twitches)  # fmt: skip
                assert row["adherence"] == pytest.approx(s.adherence.share)
                assert row["stopped_early"] == (s.state == "stopped")
                e = result.estimate
                assert (row["log_rr"] is None) == (e is None)
                if e is not None:
                    crit = t_ppf(1 - ALPHA / 2, analysed - 2)
                    assert row["log_rr"] == pytest.approx(math.log(e.ratio), rel=1e-9)
                    ci = (math.exp(row["log_rr"] - crit * row["se"]),
                          math.exp(row["log_rr"] + crit * row["se"]))  # fmt: skip
                    assert ci == pytest.approx(e.ci, rel=1e-9)
                    assert row["dispersion"] == pytest.approx(e.pearson, rel=1e-12)
                    assert e.dispersion == max(row["dispersion"], 1.0)
                else:
                    assert row["dispersion"] is None
                seen[(row["change"], row["stopped_early"], e is not None)] += 1
            assert len(stored) - len(results) == (1 if int(person.marker[1:3]) % 3 == 2 else 0)
    # finished caffeine and sleep experiments with effects; stopped changes of one's own
    assert seen[("caffeine", False, True)] == 4 and seen[("sleep", False, True)] == 4
    assert seen[("other", True, True)] + seen[("other", True, False)] == 4


def test_the_key_makes_the_pseudonyms(
    sqlite_site: Hosted, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The same key (from TWITCHWISE_COHORT_KEY this time) gives the same cohort; another key
    gives other ids, none of the first."""
    monkeypatch.setenv("TWITCHWISE_COHORT_KEY", KEY)
    same = tmp_path / "same"
    argv = ["cohort", "export", "--database-url", sqlite_site.url, "--out", str(same)]
    assert run(argv, capsys)[0] == 0
    assert tables(same) == tables(exported)
    monkeypatch.setenv("TWITCHWISE_COHORT_KEY", "another secret key of enough length, 32+")
    other = tmp_path / "other"
    assert run(["cohort", "export", "--database-url", sqlite_site.url, "--out", str(other)],
               capsys)[0] == 0  # fmt: skip
    first = {r["person_id"] for r in tables(exported)["people"]}
    second = {r["person_id"] for r in tables(other)["people"]}
    assert len(second) == 12 and not first & second


# --------------------------------------------------------------------------- resuming


class Crash(KeyboardInterrupt):
    """What Ctrl-C (or a kill) does to a run half-way through a batch."""


def crash_at(monkeypatch: pytest.MonkeyPatch, write: int, batch: int | None = None) -> None:
    """Stop the export at its ``write``-th Parquet file (of batch ``batch`` if given; the file
    not written)."""
    real = cx.CohortExport._write
    calls = [0]

    def counting(self: cx.CohortExport, table: str, bucket: int, number: int, *more: Any) -> None:
        if batch is None or number == batch:
            calls[0] += 1
        if calls[0] == write:
            raise Crash
        real(self, table, bucket, number, *more)

    monkeypatch.setattr(cx.CohortExport, "_write", counting)


def test_a_resumed_export_is_the_same_as_one_run(
    sqlite_site: Hosted, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "cohort"
    partial = Path(f"{out}.partial")
    with monkeypatch.context() as patch:
        crash_at(patch, 2, batch=2)  # the second file of the second batch
        code, stdout, err = run(sqlite_site.export(out, "--batch-size", "3"), capsys)
    assert code == 130 and "--resume" in err, err
    with sqlite3.connect(partial / cx.PROGRESS) as db:
        recorded = {row[0] for row in db.execute("SELECT batch FROM batches")}
    parts = {int(f.stem.removeprefix("part-")) for f in partial.rglob("part-*.parquet")}
    assert recorded and parts - recorded, "a batch recorded, and one half written"
    # never mistaken for a whole export
    assert not out.exists() and partial.is_dir()
    with pytest.raises(InputError, match=r"no cohort\.json"):
        cf.read_manifest(partial)
    assert run(["cohort", "report", str(partial)], capsys)[0] == 2
    # the progress manifest holds pseudonyms only
    raw = (partial / cx.PROGRESS).read_bytes()
    for p in sqlite_site.people:
        for s in (p.marker, p.account.email, str(p.account.id), p.account.id.hex):
            assert s.encode() not in raw
    # again without --resume: refused, nothing touched
    before = sorted(partial.rglob("*"))
    code, stdout, err = run(sqlite_site.export(out), capsys)
    assert code == 2 and "--resume" in err and err.count("\n") == 1
    assert sorted(partial.rglob("*")) == before
    # with another key, or other buckets: refused
    other = tmp_path / "other.key"
    other.write_text("x" * 40)
    argv = sqlite_site.export(out, "--resume")
    argv[argv.index("--key-file") + 1] = str(other)
    code, _, err = run(argv, capsys)
    assert code == 2 and "another key" in err
    code, _, err = run(sqlite_site.export(out, "--resume", "--buckets", "4"), capsys)
    assert code == 2 and "--buckets 8" in err
    # resumed: the same cohort as one run, and the same report
    code, stdout, err = run(sqlite_site.export(out, "--resume", "--batch-size", "3"), capsys)
    assert code == 0, err
    assert stdout.startswith("exported 12 people")
    assert not partial.exists()
    assert tables(out) == tables(exported)
    assert (out / "cohort.json").read_text() == (exported / "cohort.json").read_text()
    assert not list(out.rglob("*.tmp")) and not (out / cx.PROGRESS).exists()
    assert report_json(out, capsys) == report_json(exported, capsys)
    # a finished export is not written over
    code, _, err = run(sqlite_site.export(out, "--resume"), capsys)
    assert code == 2 and "already holds a finished cohort export" in err


def test_a_resume_with_another_knowledge_base_is_refused(tmp_path: Path) -> None:
    """The answers' ids are the knowledge base's of the first run (the manifest lists them):
    a resume whose knowledge base has other ids is refused, one with the same goes on."""
    key = cx.ExportKey(KEY.encode())
    out = tmp_path / "cohort"
    with cx.CohortExport(cx.destination(out, resume=False), key, questions=["where"],
                         findings=["twitching"]):  # fmt: skip
        pass  # interrupted before anything was written
    with pytest.raises(InputError, match="another knowledge base"):
        cx.CohortExport(cx.destination(out, resume=True), key, questions=["where", "sleep"],
                        findings=["twitching"])  # fmt: skip
    with cx.CohortExport(cx.destination(out, resume=True), key, questions=["where"],
                         findings=["twitching"]) as export:  # fmt: skip
        assert export.vocabulary == {"questions": ("where", "other"),
                                     "findings": ("twitching", "other")}  # fmt: skip
        result = export.finish()
    manifest = cf.read_manifest(out)
    assert result.people == 0 and (manifest.questions, manifest.findings) == (("where",),
                                                                             ("twitching",))


def test_consent_withdrawn_during_an_interruption_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = populate(f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path, days=40)
    out = tmp_path / "cohort"
    with monkeypatch.context() as patch:
        crash_at(patch, 12)
        assert run(site.export(out, "--batch-size", "2"), capsys)[0] == 130
    with sqlite3.connect(Path(f"{out}.partial") / cx.PROGRESS) as db:
        written = {row[0] for row in db.execute("SELECT person_id FROM people WHERE batch = 1")}
    assert len(written) == 2
    gone = next(p for p in site.people if pseudonyms(site, [p]) <= written)
    site.withdraw(gone)
    code, stdout, err = run(site.export(out, "--resume", "--batch-size", "2"), capsys)
    assert code == 0, err
    assert "11 people" in stdout and "1 taken out again (consent withdrawn)" in stdout
    for table, rows in tables(out).items():
        assert pseudonyms(site, [gone]).isdisjoint(r["person_id"] for r in rows), table
    assert cf.read_manifest(out).people == 11
    site.accounts.engine.dispose()


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_one_line_and_exit_status_2(
    sqlite_site: Hosted, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("TWITCHWISE_COHORT_KEY", raising=False)
    out = tmp_path / "cohort"
    url = sqlite_site.url
    short = tmp_path / "short.key"
    short.write_text("too short\n")
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    cases = [
        (["--database-url", url, "--out", str(out)], "needs a secret key"),
        (["--database-url", url, "--out", str(out), "--key-file", str(tmp_path / "none")],
         "cannot read the key file"),
        (["--database-url", url, "--out", str(out), "--key-file", str(short)],
         "at least 32"),
        (["--database-url", fresh, "--out", str(out), "--key-file", str(sqlite_site.key_file)],
         "twitchwise db upgrade"),
        (["--database-url", url, "--out", str(exported), "--key-file",
          str(sqlite_site.key_file)], "already holds a finished cohort export"),
        (["--database-url", url, "--out", str(busy), "--key-file", str(sqlite_site.key_file)],
         "not an empty folder"),
        (["--database-url", url, "--out", str(out), "--key-file", str(sqlite_site.key_file),
          "--buckets", "0"], "--buckets must be 1 to 1000"),
    ]  # fmt: skip
    if pg_problem() is None:
        cases.append(
            (["--database-url", "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_db_tw",
              "--out", str(out), "--key-file", str(sqlite_site.key_file)], "could not reach")
        )  # fmt: skip
    for argv, words in cases:
        code, stdout, err = run(["cohort", "export", *argv], capsys)
        assert (code, stdout) == (2, ""), (argv, err)
        assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
        assert not out.exists() and not Path(f"{out}.partial").exists()
    assert (busy / "notes.txt").read_text() == "mine"


def test_progress_goes_to_standard_error(
    sqlite_site: Hosted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr(cx, "PROGRESS_EVERY_S", 0.0)
    code, out, err = run(sqlite_site.export(tmp_path / "c", "--batch-size", "6"), capsys)
    assert code == 0
    lines = err.splitlines()
    assert lines and all(line.startswith("cohort export: ") for line in lines), err
    assert "12 people written" in lines[-1]
    assert out.count("\n") == 1


# --------------------------------------------------------------------------- memory

#: One export to warm up (imports, SQLAlchemy's mappers and statement caches: about 25 MB,
#: once per process, which would hide what the export holds), then the one measured.
MEASURE = """
import json, sys, tracemalloc
from pathlib import Path
import pyarrow
from twitchwise.app.cohort import export_cohort
url, out = sys.argv[1], Path(sys.argv[2])
export_cohort(url, out.with_name("warm-up"), b"k" * 32, batch_size=5)
arrow = pyarrow.default_memory_pool().max_memory()
tracemalloc.start()
export_cohort(url, out, b"k" * 32, batch_size=5)
print(json.dumps({"python": tracemalloc.get_traced_memory()[1],
                  "arrow": pyarrow.default_memory_pool().max_memory(), "warm_up_arrow": arrow}))
"""


def test_memory_does_not_grow_with_the_number_of_people(tmp_path: Path) -> None:
    """Three times the people, the same peak: the export holds one batch (5 people here),
    never the cohort (tests/test_memory.py's pattern: the peak of Python's allocations, and
    here pyarrow's own pool too, each run in a fresh process)."""
    peaks = []
    sizes = (10, 30)
    for n in sizes:
        folder = tmp_path / f"n{n}"
        folder.mkdir()
        site = populate(f"sqlite:///{folder / 'h.sqlite'}", folder, consenting=n, days=180)
        site.accounts.engine.dispose()
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, site.url, str(folder / "cohort")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        peaks.append(json.loads(done.stdout))
        assert cf.read_manifest(folder / "cohort").people == n
    small, large = peaks
    whole = pq.read_table(tmp_path / "n30" / "cohort" / "days").nbytes
    # Python's allocations: well under a megabyte, and not growing with the people
    assert large["python"] < 2 * 1024 * 1024 and large["python"] - small["python"] < 256 * 1024
    # pyarrow's pool: one batch (holding the 30 people's days would add 3/4 of them)
    assert large["arrow"] - small["arrow"] < max(whole // 4, 256 * 1024), (peaks, whole)
