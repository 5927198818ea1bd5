"""The documentation keeps up with the code: commands, options, knowledge-base fields,
JSON keys, advice placeholders and links are all checked against what the code defines."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import msgspec
import pytest
import typer

import twitchwise
from twitchwise.cli import app
from twitchwise.knowledge import schema

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC_FILES = sorted(DOCS.glob("*.md"))

#: The JSON answer of PRODUCT.md's contract, key by key (nested keys by their parent).
CONTRACT_KEYS = {
    "summary", "triage", "level", "reasons", "finding", "text", "source", "causes", "id",
    "name", "probability", "for", "against", "explanation", "findings", "negated",
    "not_understood", "plan", "kind", "sources", "title", "url",
}  # fmt: skip


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def code_spans(text: str) -> set[str]:
    """Everything written as `code` in a Markdown text."""
    return set(re.findall(r"`([^`\n]+)`", text))


# --------------------------------------------------------------------------- CLI


def _commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, command in sorted(group.commands.items()):
        if getattr(command, "hidden", False):
            continue
        full = f"{prefix}{name}"
        yield full, command
        if hasattr(command, "commands"):
            yield from _commands(command, f"{full} ")


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_cli_has_commands() -> None:
    assert {"ask", "assess", "findings", "causes"} <= {name for name, _ in COMMANDS}


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_command_is_documented(name: str) -> None:
    assert f"twitchwise {name}" in read("cli.md"), f"document 'twitchwise {name}' in docs/cli.md"


@pytest.mark.parametrize(
    ("name", "option"),
    [
        (name, opt)
        for name, command in COMMANDS
        for param in command.params
        if not getattr(param, "hidden", False)
        for opt in param.opts
        if opt.startswith("--")
    ],
)
def test_every_option_is_documented(name: str, option: str) -> None:
    assert option in code_spans(read("cli.md")) or f"{option} " in read("cli.md"), (
        f"document {option} of 'twitchwise {name}' in docs/cli.md"
    )


def test_version_option_is_documented() -> None:
    assert "twitchwise --version" in read("cli.md")


# --------------------------------------------------------------------------- knowledge base


def _models() -> list[type[msgspec.Struct]]:
    return [
        obj
        for _, obj in inspect.getmembers(schema, inspect.isclass)
        if issubclass(obj, msgspec.Struct)
        and obj.__module__ == schema.__name__
        and obj is not schema.Strict
    ]


def test_schema_has_models() -> None:
    names = {model.__name__ for model in _models()}
    assert {"Finding", "Cause", "RedFlag", "Advice", "Lexicon", "Source"} <= names


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_model_and_field_is_documented(model: type[msgspec.Struct]) -> None:
    spans = code_spans(read("knowledge-base.md"))
    assert model.__name__ in spans, f"name model `{model.__name__}` in docs/knowledge-base.md"
    # encode_name: the key as written in YAML (``with``, not the attribute ``with_``)
    missing = [
        field.encode_name
        for field in msgspec.structs.fields(model)
        if field.encode_name not in spans
    ]
    assert not missing, f"document {model.__name__} fields {missing} in docs/knowledge-base.md"


def _field_type(model: type[msgspec.Struct], name: str) -> Any:
    return next(field.type for field in msgspec.structs.fields(model) if field.name == name)


@pytest.mark.parametrize(
    "literal",
    [
        *get_args(schema.FindingKind),
        *get_args(_field_type(schema.QuantityRule, "quantity")),
        *(level.value for level in schema.TriageLevel),
    ],
)
def test_every_enumerated_value_is_documented(literal: str) -> None:
    assert literal in code_spans(read("knowledge-base.md")), (
        f"document `{literal}` in docs/knowledge-base.md"
    )


def test_every_advice_placeholder_is_documented() -> None:
    kb = twitchwise.load_knowledge()
    used = {name for advice in kb.plan.advice for name in re.findall(r"\{(\w+)\}", advice.text)}
    assert used, "expected advice templates with placeholders"
    spans = code_spans(read("knowledge-base.md"))
    missing = sorted(name for name in used if f"{{{name}}}" not in spans)
    assert not missing, f"document placeholders {missing} in docs/knowledge-base.md"


def test_every_knowledge_folder_is_documented() -> None:
    data = Path(schema.__file__).parent / "data"
    text = read("knowledge-base.md")
    for folder in sorted(p.name for p in data.iterdir() if p.is_dir()):
        assert f"## {folder}/" in text, f"give {folder}/ a section in docs/knowledge-base.md"


# --------------------------------------------------------------------------- JSON answer


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_every_contract_json_key_is_documented() -> None:
    answer = twitchwise.assess(["twitching", "region_calf", "duration_over_2_weeks", "!weakness"])
    live = set(_keys(answer.to_dict()))
    assert live >= CONTRACT_KEYS, f"the answer lost contract keys {CONTRACT_KEYS - live}"
    spans = code_spans(read("answer.md"))
    # a key is documented on its own (`summary`) or by its path (`causes[].probability`)
    documented = spans | {re.split(r"[.\]]", span)[-1] for span in spans}
    missing = sorted(key for key in CONTRACT_KEYS | live if key not in documented)
    assert not missing, f"document JSON keys {missing} in docs/answer.md"


def test_public_api_is_documented() -> None:
    spans = code_spans(read("answer.md"))
    missing = [name for name in twitchwise.__all__ if not any(name in span for span in spans)]
    assert not missing, f"document {missing} in docs/answer.md"


# --------------------------------------------------------------------------- links


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {_slug(h) for h in re.findall(r"^#+\s+(.+?)\s*$", text, flags=re.MULTILINE)}


def _links(path: Path) -> Iterator[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    yield from re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in _links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in _anchors(dest)):
            broken.append(target)
    assert not broken, f"{doc.name}: broken links {broken}"


def test_index_links_every_doc() -> None:
    index = read("index.md")
    missing = [p.name for p in DOC_FILES if p.name != "index.md" and f"({p.name}" not in index]
    assert not missing, f"link {missing} from docs/index.md"


# --------------------------------------------------------------------------- journal limits


def test_every_xml_limit_is_documented_with_its_value() -> None:
    from dataclasses import fields

    from twitchwise.journal.imports._xml import LIMITS

    text = read("journal.md")
    for limit in fields(LIMITS):
        value = getattr(LIMITS, limit.name)
        shown = f"{value // (1024 * 1024)} MB" if limit.name == "text_chars" else f"{value:,}"
        assert f"| `{limit.name}` | {shown} |" in text, (
            f"document the XML limit `{limit.name}` ({shown}) in docs/journal.md"
        )


def test_the_date_rule_is_documented() -> None:
    from twitchwise.journal.dates import EARLIEST, RULE

    text = read("journal.md")
    assert str(EARLIEST) in text and RULE in text
