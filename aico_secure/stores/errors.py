"""Typed exceptions of the encrypted stores.

Every engine's own exceptions (sqlite error codes, DuckDB exception classes, RocksDB status strings, Chroma
errors) are mapped onto these, so callers never parse engine messages. Messages name the store and the file,
never a key, a record key or a value.
"""

from __future__ import annotations

from aico_secure.errors import AicoSecureError


class StoreError(AicoSecureError):
    """A store operation failed for a reason that is not damage (busy, closed, engine refused)."""


class StoreIntegrityError(StoreError):
    """The store's bytes do not open with this keyring: wrong key, flipped or truncated file, or a file that
    belongs to another store. Nothing was written."""


class StoreClosedError(StoreError):
    """The store was used after ``close()``."""


class InvalidRecordError(StoreError, ValueError):
    """A key, value, embedding or metadata value the store does not accept (wrong type, empty, too large)."""
