"""The command line: exit codes, one-line errors, formats, stdin and the listing commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run

CONTRACT_KEYS = {"summary", "triage", "causes", "findings", "not_understood", "plan", "sources"}
LEVELS = ["self_care", "see_doctor_routine", "see_doctor_urgent", "emergency"]




def run_process(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twitchwise.cli", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "100"},
    )


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# ------------------------------------------------------------------ success


def test_ask_json(capsys):
    code, out, err = run(
        ["ask", "--format", "json", "calf twitching for 3 weeks, no weakness"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == CONTRACT_KEYS
    assert data["triage"]["level"] == "see_doctor_routine"
    assert {"id": "weakness", "negated": True, "text": "weakness"} in data["findings"]
    assert err == ""


def test_ask_joins_several_words(capsys):
    code, out, _ = run(["ask", "--format", "json", "my", "eyelid", "twitches"], capsys)
    assert code == 0
    assert "region_eyelid" in {f["id"] for f in json.loads(out)["findings"]}


def test_assess_with_denied_finding(capsys):
    code, out, err = run(
        ["assess", "--findings", "twitching,!weakness", "--format", "json"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == CONTRACT_KEYS
    findings = {(f["id"], f["negated"]) for f in data["findings"]}
    assert ("twitching", False) in findings and ("weakness", True) in findings
    assert data["triage"]["level"] == "self_care"


def test_assess_with_age_and_sex(capsys):
    code, out, _ = run(
        ["assess", "--findings", "twitching,region_calf", "--age", "64", "--sex", "female",
         "--format", "json"],
        capsys,
    )  # fmt: skip
    assert code == 0
    present = {f["id"] for f in json.loads(out)["findings"] if not f["negated"]}
    assert {"age_60_plus", "sex_female"} <= present


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html", "json"])
def test_every_format(capsys, fmt):
    code, out, err = run(["ask", "--format", fmt, "my eyelid twitches"], capsys)
    assert code == 0, err
    assert out.strip()
    assert " ".join(out.lower().split()).count("not a diagnosis") == (fmt != "json")


def test_emergency_prints_triage_before_causes(capsys):
    code, out, _ = run(["ask", "my arm is twitching and I have chest pain"], capsys)
    assert code == 0
    flat = " ".join(out.split())
    assert flat.startswith("Call emergency services"), flat[:200]
    triage_at = flat.find("Triage")
    causes_at = flat.find("Likely causes")
    assert 0 <= triage_at < causes_at
    assert "EMERGENCY" in flat[triage_at:causes_at]


def test_findings_json(capsys, kb):
    code, out, _ = run(["findings", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) >= 60
    assert all(set(r) == {"id", "label", "kind"} for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    # cue findings are internal building blocks of composed findings, not listed
    assert {r["id"] for r in rows} == {f.id for f in kb.findings.values() if f.kind != "cue"}
    assert all(r["kind"] != "cue" for r in rows)
    assert {"twitching", "weakness", "chest_pain", "duration_over_2_weeks"} <= {
        r["id"] for r in rows
    }


def test_findings_terminal(capsys):
    code, out, _ = run(["findings"], capsys)
    assert code == 0
    assert len(out.splitlines()) >= 60
    assert any(line.split()[0] == "weakness" for line in out.splitlines())


def test_causes_json(capsys, contract_cause_ids):
    code, out, _ = run(["causes", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert all(set(r) == {"id", "name"} for r in rows)
    ids = [r["id"] for r in rows]
    assert set(contract_cause_ids) <= set(ids)
    assert len(ids) == len(set(ids))


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.strip() == "twitchwise 0.1.0"


# ------------------------------------------------------------------ bad input: exit 2, one line


def test_unknown_finding(capsys):
    code, out, err = run(["assess", "--findings", "twitching,wobbliness"], capsys)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "unknown finding", "wobbliness", "twitchwise findings")


def test_unknown_denied_finding(capsys):
    code, _, err = run(["assess", "--findings", "twitching,!wobbliness"], capsys)
    assert code == 2
    assert_one_line_error(err, "unknown finding")


def test_no_findings(capsys):
    code, _, err = run(["assess", "--findings", ","], capsys)
    assert code == 2
    assert_one_line_error(err, "--findings")


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "--format", "pdf", "my eyelid twitches"],
        ["assess", "--findings", "twitching", "--format", "yaml"],
        ["findings", "--format", "html"],
        ["causes", "--format", "markdown"],
    ],
)
def test_bad_format(capsys, argv):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "format")


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "--age", "-3", "my eyelid twitches"],
        ["ask", "--age", "130", "my eyelid twitches"],
        ["assess", "--findings", "twitching", "--age", "-3"],
    ],
)
def test_impossible_age(capsys, argv):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert_one_line_error(err, "age")


def test_non_numeric_age(capsys):
    code, _, err = run(["ask", "--age", "old", "my eyelid twitches"], capsys)
    assert code == 2
    assert_one_line_error(err, "--age")


def test_bad_sex(capsys):
    code, _, err = run(["assess", "--findings", "twitching", "--sex", "x"], capsys)
    assert code == 2
    assert_one_line_error(err, "sex")


def test_unknown_command(capsys):
    code, _, err = run(["diagnose", "me"], capsys)
    assert code == 2
    assert_one_line_error(err, "twitchwise --help")


# ------------------------------------------------------------------ as a process


def test_process_ask_json():
    result = run_process(["ask", "--format", "json", "my left calf twitches, no weakness"])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == CONTRACT_KEYS
    assert data["triage"]["level"] in LEVELS


def test_process_reads_stdin():
    result = run_process(["ask", "--format", "json"], stdin="my eyelid keeps twitching\n")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    present = {f["id"] for f in data["findings"] if not f["negated"]}
    assert {"twitching", "region_eyelid"} <= present


def test_process_reads_stdin_with_dash():
    result = run_process(["ask", "--format", "json", "-"], stdin="calf twitching for 3 weeks")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["triage"]["level"] == "see_doctor_routine"


@pytest.mark.parametrize("stdin", ["", "   \n"])
def test_process_empty_text(stdin):
    result = run_process(["ask"], stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "describe")


def test_process_unknown_finding():
    result = run_process(["assess", "--findings", "twitching,nonsense_id"])
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "unknown finding")


def test_process_version():
    result = run_process(["--version"])
    assert result.returncode == 0
    assert result.stdout.strip() == "twitchwise 0.1.0"


def test_console_script_is_installed(contract_cause_ids):
    script = Path(sys.executable).parent / "twitchwise"
    if not script.exists():
        pytest.skip("no console script next to this interpreter")
    result = subprocess.run(
        [str(script), "causes", "--format", "json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert set(contract_cause_ids) <= {r["id"] for r in json.loads(result.stdout)}
