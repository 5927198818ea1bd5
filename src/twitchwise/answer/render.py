"""Render an Answer: ``terminal`` (Rich), ``markdown`` and ``html`` (Jinja2 templates), ``json``.

Every format puts things in the same order: the one-line answer, the triage (first and
unmissable when it is not self-care), the likely causes with why, the plan, when to see a
doctor, the sources, and once, the statement that this is not a diagnosis.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from twitchwise.answer.model import DISCLAIMER, Answer
from twitchwise.errors import InputError
from twitchwise.knowledge.schema import TriageLevel

if TYPE_CHECKING:
    from jinja2 import Environment

FORMATS = ("terminal", "markdown", "html", "json")

LEVEL_TITLE = {
    TriageLevel.SELF_CARE: "Self-care",
    TriageLevel.SEE_DOCTOR_ROUTINE: "See a GP (routine)",
    TriageLevel.SEE_DOCTOR_URGENT: "Get medical advice today",
    TriageLevel.EMERGENCY: "EMERGENCY: call emergency services now",
}
LEVEL_STYLE = {
    TriageLevel.SELF_CARE: "green",
    TriageLevel.SEE_DOCTOR_ROUTINE: "yellow",
    TriageLevel.SEE_DOCTOR_URGENT: "bold dark_orange",
    TriageLevel.EMERGENCY: "bold white on red",
}


def render(answer: Answer, fmt: str, *, width: int | None = None) -> str:
    if fmt == "json":
        return json.dumps(answer.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "terminal":
        return render_terminal(answer, width=width)
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
        "percent": lambda p: f"{round(p * 100)}%" if p >= 0.005 else "<1%",
        "unexplained": round(answer.unexplained * 100),
        "disclaimer": DISCLAIMER,
        "present": [f for f in answer.findings if not f.negated],
        "denied": [f for f in answer.findings if f.negated],
    }


def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("twitchwise", "templates"),
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_terminal(answer: Answer, *, width: int | None = None) -> str:
    from rich.console import Console, Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    console = Console(width=width or 100, record=True, file=_Null(), color_system=None,
                      force_terminal=False, soft_wrap=False)  # fmt: skip
    ctx = context(answer)
    percent = ctx["percent"]
    assert callable(percent)
    parts: list[object] = [Text(answer.summary, style="bold")]
    triage_lines = [Text(f"Triage: {LEVEL_TITLE[answer.level]}", style=LEVEL_STYLE[answer.level])]
    for r in answer.reasons:
        triage_lines.append(Text(f"  ! {r.text}  [{r.source}]"))
    parts.append(Panel(Group(*triage_lines), border_style="red" if ctx["serious"] else "green"))
    parts.append(Text("Likely causes", style="bold underline"))
    for i, c in enumerate(answer.causes, 1):
        parts.append(Text(f"{i}. {c.name} - {percent(c.probability)}", style="bold"))
        parts.append(Text(f"   {c.explanation}"))
        if c.supporting:
            parts.append(Text(f"   for: {', '.join(c.supporting)}"))
        if c.against:
            parts.append(Text(f"   against: {', '.join(c.against)}"))
    parts.append(Text(f"   ({ctx['unexplained']}% left for causes not listed: these are estimates.)"))
    if answer.plan:
        parts.append(Text("What to do", style="bold underline"))
        for p in answer.plan:
            parts.append(Text(f"- {p.text}  [{p.source}]"))
    present = [f"{f.label}{' (unsure)' if f.uncertain else ''}" for f in answer.findings if not f.negated]
    denied = [f.label for f in answer.findings if f.negated]
    parts.append(Text("What I understood", style="bold underline"))
    parts.append(Text(f"  you have: {escape(', '.join(present)) or 'nothing specific'}"))
    if denied:
        parts.append(Text(f"  you do not have: {', '.join(denied)}"))
    if answer.not_understood:
        parts.append(Text(f"  not understood: {' | '.join(answer.not_understood)}"))
    parts.append(Text("Sources", style="bold underline"))
    for s in answer.sources:
        parts.append(Text(f"  [{s.id}] {s.title} - {s.url}"))
    parts.append(Text(DISCLAIMER, style="italic"))
    for part in parts:
        console.print(part)
    return console.export_text(styles=False)


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass
