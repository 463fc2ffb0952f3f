"""The ciphertext-at-rest and key-leak inspector.

``inspect_tree`` is the API the conformance suite and the ``aico-secure inspect`` command share: give it a
directory and what must not be found there (text canaries, key bytes), and it reports every place it found
one, in which encoding, plus how many files and bytes it read (a scan that read nothing is not clean).
"""

from aico_secure.inspector.scan import Finding, InspectionResult, inspect_tree

__all__ = ["Finding", "InspectionResult", "inspect_tree"]
