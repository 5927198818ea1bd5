"""Charts as self-contained SVG text, written by hand: no plotting library, no network assets.

- :func:`calendar_svg`: twitches per day, one row of weeks per year (a calendar heatmap) for
  at most the latest :data:`MAX_YEARS` years;
- :func:`body_map_svg`: front and back silhouettes with each region coloured by its episodes;
- :func:`effects_svg`: every factor x lag effect with its 95% interval (a forest plot).

Every mark has a ``<title>`` (a tooltip in browsers, read out by screen readers), and text is
XML-escaped. :func:`charts` gives the three by file name.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as _escape

from twitchwise.insights.source import summarise
from twitchwise.knowledge.load import KnowledgeBase
from twitchwise.text import plural as _plural

if TYPE_CHECKING:
    from twitchwise.insights.source import Source
    from twitchwise.insights.stats import Effect
    from twitchwise.journal.summary import EpisodeGroup

__all__ = ["CHART_FILES", "body_map_svg", "calendar_svg", "charts", "effects_svg"]

CHART_FILES = ("calendar.svg", "body-map.svg", "effects.svg")
SVG_NS = "http://www.w3.org/2000/svg"
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\""
#: Light to dark: no twitches, then five steps up to the busiest day or region.
SCALE = ("#ebedf0", "#fde68a", "#fbbf24", "#f97316", "#dc2626", "#7f1d1d")
EMPTY = "#f8fafc"  # days outside the logged period
#: The calendar draws at most this many years, the latest ones; it says what it leaves out.
MAX_YEARS = 10
LAG_WORDS = {0: "same day", 1: "next day", 2: "2 days later"}


def _esc(text: object) -> str:
    return _escape(str(text), {'"': "&quot;"})


def _svg(width: float, height: float, title: str, body: Iterable[str]) -> str:
    return (
        f'<svg xmlns="{SVG_NS}" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{_esc(title)}" {FONT} '
        'font-size="11">\n'
        f"<title>{_esc(title)}</title>\n" + "\n".join(body) + "\n</svg>\n"
    )


def _colour(count: int, top: int) -> str:
    """The scale's colour for ``count`` out of ``top``: 0 is grey, then five steps."""
    if count <= 0:
        return SCALE[0]
    if top <= 5:
        return SCALE[min(count, 5)]
    step = 1 + int(4 * math.log(count) / math.log(top)) if top > 1 else 1
    return SCALE[min(step, 5)]


# ---------------------------------------------------------------------- calendar


def calendar_svg(data: Source) -> str:
    """Twitches per day as a calendar: a row per year, a column per week, Monday on top."""
    summary = summarise(data)
    counts = Counter(summary.day_counts())
    logged = {d.date for d in summary.days} | set(counts)
    if not logged:
        return _svg(
            360,
            40,
            "Twitches per day",
            ['<text x="8" y="24">No entries in the journal yet.</text>'],
        )
    first = min(counts) if counts else min(logged)
    last = max(logged)
    hidden = 0
    if last.year - first.year >= MAX_YEARS:
        shown_from = date(last.year - MAX_YEARS + 1, 1, 1)
        hidden = sum(n for day, n in counts.items() if day < shown_from)
        counts = Counter({day: n for day, n in counts.items() if day >= shown_from})
        first = shown_from
    top = max(counts.values(), default=0)
    cell, gap, left, row_h = 11, 2, 30, 7 * 13 + 34
    body: list[str] = []
    years = list(range(first.year, last.year + 1))
    top_y = 56 + (16 if hidden else 0)
    for row, year in enumerate(years):
        y0 = top_y + row * row_h
        body.append(f'<text x="0" y="{y0 - 18}" font-weight="bold">{year}</text>')
        for i, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
            body.append(f'<text x="0" y="{y0 + i * 13 + 9}" fill="#6b7280">{name}</text>')
        jan1 = date(year, 1, 1)
        offset = jan1.weekday()
        for n in range((date(year, 12, 31) - jan1).days + 1):
            day = jan1 + timedelta(days=n)
            index = n + offset
            x = left + (index // 7) * (cell + gap)
            y = y0 + (index % 7) * (cell + gap)
            if day.day == 1:
                body.append(
                    f'<text x="{x}" y="{y0 - 4}" fill="#6b7280">{day.strftime("%b")}</text>'
                )
            if first <= day <= last:
                n = counts.get(day, 0)
                fill = _colour(n, top)
                tip = f"{day.isoformat()}: {_plural(n, 'twitch episode')}"
            else:
                fill, tip = EMPTY, f"{day.isoformat()}: not logged"
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="2" fill="{fill}">'
                f"<title>{_esc(tip)}</title></rect>"
            )
    width = left + 54 * (cell + gap) + 10
    height = top_y + len(years) * row_h - 34 + 32  # the last grid ends 34 above the next row
    body.append(_legend(left, height - 18, top))
    title = f"Twitches per day, {first} to {last}"
    body.insert(0, f'<text x="0" y="14" font-size="13" font-weight="bold">{_esc(title)}</text>')
    if hidden:
        note = f"{_plural(hidden, 'earlier twitch episode')} (before {first.year}) not shown."
        body.insert(1, f'<text x="0" y="32" fill="#6b7280">{_esc(note)}</text>')
    return _svg(width, height, title, body)


def _legend(x: float, y: float, top: int) -> str:
    parts = [f'<g><text x="{x}" y="{y + 9}" fill="#6b7280">fewer</text>']
    for i, colour in enumerate(SCALE):
        parts.append(
            f'<rect x="{x + 38 + i * 14}" y="{y}" width="11" height="11" rx="2" fill="{colour}"/>'
        )
    parts.append(
        f'<text x="{x + 38 + len(SCALE) * 14 + 4}" y="{y + 9}" fill="#6b7280">more '
        f"(busiest: {top})</text></g>"
    )
    return "".join(parts)


# ---------------------------------------------------------------------- body map


@dataclass(frozen=True, slots=True)
class _Shape:
    """One region's mark: an ellipse (rx, ry) or, with ``rect``, a rectangle; ``dx`` is the
    distance from the midline (0: one midline mark, else one per side)."""

    view: str  # "front" or "back"
    dx: float
    y: float
    rx: float
    ry: float
    rect: bool = False
    outline: bool = False  # drawn as a coloured outline around the area (a whole leg)


#: Where each region is drawn. Regions not listed are counted in the list only.
SHAPES: dict[str, tuple[_Shape, ...]] = {
    "region_eyelid": (_Shape("front", 9, 36, 5, 2.5),),
    "region_face": (_Shape("front", 13, 46, 5, 6),),
    "region_lip": (_Shape("front", 0, 54, 7, 2.5),),
    "region_tongue": (_Shape("front", 0, 59.5, 4, 2),),
    "region_neck": (
        _Shape("front", 0, 70, 8, 6, rect=True),
        _Shape("back", 0, 70, 8, 6, rect=True),
    ),
    "region_shoulder": (_Shape("front", 37, 84, 10, 8), _Shape("back", 37, 84, 10, 8)),
    "region_biceps": (_Shape("front", 48, 112, 6, 16),),
    "region_arm": (_Shape("front", 52, 160, 6, 20), _Shape("back", 49, 130, 6, 44)),
    "region_hand": (_Shape("front", 55, 202, 7, 10), _Shape("back", 55, 202, 7, 10)),
    "region_thumb": (_Shape("front", 46, 200, 2.5, 5),),
    "region_chest": (_Shape("front", 15, 103, 13, 10),),
    "region_abdomen": (_Shape("front", 0, 145, 18, 22, rect=True),),
    "region_back": (_Shape("back", 0, 128, 26, 40, rect=True),),
    "region_buttock": (_Shape("back", 15, 193, 14, 12),),
    "region_thigh": (_Shape("front", 17, 235, 11, 28),),
    "region_hamstring": (_Shape("back", 17, 238, 11, 26),),
    "region_knee": (_Shape("front", 17, 276, 8, 8),),
    "region_shin": (_Shape("front", 17, 318, 6, 26),),
    "region_calf": (_Shape("back", 17, 312, 9, 24),),
    "region_foot": (_Shape("front", 19, 362, 9, 5), _Shape("back", 19, 362, 9, 5)),
    "region_leg": (_Shape("front", 17, 282, 14, 88, rect=True, outline=True),),
}
_VIEW_X = {"front": 110.0, "back": 330.0}


def _silhouette(cx: float) -> str:
    """A plain figure: head, neck, trunk, arms and legs."""
    grey = 'fill="#e5e7eb" stroke="#cbd5e1"'
    return "".join(
        [
            f'<g aria-hidden="true"><circle cx="{cx}" cy="42" r="20" {grey}/>',
            f'<rect x="{cx - 8}" y="60" width="16" height="14" {grey}/>',
            f'<path d="M{cx - 40},78 L{cx + 40},78 L{cx + 34},190 L{cx - 34},190 Z" {grey}/>',
            f'<rect x="{cx - 56}" y="80" width="14" height="112" rx="7" {grey}/>',
            f'<rect x="{cx + 42}" y="80" width="14" height="112" rx="7" {grey}/>',
            f'<rect x="{cx - 31}" y="190" width="28" height="180" rx="8" {grey}/>',
            f'<rect x="{cx + 3}" y="190" width="28" height="180" rx="8" {grey}/></g>',
        ]
    )


def _region_counts(groups: list[EpisodeGroup]) -> tuple[dict[str, Counter[str]], int]:
    """Per region, episodes by side ('left', 'right', 'both', '' for not given)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    no_region = 0
    for g in groups:
        if not g.region:
            no_region += g.count
            continue
        out[g.region][g.side or ""] += g.count
    return out, no_region


def body_map_svg(data: Source, kb: KnowledgeBase) -> str:
    """Front and back figures with each region coloured by how many episodes it had."""
    counts, no_region = _region_counts(summarise(data).groups)

    def on_side(region: str, side: str) -> int:
        c = counts.get(region, Counter())
        if side == "mid":
            return sum(c.values())
        return c[side] + c["both"] + c[""]  # a side not given may be either

    top = max((on_side(r, s) for r in counts for s in ("left", "right")), default=0)
    body: list[str] = [
        '<text x="0" y="14" font-size="13" font-weight="bold">Where the twitches were</text>'
    ]
    for view, cx in _VIEW_X.items():
        body.append(_silhouette(cx))
        body.append(
            f'<text x="{cx}" y="392" text-anchor="middle" fill="#6b7280">{view} '
            f"(the person's left is on the {'right' if view == 'front' else 'left'})</text>"
        )
    for region, shapes in SHAPES.items():
        if region not in kb.findings:
            continue
        label = kb.findings[region].label
        for shape in shapes:
            mirror = 1 if shape.view == "front" else -1
            sides = [("mid", 0.0)] if shape.dx == 0 else [("left", 1.0), ("right", -1.0)]
            for side, sign in sides:
                n = on_side(region, side)
                x = _VIEW_X[shape.view] + mirror * sign * shape.dx
                where = label if side == "mid" else f"{label}, {side}"
                tip = f"{where}: {_plural(n, 'episode')}"
                body.append(_mark(shape, x, n, top, tip))
    y = 412
    lines = _region_lines(counts, kb)
    for line in lines:
        body.append(f'<text x="0" y="{y}">{_esc(line)}</text>')
        y += 15
    if no_region:
        body.append(
            f'<text x="0" y="{y}" fill="#6b7280">'
            f"{_esc(_plural(no_region, 'episode'))} without a region (not shown).</text>"
        )
        y += 15
    body.append(_legend(0, y, top))
    return _svg(440, y + 20, "Where the twitches were: a body map", body)


def _mark(shape: _Shape, x: float, n: int, top: int, tip: str) -> str:
    fill = _colour(n, top) if n else "#ffffff"
    stroke = "#94a3b8"
    if shape.outline:
        if not n:
            return ""
        attrs = f'fill="none" stroke="{_colour(n, top)}" stroke-width="3"'
    else:
        attrs = f'fill="{fill}" stroke="{stroke}" stroke-width="0.8"'
    title = f"<title>{_esc(tip)}</title>"
    if shape.rect:
        return (
            f'<rect x="{x - shape.rx:g}" y="{shape.y - shape.ry:g}" width="{2 * shape.rx:g}" '
            f'height="{2 * shape.ry:g}" rx="4" {attrs}>{title}</rect>'
        )
    return (
        f'<ellipse cx="{x:g}" cy="{shape.y:g}" rx="{shape.rx:g}" ry="{shape.ry:g}" {attrs}>'
        f"{title}</ellipse>"
    )


def _region_lines(counts: dict[str, Counter[str]], kb: KnowledgeBase) -> list[str]:
    """'Calf: 12 (left 7, right 3, side not given 2)', busiest first."""
    names = {"left": "left", "right": "right", "both": "both sides", "": "side not given"}
    out = []
    for region, c in sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0])):
        label = kb.findings[region].label if region in kb.findings else region
        detail = ", ".join(f"{names[s]} {c[s]}" for s in ("left", "right", "both", "") if c[s])
        out.append(f"{label}: {sum(c.values())} ({detail})")
    return out


# ---------------------------------------------------------------------- effects


def effects_svg(effects: list[Effect]) -> str:
    """Each factor x lag rate ratio with its 95% interval, on a log scale around 1."""
    from twitchwise.insights.stats import NAMES, STEPS

    title = "How each factor relates to the daily twitch count"
    if not effects:
        return _svg(
            420,
            44,
            title,
            ['<text x="8" y="26">Not enough data yet to estimate any effect.</text>'],
        )
    low = min(0.5, *(max(e.ci[0], 1e-3) for e in effects))
    high = max(2.0, *(min(e.ci[1], 1e3) for e in effects))
    lo, hi = math.log(low), math.log(high)
    left, plot_w, right_w, row = 250, 300, 150, 20
    top_y = 40

    def xpos(value: float) -> float:
        v = min(max(value, low), high)
        return left + (math.log(v) - lo) / (hi - lo) * plot_w

    body = [f'<text x="0" y="14" font-size="13" font-weight="bold">{_esc(title)}</text>']
    height = top_y + row * len(effects) + 50
    one = xpos(1.0)
    body.append(
        f'<line x1="{one:.1f}" y1="{top_y - 8}" x2="{one:.1f}" y2="{height - 40}" '
        'stroke="#6b7280" stroke-dasharray="3,3"/>'
    )
    for i, e in enumerate(effects):
        y = top_y + i * row
        colour = ("#b91c1c" if e.effect > 1 else "#1d4ed8") if e.significant else "#6b7280"
        weight = ' font-weight="bold"' if e.significant else ""
        label = f"{NAMES[e.factor]} (per {STEPS[e.factor][1]}), {LAG_WORDS[e.lag_days]}"
        tip = (
            f"{label}: {e.effect:.2f}x per {STEPS[e.factor][1]} (95% CI {e.ci[0]:.2f}-"
            f"{e.ci[1]:.2f}), p={e.p_value:.3g}, q={e.q_value:.3g}"
        )
        body.append(f"<g><title>{_esc(tip)}</title>")
        body.append(f'<text x="0" y="{y + 4}"{weight}>{_esc(label)}</text>')
        body.append(
            f'<line x1="{xpos(e.ci[0]):.1f}" y1="{y}" x2="{xpos(e.ci[1]):.1f}" y2="{y}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        body.append(f'<circle cx="{xpos(e.effect):.1f}" cy="{y}" r="4" fill="{colour}"/>')
        body.append(
            f'<text x="{left + plot_w + 12}" y="{y + 4}"{weight}>'
            f"{e.effect:.2f} ({e.ci[0]:.2f}-{e.ci[1]:.2f}){' *' if e.significant else ''}"
            "</text></g>"
        )
    axis_y = height - 40
    for tick in (0.25, 0.5, 1.0, 2.0, 4.0):
        if low <= tick <= high:
            body.append(
                f'<text x="{xpos(tick):.1f}" y="{axis_y + 14}" text-anchor="middle" '
                f'fill="#6b7280">{tick:g}</text>'
            )
    body.append(
        f'<text x="{left}" y="{axis_y + 30}" fill="#6b7280">rate ratio per step (1 = no '
        "effect; * significant, q &lt; 0.05)</text>"
    )
    return _svg(left + plot_w + right_w, height, title, body)


# ---------------------------------------------------------------------- all


def charts(data: Source, effects: list[Effect], kb: KnowledgeBase) -> dict[str, str]:
    """The three charts by file name (:data:`CHART_FILES`)."""
    data = summarise(data)
    return {
        "calendar.svg": calendar_svg(data),
        "body-map.svg": body_map_svg(data, kb),
        "effects.svg": effects_svg(effects),
    }
