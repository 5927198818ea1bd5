"""Guides are quick clear answers (issue 14): a core a person reads in two minutes, at a reading
age of about 9, with the warning signs first.

The target is a reading age of about 9; the bar tested is a Flesch-Kincaid grade of 8 or
below, measured with textstat on the core as a person reads it (:meth:`Guide.core_text`: one
sentence or heading a line, so list items count as sentences).
"""

from __future__ import annotations

import re

import pytest
import textstat

from twitchwise.guides import build_guide, topics
from twitchwise.guides.model import Guide
from twitchwise.knowledge.load import KnowledgeBase

MAX_GRADE = 8.0
MAX_CORE_WORDS = 900
#: Words in the two seed articles (../shared/seeds, `wc -w`): a seed topic's core stays shorter.
SEED_WORDS = {"knee": 1550, "after-workout": 1654}


@pytest.fixture(scope="module")
def guides(kb: KnowledgeBase) -> dict[str, Guide]:
    return {t.id: build_guide(t, kb) for t in topics(kb)}


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def test_every_core_reads_at_grade_8_or_below(guides: dict[str, Guide]) -> None:
    grades = {g.id: textstat.flesch_kincaid_grade(g.core_text()) for g in guides.values()}
    too_hard = {k: v for k, v in grades.items() if v > MAX_GRADE}
    assert not too_hard, too_hard


def test_every_core_is_a_two_minute_read(guides: dict[str, Guide]) -> None:
    lengths = {g.id: words(g.core_text()) for g in guides.values()}
    too_long = {k: v for k, v in lengths.items() if v > MAX_CORE_WORDS}
    assert not too_long, too_long
    for topic_id, limit in SEED_WORDS.items():
        assert lengths[topic_id] < limit, topic_id


def test_the_core_is_most_of_what_the_guide_says(guides: dict[str, Guide]) -> None:
    """The depth lives on linked pages: the whole guide is not much longer than its core."""
    for guide in guides.values():
        markdown = re.sub(r"```.*?```", "", guide.render("markdown"), flags=re.DOTALL)
        notes = markdown.split("\n## Notes", 1)[0]
        assert words(notes) < 1.6 * words(guide.core_text()) + 150, guide.id


def test_the_readability_measure_is_sensitive() -> None:
    """The measure tells a plain sentence from a dense one (so the test above means something)."""
    plain = "Most twitches stop by themselves. See a GP if a twitch lasts more than 2 weeks."
    dense = (
        "Fasciculations accompanied by progressive asymmetrical weakness, amyotrophy and "
        "hyperreflexia necessitate expedited neurological evaluation and electromyography."
    )
    assert textstat.flesch_kincaid_grade(plain) <= MAX_GRADE < textstat.flesch_kincaid_grade(dense)
