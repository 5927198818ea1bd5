"""Understanding lay text: a person's words become evidence (findings, quantities, doubts).

- :mod:`~twitchwise.understand.parse`: the parser (one compiled Aho–Corasick matcher over every
  synonym, word-sense guards, typo correction), built or read from its cache by
  :func:`~twitchwise.understand.parse.load_parser`;
- :mod:`~twitchwise.understand.context`: negation, hedging, the past, retractions and other
  people (NegEx/ConText scopes);
- :mod:`~twitchwise.understand.quantities`: numbers and units (caffeine, alcohol, sleep,
  durations, ages, temperature);
- :mod:`~twitchwise.understand.lexicon` and :mod:`~twitchwise.understand.text`: the phrases and
  the text normalisation they share.
"""
