"""The doctor report: one :class:`DoctorReport` built from the journal, then HTML or PDF.

``build_report(journal.read(), analyse(...))`` gathers what a clinician wants on one page: a
summary, a timeline, the body map and calendar, the triggers found (and how they were found),
the alerts with their reasons and sources, the medicines logged, and the questions worth
asking. :func:`render_html` fills ``templates/report.html.j2`` (self-contained: inline CSS
and SVG, no scripts, fonts or images from the network); :func:`render_pdf` lays out the same
content with fpdf2 (the ``report`` extra). The FHIR export is in
:mod:`twitchwise.insights.fhir`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from twitchwise.__about__ import __version__
from twitchwise.insights.alerts import Alert
from twitchwise.insights.analysis import LAG_WORDS, describe_effect
from twitchwise.insights.charts import body_map_svg, calendar_svg, effects_svg
from twitchwise.insights.source import summarise
from twitchwise.insights.stats import ALPHA, NAMES
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.text import plural as _plural

if TYPE_CHECKING:
    from twitchwise.insights.analysis import Insights
    from twitchwise.insights.experiment import ExperimentResult
    from twitchwise.insights.source import Source
    from twitchwise.journal.rows import DayRow
    from twitchwise.journal.summary import EpisodeGroup, JournalSummary

__all__ = [
    "DISCLAIMER",
    "REPORT_FORMATS",
    "DoctorReport",
    "ExperimentSection",
    "build_report",
    "render_html",
    "render_pdf",
]

REPORT_FORMATS = ("html", "pdf", "fhir")
DISCLAIMER = (
    "Written by the person from their own journal with twitchwise; not a diagnosis. The "
    "triggers are associations in one person's records, not proof of cause."
)
LEVEL_TITLE = {
    TriageLevel.SELF_CARE: "No warning signs in the pattern",
    TriageLevel.SEE_DOCTOR_ROUTINE: "Routine GP appointment advised",
    TriageLevel.SEE_DOCTOR_URGENT: "Medical advice today advised",
    TriageLevel.EMERGENCY: "Emergency",
}
#: Timeline rows: by week up to this many weeks, by month up to MAX_MONTHS, else by year.
MAX_WEEKS = 16
MAX_MONTHS = 36


@dataclass(frozen=True, slots=True)
class TimelineRow:
    period: str
    episodes: int
    twitch_days: int
    regions: str


@dataclass(frozen=True, slots=True)
class MedicineRow:
    name: str
    first: date
    last: date
    days: int


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: str
    title: str
    url: str


@dataclass(frozen=True)
class ExperimentSection:
    """One finished (or stopped) self-experiment, worded for the report."""

    name: str
    kind: str
    question: str
    started_on: date
    last_day: date
    planned_end: date
    stopped_early: bool
    stop_reason: str | None
    #: The result in plain words (the same sentence as ``twitchwise experiment result``).
    result: str
    #: The rate ratio and its 95% interval in words, or why there is none.
    interval: str
    rate_ratio: float | None
    ci: tuple[float, float] | None
    adherence: str
    #: The share of checked days the plan was kept (None: no day checked).
    adherence_share: float | None
    usual_days: int
    change_days: int
    notes: list[str]
    chart: str

    @property
    def state(self) -> str:
        if self.stopped_early:
            reason = f": {self.stop_reason}" if self.stop_reason else ""
            return f"stopped early on {self.last_day} (planned to {self.planned_end}){reason}"
        return "finished as planned"


def experiment_section(result: ExperimentResult) -> ExperimentSection:
    """A finished experiment's result as the report words it."""
    from twitchwise.insights.experiment import result_svg

    s = result.status
    e = result.estimate
    if e is None:
        interval = "No effect estimated (see the notes)."
    else:
        interval = (
            f"Rate ratio (change / usual) {e.ratio:.2f}, 95% interval {e.ci[0]:.2f} to "
            f"{e.ci[1]:.2f}; randomisation test p = {e.randomisation_p:.3g} over "
            f"{e.allocations} possible schedules."
        )
    return ExperimentSection(
        name=s.name,
        kind=s.kind,
        question=result.question,
        started_on=s.started_on,
        last_day=s.last_day,
        planned_end=s.end,
        stopped_early=s.state == "stopped",
        stop_reason=s.stop_reason,
        result=result.summary,
        interval=interval,
        rate_ratio=None if e is None else e.ratio,
        ci=None if e is None else e.ci,
        adherence=s.adherence.words(),
        adherence_share=s.adherence.share,
        usual_days=result.usual_days,
        change_days=result.change_days,
        notes=list(result.notes),
        chart=result_svg(result),
    )


@dataclass
class DoctorReport:
    """Everything in the doctor report, already worded; the renderers only lay it out."""

    generated: date
    start: date | None
    end: date | None
    level: TriageLevel
    summary: list[str]
    timeline: list[TimelineRow]
    timeline_unit: str
    triggers: list[str]
    tested: str
    alerts: list[Alert]
    medicines: list[MedicineRow]
    questions: list[str]
    notes: list[str]
    sources: list[SourceRef]
    charts: dict[str, str] = field(default_factory=dict)
    #: Finished or stopped self-experiments, oldest first.
    experiments: list[ExperimentSection] = field(default_factory=list)
    version: str = __version__

    @property
    def level_title(self) -> str:
        return LEVEL_TITLE[self.level]


def build_report(
    data: Source,
    insights: Insights,
    *,
    kb: KnowledgeBase,
    today: date | None = None,
    experiments: Sequence[ExperimentResult] = (),
) -> DoctorReport:
    """The report of a journal (read whole, or its summary: :mod:`twitchwise.insights.source`)
    and its insights, with the results of its finished self-experiments."""
    today = today or date.today()
    data = summarise(data)
    episode_days = data.episode_days()
    all_days = sorted(set(episode_days) | {d.date for d in data.days})
    start = all_days[0] if all_days else None
    end = all_days[-1] if all_days else None
    level = max((a.level for a in insights.alerts), default=TriageLevel.SELF_CARE)
    medicines = _medicines(data.days)
    triggers = [describe_effect(e) for e in insights.triggers]
    factors = sorted({e.factor for e in insights.effects}, key=list(NAMES).index)
    if insights.effects:
        tested = (
            f"{len(insights.effects)} effects tested ({', '.join(NAMES[f] for f in factors)}; "
            "each on the same day, the next day and two days later), in one Poisson model of "
            "the daily twitch count that weighs the factors against each other, with a trend "
            f"and the day of the week; significant when the Benjamini-Hochberg q-value is "
            f"below {ALPHA:g}. In simulated journals where nothing mattered, about 1 in 20 "
            "still showed a trigger."
        )
    else:
        tested = "No effect could be tested yet: not enough days with both twitches and factors."
    unit, timeline = _timeline(data, start, end)
    sources = [
        SourceRef(s.id, s.title, s.url) for s in kb.source_list(a.source for a in insights.alerts)
    ]
    sections = [experiment_section(r) for r in experiments if r.status.state != "running"]
    return DoctorReport(
        generated=today,
        start=start,
        end=end,
        level=level,
        summary=_summary(data, insights, episode_days, start, end, kb)
        + _experiment_lines(sections),
        timeline=timeline,
        timeline_unit=unit,
        triggers=triggers,
        tested=tested,
        alerts=list(insights.alerts),
        medicines=medicines,
        questions=_questions(kb, insights, medicines),
        notes=list(insights.notes),
        sources=sources,
        charts={
            "calendar": calendar_svg(data),
            "body_map": body_map_svg(data, kb),
            "effects": effects_svg(insights.effects),
        },
        experiments=sections,
    )


def _summary(
    data: JournalSummary,
    insights: Insights,
    episode_days: list[date],
    start: date | None,
    end: date | None,
    kb: KnowledgeBase,
) -> list[str]:
    if start is None or end is None:
        return ["The journal is empty."]
    lines = [
        f"{_plural(data.episodes, 'twitch episode')} on {_plural(len(episode_days), 'day')} "
        f"between {start} and {end} ({_plural(insights.days, 'day')} with journal entries)."
    ]
    regions = _count_regions(_in_journal_order(data.groups), lambda region: region)
    if regions:
        top = ", ".join(f"{_label(r, kb).lower()} ({n})" for r, n in regions.most_common(4))
        lines.append(f"Most often in: {top}.")
    given = sum(data.intensities.values())
    if given:
        lines.append(
            f"Intensity where given ({given} episodes): median {_median(data.intensities):g} of 5."
        )
    level = max((a.level for a in insights.alerts), default=TriageLevel.SELF_CARE)
    if insights.alerts:
        lines.append(
            f"Warning signs in the pattern ({level.value}): {LEVEL_TITLE[level]}; "
            f"{_plural(len(insights.alerts), 'rule')} fired, see Alerts."
        )
    else:
        lines.append("No warning sign in the pattern of the journal.")
    if insights.triggers:
        found = ", ".join(f"{NAMES[e.factor]} ({LAG_WORDS[e.lag_days]})" for e in insights.triggers)
        lines.append(f"Triggers found in the records: {found}.")
    else:
        lines.append("No trigger found in the records yet.")
    return lines


def _experiment_lines(sections: list[ExperimentSection]) -> list[str]:
    """One summary line per experiment (the report's summary and the PDF)."""
    return [
        f"Self-experiment: {x.name}, {x.started_on} to {x.last_day}, {x.state}. {x.result}"
        for x in sections
    ]


def _in_journal_order(groups: list[EpisodeGroup]) -> list[EpisodeGroup]:
    """Groups in the order of their first episode in the journal: counting them in this order
    lists regions in the order the journal first has them (the order of ties)."""
    return sorted(groups, key=lambda g: g.first)


def _count_regions(groups: list[EpisodeGroup], name: Callable[[str], str]) -> Counter[str]:
    """Episodes per region (named by ``name``), in the order of ``groups``."""
    counts: Counter[str] = Counter()
    for g in groups:
        if g.region:
            counts[name(g.region)] += g.count
    return counts


def _median(counts: dict[int, int]) -> float:
    """``statistics.median`` of the values counted in ``counts`` (value -> how many)."""
    values = sorted(counts)
    n = sum(counts.values())

    def nth(i: int) -> int:
        for value in values:
            i -= counts[value]
            if i < 0:
                return value
        raise IndexError(i)

    if n % 2:
        return nth(n // 2)
    return (nth(n // 2 - 1) + nth(n // 2)) / 2


def _label(region: str, kb: KnowledgeBase) -> str:
    finding = kb.findings.get(region)
    return finding.label if finding is not None else region


def _timeline(
    data: JournalSummary, start: date | None, end: date | None
) -> tuple[str, list[TimelineRow]]:
    if start is None or end is None:
        return "week", []
    span = (end - start).days + 1
    if span <= MAX_WEEKS * 7:
        unit = "week"

        def key(d: date) -> date:
            return d - timedelta(days=d.weekday())

        def name(k: date) -> str:
            return f"week of {k.isoformat()}"
    elif span <= MAX_MONTHS * 31:
        unit = "month"

        def key(d: date) -> date:
            return d.replace(day=1)

        def name(k: date) -> str:
            return k.strftime("%Y-%m")
    else:
        unit = "year"

        def key(d: date) -> date:
            return d.replace(month=1, day=1)

        def name(k: date) -> str:
            return str(k.year)

    periods: dict[date, list[EpisodeGroup]] = defaultdict(list)
    for g in _in_journal_order(data.groups):
        periods[key(g.date)].append(g)
    keys = _periods(key(start), key(end), unit)
    rows = []
    for k in keys:
        items = periods.get(k, [])
        regions = _count_regions(items, lambda r: r.removeprefix("region_").replace("_", " "))
        rows.append(
            TimelineRow(
                name(k),
                sum(g.count for g in items),
                len({g.date for g in items}),
                ", ".join(f"{r} ({n})" for r, n in regions.most_common(4)),
            )
        )
    return unit, rows


def _periods(first: date, last: date, unit: str) -> list[date]:
    """The first day of every week, month or year from ``first`` to ``last``: one step per
    row of the timeline, never one per day."""
    if unit == "year":
        return [date(year, 1, 1) for year in range(first.year, last.year + 1)]
    if unit == "month":
        months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
        return [date(m // 12, m % 12 + 1, 1) for m in months]
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def _medicines(days: list[DayRow]) -> list[MedicineRow]:
    seen: dict[str, list[date]] = defaultdict(list)
    names: dict[str, str] = {}
    for d in days:
        for medicine in d.factors.medicines or ():
            key = medicine.strip().lower()
            if key:
                names.setdefault(key, medicine.strip())
                seen[key].append(d.date)
    return sorted(
        (MedicineRow(names[k], min(v), max(v), len(set(v))) for k, v in seen.items()),
        key=lambda m: (m.first, m.name.lower()),
    )


def _questions(kb: KnowledgeBase, insights: Insights, medicines: list[MedicineRow]) -> list[str]:
    """Questions worth asking: the knowledge base's doctor questions chosen by the alerts'
    findings, then one per trigger the journal found (the safety-net question last)."""
    findings = {a.finding for a in insights.alerts}
    values = {"medicines": ", ".join(m.name for m in medicines[:6])} if medicines else {}
    chosen: list[tuple[int, str]] = []
    for item in sorted(kb.plan.doctor_questions, key=lambda q: (q.priority, q.id)):
        if not (item.always or findings.intersection(item.when_findings)):
            continue
        try:
            chosen.append((item.priority, item.text.format_map(values)))
        except KeyError:
            continue  # needs a number the journal does not have
    for e in insights.triggers[:3]:
        direction = "more" if e.effect > 1 else "fewer"
        chosen.append(
            (
                50,
                f"My records show {direction} twitching with more {NAMES[e.factor]} "
                f"({LAG_WORDS[e.lag_days]}): is changing it a sensible first step?",
            )
        )
    return [text for _, text in sorted(chosen, key=lambda pair: pair[0])]


# ---------------------------------------------------------------------- HTML


def render_html(report: DoctorReport) -> str:
    """A complete HTML page: inline CSS and SVG, nothing loaded from anywhere."""
    from markupsafe import Markup

    from twitchwise.jinja import environment

    env = environment()
    charts = {name: Markup(_inline(svg)) for name, svg in report.charts.items()}  # noqa: S704
    experiment_charts = [Markup(_inline(x.chart)) for x in report.experiments]  # noqa: S704
    return env.get_template("report.html.j2").render(
        r=report, charts=charts, experiment_charts=experiment_charts, disclaimer=DISCLAIMER
    )


def _inline(svg: str) -> str:
    """SVG written by :mod:`twitchwise.insights.charts` (escaped there), fit to the page."""
    return svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)


# ---------------------------------------------------------------------- PDF


def render_pdf(report: DoctorReport) -> bytes:
    """The same content as the HTML page, as an A4 PDF (fpdf2; core fonts, Latin-1 text)."""
    import io
    import logging

    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class _PDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.set_text_color(110)
            self.cell(0, 6, f"twitchwise {report.version} - not a diagnosis", align="L")
            self.set_x(self.l_margin)
            self.cell(0, 6, f"page {self.page_no()}", align="R")

    pdf = _PDF(format="A4")
    pdf.set_title("Twitch journal: report for a doctor")
    pdf.set_author("twitchwise")
    pdf.set_creator(f"twitchwise {report.version}")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(16, 14, 16)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: int = 13) -> None:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", size)
        pdf.set_text_color(20)
        pdf.multi_cell(width, 7, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=10)

    def para(text: str, bullet: bool = False, colour: int = 30) -> None:
        pdf.set_text_color(colour)
        prefix = "- " if bullet else ""
        pdf.multi_cell(width, 5, _latin1(prefix + text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def image(svg: str, w: float) -> None:
        w = min(w, width)
        size = re.search(r'width="([\d.]+)" height="([\d.]+)"', svg)
        h = w * float(size[2]) / float(size[1]) if size else w
        if pdf.get_y() + h > pdf.page_break_trigger:
            pdf.add_page()
        logger = logging.getLogger("fpdf.svg")
        level = logger.level
        logger.setLevel(logging.ERROR)  # fpdf2 skips <title> tooltips with a warning each
        try:
            pdf.image(io.BytesIO(_for_pdf(svg).encode("utf-8")), w=w)
        finally:
            logger.setLevel(level)
        pdf.ln(4)

    heading("Twitch journal: report for a doctor", 16)
    period = f"{report.start} to {report.end}" if report.start else "no entries"
    para(
        f"Period: {period}. Generated {report.generated} by twitchwise {report.version}.", colour=90
    )
    heading("Summary")
    for line in report.summary:
        para(line, bullet=True)
    heading(f"Alerts: {report.level_title}")
    if report.alerts:
        for a in report.alerts:
            para(f"[{a.level.value}] {a.text} (source: {a.source})", bullet=True)
            para(f"  From the journal: {a.pattern}", colour=90)
    else:
        para("No warning sign in the pattern of the journal.")
    heading("Triggers found")
    for t in report.triggers or ["None found yet."]:
        para(t, bullet=True)
    para(report.tested, colour=90)
    heading("Medicines logged")
    for m in report.medicines:
        para(f"{m.name}: {m.days} days, {m.first} to {m.last}", bullet=True)
    if not report.medicines:
        para("None logged.")
    heading("Questions worth asking")
    for q in report.questions:
        para(q, bullet=True)
    if report.experiments:
        heading("Self-experiments")
        for x in report.experiments:
            heading(f"{x.name}: {x.started_on} to {x.last_day}", 11)
            para(f"Question: {x.question}")
            para(f"Status: {x.state}.")
            para(f"Result: {x.result}")
            para(x.interval)
            para(
                f"Days analysed: {x.usual_days} usual, {x.change_days} with the change. "
                f"Adherence: {x.adherence}."
            )
            for note in x.notes:
                para(note, bullet=True, colour=90)
            image(x.chart, width)
    pdf.add_page()
    heading("Charts")
    image(report.charts["body_map"], 110)
    image(report.charts["calendar"], width)
    image(report.charts["effects"], width)
    heading(f"Timeline (by {report.timeline_unit})")
    pdf.set_font("Helvetica", size=9)
    with pdf.table(
        col_widths=(30, 18, 22, 60),
        text_align=("LEFT", "RIGHT", "RIGHT", "LEFT"),
        line_height=5,
    ) as table:
        head = table.row()
        for cell in ("Period", "Episodes", "Days with twitching", "Regions"):
            head.cell(cell)
        for row in report.timeline:
            cells = table.row()
            cells.cell(_latin1(row.period))
            cells.cell(str(row.episodes))
            cells.cell(str(row.twitch_days))
            cells.cell(_latin1(row.regions))
    if report.notes:
        heading("Notes")
        for note in report.notes:
            para(note, bullet=True)
    if report.sources:
        heading("Sources")
        for s in report.sources:
            para(f"{s.title} ({s.id}): {s.url}", bullet=True)
    return bytes(pdf.output())


_LATIN1 = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00d7": "x",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2192": "->",
        "\u2022": "-",
    }
)


def _latin1(text: str) -> str:
    """Text the PDF core fonts can show: common punctuation spelled out, the rest as '?'."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _for_pdf(svg: str) -> str:
    """fpdf2 draws SVG shapes and text but not tooltips, nor text outside Latin-1."""
    return _latin1(re.sub(r"<title>.*?</title>", "", svg, flags=re.DOTALL))
