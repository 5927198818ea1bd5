"""The console script's fast path for ``twitchwise ask`` (twitchwise/console.py): it takes the
same options as the Typer command, prints the same bytes, leaves everything else to Typer,
and does not load Typer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from twitchwise.cli import app, main
from twitchwise.console import ASK_OPTIONS, ask_arguments
from twitchwise.console import main as console_main

TEXT = "my left eyelid has twitched for 3 days, 4 coffees, slept 5 hours"


def typer_ask_options() -> set[str]:
    import typer.main

    group = typer.main.get_command(app)
    command = group.commands["ask"]  # type: ignore[attr-defined]
    return {opt for p in command.params for opt in getattr(p, "opts", ()) if opt.startswith("-")}


def test_the_fast_path_reads_exactly_the_options_typer_declares() -> None:
    assert set(ASK_OPTIONS) == typer_ask_options()


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", TEXT],
        ["ask", "--format", "json", TEXT],
        ["ask", "-f", "markdown", "--age", "34", "--sex", "female", TEXT],
        ["ask", "my", "calf", "--age", "70", "twitches", "-f", "json"],  # options between words
        ["ask", "-f", "html", "--", "-5 coffees and my calf twitches"],
    ],
)
def test_the_fast_path_prints_what_typer_prints(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert ask_arguments(argv[1:]) is not None, "this invocation should take the fast path"
    fast = console_main(argv), *capsys.readouterr()
    slow = main(argv), *capsys.readouterr()
    assert fast == slow
    assert fast[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "--help"],
        ["ask", "--age", "old", TEXT],
        ["ask", "--colour", TEXT],
        ["ask", "--format=json", TEXT],
        ["findings"],
    ],
)
def test_everything_else_goes_to_typer(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert argv[0] != "ask" or ask_arguments(argv[1:]) is None
    fast = console_main(argv), *capsys.readouterr()
    slow = main(argv), *capsys.readouterr()
    assert fast == slow


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["ask", "-f", "yaml", TEXT], 2, "unknown format 'yaml'"),
        (["ask", "--age", "130", TEXT], 2, "age must be a whole number of years from 0 to 120"),
        (["ask", "--sex", "x", TEXT], 2, "sex must be 'female' or 'male'"),
    ],
)
def test_errors_on_the_fast_path_are_one_line(
    argv: list[str], code: int, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert console_main(argv) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert main(argv) == code
    assert capsys.readouterr().err == err


def test_the_fast_path_loads_no_typer() -> None:
    script = (
        "import sys; from twitchwise.console import main; "
        f"code = main(['ask', '-f', 'json', {TEXT!r}]); "
        "sys.stderr.write(repr(sorted(m for m in ('typer', 'click', 'pydantic') "
        "if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"
