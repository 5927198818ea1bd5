"""Shape an :class:`Evaluation` for people: ``terminal`` (Rich), ``html`` (one page), ``json``.

Every format shows the under-triaged urgent and emergency cases first (in red), then triage,
causes and calibration, findings, time, and the cases to review.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from twitchwise.app.evaluation.score import LEVELS, SERIOUS, Evaluation, FindingScore
from twitchwise.errors import InputError

if TYPE_CHECKING:
    from rich.table import Table

FORMATS = ("terminal", "json", "html")


def render(result: Evaluation, fmt: str, *, width: int | None = None, color: bool = False) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "terminal":
        return render_terminal(result, width=width, color=color)
    if fmt == "html":
        return render_html(result)
    raise InputError(f"unknown format {fmt!r}; use --format with one of: {', '.join(FORMATS)}")


def number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def under_triage_cell(expected: int, given: int) -> bool:
    """Whether a confusion-matrix cell counts serious cases given a lower level."""
    return LEVELS[expected] in SERIOUS and given < expected


def render_terminal(result: Evaluation, *, width: int | None = None, color: bool = False) -> str:
    """Plain text through Rich; ``color`` adds ANSI styles (for a real terminal)."""
    from rich import box
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from twitchwise.answer.render import recorded_text, recording_console

    console = recording_console(width=width, color=color)
    out = console.print

    def heading(text: str, style: str = "bold underline") -> None:
        out(Text(f"\n{text}", style=style))

    def line(text: str, style: str = "") -> None:
        out(Padding(Text(text, style=style), (0, 0, 0, 2)))

    def table(*headers: str) -> Table:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
        for i, h in enumerate(headers):
            t.add_column(h, justify="left" if i == 0 else "right")
        return t

    out(Text(f"Evaluation of {result.source}", style="bold"))
    if result.under_triaged:
        heading(
            f"UNDER-TRIAGED urgent or emergency cases ({len(result.under_triaged)})",
            "bold red",
        )
        for m in result.under_triaged:
            line(f"{m.id}: expected {m.wanted[0]}, given {m.given}", "red")
    else:
        heading("No urgent or emergency case was under-triaged.", "bold green")

    heading("Triage")
    line(f"acceptable         {result.triage_acceptable}")
    line(f"self-care kept     {result.self_care_kept}")
    line(f"over-triaged       {len(result.over_triaged)}")
    line(f"under-triaged      {len(result.under_triaged)} (urgent or emergency given lower)")
    matrix = table("expected \\ given", *(level.value for level in LEVELS))
    for i, expected in enumerate(LEVELS):
        cells = []
        for j, count in enumerate(result.confusion[i]):
            style = "bold red" if count and under_triage_cell(i, j) else ""
            style = style or ("bold" if i == j else "")
            cells.append(Text(str(count), style=style))
        matrix.add_row(expected.value, *cells)
    out(Padding(matrix, (1, 0, 0, 2)))

    heading("Causes")
    line(f"top-1              {result.top1}")
    line(f"top-3              {result.top3}")
    line(f"Brier score        {number(result.brier, 3)} (0 is best, 2 worst)")
    line(f"calibration error  {number(result.calibration_error, 3)} (top cause, over the bins)")
    bins = table("top cause probability", "cases", "mean probability", "acceptable")
    for b in result.reliability:
        bins.add_row(
            f"{b.low:.1f}-{b.high:.1f}",
            str(b.cases),
            number(b.mean_probability),
            number(b.acceptable_rate),
        )
    out(Padding(bins, (1, 0, 0, 2)))

    if result.labelled_cases:
        plural = "s" if result.labelled_cases != 1 else ""
        heading(f"Findings ({result.labelled_cases} labelled case{plural})")
        micro = result.findings_micro
        line(
            f"micro-average      precision {number(micro.precision)}, "
            f"recall {number(micro.recall)}, F1 {number(micro.f1)}"
        )
        per = table("finding", "tp", "fp", "fn", "tn", "precision", "recall", "F1")
        for f in result.findings:
            per.add_row(*_finding_row(f))
        out(Padding(per, (1, 0, 0, 2)))

    heading("Time per case")
    line(f"median {result.time_median_ms:.2f} ms, max {result.time_max_ms:.2f} ms")

    heading(f"Triage not acceptable ({len(result.triage_misses)})")
    for m in result.triage_misses:
        line(f"{m.id}: given {m.given}, wanted {' or '.join(m.wanted)}")
    if not result.triage_misses:
        line("none")
    heading(f"Top cause not acceptable ({len(result.cause_misses)})")
    for m in result.cause_misses:
        line(f"{m.id}: given {m.given or 'no cause'}, wanted {' or '.join(m.wanted)}")
    if not result.cause_misses:
        line("none")
    out()
    # the summary stays one line, whatever the width, for grep and for logs
    out(Text(result.summary(), style="bold red" if result.failed else "bold"), soft_wrap=True)
    return recorded_text(console, color=color)


def _finding_row(f: FindingScore) -> tuple[str, ...]:
    return (
        f.id,
        str(f.tp),
        str(f.fp),
        str(f.fn),
        str(f.tn),
        number(f.precision),
        number(f.recall),
        number(f.f1),
    )


def render_html(result: Evaluation) -> str:
    """One self-contained page: inline CSS, no scripts, nothing loaded; all text escaped."""
    from twitchwise.__about__ import __version__
    from twitchwise.answer.render import environment

    return (
        environment()
        .get_template("eval.html.j2")
        .render(
            r=result,
            levels=[level.value for level in LEVELS],
            under_cell=under_triage_cell,
            number=number,
            finding_row=_finding_row,
            version=__version__,
        )
    )
