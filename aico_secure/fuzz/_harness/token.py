"""Gateway tokens as presented by a client: the access token of an ``Authorization`` header and the refresh
token of a refresh body, through ``TokenService.verify`` and ``TokenService.refresh`` with a real key.

The first byte picks what the rest is. Modes 0 and 1 are token text as sent (``aico1.`` + base64url envelope),
checked as an access token and spent as a refresh token. Modes 2 and 3 are claims JSON that the harness seals
with the gateway's key first, as a holder of the key (or a minting bug) would, because no fuzzer gets claims
past AES-GCM and the claim checks behind it must still answer with ``TokenRejected``. The token key is fixed
(``_fixed_keys``) and the clock stands still, so stored seed tokens stay authentic and unexpired in every later
process. Revocations go to a real ``RevocationList`` on a real keyring; when an input changed it (a refresh
that succeeded, a replay that revoked a session), the next input gets a fresh one, so no input's verdict
depends on the inputs before it.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.fuzz.interface import Harness
from aico_secure.gateway.errors import TokenRejected
from aico_secure.gateway.revocation import RevocationList
from aico_secure.gateway.tokens import PREFIX, TokenService, TokenType, _b64

MODES = 4
ACCESS_TEXT, REFRESH_TEXT, ACCESS_CLAIMS, REFRESH_CLAIMS = range(MODES)
AUDIENCE = "aico-gateway-fuzz"
NOW = 1_767_225_600.0


def _clock() -> float:
    return NOW


class TokenHarness(Harness):
    name = "token"
    surface = "access and refresh tokens as a client presents them: TokenService.verify and TokenService.refresh"
    refusals = (TokenRejected,)  # RefreshReplayed is a TokenRejected
    max_len = 4096  # a token is at most MAX_TOKEN_CHARS (2048); claims are a few hundred bytes
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b"aico1.", b"AAAA", b"____", b"----", b'"typ":', b'"aud":', b'"sub":', b'"sid":', b'"jti":',
                  b'"iat":', b'"exp":', b'"access"', b'"refresh"', b'"aico-gateway-fuzz"', b"1767225600",
                  b"1767225630", b"1767225631", b"9223372036854775807", b"-1", b"1e3", b"true", b"null", b"NaN",
                  b"\\ud800", b"[", b"{")

    def setup(self) -> None:
        from aico_secure.keys.keyring import Keyring

        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-token-"))
        self._keyring = Keyring.create(self._dir / "keyring.json", secrets.token_urlsafe(24), profile="test")
        self._lists = 0
        self._fresh_service()

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def _fresh_service(self) -> None:
        self._lists += 1
        directory = self._dir / f"revocations-{self._lists}"
        directory.mkdir()
        self._revocations = RevocationList(self._keyring, directory, _clock)
        self._generation = self._revocations.generation
        self._service = TokenService(fixed_keyring(), audience=AUDIENCE, clock=_clock, access_ttl=900,
                                     refresh_ttl=86_400, revocations=self._revocations)

    def _seal(self, typ: TokenType, claims: bytes) -> str:
        """A token carrying ``claims`` as ``TokenService._mint`` seals them."""
        from aico_secure import envelope
        from aico_secure.gateway.sealed import PURPOSE

        key = fixed_keyring().active_data_key(PURPOSE)
        return PREFIX + _b64(envelope.seal(key, claims, self._service._context(typ)))

    def run(self, data: bytes) -> None:
        if self._revocations.generation != self._generation:
            self._fresh_service()
        mode, payload = (data[0] % MODES, data[1:]) if data else (ACCESS_TEXT, b"")
        if mode == ACCESS_TEXT:
            self._service.verify(payload.decode("latin-1"), "access")
        elif mode == REFRESH_TEXT:
            self._service.refresh(payload.decode("latin-1"))
        elif mode == ACCESS_CLAIMS:
            self._service.verify(self._seal("access", payload), "access")
        else:
            self._service.verify(self._seal("refresh", payload), "refresh")

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        from aico_secure import envelope
        from aico_secure.gateway.sealed import PURPOSE
        from aico_secure.gateway.tokens import _unb64

        with tempfile.TemporaryDirectory() as scratch:
            # Minting touches no revocation: the list is there because the service needs one.
            service = TokenService(fixed_keyring(), audience=AUDIENCE, clock=_clock, access_ttl=900,
                                   refresh_ttl=86_400, revocations=RevocationList(fixed_keyring(), Path(scratch),
                                                                                  _clock))
            pair = service.issue("alice")
        key = fixed_keyring().active_data_key(PURPOSE)
        tokens: tuple[tuple[TokenType, str, int, int], ...] = (
            ("access", pair.access, ACCESS_TEXT, ACCESS_CLAIMS),
            ("refresh", pair.refresh, REFRESH_TEXT, REFRESH_CLAIMS))
        for typ, text, text_mode, claims_mode in tokens:
            yield f"{typ}-token", bytes([text_mode]) + text.encode()
            plain = envelope.open_(key, _unb64(text[len(PREFIX):]), service._context(typ))
            yield f"{typ}-claims", bytes([claims_mode]) + plain
        yield "access-as-refresh", bytes([REFRESH_TEXT]) + pair.access.encode()


HARNESS = TokenHarness()
