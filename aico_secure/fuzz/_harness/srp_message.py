"""The client's SRP messages as the gateway parses them: the register body (salt, verifier), the challenge
body (user name) and the verify body (challenge id, A, M), each through the route's strict JSON parser and
schema, then the conversions the handler makes and the SRP computation they feed.

The first byte picks the message. The server session uses a fixed ephemeral ``b`` and the seeds a client with a
fixed ``a`` (both are constructor fields of the sessions), so a stored verify seed carries a proof that still
verifies in any later process: the success path stays covered. Besides the documented refusals, one property
is checked (``gateway_body.check_whole_patterns``): a value the schema accepted must match its pattern as a
whole string. Python's ``re`` lets ``$`` match before a final newline, where the published JSON Schema
(ECMA-262) does not; a value accepted only thanks to that (a user name "alice\\n" besides "alice") is a
finding, not a refusal.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from jsonschema import Draft202012Validator

from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.fuzz._harness.gateway_body import check_whole_patterns
from aico_secure.fuzz.interface import Harness
from aico_secure.gateway import schemas
from aico_secure.gateway.errors import SrpError, UserExistsError
from aico_secure.gateway.srp import DEFAULT_GROUP, SrpClientSession, SrpServerSession, compute_verifier
from aico_secure.gateway.users import UserStore
from aico_secure.gateway.validation import RequestRejected, parse_json, validate

MODES = 3
REGISTER, CHALLENGE, VERIFY = range(MODES)
USERNAME = "alice"
PASSWORD = "correct horse battery staple"  # noqa: S105 - of the fuzzing user only: it guards nothing
SALT = bytes(range(1, 17))
SERVER_B = int.from_bytes(b"\x9b" * 32, "big")
CLIENT_A = int.from_bytes(b"\xa7" * 32, "big")
CHALLENGE_ID = "fuzz-challenge-0123456789"
ROUTES: dict[int, Draft202012Validator] = {REGISTER: schemas.REGISTER, CHALLENGE: schemas.CHALLENGE,
                                           VERIFY: schemas.VERIFY}


class SrpMessageHarness(Harness):
    name = "srp_message"
    surface = "the client's SRP register/challenge/verify bodies: parse_json, route schema, hex conversions, SRP"
    refusals = (RequestRejected, SrpError, UserExistsError)
    max_len = 4096  # the largest valid body is a verify with a 768-hex-digit A: about 1 KiB
    timeout_s = 5  # three 3072-bit modular exponentiations per verify
    rss_limit_mb = 1024
    dictionary = (b'"username":', b'"salt":', b'"verifier":', b'"challenge_id":', b'"A":', b'"M":', b'"alice"',
                  b'"0"', b'"1"', b'"00"', b"\\n", b"\\u0000", b"\\ud800", b"\xef\xbb\xbf", b"NaN", b"1e999",
                  b"ffffffffffffffff", b"00000000000000000000000000000000", b"null", b"true", b"[]", b"{}")

    def setup(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-srp-"))
        self._verifier = compute_verifier(DEFAULT_GROUP, SALT, USERNAME, PASSWORD)
        self._server = SrpServerSession(DEFAULT_GROUP, USERNAME, SALT, self._verifier, _b=SERVER_B)
        self._store: UserStore | None = None

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def _users(self) -> UserStore:
        """A store holding only the fuzzing user: made again after an input enrolled someone, so a run
        never grows it (and the sealed write is paid only then)."""
        if self._store is None or len(self._store.credential_records()) != 1:
            for path in self._dir.iterdir():
                path.unlink()
            self._store = UserStore(fixed_keyring(), self._dir)
            self._store.enrol(USERNAME, DEFAULT_GROUP, SALT, self._verifier)
        return self._store

    def run(self, data: bytes) -> None:
        mode, payload = (data[0] % MODES, data[1:]) if data else (REGISTER, b"")
        validator = ROUTES[mode]
        body = parse_json(payload)
        validate(validator, body)
        check_whole_patterns(validator, body)
        if mode == REGISTER:  # what the register handler does with the body (app.py), then a login's start
            salt, verifier = bytes.fromhex(body["salt"]), int(body["verifier"], 16)
            self._users().enrol(body["username"], DEFAULT_GROUP, salt, verifier)
            SrpServerSession(DEFAULT_GROUP, body["username"], salt, verifier)
        elif mode == CHALLENGE:
            self._users().lookup(body["username"])
        else:
            session = copy.copy(self._server)  # single use; a copy skips recomputing B for every input
            session.verify(int(body["A"], 16), bytes.fromhex(body["M"]))

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        import json

        def body(mode: int, document: dict[str, str]) -> bytes:
            return bytes([mode]) + json.dumps(document, separators=(",", ":")).encode()  # as httpx sends it

        verifier = compute_verifier(DEFAULT_GROUP, SALT, USERNAME, PASSWORD)
        yield "register", body(REGISTER, {"username": "bob", "salt": SALT.hex(), "verifier": format(verifier, "x")})
        yield "register-taken", body(REGISTER, {"username": USERNAME, "salt": SALT.hex(),
                                                "verifier": format(verifier, "x")})
        yield "challenge", body(CHALLENGE, {"username": USERNAME})
        server = SrpServerSession(DEFAULT_GROUP, USERNAME, SALT, verifier, _b=SERVER_B)
        client = SrpClientSession(DEFAULT_GROUP, USERNAME, PASSWORD, _a=CLIENT_A)
        proof = client.process_challenge(SALT, server.server_public)
        yield "verify", body(VERIFY, {"challenge_id": CHALLENGE_ID, "A": format(client.client_public, "x"),
                                      "M": proof.hex()})
        yield "verify-wrong", body(VERIFY, {"challenge_id": CHALLENGE_ID, "A": format(client.client_public, "x"),
                                            "M": bytes(32).hex()})


HARNESS = SrpMessageHarness()
