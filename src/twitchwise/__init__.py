"""twitchwise: quick, clear, evidence-based answers to "why is my muscle twitching?".

Public API::

    import twitchwise
    answer = twitchwise.ask("my eyelid has twitched for 3 days", age=30)
    answer.to_dict()          # the JSON shape of the contract
    answer.render("markdown") # or "terminal", "html", "json"
    twitchwise.assess(["twitching", "region_calf", "!weakness"])

Not a diagnosis.
"""

from twitchwise.__about__ import __version__
from twitchwise.answer.build import ask, assess
from twitchwise.answer.model import Answer
from twitchwise.errors import (
    ConfigError,
    InputError,
    JournalError,
    KnowledgeError,
    TwitchwiseError,
)
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
    "TwitchwiseError",
    "__version__",
    "ask",
    "assess",
    "load_knowledge",
]
