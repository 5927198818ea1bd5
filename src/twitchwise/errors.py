"""The one exception tree of twitchwise.

::

    TwitchwiseError                 anything twitchwise raises on purpose
     ├── KnowledgeError             the knowledge base failed to load or validate
     ├── InputError                 bad input from a person or program (CLI exit status 2)
     ├── JournalError               the journal could not read or write
     └── ConfigError                a setting is missing or invalid

Every message says what happened, where, and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConfigError",
    "InputError",
    "JournalError",
    "KnowledgeError",
    "TwitchwiseError",
]


class TwitchwiseError(Exception):
    """Base class for every error twitchwise raises on purpose."""


class KnowledgeError(TwitchwiseError):
    """The knowledge base is invalid; twitchwise refuses to answer without it.

    ``problems`` holds every problem found, each already prefixed with ``file:line``.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"the knowledge base has {count} problem{'s' if count != 1 else ''}"
        super().__init__(head + ":\n  " + "\n  ".join(self.problems))


class InputError(TwitchwiseError, ValueError):
    """Input that cannot be used; the message says how to fix it.

    ``field`` names the input at fault in the library's own words (``"region"``, ``"at"``,
    ``"findings[2]"``, ``"file"``), so that an interface can point at it without reading the
    message; ``suggestions`` holds the closest valid values, best first, when there are any;
    ``problems`` lists every (field, problem) when more than one input is at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        suggestions: Sequence[str] = (),
        problems: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.field = field if field is not None or not problems else problems[0][0]
        self.suggestions = tuple(suggestions)
        self.problems = tuple(problems) or (((field, message),) if field is not None else ())

    @property
    def message(self) -> str:
        return str(self)


class JournalError(TwitchwiseError):
    """The journal could not be read or written."""


class ConfigError(TwitchwiseError):
    """A setting is missing or invalid."""
