"""Quick entry: body regions, times and dates as people type them, and free text.

Turning words into journal records needs the knowledge base (region ids and their synonyms)
and the understanding layer (free text), so it lives here, above both the journal and the
answer layer; storage and imports know no medicine.

``entries_from_text("left calf twitching again after 3 coffees")`` gives one episode per
body region mentioned (with the side written nearest to it) and the day's factors the text
states (caffeine, sleep, water). Denied twitching ("no twitching today") gives no episode.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from twitchwise.errors import InputError
from twitchwise.journal.dates import EARLIEST, RULE, check_date, moment_problem
from twitchwise.journal.records import DayFactors, EpisodeIn

if TYPE_CHECKING:
    from twitchwise.evidence import Observation
    from twitchwise.knowledge.load import KnowledgeBase
    from twitchwise.understand.parse import Parser

__all__ = [
    "EARLIEST",
    "TextEntries",
    "check_moment",
    "entries_from_text",
    "parse_day",
    "parse_time",
    "region_id",
]

#: How far in the future a time may be (clock differences); dates follow the date rule
#: (:mod:`twitchwise.journal.dates`, which has ``EARLIEST``).
FUTURE_SLACK = timedelta(minutes=5)
_TWITCH_FINDINGS = ("twitching", "jerking")
_TEXT_FACTORS = ("caffeine_mg", "sleep_h", "water_l")
_SIDE = {"side_left": "left", "side_right": "right", "side_both": "both"}
MAX_NOTE = 2000


def _regions(kb: KnowledgeBase) -> dict[str, list[str]]:
    return {
        f.id: [
            f.id,
            f.id.removeprefix("region_"),
            f.label.lower(),
            *(s.lower() for s in f.synonyms),
        ]
        for f in kb.findings.values()
        if f.kind == "region"
    }


def region_id(kb: KnowledgeBase, value: str) -> str:
    """A region finding id from an id (``region_calf``) or a plain word (``calf``, ``calves``)."""
    key = " ".join(value.strip().lower().replace("_", " ").split())
    regions = _regions(kb)
    for fid, names in regions.items():
        if key.replace(" ", "_") == fid or key in names:
            return fid
    words = sorted({n for names in regions.values() for n in names if "_" not in n})
    close = difflib.get_close_matches(key, words, n=1, cutoff=0.7)
    hint = f"did you mean {close[0]!r}? " if close else ""
    examples = ", ".join(fid.removeprefix("region_") for fid in list(regions)[:8])
    raise InputError(
        f"unknown body region {value!r}; {hint}use a region like {examples} "
        "(or an id from 'twitchwise findings')",
        field="region",
        suggestions=close,
    )


def parse_time(value: str | None, now: datetime | None = None, name: str = "--at") -> datetime:
    """An ISO 8601 time (``2026-03-01T07:30``, offset optional: local time) or now.

    ``name`` is how the person's interface calls this input (``--at`` on the command line).
    """
    now = now or datetime.now().astimezone()
    if value is None or not value.strip():
        return now
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{name} {value!r} is not an ISO time; write it like 2026-03-01T07:30 "
            "(or 2026-03-01T07:30+01:00)",
            field="at",
        ) from None
    return check_moment(moment, now, name=name, shown=value)


def check_moment(
    moment: datetime | None, now: datetime | None = None, name: str = "at", shown: str = ""
) -> datetime:
    """The one rule for when an episode happened: within the journal's dates and not in the
    future (a few minutes of clock difference allowed); no time zone means local time. None
    means now."""
    now = now or datetime.now().astimezone()
    if moment is None:
        return now
    what = f"{name} {shown}".strip() if shown else name
    problem = moment_problem(moment)
    if problem is not None:  # before any time zone arithmetic, which could overflow
        raise InputError(f"{what}: {problem}; {RULE}", field="at")
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the machine's local time zone
    if moment > now + FUTURE_SLACK:
        raise InputError(f"{what} is in the future", field="at")
    return moment


def parse_day(value: str | None, today: date | None = None, name: str = "--date") -> date:
    """An ISO date, ``today`` or ``yesterday``; default today. ``name`` is how the person's
    interface calls this input (``--date`` on the command line, "the date" on a form)."""
    today = today or date.today()
    if value is None or not value.strip() or value.strip().lower() == "today":
        return today
    text = value.strip().lower()
    if text == "yesterday":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{name} {value!r} is not a date; write it like 2026-03-01, or today, yesterday",
            field="day",
        ) from None
    try:
        return check_date(day, name, today)
    except InputError as exc:
        raise InputError(str(exc), field="day") from None


@dataclass
class TextEntries:
    """What a free-text entry records."""

    day: date
    episodes: list[EpisodeIn] = field(default_factory=list)
    factors: DayFactors = field(default_factory=DayFactors)
    not_understood: tuple[str, ...] = ()
    denied: bool = False  # the text says there was no twitching

    @property
    def empty(self) -> bool:
        return not self.episodes and not self.factors.values()


def entries_from_text(
    kb: KnowledgeBase, parser: Parser, text: str, at: datetime | None = None
) -> TextEntries:
    """Episodes and the day's factors from a lay sentence (see the module docstring)."""
    if not text.strip():
        raise InputError(
            'write what happened, e.g. twitchwise log "left calf twitching"', field="text"
        )
    moment = at or datetime.now().astimezone()
    day = moment.date()
    evidence = parser.parse(text, today=day)

    def kind(o: Observation) -> str:
        return kb.findings[o.id].kind

    firm = [o for o in evidence.observations if not o.derived and o.start is not None]
    regions = [o for o in firm if kind(o) == "region" and not o.negated]
    sides = [o for o in firm if kind(o) == "side" and not o.negated]
    denied = any(f in evidence.negated for f in _TWITCH_FINDINGS) and not any(
        f in evidence.present for f in _TWITCH_FINDINGS
    )
    note = " ".join(text.split())[:MAX_NOTE]
    episodes: list[EpisodeIn] = []
    if not denied:
        chosen = _sides_for(regions, sides)
        for region in regions:
            episodes.append(
                EpisodeIn(
                    at=moment, day=day, region=region.id, side=chosen.get(region.id), note=note
                )
            )
        if not regions and any(f in evidence.present for f in _TWITCH_FINDINGS):
            episodes.append(EpisodeIn(at=moment, day=day, note=note))
    values = {
        name: evidence.quantities[name] for name in _TEXT_FACTORS if name in evidence.quantities
    }
    factors = DayFactors(**values).checked() if values else DayFactors()  # type: ignore[arg-type]
    return TextEntries(day, episodes, factors, tuple(evidence.not_understood), denied)


def _sides_for(regions: list[Observation], sides: list[Observation]) -> dict[str, str]:
    """Each side word goes to the nearest region (the one after it on a tie: 'left calf')."""
    got: dict[str, set[str]] = {}
    for side in sides:
        if not regions:
            break
        best = min(regions, key=lambda region: _distance(side, region))
        got.setdefault(best.id, set()).add(_SIDE[side.id])
    out = {}
    for region, names in got.items():
        out[region] = names.pop() if len(names) == 1 else "both"
    return out


def _distance(side: Observation, region: Observation) -> tuple[int, int]:
    s0, s1 = side.start or 0, side.end or side.start or 0
    r0, r1 = region.start or 0, region.end or region.start or 0
    if s1 <= r0:
        return (r0 - s1, 0)
    if s0 >= r1:
        return (s0 - r1, 1)
    return (0, 0)
