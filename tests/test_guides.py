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


def test_causes_come_from_the_ranker_and_the_emphasis(guides: dict[str, Guide]) -> None:
    knee = guides["knee"]
    probabilities = [c.probability for c in knee.causes]
    assert probabilities == sorted(probabilities, reverse=True)
    assert knee.causes[0].id == "exercise_fatigue"
    emphasised = {c.id for c in knee.causes if c.emphasised}
    assert {"nerve_compression", "motor_neuron_disease", "low_potassium"} <= emphasised
    mnd = next(c for c in knee.causes if c.id == "motor_neuron_disease")
    assert mnd.tier == "Rare"
    assert guides["new-medicine"].causes[0].id == "medication_side_effect"
    assert guides["caffeine"].causes[0].id == "caffeine_stimulants"


def test_warning_signs_are_most_urgent_first(guides: dict[str, Guide]) -> None:
    for guide in guides.values():
        ranks = [
            ["see_doctor_routine", "see_doctor_urgent", "emergency"].index(w.level)
            for w in guide.warnings
        ]
        assert ranks == sorted(ranks, reverse=True), guide.id
        # the twitch's own pattern (more than 2 weeks, spreading) is in every guide
        assert {"twitch_over_2_weeks", "twitch_in_several_places"} <= {
            w.id for w in guide.warnings
        }, guide.id
    assert "swollen_painful_calf" in {w.id for w in guides["calf"].warnings}
    assert "eyelid_twitch_over_3_months" in {w.id for w in guides["eyelid"].warnings}


def test_advice_with_only_when_all_shows_in_the_guide_as_in_the_answer(tmp_path: Path) -> None:
    """One rule decides which advice applies to an answer and to a guide: an item whose only
    condition is ``when_all`` appears in both when the topic's findings meet it."""
    from twitchwise.answer.build import answer_for
    from twitchwise.evidence import Evidence, Observation, with_implied

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
    guide = {a.kind: a.text for a in build_guide(topic, kb).advice}
    assert plan["knee_check"] == guide["knee_check"] == "Check the other knee too (400 mg)."
    calf = {a.kind for a in build_guide("calf", kb).advice}
    assert "knee_check" not in calf


def test_pregnancy_guide_uses_the_pregnancy_caffeine_limit(guides: dict[str, Guide]) -> None:
    caffeine = next(a for a in guides["pregnancy"].advice if a.kind == "caffeine")
    assert "within 200 mg a day" in caffeine.text
    knee_caffeine = next(a for a in guides["knee"].advice if a.kind == "caffeine")
    assert "within 400 mg a day" in knee_caffeine.text


def test_every_cited_source_is_listed(guides: dict[str, Guide]) -> None:
    for guide in guides.values():
        listed = {s.id for s in guide.sources}
        markdown = guide.render("markdown")
        cited = set(re.findall(r"\[([a-z0-9][a-z0-9.\-]*)\]", markdown))
        assert cited <= listed, (guide.id, cited - listed)


# --------------------------------------------------------------------------- the seeds


def _wanted(kb: KnowledgeBase, guide: Guide, ref: str) -> list[str]:
    """The text that shows a seed point's reference is covered by the guide."""
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
        # the advice itself, or (when it needs a person's own numbers, like the caffeine
        # budget) the guide's advice of the same kind
        advice = next(a for a in kb.plan.advice if a.id == value)
        texts = [a.text for a in guide.advice if a.kind == advice.kind]
        if advice.kind == "doctor":
            texts += [d.text for d in guide.doctor]
        if advice.kind == "medicine" and guide.medicine_advice is not None:
            texts.append(guide.medicine_advice.text)
        exact = [a.text for a in guide.advice if a.id == value]
        return exact or texts[:1] or [f"<no advice of kind {advice.kind}>"]
    raise AssertionError(f"unknown reference kind in {ref!r}")


@pytest.mark.parametrize("seed", sorted(SEED_TOPICS))
def test_guide_covers_every_point_of_its_seed(
    seed: str, kb: KnowledgeBase, guides: dict[str, Guide]
) -> None:
    """The checklist: every reference of every point of the seed shows in the rendered guide,
    in Markdown and in HTML."""
    guide = guides[SEED_TOPICS[seed]]
    markdown = norm(guide.render("markdown"))
    page = html_text(guide.render("html"))
    points = [p for p in kb.seeds.points if p.seed == seed]
    assert len(points) > 50
    missing = []
    for point in points:
        for ref in point.represented_by:
            for text in _wanted(kb, guide, ref):
                if norm(text) not in markdown or norm(text) not in page:
                    missing.append(f"{point.id}: {ref}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("seed", sorted(SEED_TOPICS))
def test_seed_guide_corrects_every_wrong_claim_with_sources(
    seed: str, kb: KnowledgeBase, guides: dict[str, Guide]
) -> None:
    guide = guides[SEED_TOPICS[seed]]
    shown = {c.id: c for c in guide.corrections}
    wrong = {c.id for c in kb.seeds.corrections if c.seed in (seed, "both")}
    assert wrong <= set(shown)
    markdown = guide.render("markdown")
    section = markdown.split("## What popular articles get wrong", 1)[1].split("\n## ", 1)[0]
    for correction in shown.values():
        for source in correction.sources:
            assert f"[{source}]" in section, (correction.id, source)


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
    "## What the twitch is",
    "## Muscles and nerves involved",
    "## Likely causes",
    "## How it happens",
    "## Warning signs",
    "### EMERGENCY: call emergency services now",
    "### See a doctor soon (today or within days)",
    "### See a GP (routine)",
    "## What to do now",
    "### Fluids: how much to drink",
    "### Food and nutrients",
    "### Caffeine",
    "## Medicines that can cause twitching",
    "## When to see a doctor",
    "### What a doctor may check",
    "## What popular articles get wrong",
    "## Key takeaways",
    "## Frequently asked questions",
    "### Why is my knee twitching after exercise?",
    "### Can a pinched nerve make my knee twitch?",
    "### Do low potassium, calcium or magnesium cause knee twitching?",
    "### Is dehydration a common cause?",
    "### Can stress or caffeine cause it?",
    "## Related guides",
    "## Sources",
    "## Describe your own case",
]


def test_golden_structure_of_the_knee_guide(guides: dict[str, Guide]) -> None:
    markdown = guides["knee"].render("markdown")
    body = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)
    headings = [line for line in body.splitlines() if line.startswith("#")]
    assert headings == GOLDEN_KNEE_HEADINGS
    assert markdown.splitlines()[2].startswith("**Twitching around the knee is usually harmless")
    assert markdown.rstrip().endswith("talk to a doctor._")


def test_html_has_the_same_sections_in_the_same_order(guides: dict[str, Guide]) -> None:
    page = guides["knee"].render("html")
    headings = [
        html.unescape(re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", page, flags=re.DOTALL)
    ]
    expected = [h.lstrip("# ") for h in GOLDEN_KNEE_HEADINGS]
    assert headings == expected
    assert page.startswith('<article class="tw-guide')


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("topic_id", sorted(REGIONS | SITUATIONS))
def test_every_topic_renders_in_every_format(
    topic_id: str, fmt: str, guides: dict[str, Guide]
) -> None:
    guide = guides[topic_id]
    text = guide.render(fmt)
    if fmt == "json":
        data = json.loads(text)
        assert data["schema_version"] == 1
        assert data["id"] == topic_id and data["title"] == guide.title
        assert data["causes"] and data["warnings"] and data["sources"]
        assert all(s["url"].startswith(("http://", "https://")) for s in data["sources"])
        return
    assert guide.title in text
    assert guide.ask in html.unescape(text)
    assert "This is not a diagnosis" in text
    if fmt == "html":
        assert "<script" not in text and "{{" not in text
        assert text.count("<h1") == 1


def test_html_escapes_and_renders_inline_markdown(guides: dict[str, Guide]) -> None:
    page = guides["knee"].render("html")
    # the diary advice's `twitchwise log` is inline Markdown code
    assert "<code>twitchwise log</code>" in page
    assert '"in the knee"' not in page and "&quot;in the knee&quot;" in page


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


def test_unknown_topic_exits_2_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["guide", "kne"], capsys)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "error: unknown topic 'kne'; did you mean 'knee'? "
        "run 'twitchwise guide --list' to see every topic"
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
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        if "id" in values:
            self.ids.add(values["id"])
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
    for name in ("index.html", "sources.html", "checker.html", "sitemap.xml", "assets/site.css"):
        assert (site / name).is_file(), name
    for topic in topics(kb):
        assert (site / "guides" / f"{topic.id}.html").is_file(), topic.id
    for cause_id in kb.causes:
        assert (site / "causes" / f"{cause_id}.html").is_file(), cause_id
    index = (site / "index.html").read_text(encoding="utf-8")
    for topic in topics(kb):
        assert f'href="guides/{topic.id}.html"' in index


def test_sitemap_lists_every_page_relatively(site: Path) -> None:
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    locs = re.findall(r"<loc>(.*?)</loc>", sitemap)
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
    assert sorted(locs) == pages


def test_sitemap_uses_the_base_url(tmp_path: Path, kb: KnowledgeBase) -> None:
    build_site(tmp_path, base_url="https://example.org/twitch/", kb=kb)
    sitemap = (tmp_path / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://example.org/twitch/guides/knee.html</loc>" in sitemap
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
        assert "script" not in page.tags, path
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
    assert 'href="../checker.html"' in knee
    assert "twitchwise ask &#34;" in knee or "twitchwise ask &quot;" in knee
    cause = (site / "causes" / "motor_neuron_disease.html").read_text(encoding="utf-8")
    assert 'href="../guides/knee.html"' in cause
    checker = html_text((site / "checker.html").read_text(encoding="utf-8"))
    assert "twitchwise serve" in checker and "twitchwise check" in checker


def test_site_build_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["site", "build", str(tmp_path / "out")], capsys)
    assert code == 0, err
    assert (tmp_path / "out" / "index.html").is_file()
    assert out.startswith("wrote ") and "files to" in out
    assert "sitemap.xml" in err  # progress goes to stderr


def test_site_build_refuses_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    code, _, err = run(["site", "build", str(target)], capsys)
    assert code == 2
    assert "is a file" in err
