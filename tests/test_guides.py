"""Guides and the static site: topics, assembly, the seeds' checklist, every format, the CLI,
and a built site whose every internal link resolves and that loads nothing from the network."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from helpers import run
from twitchwise.errors import InputError, KnowledgeError
from twitchwise.guides import build_guide, find_topic, topics
from twitchwise.guides.model import Guide
from twitchwise.guides.site import build_site
from twitchwise.knowledge.load import DATA_DIR, KnowledgeBase, build

FORMATS = ("terminal", "markdown", "html", "json")
SEED_TOPICS = {"knee": "knee", "after_workout": "after-workout"}
REGIONS = {"knee", "calf", "thigh", "hamstring", "foot", "eyelid", "face", "lip", "arm", "biceps",
           "hand", "thumb", "back", "stomach", "whole-body"}  # fmt: skip
SITUATIONS = {"after-workout", "at-rest", "at-night", "pregnancy", "new-medicine",
              "stress-anxiety", "caffeine", "after-drinking", "older-age"}  # fmt: skip
#: `test:` references of the seed points are free text; this is the wording each one must have
#: in the guide's "What a doctor may check" section.
TEST_WORDS = {
    "emg": "emg",
    "mri": "mri",
    "nerve_conduction": "nerve conduction",
    "blood_tests": "blood test",
    "ck": "ck (creatine kinase)",
}
#: Notes for the knowledge base's reviewers that must never reach a reader.
INTERNAL_NOTES = [
    "older fact-sheet",
    "fact-sheet versions",
    "page versions",
    "pmid not verified",
    "not re-verified",
    "(knee)",
    "(after a workout)",
    "not a diagnosis. this is not",
    "tw-src-id",
]


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def html_text(page: str) -> str:
    """The visible text of an HTML page, unescaped, one space between words."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return norm(html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture(scope="module")
def guides(kb: KnowledgeBase) -> dict[str, Guide]:
    return {t.id: build_guide(t, kb) for t in topics(kb)}


# --------------------------------------------------------------------------- topics


def test_topics_cover_regions_and_situations(kb: KnowledgeBase) -> None:
    ids = {t.id for t in topics(kb)}
    assert len(ids) >= 20
    assert ids >= REGIONS
    assert ids >= SITUATIONS
    assert {t.kind for t in topics(kb)} == {"region", "situation"}
    assert [t.kind for t in topics(kb)] == sorted(
        (t.kind for t in topics(kb)), key=lambda k: k != "region"
    ), "regions are listed first"


def test_every_topic_cites_and_is_cited(kb: KnowledgeBase) -> None:
    for topic in topics(kb):
        assert topic.title.endswith("?"), topic.id
        assert topic.emphasis and topic.faq and topic.related, topic.id
        for link in topic.related:
            assert link in kb.topics


@pytest.mark.parametrize("name", ["quads", "Eye", "after_workout", "AFTER WORKOUT", " knee "])
def test_find_topic_by_alias_and_spelling(name: str, kb: KnowledgeBase) -> None:
    assert find_topic(name, kb).id in {"thigh", "eyelid", "after-workout", "knee"}


def test_unknown_topic_suggests_the_closest(kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match=r"unknown topic 'kne'; did you mean 'knee'"):
        find_topic("kne", kb)


@pytest.mark.parametrize("topic_id", sorted(REGIONS | SITUATIONS))
def test_example_reads_as_the_topic(topic_id: str, kb: KnowledgeBase) -> None:
    """The 'describe your own case' example is understood as the topic by `ask`."""
    import twitchwise

    topic = kb.topics[topic_id]
    answer = twitchwise.ask(topic.example)
    present = {f.id for f in answer.findings if not f.negated}
    assert set(topic.findings) <= present, (topic.example, present)


def test_loader_rejects_a_broken_topic(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "topics" / "regions.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("findings: [twitching, region_knee]", "findings: [twitching, region_kne]")
    text = text.replace("related: [thigh, hamstring, calf,", "related: [thigh, hamstrings, calf,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        build(data)
    message = str(info.value)
    assert "unknown finding 'region_kne'; did you mean 'region_knee'?" in message
    assert "unknown topic 'hamstrings'" in message
    assert "topics/regions.yaml:" in message


# --------------------------------------------------------------------------- assembly


def test_core_causes_are_the_rankers_leading_causes(
    kb: KnowledgeBase, guides: dict[str, Guide]
) -> None:
    """3 to 6 causes, exactly the ranker's first ones for the topic, each in one sentence;
    "most likely" only where the ranker clearly puts one cause first."""
    from twitchwise.guides.build import _evidence
    from twitchwise.reason.model import cause_model
    from twitchwise.reason.rank import rank

    model = cause_model(kb)
    for topic in topics(kb):
        guide = guides[topic.id]
        ranking = [r.id for r in rank(kb, _evidence(kb, topic.findings), model)]
        ids = [c.id for c in guide.causes]
        assert 3 <= len(ids) <= 6, topic.id
        assert ids == ranking[: len(ids)], topic.id
        for cause in guide.causes:
            assert cause.text.count(". ") == 0 and cause.text.endswith("."), (topic.id, cause.text)
        assert all(c.label == "" for c in guide.causes[1:]), topic.id
    knee = guides["knee"]
    assert knee.causes[0].id == "exercise_fatigue" and knee.causes[0].label == "Most likely"
    # the ranker puts no cause clearly first in pregnancy or at night: nothing is "most likely"
    assert guides["pregnancy"].causes[0].label == guides["at-night"].causes[0].label == ""
    assert guides["new-medicine"].causes[0].id == "medication_side_effect"
    assert guides["caffeine"].causes[0].id == "caffeine_stimulants"


def test_every_emphasised_cause_is_linked(kb: KnowledgeBase, guides: dict[str, Guide]) -> None:
    for topic in topics(kb):
        linked = guides[topic.id].cause_ids()
        assert {e.cause for e in topic.emphasis} <= set(linked), topic.id
        assert {c.id for c in guides[topic.id].causes} <= set(linked), topic.id


def test_warning_box_is_most_urgent_first(guides: dict[str, Guide]) -> None:
    order = ["emergency", "today", "days", "gp"]
    for guide in guides.values():
        actions = [g.action for g in guide.warnings]
        assert actions == sorted(actions, key=order.index), guide.id
        assert all(g.signs for g in guide.warnings), guide.id
        signs = {s.id for s in guide.signs()}
        # the NHS 2-week rule and the twitch's own pattern are in every guide
        assert {"twitch_over_2_weeks", "twitch_in_several_places"} <= signs, guide.id
        texts = [s.sign for s in guide.signs()]
        assert len(texts) == len(set(texts)), guide.id
    assert "swollen_painful_calf" in {s.id for s in guides["calf"].signs()}


def test_box_signs_are_short_whole_phrases(guides: dict[str, Guide]) -> None:
    dangling = {
        "that",
        "which",
        "who",
        "you",
        "this",
        "or",
        "and",
        "with",
        "when",
        "is",
        "are",
        "the",
        "a",
    }
    for guide in guides.values():
        for sign in guide.signs():
            words = sign.sign.split()
            assert 1 <= len(words) <= 30, (guide.id, sign.sign)
            assert words[-1].lower().strip(",") not in dangling, (guide.id, sign.sign)
            assert sign.sign[0].isupper(), (guide.id, sign.sign)


def test_eyelid_warning_signs_fit_the_eyelid(guides: dict[str, Guide]) -> None:
    """An eyelid guide talks about the lid closing, spreading to the cheek, a red eye and a
    drooping lid, with one GP rule (2 weeks), and not about muscles getting weaker or thinner."""
    eyelid = guides["eyelid"]
    signs = {s.id for s in eyelid.signs()}
    assert {"both_eyes_clamping_shut", "twitch_spreading_across_face", "red_or_sticky_eye",
            "drooping_eyelid", "twitch_over_2_weeks"} <= signs  # fmt: skip
    assert "eyelid_twitch_over_3_months" not in signs  # the 2-week rule already covers it
    core = eyelid.core_text().lower()
    assert "3 months" not in core and "2 weeks" in core
    assert "weaker or thinner" not in core and "weakness" not in core
    assert "screen" in core and "dry" in core


def test_one_gp_rule_in_every_guide(kb: KnowledgeBase, guides: dict[str, Guide]) -> None:
    rule = next(a for a in kb.plan.advice if a.id == "gp_rule")
    for guide in guides.values():
        assert guide.gp[0].text == rule.text, guide.id
        assert "more than 2 weeks" in guide.gp[0].text
        assert "3 months" not in guide.core_text(), guide.id


def test_advice_with_only_when_all_shows_in_the_guide_as_in_the_answer(tmp_path: Path) -> None:
    """One rule decides which advice applies to an answer and to a guide: an item whose only
    condition is ``when_all`` appears in both when the topic's findings meet it."""
    from twitchwise.answer.build import answer_for
    from twitchwise.evidence import Evidence, Observation, with_implied
    from twitchwise.guides.build import topic_advice

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    item = (
        "  - id: knee_only_when_all\n"
        "    kind: knee_check\n"
        "    priority: 1\n"
        "    when_all: [twitching, region_knee]\n"
        '    text: "Check the other knee too ({caffeine_limit_mg} mg)."\n'
        "    sources: [nhs-twitch]\n"
    )
    with (data / "plan" / "advice.yaml").open("a", encoding="utf-8") as f:
        f.write(item)
    kb = build(data)
    topic = kb.topics["knee"]
    evidence = with_implied(Evidence(tuple(Observation(f) for f in topic.findings)), kb.closure)
    plan = {p.kind: p.text for p in answer_for(kb, evidence).plan}
    guide = {a.kind: a.text for a in topic_advice(topic, kb)}
    assert plan["knee_check"] == guide["knee_check"] == "Check the other knee too (400 mg)."
    calf = {a.kind for a in topic_advice("calf", kb)}
    assert "knee_check" not in calf


def test_pregnancy_guide_uses_the_pregnancy_caffeine_limit(guides: dict[str, Guide]) -> None:
    caffeine = next(a for a in guides["pregnancy"].advice if a.kind == "caffeine")
    assert "to 200 mg a day or less" in caffeine.text
    knee_caffeine = next(a for a in guides["knee"].advice if a.kind == "caffeine")
    assert "to 400 mg a day or less" in knee_caffeine.text


def test_numbered_notes_not_source_ids(guides: dict[str, Guide]) -> None:
    """Every fact carries numbered notes; each note is cited; no "[source-id]" tags and no note
    number twice in one marker."""
    for guide in guides.values():
        markdown = guide.render("markdown")
        assert not re.search(r"\[[a-z][a-z0-9.]*-[a-z0-9.\-]*\]", markdown), guide.id
        markers = re.findall(r" \[(\d+(?:, \d+)*)\]", markdown)
        used = [int(n) for m in markers for n in m.split(", ")]
        for m in markers:
            numbers = [int(n) for n in m.split(", ")]
            assert numbers == sorted(set(numbers)), (guide.id, m)
        assert set(used) == set(range(1, len(guide.sources) + 1)), guide.id
        page = guide.render("html")
        assert 'class="tw-cite"' not in page and "[nhs-twitch]" not in page
        for n in range(1, len(guide.sources) + 1):
            assert f'id="note-{n}"' in page and f'href="#note-{n}"' in page, (guide.id, n)


def test_no_internal_notes_shown_to_readers(guides: dict[str, Guide]) -> None:
    internal = INTERNAL_NOTES
    for guide in guides.values():
        for fmt in ("markdown", "html"):
            text = guide.render(fmt).lower()
            assert not [w for w in internal if w in text], (guide.id, fmt)


# --------------------------------------------------------------------------- the seeds


def _wanted(kb: KnowledgeBase, ref: str) -> list[str]:
    """The text that shows a seed point's reference is covered, in the guide or a page it
    links to."""
    from twitchwise.guides.build import guide_values
    from twitchwise.reason.advice import fill

    kind, _, value = ref.partition(":")
    if kind == "cause":
        return [kb.causes[value].name]
    if kind == "correction":
        return [next(c.correct for c in kb.seeds.corrections if c.id == value)]
    if kind == "nutrient":
        return [next(n.name for n in kb.plan.nutrients if n.id == value)]
    if kind == "drink":
        return [next(d.name for d in kb.plan.caffeine_drinks if d.id == value)]
    if kind == "finding":
        return [kb.findings[value].label]
    if kind == "anatomy":
        return [kb.anatomy[value].name]
    if kind == "fluid":
        row = next(r for r in kb.plan.fluid_seed_table if r.activity == value)
        return [row.seed, row.authority, row.verdict]
    if kind == "test":
        return [TEST_WORDS[value]]
    if kind == "advice":
        # the advice itself, filled for a typical adult; or (when it needs a person's own
        # numbers, like the caffeine budget) the first advice of the same kind that fills
        values = guide_values(kb)
        advice = next(a for a in kb.plan.advice if a.id == value)
        same = [a for a in kb.plan.advice if a.kind == advice.kind]
        same.sort(key=lambda a: (a.when_levels != advice.when_levels, a.priority))
        for candidate in [advice, *same]:
            text = fill(kb, candidate, values)
            if text:
                return [text]
        return [f"<no advice of kind {advice.kind}>"]
    raise AssertionError(f"unknown reference kind in {ref!r}")


def _linked_pages(site: Path, rel: str) -> dict[str, str]:
    """The visible text of every site page the page ``rel`` links to, by path."""
    path = site / rel
    out = {}
    for _tag, _attr, url in _parse(path).links:
        parts = urlsplit(url)
        if parts.scheme or not parts.path.endswith(".html"):
            continue
        target = (path.parent / unquote(parts.path)).resolve()
        if target.is_file():
            out[str(target.relative_to(site.resolve()))] = html_text(target.read_text("utf-8"))
    return out


@pytest.mark.parametrize("seed", sorted(SEED_TOPICS))
def test_guide_covers_every_point_of_its_seed(
    seed: str, kb: KnowledgeBase, guides: dict[str, Guide], site: Path
) -> None:
    """The checklist: every reference of every point of the seed shows in the guide (Markdown
    and HTML), or on a page of the built site that the guide's page links to."""
    topic_id = SEED_TOPICS[seed]
    guide = guides[topic_id]
    markdown = norm(guide.render("markdown"))
    page = html_text(guide.render("html"))
    linked = _linked_pages(site, f"guides/{topic_id}.html")
    assert {"anatomy.html", "self-care.html", "medicines.html", f"myths/{topic_id}.html"} <= set(
        linked
    )
    points = [p for p in kb.seeds.points if p.seed == seed]
    assert len(points) > 50
    missing = []
    for point in points:
        for ref in point.represented_by:
            for text in _wanted(kb, ref):
                wanted = norm(text)
                in_guide = wanted in markdown and wanted in page
                if not in_guide and not any(wanted in other for other in linked.values()):
                    missing.append(f"{point.id}: {ref}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("seed", sorted(SEED_TOPICS))
def test_seed_myths_page_corrects_every_wrong_claim_with_sources(
    seed: str, kb: KnowledgeBase, site: Path
) -> None:
    """The myth-busting table is on its own page, linked only from the seed topic's guide; each
    correction shows with numbered notes that link to its sources."""
    topic_id = SEED_TOPICS[seed]
    rel = f"myths/{topic_id}.html"
    guide_page = (site / "guides" / f"{topic_id}.html").read_text("utf-8")
    assert f'href="../{rel}"' in guide_page
    myths = (site / rel).read_text("utf-8")
    text = html_text(myths)
    numbers = {}
    for n, url in enumerate(re.findall(r'<li id="note-\d+"><a href="([^"]+)"', myths), start=1):
        numbers[html.unescape(url)] = n
    wrong = [c for c in kb.seeds.corrections if c.seed in (seed, "both")]
    assert wrong
    for correction in wrong:
        assert norm(correction.correct) in text, correction.id
        row = re.search(rf'<tr id="{correction.id}">(.*?)</tr>', myths, flags=re.DOTALL)
        assert row is not None, correction.id
        for source in correction.sources:
            n = numbers[kb.sources[source].url]
            assert f'href="#note-{n}"' in row.group(1), (correction.id, source)
    others = [t.id for t in topics(kb) if t.seed is None]
    for other in others:
        assert "myths/" not in (site / "guides" / f"{other}.html").read_text("utf-8"), other


@pytest.mark.parametrize("topic_id", sorted(SEED_TOPICS.values()))
def test_seed_guides_cite_at_least_five_distinct_urls(
    topic_id: str, guides: dict[str, Guide]
) -> None:
    guide = guides[topic_id]
    urls = {s.url for s in guide.sources}
    assert len(urls) >= 5
    page = guide.render("html")
    assert len(set(re.findall(r'<a href="(https?://[^"]+)"', page))) >= 5


# --------------------------------------------------------------------------- rendering

GOLDEN_KNEE_HEADINGS = [
    "# Why is my knee twitching?",
    "## Likely causes",
    "## What to do now",
    "## When to see a GP",
    "## Questions people ask",
    "### Why is my knee twitching after exercise?",
    "### Can a pinched nerve make my knee twitch?",
    "### Do low potassium, calcium or magnesium cause knee twitching?",
    "### Is dehydration a common cause?",
    "### Can stress or caffeine cause it?",
    "## More detail",
    "## Related guides",
    "## Notes",
    "## Your own twitch",
]
GOLDEN_HTML_EXTRA = ["Warning signs", "Call 999 (112 in Europe, 911 in the US) now",
                     "Get help today: call your GP or NHS 111", "See your GP within a few days",
                     "See a GP"]  # fmt: skip


def test_golden_structure_of_the_knee_guide(guides: dict[str, Guide]) -> None:
    markdown = guides["knee"].render("markdown")
    body = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)
    headings = [line for line in body.splitlines() if line.startswith("#")]
    assert headings == GOLDEN_KNEE_HEADINGS
    lines = markdown.splitlines()
    assert lines[2].startswith("Knee twitching is common and almost always harmless")
    assert lines[4] == "> **Warning signs**"
    assert markdown.rstrip().endswith("talk to a doctor._")


def test_html_has_the_same_sections_in_the_same_order(guides: dict[str, Guide]) -> None:
    page = guides["knee"].render("html")
    headings = [
        html.unescape(re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", page, flags=re.DOTALL)
    ]
    expected = [h.lstrip("# ") for h in GOLDEN_KNEE_HEADINGS]
    expected[1:1] = GOLDEN_HTML_EXTRA  # the warning-sign box follows the answer
    assert headings == expected
    assert page.startswith('<article class="tw-guide')
    assert page.index('class="tw-warnbox"') < page.index('id="tw-causes"')


def test_warning_signs_come_within_the_first_300_words(guides: dict[str, Guide]) -> None:
    for guide in guides.values():
        before = guide.render("markdown").split("> **Warning signs**", 1)[0]
        words = re.sub(r"\[\d+(?:, \d+)*\]", "", before).split()
        assert len(words) < 300, (guide.id, len(words))


def test_markdown_lists_nest_with_four_spaces(guides: dict[str, Guide]) -> None:
    """Every list item is a list item in CommonMark (a sub-item under "10." needs 4 spaces)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    for guide in guides.values():
        markdown = guide.render("markdown")
        rendered = md.render(markdown)
        markers = [
            line for line in markdown.splitlines()
            if re.match(r"^(?:> )?\s*(?:[-*]|\d+\.)\s", line)
        ]  # fmt: skip
        assert rendered.count("<li>") == len(markers), guide.id
        assert not re.search(r"<p>\s*(?:-|\d+\.)\s", rendered), guide.id
        assert "<pre><code>-" not in rendered, guide.id
        for line in markdown.splitlines():
            indent = len(line) - len(line.lstrip(" "))
            if line.lstrip().startswith(("- ", "* ")) and indent:
                assert indent % 4 == 0, (guide.id, line)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("topic_id", sorted(REGIONS | SITUATIONS))
def test_every_topic_renders_in_every_format(
    topic_id: str, fmt: str, guides: dict[str, Guide]
) -> None:
    guide = guides[topic_id]
    text = guide.render(fmt)
    if fmt == "json":
        data = json.loads(text)
        assert data["schema_version"] == 2
        assert data["id"] == topic_id and data["title"] == guide.title
        assert data["causes"] and data["warnings"] and data["sources"] and data["answer"]
        assert {m["kind"] for m in data["more"]} >= {"causes", "anatomy", "self-care", "medicines"}
        assert all(s["url"].startswith(("http://", "https://")) for s in data["sources"])
        return
    assert guide.title in text
    assert guide.ask in html.unescape(text)
    assert text.count("This is not a diagnosis") == 1
    if fmt == "html":
        assert "<script" not in text and "{{" not in text
        assert text.count("<h1") == 1


def test_html_escapes_and_renders_inline_markdown(guides: dict[str, Guide], site: Path) -> None:
    page = guides["stomach"].render("html")
    assert '"stomach"' not in page and (
        "&#34;stomach&#34;" in page or "&quot;stomach&quot;" in page
    )
    # the diary advice's `twitchwise log` is inline Markdown code (on the self-care page)
    assert "<code>twitchwise log</code>" in (site / "self-care.html").read_text("utf-8")


def test_terminal_is_plain_text_of_the_requested_width(guides: dict[str, Guide]) -> None:
    text = guides["eyelid"].render("terminal", width=72)
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 72


def test_unknown_format_is_an_input_error(guides: dict[str, Guide]) -> None:
    with pytest.raises(InputError, match="unknown format 'pdf'"):
        guides["knee"].render("pdf")


# --------------------------------------------------------------------------- command line


def test_guide_list_json(capsys: pytest.CaptureFixture[str], kb: KnowledgeBase) -> None:
    code, out, err = run(["guide", "--list", "--format", "json"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert all(set(row) == {"id", "title"} for row in rows)
    assert [row["id"] for row in rows] == [t.id for t in topics(kb)]
    assert len(rows) >= 20


def test_guide_list_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["guide", "--list"], capsys)
    assert code == 0
    assert out.splitlines()[0].split(None, 1) == ["knee", "Why is my knee twitching?"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_guide_command_prints_every_format(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["guide", "after-workout", "--format", fmt], capsys)
    assert code == 0, err
    assert err == ""
    assert "after a workout" in out.lower()


def test_a_misspelt_topic_shows_the_closest_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A clear near miss shows that guide (exit 0); which guide it is goes to stderr, so stdout
    holds only the guide (this replaced an exit 2 with "did you mean" in the fourth session)."""
    code, out, err = run(["guide", "kne"], capsys)
    assert code == 0
    assert out.startswith("Why is my knee twitching?") or "knee" in out.splitlines()[0].lower()
    assert err.strip().splitlines() == [
        "note: no topic is called 'kne': showing 'knee' (Why is my knee twitching?), "
        "the closest name"
    ]


@pytest.mark.parametrize(
    ("name", "shown"),
    [("elbow", "arm"), ("quads", "thigh"), ("tongues", "tongue"), ("Hypnic_Jerks", "hypnic-jerks")],
)
def test_a_near_miss_names_the_guide_it_shows(
    name: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["guide", name, "--format", "json"], capsys)
    assert code == 0, err
    if name.lower().replace("_", "-") != shown:
        assert f"showing '{shown}'" in err and len(err.strip().splitlines()) == 1


def test_a_name_that_fits_several_guides_exits_2_naming_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["guide", "leg"], capsys)
    assert code == 2
    assert out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("error: 'leg' has no guide of its own; the closest guides are ")
    assert "run 'twitchwise guide " in line


def test_an_unknown_topic_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["guide", "xyzzy"], capsys)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "error: unknown topic 'xyzzy'; run 'twitchwise guide --list' to see every topic"
    ]


def test_guide_needs_a_topic(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["guide"], capsys)
    assert code == 2
    assert "twitchwise guide knee" in err and len(err.strip().splitlines()) == 1


def test_guide_list_rejects_document_formats(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["guide", "--list", "--format", "html"], capsys)
    assert code == 2
    assert "unknown format 'html'" in err


def test_cli_start_up_does_not_import_guide_libraries() -> None:
    """The guide commands register on import but load Jinja2, markdown-it and the builders
    only when run, so `twitchwise ask` starts as fast as before."""
    code = (
        "import sys, twitchwise.cli\n"
        "heavy = ['jinja2', 'markdown_it', 'twitchwise.guides', 'rich.progress']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the site


class _Page(HTMLParser):
    """Links, asset references, ids and landmarks of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "script":
            self.scripts.append(values)
        for attr in ("href", "src", "srcset", "poster", "data"):
            if attr in values:
                self.links.append((tag, attr, values[attr]))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Path:
    root = tmp_path_factory.mktemp("site")
    calls: list[tuple[str, int, int]] = []
    report = build_site(
        root, progress=lambda rel, done, total: calls.append((rel, done, total)), kb=kb
    )
    assert report.root == root
    assert calls and calls[-1][1] == calls[-1][2] == len(report.pages)
    return root


def test_site_has_every_page(site: Path, kb: KnowledgeBase) -> None:
    for name in ("index.html", "sources.html", "checker.html", "robots.txt", "assets/site.css",
                 "anatomy.html", "self-care.html", "medicines.html", "myths/knee.html",
                 "myths/after-workout.html", "search.html", "404.html",
                 "check/self-care.html"):  # fmt: skip
        assert (site / name).is_file(), name
    assert sorted(p.name for p in (site / "myths").iterdir()) == ["after-workout.html", "knee.html"]
    for topic in topics(kb):
        assert (site / "guides" / f"{topic.id}.html").is_file(), topic.id
    for cause_id in kb.causes:
        assert (site / "causes" / f"{cause_id}.html").is_file(), cause_id
    index = (site / "index.html").read_text(encoding="utf-8")
    for topic in topics(kb):
        assert f'href="guides/{topic.id}.html"' in index


def test_a_local_build_has_no_sitemap(site: Path) -> None:
    """A sitemap lists absolute URLs: without a base URL there is none (tests/test_site.py
    checks the sitemap of a build with one)."""
    assert not (site / "sitemap.xml").exists()
    assert "Sitemap:" not in (site / "robots.txt").read_text(encoding="utf-8")


def test_sitemap_uses_the_base_url(tmp_path: Path, kb: KnowledgeBase) -> None:
    build_site(tmp_path, base_url="https://example.org/twitch/", search=False, kb=kb)
    sitemap = (tmp_path / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://example.org/twitch/guides/knee.html</loc><lastmod>" in sitemap
    with pytest.raises(InputError, match="--base-url"):
        build_site(tmp_path, base_url="example.org", kb=kb)


def test_every_internal_link_resolves(site: Path) -> None:
    """Walk every href/src of every page: relative targets are files, fragments are ids."""
    pages = {p: _parse(p) for p in site.rglob("*.html")}
    broken = []
    for path, page in pages.items():
        for _tag, _attr, url in page.links:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_file() or not target.is_relative_to(site.resolve()):
                broken.append(f"{path.relative_to(site)}: {url}")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if parts.fragment not in ids:
                    broken.append(f"{path.relative_to(site)}: {url} (no such id)")
    assert not broken, "\n".join(broken)
    assert sum(len(p.links) for p in pages.values()) > 1000


def test_nothing_is_loaded_from_the_network(site: Path) -> None:
    """Links to cited sources are fine as <a href>; nothing else may point off the site."""
    offenders = []
    for path in site.rglob("*.html"):
        page = _parse(path)
        # scripts: the metadata (JSON-LD, not run) and the search page's own script only
        for script in page.scripts:
            if script.get("type") == "application/ld+json":
                continue
            assert path.name == "search.html" and script.get("src") == "assets/search.js", path
        for tag, attr, url in page.links:
            external = url.startswith(("http://", "https://", "//"))
            if external and not (tag == "a" and attr == "href"):
                offenders.append(f"{path.relative_to(site)}: <{tag} {attr}={url}>")
    css = (site / "assets" / "site.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert not offenders, offenders


def test_pages_are_accessible_and_readable_on_a_phone(site: Path) -> None:
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        page = _parse(path)
        assert page.lang == "en", path
        assert page.tags.count("h1") == 1, path
        assert page.tags.count("main") == 1 and "nav" in page.tags, path
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in text, path
        assert 'class="skip-link" href="#main"' in text, path


def test_guides_link_to_each_other_causes_and_the_checker(site: Path) -> None:
    knee = (site / "guides" / "knee.html").read_text(encoding="utf-8")
    assert 'href="calf.html"' in knee
    assert 'href="../causes/exercise_fatigue.html"' in knee
    assert 'href="../causes/motor_neuron_disease.html"' in knee
    assert 'href="../checker.html"' in knee
    for page in ("../anatomy.html", "../self-care.html", "../medicines.html", "../myths/knee.html"):
        assert f'href="{page}' in knee, page
    assert 'href="#note-1"' in knee and 'id="note-1"' in knee  # numbered notes on the site too
    assert "twitchwise ask &#34;" in knee or "twitchwise ask &quot;" in knee
    cause = (site / "causes" / "motor_neuron_disease.html").read_text(encoding="utf-8")
    assert 'href="../guides/knee.html"' in cause
    checker = html_text((site / "checker.html").read_text(encoding="utf-8"))
    assert "twitchwise serve" in checker and "twitchwise check" in checker


def test_every_link_has_text(site: Path) -> None:
    """No empty links (the index's cause list once had 27 links with no text)."""
    empty = []
    for path in site.rglob("*.html"):
        for match in re.finditer(r"<a\b[^>]*>(.*?)</a>", path.read_text("utf-8"), flags=re.DOTALL):
            if not html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip():
                empty.append(f"{path.relative_to(site)}: {match.group(0)[:80]}")
    assert not empty, "\n".join(empty[:10])


def test_sources_page_is_ordered_by_authority(site: Path, kb: KnowledgeBase) -> None:
    """The NHS first, then NICE, MedlinePlus and the NIH; no reviewers' notes shown."""
    from twitchwise.guides.render import authority_rank

    page = (site / "sources.html").read_text("utf-8")
    ids = re.findall(r'<li id="src-([^"]+)">', page)
    assert sorted(ids) == sorted(kb.sources)
    ranks = [authority_rank(kb.sources[i].publisher) for i in ids]
    assert ranks == sorted(ranks)
    publishers = [kb.sources[i].publisher for i in ids]
    assert publishers[0] == "NHS"
    names = ("NHS", "NICE", "MedlinePlus", "NIH Office of Dietary Supplements")
    first = {name: next(i for i, p in enumerate(publishers) if name in p) for name in names}
    assert (
        first["NHS"]
        < first["NICE"]
        < first["MedlinePlus"]
        < first["NIH Office of Dietary Supplements"]
    )
    for source in kb.sources.values():
        if source.note:
            assert html.escape(source.note) not in page and source.note not in page


def test_disclaimer_once_on_every_page(site: Path) -> None:
    for path in site.rglob("*.html"):
        assert path.read_text("utf-8").count("This is not a diagnosis") == 1, path


def test_no_internal_notes_on_any_page(site: Path) -> None:
    internal = INTERNAL_NOTES
    found = []
    for path in site.rglob("*.html"):
        text = path.read_text("utf-8").lower()
        found += [f"{path.relative_to(site)}: {w}" for w in internal if w in text]
    assert not found, found


def test_depth_pages_link_back_and_hold_the_tables(site: Path, kb: KnowledgeBase) -> None:
    care = html_text((site / "self-care.html").read_text("utf-8"))
    for nutrient in kb.plan.nutrients:
        assert norm(nutrient.name) in care
    for drink in kb.plan.caffeine_drinks:
        assert norm(drink.name) in care
    medicines = (site / "medicines.html").read_text("utf-8")
    assert medicines.count("<dt") >= 8
    anatomy = (site / "anatomy.html").read_text("utf-8")
    for a in kb.anatomy.values():
        assert f'id="{a.id}"' in anatomy
    knee = (site / "guides" / "knee.html").read_text("utf-8")
    for a in kb.topics["knee"].anatomy:
        assert f'href="../anatomy.html#{a}"' in knee


def test_site_build_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["site", "build", str(tmp_path / "out")], capsys)
    assert code == 0, err
    assert (tmp_path / "out" / "index.html").is_file()
    assert out.startswith("wrote ") and "files to" in out
    assert re.search(r"building site .* (\d+)/\1 ", err), err  # progress goes to stderr
    assert "note: local build" in err


def test_site_build_refuses_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    code, _, err = run(["site", "build", str(target)], capsys)
    assert code == 2
    assert "is a file" in err
