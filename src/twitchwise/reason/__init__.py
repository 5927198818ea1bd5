"""Reasoning over evidence: rank the causes, triage, the personal plan and the interview.

- :mod:`~twitchwise.reason.model`: the cause model, one table of log-odds built once from a
  knowledge base (the only place a missing ``without`` is filled in);
- :mod:`~twitchwise.reason.rank`: the causes, most likely first, with the findings for and
  against each;
- :mod:`~twitchwise.reason.triage`: the red-flag rules, and the titles of the triage levels;
- :mod:`~twitchwise.reason.advice`: the advice templates, which advice applies, and their
  filling (shared by the personal plan and the guides);
- :mod:`~twitchwise.reason.plan`: the personal plan of an answer;
- :mod:`~twitchwise.reason.interview`: the adaptive interview behind ``twitchwise check``.
"""
