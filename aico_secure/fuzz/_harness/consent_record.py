"""Stored consent: the sealed grants-and-levels state file (``consent.state``) and the sealed record file, as
found on disk, and the JSON documents inside them.

The first byte picks what the rest is. Modes 0 and 2 are the files exactly as an attacker could leave them;
modes 1 and 3 seal the rest with the right key first, as a holder of the key (or a writer with a bug) would,
because no fuzzer gets a plaintext past AES-GCM and the decoders behind it must still refuse with their typed
error. Keys are fixed (``_fixed_keys``) and used through the reference build's own key session, so stored
sealed seeds keep authenticating.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.consent import records, state
from aico_secure.consent.errors import ConsentError
from aico_secure.consent.records import SealedRecordFile
from aico_secure.consent.state import ConsentState, StateFile
from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.fuzz.interface import Harness
from aico_secure.reference.keys import ReferenceKeySession
from aico_secure.target.consent import Grant

MODES = 4
STATE_FILE, STATE_PLAIN, RECORD_FILE, RECORD_PLAIN = range(MODES)


class ConsentRecordHarness(Harness):
    name = "consent_record"
    surface = "consent.state and the consent record file from disk: StateFile.refresh, SealedRecordFile loading"
    refusals = (ConsentError,)  # ConsentStateCorrupt for everything that does not authenticate or parse
    max_len = 16 * 1024
    timeout_s = 5
    rss_limit_mb = 2048
    dictionary = (b'"v":1', b'"revision":', b'"levels":', b'"grants":', b'"subject":', b'"category":',
                  b'"operation":', b'"granted_by":', b'"granted_at":', b'"expires_at":', b'"system"', b'"user_data"',
                  b'"plugin"', b'"read"', b'"write"', b'"delete"', b"1e999", b"-1e999", b"NaN", b"Infinity",
                  b"99999999999999999999999999", b"[", b"{", b"null", b"true", b"==", b"\\ud800")

    def setup(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-consent-"))
        self._session = ReferenceKeySession(fixed_keyring())

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def _sealed_file(self, purpose: str, record: bytes, plaintext: bytes) -> bytes:
        """What the writers put on disk: base64 of the envelope (``StateFile.changing``, ``SealedRecordFile._save``)."""
        return base64.b64encode(self._session.seal(purpose, record, plaintext))

    def run(self, data: bytes) -> None:
        mode, payload = (data[0] % MODES, data[1:]) if data else (STATE_FILE, b"")
        if mode == STATE_PLAIN:
            payload = self._sealed_file(state.PURPOSE, state.RECORD, payload)
        elif mode == RECORD_PLAIN:
            payload = self._sealed_file(records.PURPOSE, records.RECORD, payload)
        if mode in (STATE_FILE, STATE_PLAIN):
            (self._dir / state.STATE_NAME).write_bytes(payload)
            StateFile(self._session, self._dir).refresh()  # a fresh object: no cached stamp to skip the read
        else:
            path = self._dir / "records.sealed"
            path.write_bytes(payload)
            SealedRecordFile(self._session, path).close()

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        session = ReferenceKeySession(fixed_keyring())
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            states = StateFile(session, directory)
            for n, (subject, category, op) in enumerate((("alice", "health", "read"), ("plugin.x", "notes", "write"),
                                                          ("bob", "health", "delete"))):
                with states.changing() as draft:
                    draft.levels.setdefault(subject, "plugin" if "." in subject else "user_data")
                    draft.levels.setdefault("owner", "user_data")
                    draft.grants[(subject, category, op)] = Grant(subject, category, op, "owner",  # type: ignore[arg-type]
                                                                  1_767_225_600.5 + n, 1_767_229_200.0 + n)
                sealed = (directory / state.STATE_NAME).read_bytes()
                yield f"state-file-{n}", bytes([STATE_FILE]) + sealed
                yield f"state-plain-{n}", bytes([STATE_PLAIN]) + states.state.encode()
            yield "state-plain-empty", bytes([STATE_PLAIN]) + ConsentState().encode()
            path = directory / "records.sealed"
            store = SealedRecordFile(session, path)
            for key, value in (("health/weight", b"72.5"), ("notes/1", b"\x00\xffbinary"), ("empty", b"")):
                store.put(key, value)
                sealed = path.read_bytes()
                yield f"records-file-{key.replace('/', '-')}", bytes([RECORD_FILE]) + sealed
                plain = session.open(records.PURPOSE, records.RECORD, base64.b64decode(sealed))
                yield f"records-plain-{key.replace('/', '-')}", bytes([RECORD_PLAIN]) + plain
            store.close()


HARNESS = ConsentRecordHarness()
