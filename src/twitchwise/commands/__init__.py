"""Command modules: each has ``register(app)``, which adds its commands to the Typer app that
:func:`twitchwise.cli.make_app` builds.

Each module owns one feature's commands, calls the application object
(:func:`twitchwise.commands._common.twitchwise_app`) and keeps heavy imports inside the
command functions (start-up time).
"""
