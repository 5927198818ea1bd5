"""``python -m twitchwise``: the same as the ``twitchwise`` command."""

from twitchwise.console import run

run()
