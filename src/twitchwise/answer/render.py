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
from itertools import pairwise
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


def _rich_terminal(answer: Answer, *, width: int | None = None, color: bool = False) -> str:
    from rich.console import Group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.text import Text

    ctx = context(answer)
    serious = bool(ctx["serious"])

    def indent(text: str, style: str = "", level: int = 3) -> Padding:
        return Padding(Text(text, style=style), (0, 0, 0, level))

    def heading(text: str) -> Text:
        return Text(f"\n{text}", style="bold underline")

    triage: list[Text | Padding] = [
        Text(f"Triage: {LEVEL_TITLE[answer.level]}", style=LEVEL_STYLE[answer.level])
    ]
    triage += [indent(f"! {r.text} [{r.source}]", level=2) for r in answer.reasons]
    if not answer.reasons:
        triage.append(indent("No warning signs found in what you wrote.", level=2))
    if answer.possible:
        triage.append(indent("Please check:", "bold", level=2))
        triage += [indent(f"? {p.question}", level=2) for p in answer.possible]
    parts: list[object] = [
        Text(answer.summary, style="bold"),
        Panel(Group(*triage), border_style="red" if serious else "green"),
        heading("Likely causes"),
    ]
    for i, c in enumerate(answer.causes, 1):
        parts.append(Text(f"{i}. {c.name} ({likelihood(c)})", style="bold"))
        parts.append(indent(c.explanation))
        if c.supporting:
            parts.append(indent(f"for: {c.for_text}", "dim"))
        if c.against:
            parts.append(indent(f"against: {c.against_text}", "dim"))
    parts.append(Text(f"These are estimates; {ctx['unexplained']}% is left for causes not listed."))
    if answer.plan:
        parts.append(heading("What to do"))
        parts += [indent(f"- {p.text} [{p.source}]", level=1) for p in answer.plan]
    parts.append(heading("What I understood"))
    present = [
        f"{f.label}{' (unsure)' if f.uncertain else ''}" for f in answer.findings if not f.negated
    ]
    denied = [f.label for f in answer.findings if f.negated]
    parts.append(indent(f"You have: {', '.join(present) or 'nothing specific'}", level=1))
    if denied:
        parts.append(indent(f"You do not have: {', '.join(denied)}", level=1))
    if answer.not_understood:
        parts.append(indent(f"Not understood: {' | '.join(answer.not_understood)}", level=1))
    parts.append(heading("Sources"))
    parts += [indent(f"[{s.id}] {s.title}: {s.url}", level=1) for s in answer.sources]
    parts.append(Text(f"\n{DISCLAIMER}", style="italic"))
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
    ctx = context(answer)
    out: list[str] = []

    def text(words: str, indent: int = 0, into: list[str] | None = None, inner: int = 0) -> None:
        target = out if into is None else into
        room = (inner or width) - indent
        target += [" " * indent + line for line in _wrap(words, room)]

    triage: list[str] = []
    text(f"Triage: {LEVEL_TITLE[answer.level]}", into=triage, inner=width - 4)
    for r in answer.reasons:
        text(f"! {r.text} [{r.source}]", 2, triage, width - 4)
    if not answer.reasons:
        text("No warning signs found in what you wrote.", 2, triage, width - 4)
    if answer.possible:
        text("Please check:", 2, triage, width - 4)
        for flag in answer.possible:
            text(f"? {flag.question}", 2, triage, width - 4)
    text(answer.summary)
    out.append("╭" + "─" * (width - 2) + "╮")
    out += ["│ " + line.ljust(width - 4) + " │" for line in triage]
    out.append("╰" + "─" * (width - 2) + "╯")
    text("\nLikely causes")
    for i, c in enumerate(answer.causes, 1):
        text(f"{i}. {c.name} ({likelihood(c)})")
        text(c.explanation, 3)
        if c.supporting:
            text(f"for: {c.for_text}", 3)
        if c.against:
            text(f"against: {c.against_text}", 3)
    text(f"These are estimates; {ctx['unexplained']}% is left for causes not listed.")
    if answer.plan:
        text("\nWhat to do")
        for item in answer.plan:
            text(f"- {item.text} [{item.source}]", 1)
    text("\nWhat I understood")
    present = [
        f"{f.label}{' (unsure)' if f.uncertain else ''}" for f in answer.findings if not f.negated
    ]
    denied = [f.label for f in answer.findings if f.negated]
    text(f"You have: {', '.join(present) or 'nothing specific'}", 1)
    if denied:
        text(f"You do not have: {', '.join(denied)}", 1)
    if answer.not_understood:
        text(f"Not understood: {' | '.join(answer.not_understood)}", 1)
    text("\nSources")
    for s in answer.sources:
        text(f"[{s.id}] {s.title}: {s.url}", 1)
    text(f"\n{DISCLAIMER}")
    body = "\n".join(line.rstrip() for line in out)
    if not _PLAIN_CHARS.issuperset(body):
        return None
    return body + "\n"


#: Characters :func:`_plain_terminal` may draw: printable ASCII and the panel's box corners.
_PLAIN_CHARS = frozenset(
    [chr(c) for c in range(32, 127)] + ["\n", "╭", "╮", "╰", "╯", "─", "│"]
)


def likelihood(cause: CauseOut) -> str:
    """How a cause's chance is shown: a percentage, or for a grave, rare cause what to do."""
    return "a doctor needs to check for this" if cause.grave else _percent(cause.probability)


def _percent(p: float) -> str:
    return f"{round(p * 100)}%" if p >= 0.005 else "<1%"
