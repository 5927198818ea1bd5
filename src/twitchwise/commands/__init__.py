"""Command modules that register more ``twitchwise`` sub-commands on :data:`twitchwise.cli.app`.

Each module owns one feature's commands, keeps heavy imports inside the command functions
(start-up time), and is imported at the bottom of :mod:`twitchwise.cli`.
"""
