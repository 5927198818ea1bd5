"""``python -m twitchwise.knowledge``: validate the knowledge base and print its counts."""

from twitchwise.knowledge.load import main

raise SystemExit(main())
