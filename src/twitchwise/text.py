"""Small helpers for the words twitchwise writes, shared by every layer."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    """A count and its word: "1 day", "3 days" (the word takes a plain "s")."""
    return f"{n} {word}{'' if n == 1 else 's'}"
