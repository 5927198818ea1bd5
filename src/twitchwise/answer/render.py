"""Render an Answer: ``terminal`` (Rich), ``markdown`` and ``html`` (Jinja2 templates), ``json``.

Every format puts things in the same order: the one-line answer, the triage (first and
unmissable when it is not self-care), the likely causes with why, the plan, when to see a
doctor, the sources, and once, the statement that this is not a diagnosis.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby, pairwise
from typing import TYPE_CHECKING

from twitchwise.answer.model import DISCLAIMER, Answer, CauseOut
from twitchwise.errors import InputError
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.triage import LEVEL_TITLES

if TYPE_CHECKING:
    from jinja2 import Environment
    from rich.console import Console

FORMATS = ("terminal", "markdown", "html", "json")

LEVEL_TITLE = LEVEL_TITLES  # one home: reason/triage.py (the name stays for importers)
LEVEL_STYLE = {
    TriageLevel.SELF_CARE: "green",
    TriageLevel.SEE_DOCTOR_ROUTINE: "yellow",
    TriageLevel.SEE_DOCTOR_URGENT: "bold dark_orange",
    TriageLevel.EMERGENCY: "bold white on red",
}


def render(answer: Answer, fmt: str, *, width: int | None = None, color: bool = False) -> str:
    if fmt == "json":
        return json.dumps(answer.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "terminal":
        return render_terminal(answer, width=width, color=color)
    if fmt in ("markdown", "html"):
        template = environment().get_template(f"answer.{'md' if fmt == 'markdown' else 'html'}.j2")
        return template.render(**context(answer)).strip() + "\n"
    raise InputError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def context(answer: Answer) -> dict[str, object]:
    return {
        "a": answer,
        "level": answer.level.value,
        "level_title": LEVEL_TITLE[answer.level],
        "serious": answer.level is not TriageLevel.SELF_CARE,
        "percent": _percent,
        "likelihood": likelihood,
        "unexplained": round(answer.unexplained * 100),
        "disclaimer": DISCLAIMER,
        "present": [f for f in answer.findings if not f.negated],
        "denied": [f for f in answer.findings if f.negated],
    }


def environment() -> Environment:
    """The package's Jinja2 environment (:mod:`twitchwise.jinja`)."""
    from twitchwise.jinja import environment as package_environment

    return package_environment()


def recording_console(*, width: int | None = None, color: bool = False) -> Console:
    """A Rich console that records what is printed, for text output: ANSI styles only with
    ``color`` (a real terminal). Every terminal renderer prints through one."""
    from rich.console import Console

    return Console(
        width=width or 100,
        record=True,
        file=io.StringIO(),
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
    )


def recorded_text(console: Console, *, color: bool = False) -> str:
    """What a recording console printed, each line right-trimmed."""
    text = console.export_text(styles=color)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def terminal_text(parts: Iterable[object], *, width: int | None = None, color: bool = False) -> str:
    """Rich renderables as terminal text (see :func:`recording_console`)."""
    console = recording_console(width=width, color=color)
    for part in parts:
        console.print(part)
    return recorded_text(console, color=color)


def render_terminal(answer: Answer, *, width: int | None = None, color: bool = False) -> str:
    """Text rendering through Rich; ``color`` adds ANSI styles (for a real terminal).

    Plain text (no colour) whose every character is ASCII is drawn by :func:`_plain_terminal`
    instead, the same bytes without importing Rich (about 20 ms of each piped ``twitchwise
    ask``); ``tests/test_properties.py`` holds the two to the same output.
    """
    if not color:
        plain = _plain_terminal(answer, width or 100)
        if plain is not None:
            return plain
    return _rich_terminal(answer, width=width, color=color)


@dataclass(frozen=True, slots=True)
class _Line:
    """One paragraph of the terminal answer: wrapped to the width, indented, in the triage
    panel or not, with the Rich style it has on a real terminal."""

    text: str
    indent: int = 0
    style: str = ""
    panel: bool = False


def _layout(answer: Answer) -> list[_Line]:
    """The terminal answer, paragraph by paragraph: the one layout both renderers draw."""
    ctx = context(answer)
    triage = [_Line(f"Triage: {LEVEL_TITLE[answer.level]}", 0, LEVEL_STYLE[answer.level], True)]
    triage += [_Line(f"! {r.text} [{r.source}]", 2, panel=True) for r in answer.reasons]
    if not answer.reasons:
        triage.append(_Line("No warning signs found in what you wrote.", 2, panel=True))
    if answer.possible:
        triage.append(_Line("Please check:", 2, "bold", True))
        triage += [_Line(f"? {flag.question}", 2, panel=True) for flag in answer.possible]
    lines = [_Line(answer.summary, style="bold"), *triage, _heading("Likely causes")]
    for i, c in enumerate(answer.causes, 1):
        lines.append(_Line(f"{i}. {c.name} ({likelihood(c)})", style="bold"))
        lines.append(_Line(c.explanation, 3))
        if c.supporting:
            lines.append(_Line(f"for: {c.for_text}", 3, "dim"))
        if c.against:
            lines.append(_Line(f"against: {c.against_text}", 3, "dim"))
    left = f"These are estimates; {ctx['unexplained']}% is left for causes not listed."
    lines.append(_Line(left))
    if answer.plan:
        lines.append(_heading("What to do"))
        lines += [_Line(f"- {item.text} [{item.source}]", 1) for item in answer.plan]
    lines.append(_heading("What I understood"))
    present = [
        f"{f.label}{' (unsure)' if f.uncertain else ''}" for f in answer.findings if not f.negated
    ]
    denied = [f.label for f in answer.findings if f.negated]
    lines.append(_Line(f"You have: {', '.join(present) or 'nothing specific'}", 1))
    if denied:
        lines.append(_Line(f"You do not have: {', '.join(denied)}", 1))
    if answer.not_understood:
        lines.append(_Line(f"Not understood: {' | '.join(answer.not_understood)}", 1))
    lines.append(_heading("Sources"))
    lines += [_Line(f"[{s.id}] {s.title}: {s.url}", 1) for s in answer.sources]
    lines.append(_Line(f"\n{DISCLAIMER}", style="italic"))
    return lines


def _heading(text: str) -> _Line:
    return _Line(f"\n{text}", style="bold underline")


def _rich_terminal(answer: Answer, *, width: int | None = None, color: bool = False) -> str:
    from rich.console import Group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.text import Text

    def drawn(line: _Line) -> Text | Padding:
        text = Text(line.text, style=line.style)
        return Padding(text, (0, 0, 0, line.indent)) if line.indent else text

    border = "green" if answer.level is TriageLevel.SELF_CARE else "red"
    parts: list[object] = []
    for in_panel, group in groupby(_layout(answer), key=lambda line: line.panel):
        drawn_group = [drawn(line) for line in group]
        parts += [Panel(Group(*drawn_group), border_style=border)] if in_panel else drawn_group
    return terminal_text(parts, width=width, color=color)


_WORD = re.compile(r"\s*\S+\s*")


def _wrap(text: str, width: int) -> list[str]:
    """Rich's word wrap (``rich._wrap.divide_line``, fold on) for text of one-cell characters:
    greedy by words, a word longer than the width cut into pieces of the width."""
    lines: list[str] = []
    for line in text.split("\n"):
        breaks: list[int] = []
        offset = 0
        for match in _WORD.finditer(line):
            start, word = match.start(), match.group()
            length = len(word.rstrip())
            if width - offset >= length:
                offset += len(word)
            elif length > width:
                pieces = [word[i : i + width] for i in range(0, len(word), width)]
                for number, piece in enumerate(pieces, 1):
                    if start:
                        breaks.append(start)
                    if number == len(pieces):
                        offset = len(piece)
                    else:
                        start += len(piece)
            else:
                breaks.append(start)
                offset = len(word)
        edges = [0, *breaks, len(line)]
        lines += [line[a:b] for a, b in pairwise(edges)] if line else [""]
    return [line if len(line) <= width else line.rstrip() for line in lines]


def _plain_terminal(answer: Answer, width: int) -> str | None:
    """:func:`_rich_terminal` without colour, drawn without Rich; None when some text is not
    ASCII (Rich's cell widths are then needed)."""
    out: list[str] = []
    for in_panel, group in groupby(_layout(answer), key=lambda line: line.panel):
        inner = width - 4 if in_panel else width
        wrapped = [
            " " * line.indent + part
            for line in group
            for part in _wrap(line.text, inner - line.indent)
        ]
        if in_panel:  # Rich's rounded box, one space of padding each side
            wrapped = [
                "╭" + "─" * (width - 2) + "╮",
                *("│ " + part.ljust(inner) + " │" for part in wrapped),
                "╰" + "─" * (width - 2) + "╯",
            ]
        out += wrapped
    body = "\n".join(line.rstrip() for line in out)
    if not _PLAIN_CHARS.issuperset(body):
        return None
    return body + "\n"


#: Characters :func:`_plain_terminal` may draw: printable ASCII and the panel's box corners.
_PLAIN_CHARS = frozenset([chr(c) for c in range(32, 127)] + ["\n", "╭", "╮", "╰", "╯", "─", "│"])


def likelihood(cause: CauseOut) -> str:
    """How a cause's chance is shown: a percentage, or for a grave, rare cause what to do."""
    return "a doctor needs to check for this" if cause.grave else _percent(cause.probability)


def _percent(p: float) -> str:
    return f"{round(p * 100)}%" if p >= 0.005 else "<1%"
