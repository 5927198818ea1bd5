"""twitchwise: quick, clear, evidence-based answers to "why is my muscle twitching?".

Public API::

    import twitchwise
    answer = twitchwise.ask("my eyelid has twitched for 3 days", age=30)
    answer.to_dict()          # the JSON shape of the contract
    answer.render("markdown") # or "terminal", "html", "json"
    twitchwise.assess(["twitching", "region_calf", "!weakness"])

    tw = twitchwise.Twitchwise()   # the application object: every use case, its own state
    tw.guide("knee")

``ask`` and ``assess`` are conveniences over one default :class:`Twitchwise`. Importing the
package is cheap: what an answer needs is loaded on the first call.

Not a diagnosis.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from twitchwise.__about__ import __version__
from twitchwise.errors import (
    ConfigError,
    InputError,
    JournalError,
    KnowledgeError,
    TwitchwiseError,
)

if TYPE_CHECKING:
    from twitchwise.answer.model import Answer
    from twitchwise.app.core import Twitchwise
    from twitchwise.knowledge.load import KnowledgeBase, load_knowledge
    from twitchwise.knowledge.schema import TriageLevel

__all__ = [
    "Answer",
    "ConfigError",
    "InputError",
    "JournalError",
    "KnowledgeBase",
    "KnowledgeError",
    "TriageLevel",
    "Twitchwise",
    "TwitchwiseError",
    "__version__",
    "ask",
    "assess",
    "load_knowledge",
]

_LAZY = {
    "Answer": "twitchwise.answer.model",
    "Twitchwise": "twitchwise.app.core",
    "KnowledgeBase": "twitchwise.knowledge.load",
    "load_knowledge": "twitchwise.knowledge.load",
    "TriageLevel": "twitchwise.knowledge.schema",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twitchwise' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)


def ask(
    text: str,
    *,
    age: int | None = None,
    sex: str | None = None,
    today: date | None = None,
) -> Answer:
    """The Quick Clear Answer for a lay description of a twitch (see :meth:`Twitchwise.ask`)."""
    from twitchwise.app.core import default

    return default().ask(text, age=age, sex=sex, today=today)


def assess(findings: Iterable[str], *, age: int | None = None, sex: str | None = None) -> Answer:
    """The answer for finding ids; ``"!id"`` marks a finding the person does not have."""
    from twitchwise.app.core import default

    return default().assess(findings, age=age, sex=sex)
