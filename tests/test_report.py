"""The doctor report: HTML, PDF and FHIR files, owner-only; the FHIR bundle validates."""

from __future__ import annotations

import json
import re
import stat
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fixtures.journal.insights import daily_csv
from helpers import run
from twitchwise.app import default
from twitchwise.cli import main
from twitchwise.insights.analysis import analyse
from twitchwise.insights.fhir import CODE_SYSTEM, fhir_bundle, validate_bundle
from twitchwise.insights.report import _latin1, build_report, render_html
from twitchwise.journal.store import JournalData

KB = default().kb
PARSER = default().parser


@pytest.fixture
def journal(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """180 days of CSV with a planted caffeine effect, plus hand-logged twitches and medicines."""
    commands = [
        ["import", str(daily_csv(tmp_path / "d.csv", "planted", seed=0))],
        ["log", "twitch", "-r", "calf", "-s", "left", "-i", "3", "--at", "2025-06-20T10:00"],
        ["log", "twitch", "-r", "arm", "-s", "right", "--at", "2025-06-21T10:00",
         "--duration-s", "30", "--note", "right arm twitching, my grip feels weak"],
        ["log", "day", "--date", "2025-06-20", "--medicines", "salbutamol, Sertraline"],
    ]  # fmt: skip
    for argv in commands:
        assert main(argv) == 0
    capsys.readouterr()
    return home


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]


def test_html_report(journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "report.html"
    code, out, err = run(["report", "--format", "html", "--output", str(path)], capsys)
    assert (code, err) == (0, "")
    assert out == f"Wrote the doctor report (html) to {path}.\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    html = path.read_text(encoding="utf-8")
    for heading in ("Summary", "Alerts", "Triggers found", "Where the twitches were",
                    "Timeline", "Medicines logged", "Questions worth asking"):  # fmt: skip
        assert f">{heading}</h2>" in html, heading
    parser = _Tags()
    parser.feed(html)
    # self-contained: no scripts, stylesheets, images or fonts from anywhere
    assert not {"script", "link", "img", "iframe"} & set(parser.tags)
    assert parser.links == []
    assert parser.tags.count("svg") == 3
    assert "caffeine, next day: 1." in html
    assert "weakness_in_twitching_area" not in html  # rules are named by their text
    assert "You notice weakness along with the twitching" in html
    assert "salbutamol" in html and "Sertraline" in html
    assert "Could any of my medicines (salbutamol, Sertraline) cause twitching" in html
    assert "not a diagnosis" in html


def test_pdf_report(journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "report.pdf"
    code, out, err = run(["report", "-f", "pdf", "-o", str(path)], capsys)
    assert (code, err) == (0, "")
    assert out == f"Wrote the doctor report (pdf) to {path}.\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2


def test_fhir_report_validates(
    journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.json"
    code, out, err = run(["report", "--format", "fhir", "--output", str(path)], capsys)
    assert (code, err) == (0, "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bundle = json.loads(path.read_text(encoding="utf-8"))
    validate_bundle(bundle)
    from fhir.resources.R4B.bundle import Bundle

    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    resources = [e["resource"] for e in bundle["entry"]]
    assert resources[0]["resourceType"] == "Patient"
    observations = resources[1:]
    assert all(r["resourceType"] == "Observation" for r in observations)
    code, export, _ = run(["export", "--format", "json"], capsys)
    data = json.loads(export)
    factor_values = sum(
        1 for d in data["days"] for k, v in d.items() if v is not None and k not in
        ("date", "medicines", "workout_type")
    )  # fmt: skip
    assert len(observations) == len(data["episodes"]) + factor_values
    assert out == f"Wrote a FHIR R4 Bundle of {len(observations)} observations to {path}.\n"
    arm = next(
        r for r in observations if r.get("bodySite", {}).get("text") == "Arm or forearm, right"
    )
    assert arm["note"] == [{"text": "right arm twitching, my grip feels weak"}]
    assert arm["component"][0]["valueQuantity"] == {
        "value": 30, "unit": "s", "system": "http://unitsofmeasure.org", "code": "s",
    }  # fmt: skip
    sleep = next(r for r in observations if r["code"]["coding"][0]["code"] == "93832-4")
    assert sleep["valueQuantity"]["unit"] == "h"
    assert {c["system"] for r in observations for c in r["code"]["coding"]} <= {
        CODE_SYSTEM, "http://loinc.org",
    }  # fmt: skip


def test_fhir_bundle_ids_are_stable() -> None:
    data = JournalData.from_dicts(
        [{"uid": "a", "at": "2026-03-01T09:00:00+00:00", "date": "2026-03-01", "region": None}],
        [{"date": "2026-03-01", "caffeine_mg": 200.0}],
        [],
    )
    one, two = fhir_bundle(data, kb=KB), fhir_bundle(data, kb=KB)
    assert one["id"] == two["id"]
    assert [e["fullUrl"] for e in one["entry"]] == [e["fullUrl"] for e in two["entry"]]
    validate_bundle(one)


def test_invalid_bundle_is_refused() -> None:
    bundle = fhir_bundle(
        JournalData.from_dicts([], [{"date": "2026-03-01", "sleep_h": 7.0}], []), kb=KB
    )
    del bundle["entry"][1]["resource"]["code"]  # required in R4
    with pytest.raises(ValueError, match=r"entry\.1\.resource\.code"):
        validate_bundle(bundle)


def test_report_of_an_empty_journal(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in ("html", "pdf", "fhir"):
        path = tmp_path / f"empty.{fmt}"
        code, _, err = run(["report", "--format", fmt, "--output", str(path)], capsys)
        assert (code, err) == (0, ""), fmt
        assert path.stat().st_size > 0
    assert "The journal is empty." in (tmp_path / "empty.html").read_text(encoding="utf-8")


def test_html_escapes_what_people_write(tmp_path: Path) -> None:
    note = '<script>alert("x")</script>'
    episode = {
        "uid": "x", "at": "2026-03-01T09:00:00+00:00", "date": "2026-03-01",
        "region": "region_calf", "side": None, "intensity": None, "duration_s": None,
        "note": note, "source": "log",
    }  # fmt: skip
    days = [{"date": "2026-03-01", "medicines": ["<img src=x>"]}]
    data = JournalData.from_dicts([episode], days, [])
    html = render_html(build_report(data, analyse(data, kb=KB, parser=PARSER), kb=KB))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;img src=x&gt;" in html


def test_report_of_a_journal_spanning_a_century() -> None:
    """From 1900 to 2025: the timeline counts years, one row each, and the notes say which
    rows were left out for their date (no day-by-day loop, no overflow)."""

    def episode(day: str) -> dict[str, object]:
        return {"uid": day, "at": f"{day}T09:00:00+00:00", "date": day, "region": None,
                "side": None, "intensity": None, "duration_s": None, "note": None,
                "source": "log"}  # fmt: skip

    data = JournalData.from_dicts(
        [episode("1900-01-01"), episode("2025-03-01"), episode("0001-01-01")], [], []
    )
    built = build_report(data, analyse(data, kb=KB, parser=PARSER), kb=KB)
    assert built.timeline_unit == "year"
    assert [row.period for row in built.timeline][:2] == ["1900", "1901"]
    assert len(built.timeline) == 126
    assert "Left out episode 0001-01-01 dated 0001-01-01" in render_html(built)


def test_pdf_text_is_latin1() -> None:
    assert _latin1("caffeine \u2265 400 mg \u2013 \u201cmore\u201d \u00d7 2 \u2603") == (
        'caffeine >= 400 mg - "more" x 2 ?'
    )


@pytest.mark.parametrize(
    ("fmt", "blocked", "hint"),
    [
        ("pdf", "fpdf", "pip install 'twitchwise[insights,report]'"),
        ("fhir", "fhir.resources", "pip install 'twitchwise[report]'"),
        ("html", "numpy", "pip install 'twitchwise[insights,report]'"),
    ],
)
def test_missing_report_extra(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    blocked: str,
    hint: str,
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)
    path = tmp_path / "r"
    code, out, err = run(["report", "--format", fmt, "--output", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and hint in err
    assert not path.exists()


def test_report_bad_format_and_missing_output(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["report", "--format", "docx", "--output", "x"], capsys)
    assert (code, out) == (2, "")
    assert err == "error: unknown format 'docx'; use --format html, pdf or fhir\n"
    code, _, err = run(["report"], capsys)
    assert code == 2 and "--output" in err


# ---------------------------------------------------------------------- self-experiments


@pytest.fixture
def experiments(journal: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The journal above with two self-experiments in its CSV's months: caffeine, finished
    (checked in on 30 of its 42 days, 27 kept), and sleep, stopped early after 10 days."""
    from datetime import date, timedelta

    import twitchwise.app.experiment as app_experiment
    from twitchwise.app.core import Twitchwise

    monkeypatch.setattr(app_experiment, "_today", lambda: date(2025, 6, 25))
    tw = Twitchwise()
    start = date(2025, 2, 3)
    with tw.open_journal() as j:
        tw.experiment_start(j, "caffeine", today=start, seed=7)
        for i in range(30):
            tw.experiment_check_in(j, i >= 3, start + timedelta(days=i), today=date(2025, 6, 1))
        later = date(2025, 4, 21)
        tw.experiment_start(j, "sleep", today=later, seed=8)
        tw.experiment_stop(j, "night shifts", today=later + timedelta(days=9))
    return journal


def test_html_and_pdf_reports_show_finished_experiments(
    experiments: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from twitchwise.app.core import Twitchwise

    with Twitchwise().open_journal() as j:
        first, second = Twitchwise().experiment_results(j)
        html = Twitchwise().report(j, "html").decode("utf-8")
    assert '<h2 id="experiments-h">Self-experiments</h2>' in html
    assert ">Cutting back on caffeine: 2025-02-03 to 2025-03-16</h3>" in html
    assert ">An earlier bedtime: 2025-04-21 to 2025-04-30</h3>" in html
    assert "<td>Finished as planned</td>" in html
    assert "<td>Stopped early on 2025-04-30 (planned to 2025-06-01): night shifts</td>" in html
    assert f"<td>{first.summary}</td>" in html.replace("&#39;", "'")
    e = first.estimate
    assert e is not None
    assert f"Rate ratio (change / usual) {e.ratio:.2f}, 95% interval {e.ci[0]:.2f} to" in html
    words = first.status.adherence.words()
    assert words.startswith("kept to the plan on ")
    assert f"<td>{words[0].upper()}{words[1:]}</td>" in html
    assert second.estimate is None and "No effect estimated (see the notes)." in html
    assert "Self-experiment: Cutting back on caffeine, 2025-02-03 to 2025-03-16, finished" in html
    parser = _Tags()
    parser.feed(html)
    assert parser.tags.count("svg") == 5 and parser.links == []
    path = tmp_path / "report.pdf"
    code, _, err = run(["report", "-f", "pdf", "-o", str(path)], capsys)
    assert (code, err) == (0, "")
    assert path.read_bytes().startswith(b"%PDF-")


def test_fhir_report_holds_finished_experiments(
    experiments: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from twitchwise.app.core import Twitchwise

    with Twitchwise().open_journal() as j:
        first, _ = Twitchwise().experiment_results(j)
    path = tmp_path / "report.json"
    code, _, err = run(["report", "--format", "fhir", "--output", str(path)], capsys)
    assert (code, err) == (0, "")
    bundle = json.loads(path.read_text(encoding="utf-8"))
    validate_bundle(bundle)
    found = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "self-experiment"
    ]
    assert len(found) == 2
    caffeine, sleep = found
    assert caffeine["effectivePeriod"] == {"start": "2025-02-03", "end": "2025-03-16"}
    assert sleep["effectivePeriod"] == {"start": "2025-04-21", "end": "2025-04-30"}
    assert caffeine["valueString"] == first.summary
    parts = {c["code"]["coding"][0]["code"]: c for c in caffeine["component"]}
    assert parts["experiment-kind"]["valueCodeableConcept"]["coding"][0]["code"] == (
        "experiment-caffeine"
    )
    assert parts["stopped-early"]["valueBoolean"] is False
    e = first.estimate
    assert e is not None
    assert parts["rate-ratio"]["valueQuantity"]["value"] == float(f"{e.ratio:.4g}")
    assert parts["rate-ratio-ci95"]["valueRange"]["low"]["value"] == float(f"{e.ci[0]:.4g}")
    share = first.status.adherence.share
    assert share is not None
    assert parts["adherence"]["valueQuantity"] == {
        "value": float(f"{100 * share:.4g}"), "unit": "%",
        "system": "http://unitsofmeasure.org", "code": "%",
    }  # fmt: skip
    assert parts["usual-days"]["valueInteger"] == first.usual_days
    sleep_parts = {c["code"]["coding"][0]["code"]: c for c in sleep["component"]}
    assert sleep_parts["stopped-early"]["valueBoolean"] is True
    assert "rate-ratio" not in sleep_parts
    assert any("night shifts" in n["text"] for n in sleep["note"])
    # and the same from the bundle made at once
    from twitchwise.app.experiment import results_of

    with Twitchwise().open_journal() as j:
        data = j.read()
    whole = fhir_bundle(data, kb=KB, experiments=results_of(Twitchwise(), data.experiments, data))
    validate_bundle(whole)
    assert [e["resource"] for e in whole["entry"]][-2:] == found
