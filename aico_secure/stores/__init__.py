"""The encrypted stores of the reference build, all keyed from one key hierarchy.

* ``sqlcipher.SqlCipherStore``: libSQL primary storage, SQLCipher 4 with a raw 256-bit data key.
* ``duckdb.DuckDbStore``: analytics, DuckDB's own AES-GCM database encryption (WAL and temp files too).
* ``rocksdb.RocksDbStore``: key-value cache, values sealed with the AEAD envelope, names blinded on request.
* ``chroma.ChromaStore``: vectors, documents and metadata sealed, embeddings under DCPE.

``interface`` holds the abstract base classes; ``forensics`` recovers what a key holder could read from the
files (used to prove deletion is real).
"""

from aico_secure.stores.errors import InvalidRecordError, StoreClosedError, StoreError, StoreIntegrityError

__all__ = ["InvalidRecordError", "StoreClosedError", "StoreError", "StoreIntegrityError"]
