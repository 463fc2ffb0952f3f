"""The passphrases the conformance suite feeds a build: random, strong, and shaped like the ones people write.

A random token ("pw-Xk3_9aQ...") is a poor stand-in for a user's password. A build whose redactor scrubs
token-shaped strings would hide a leak of such a token and still print a real passphrase; a build with a
strength or character policy may refuse an odd-looking token although it accepts what users type. So every
password the suite chooses looks like "Maple river 7 lantern, quietly Orbit!": words separated by spaces, one
capitalised word, a number of one or two digits, one punctuation mark, and still at least ``MIN_BITS`` of
entropy (``entropy_bits`` is the lower bound over every shape the generator can produce).
"""

from __future__ import annotations

import math
import secrets

from aico_secure.conform.wordlist import WORDS

MIN_WORDS, MAX_WORDS = 5, 6  # five words from the list are needed to reach MIN_BITS with the extras below
MARKS = ",.!?;:"
NUMBERS = 100  # "0" to "99": a digit or two
MIN_BITS = 60.0


def passphrase() -> str:
    """A fresh random passphrase, e.g. "Maple river 7 lantern, quietly Orbit!" (see the module docstring)."""
    count = MIN_WORDS + secrets.randbelow(MAX_WORDS - MIN_WORDS + 1)
    words = [secrets.choice(WORDS) for _ in range(count)]
    capital = secrets.randbelow(count)
    words[capital] = words[capital].capitalize()
    tokens = list(words)
    tokens.insert(secrets.randbelow(count + 1), str(secrets.randbelow(NUMBERS)))
    marked = secrets.randbelow(len(tokens))
    tokens[marked] += secrets.choice(MARKS)
    return " ".join(tokens)


def entropy_bits(words: int = MIN_WORDS) -> float:
    """Entropy of one ``passphrase()`` with ``words`` words, counting each independent choice once: the words, which
    one is capitalised, where the number goes and its value, which mark and after which token. Every combination
    gives a different string (words are lowercase, so the capital shows its position), so this is exact for a
    fixed word count; the choice of the count itself only adds to it."""
    tokens = words + 1
    return (words * math.log2(len(WORDS)) + math.log2(words) + math.log2(tokens) + math.log2(NUMBERS)
            + math.log2(len(MARKS)) + math.log2(tokens))
