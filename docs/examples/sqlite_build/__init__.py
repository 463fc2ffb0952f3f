"""A second outside build of AICO, written the way another team might: its own vault and a plain-SQLite store.

Nothing here imports the reference implementation (``aico_secure.keys``, ``aico_secure.stores``,
``aico_secure.envelope``): ``keys.py`` and ``store.py`` stand in for the team's own code, ``adapter.py`` is the
part they write for the suite. Run it:

    PYTHONPATH=docs/examples aico-secure conform --target sqlite_build.adapter:build

Known flaws (the team ships them; the conformance suite must report each on its requirement):

1. AICO-KM-008 (and AICO-DAR-008, which restates it for the stores): the vault's in-process session cache keeps
   the unlock of each keyring so that the next unlock in the same process skips Argon2id. A password change
   refreshes the cached master key but not the cached password check, so until the process restarts (or the
   new password is used once) the *old* password still unlocks the keyring (``keys.py``, ``VaultSession._rekey``).
2. AICO-KM-011: AES-GCM nonces are the deterministic construction of SP 800-38D (a 4-byte field from the data
   key id, then a 64-bit invocation counter), but the counter lives in the session and starts at zero at every
   unlock: two sessions of one keyring seal with the same nonces under the same data key (``keys.py``,
   ``VaultSession.seal``).
3. AICO-DAR-006: the store uses ``auto_vacuum=INCREMENTAL`` and ``compact()`` runs ``incremental_vacuum``
   (a full ``VACUUM`` rewrites the whole primary store), with ``secure_delete`` pinned off for write speed:
   freed cells inside pages still in use keep the sealed bytes of deleted records, which anyone holding the
   store's data key can still decrypt (``store.py``, ``RecordsDb._tune`` and ``compact``).

4. AICO-DAR-001: the seed asks for SQLCipher for libSQL. This store is stdlib SQLite with every key and value
   sealed per row, so no caller data is readable, but the file is a plaintext SQLite database: its schema, the
   number of records and the size of each are readable to anyone with the file (``store.py``).
5. AICO-KM-009: the vault file is read with a plain ``open``. Anyone who can write the data directory can put a
   FIFO where the vault was, and the next unlock then waits forever for a writer instead of refusing a keyring
   that is not a regular file (``keys.py``, ``_read_text``).
"""
