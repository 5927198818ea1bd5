"""The application object: :class:`Twitchwise` owns the state and offers every use case.

Interfaces (the command line, the web app) hold one instance and translate: they parse what
a person typed or sent, make one call here, and draw the result. ::

    from twitchwise.app import Twitchwise

    tw = Twitchwise()                       # the packaged knowledge base, loaded on first use
    answer = tw.ask("my eyelid has twitched for 3 days", age=30)
    with tw.open_journal() as journal:      # the journal of tw.journal_settings
        tw.log_text(journal, "left calf twitching after 3 coffees")

``twitchwise.ask(...)`` and ``twitchwise.assess(...)`` are conveniences over a default
instance (:func:`default`), the way ``httpx.get`` sits over ``httpx.Client``.
"""

from __future__ import annotations

from twitchwise.app.core import Twitchwise, default

__all__ = ["Twitchwise", "default"]
