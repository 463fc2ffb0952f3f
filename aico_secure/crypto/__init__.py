"""Low-level primitives ("hazmat"). Use ``aico_secure.envelope`` and ``aico_secure.keys`` instead.

These functions take raw bytes, check only their own preconditions, and know nothing about records, stores
or key ids. They exist so the safe layer above has exactly one place per primitive to audit and to test
against published vectors (Wycheproof, RFC 9106).
"""
