"""The layers of docs/architecture.md, held against the code: every import of every module
under src/twitchwise (including those inside functions and under TYPE_CHECKING) is read with
``ast`` and checked against the rules below. A rule broken here is a design decision to make in
docs/architecture.md first, not a line to add to an allow-list."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "twitchwise"
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: Each layer: the package paths (relative to src/twitchwise) that make it up.
LAYERS: dict[str, tuple[str, ...]] = {
    "root": ("__init__.py",),  # lazy conveniences over the application object
    "core": ("errors.py", "evidence.py", "text.py", "jinja.py", "settings.py", "__about__.py"),
    "knowledge": ("knowledge/",),
    "understand": ("understand/",),
    "reason": ("reason/",),
    "answer": ("answer/",),
    "guides": ("guides/",),
    "journal": ("journal/",),
    "insights": ("insights/",),
    "server": ("server/",),  # the hosted service: accounts, PostgreSQL, row-level security
    "cohort": ("cohort/",),  # population analytics: Ibis on DuckDB and Spark
    "app": ("app/",),  # with app/evaluation/: twitchwise eval
    "cli": ("cli.py", "console.py", "commands/", "__main__.py"),
    "web": ("web/",),
}

#: (importer, imported, why): imports that must never happen.
NEVER = [
    ("knowledge", "understand", "data knows no engine"),
    ("knowledge", "reason", "data knows no engine"),
    ("knowledge", "answer", "data knows no engine"),
    ("knowledge", "app", "data knows no engine"),
    ("understand", "reason", "reading knows no ranking"),
    ("understand", "answer", "reading knows no answers"),
    ("reason", "understand", "the engine reasons over evidence, not text"),
    ("reason", "answer", "the engine knows no answers"),
    ("reason", "journal", "the engine is stateless"),
    ("journal", "knowledge", "storage knows no medicine"),
    ("journal", "understand", "storage knows no medicine"),
    ("journal", "reason", "storage knows no medicine"),
    ("journal", "answer", "storage knows no answers"),
    ("journal", "insights", "storage is below the insights"),
    ("answer", "guides", "answers are below the guides"),
    ("answer", "insights", "answers are below the insights"),
    ("insights", "answer", "insights use the engine, not the answer layer"),
    *[
        ("server", medical, "the hosted service's storage knows no medicine")
        for medical in ("knowledge", "understand", "reason", "answer", "guides", "insights")
    ],
    ("server", "app", "the application object is above the hosted service's storage"),
    ("journal", "server", "the journal knows nothing of accounts"),
    *[
        (low, "app", "the application object is above the engine")
        for low in ("core", "understand", "reason", "answer", "guides", "journal", "insights")
    ],
    *[
        (face, below, "interfaces go through the application object")
        for face in ("cli", "web")
        for below in ("knowledge", "understand", "reason")
    ],
    *[
        (low, face, "the core knows no screen")
        for low in LAYERS
        for face in ("cli", "web")
        if low not in ("cli", "web", "root")
    ],
    ("cli", "web", "the command line starts the web app only through 'serve'"),
    *[
        ("cohort", other, "population analytics use only the errors and the insights' model")
        for other in LAYERS
        if other not in ("cohort", "core", "insights", "root")
    ],
    *[
        (other, "cohort", "only the command line and the application object use the cohort")
        for other in LAYERS
        if other not in ("cohort", "cli", "app", "root")
    ],
    ("web", "cli", "the web app knows no command line"),
]

#: The one import of the web app from the command line: ``twitchwise serve`` starts it.
ALLOWED = {("commands/serve.py", "web")}


def layer_of(rel: str) -> str | None:
    for name, parts in LAYERS.items():
        for part in parts:
            if rel == part or (part.endswith("/") and rel.startswith(part)):
                return name
    return None


def module_layer(module: str) -> str | None:
    if module != "twitchwise" and not module.startswith("twitchwise."):
        return None
    rel = module.removeprefix("twitchwise").lstrip(".").replace(".", "/")
    if not rel:
        return None  # the package root: its conveniences are lazy
    candidates = [f"{rel}.py", f"{rel}/"]
    for c in candidates:
        found = layer_of(c)
        if found is not None:
            return found
    return layer_of(rel + "/")


def imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
            out += [(f"{node.module}.{a.name}", node.lineno) for a in node.names]
    return out


def all_edges() -> list[tuple[str, str, str, int]]:
    edges = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        source = layer_of(rel)
        assert source is not None, f"{rel} is on no layer: give it one in docs/architecture.md"
        for module, line in imports(path):
            target = module_layer(module)
            if target is not None and target != source:
                edges.append((rel, source, target, line))
    return edges


@pytest.mark.parametrize(("importer", "imported", "why"), NEVER)
def test_never(importer: str, imported: str, why: str) -> None:
    broken = sorted(
        {
            f"{rel}:{line}"
            for rel, source, target, line in all_edges()
            if source == importer and target == imported and (rel, target) not in ALLOWED
        }
    )
    assert not broken, f"{importer} must not import {imported} ({why}): {broken}"


def test_every_layer_is_in_the_architecture_page() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, parts in LAYERS.items():
        for part in parts:
            assert f"`{part}`" in text, f"name `{part}` ({name}) in docs/architecture.md"


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("twitchwise", ("pydantic", "twitchwise.answer", "twitchwise.knowledge")),
        ("twitchwise.app", ("pydantic", "twitchwise.knowledge", "sqlalchemy")),
        ("twitchwise.errors", ("pydantic",)),
    ],
)
def test_light_imports(module: str, forbidden: tuple[str, ...]) -> None:
    """Importing these loads nothing heavy: what they offer is loaded on first use."""
    script = (
        f"import sys, {module}; "
        f"print(sorted(m for m in {forbidden!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
