"""``python -m twitchwise``: the same as the ``twitchwise`` command."""

from twitchwise.cli import run

run()
