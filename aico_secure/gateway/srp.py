"""SRP-6a (RFC 2945 / RFC 5054): the gateway's zero-knowledge password proof.

The server stores a salt and a verifier ``v = g^x mod N``. Logging in proves knowledge of the password without
sending it or anything an eavesdropper or the server could replay; the verifier alone does not log anyone in.

Why written here rather than taken from the ``srp`` package: that package switches RFC 5054 padding on and off
with a process-wide global (``rfc5054_enable``), so any other code in the process can silently change what the
server computes; it compares the client's proof with ``==``; and it ships no 3072-bit group. The protocol is
small. This module follows RFC 5054 exactly and ``verification/gateway/`` checks it against RFC 5054 Appendix B
and against the ``srp`` package as an independent implementation (the conformance suite's client uses that
package too, so the reference server is never judged by its own client).

Definitions (H = the group's hash; integers big-endian; PAD(x) = x left-padded with zeros to len(N))::

    k    = H(N | PAD(g))                      x = H(s | H(I | ":" | P))        v = g^x % N
    A    = g^a % N                            B = (k*v + g^b) % N             u = H(PAD(A) | PAD(B))
    S    = (A * v^u)^b % N  (server)          = (B - k*g^x)^(a + u*x) % N  (client)
    K    = H(S)
    M    = H(H(N) xor H(PAD(g)) | H(I) | s | A | B | K)                       HAMK = H(A | M | K)

In K, M and HAMK the integers S, A and B are minimal big-endian bytes: the SRP-6a convention of the ``srp``
package and Stanford SRP, which RFC 5054 leaves open (TLS uses S as its premaster secret instead).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from aico_secure.gateway.errors import SrpError

EPHEMERAL_BYTES = 32  # RFC 5054 2.5.3: a and b SHOULD be at least 256 bits
MIN_SALT_BYTES = 16


def _hex(text: str) -> int:
    return int("".join(text.split()), 16)


@dataclass(frozen=True)
class SrpGroup:
    """A group from RFC 5054 Appendix A: prime ``N``, generator ``g`` and the hash used with it."""

    name: str
    N: int
    g: int
    hash_name: str

    @property
    def bits(self) -> int:
        return self.N.bit_length()

    @property
    def width(self) -> int:
        """Byte length of N: what PAD() pads to."""
        return (self.N.bit_length() + 7) // 8

    def pad(self, value: int) -> bytes:
        return value.to_bytes(self.width, "big")

    def hash(self, *parts: bytes) -> bytes:
        h = hashlib.new(self.hash_name)
        for part in parts:
            h.update(part)
        return h.digest()

    def hash_int(self, *parts: bytes) -> int:
        return int.from_bytes(self.hash(*parts), "big")

    @property
    def k(self) -> int:
        return self.hash_int(self.pad(self.N), self.pad(self.g))


def to_bytes(value: int) -> bytes:
    """Minimal big-endian bytes (at least one byte)."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


# RFC 5054 Appendix A. The 1024-bit group exists only to check the RFC's Appendix B vectors.
RFC5054_1024 = SrpGroup(
    "rfc5054-1024",
    _hex("""EEAF0AB9 ADB38DD6 9C33F80A FA8FC5E8 60726187 75FF3C0B 9EA2314C 9C256576 D674DF74 96EA81D3 383B4813
            D692C6E0 E0D5D8E2 50B98BE4 8E495C1D 6089DAD1 5DC7D7B4 6154D6B6 CE8EF4AD 69B15D49 82559B29 7BCF1885
            C529F566 660E57EC 68EDBC3C 05726CC0 2FD4CBF4 976EAA9A FD5138FE 8376435B 9FC61D2F C0EB06E3"""),
    2,
    "sha1",
)

RFC5054_3072 = SrpGroup(
    "rfc5054-3072",
    _hex("""FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22 514A0879
            8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B
            0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05 98DA4836
            1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D 670C354E 4ABC9804
            F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6
            95581718 3995497C EA956AE5 15D22618 98FA0510 15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64
            ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226
            1AD2EE6B F12FFA06 D98A0864 D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2
            08E24FA0 74E5AB31 43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF"""),
    5,
    "sha256",
)

GROUPS = {RFC5054_3072.name: RFC5054_3072}  # what the gateway offers; RFC5054_1024 is for test vectors only
DEFAULT_GROUP = RFC5054_3072


def compute_x(group: SrpGroup, salt: bytes, username: str, password: str) -> int:
    """The password-equivalent private key. Only a client ever computes it; the server never sees it."""
    inner = group.hash(username.encode("utf-8") + b":" + password.encode("utf-8"))
    return group.hash_int(salt, inner)


def compute_verifier(group: SrpGroup, salt: bytes, username: str, password: str) -> int:
    return pow(group.g, compute_x(group, salt, username, password), group.N)


def new_salt() -> bytes:
    """A random salt whose first byte is not zero. RFC 5054's salt is a byte string and this module treats it
    as one, but the ``srp`` package's C backend reads it as a big number and silently drops leading zero bytes;
    avoiding them (at a cost of 0.006 bits) keeps clients built on it working."""
    while True:
        salt = secrets.token_bytes(MIN_SALT_BYTES)
        if salt[0]:
            return salt


def scrambler(group: SrpGroup, big_a: int, big_b: int) -> int:
    """u = H(PAD(A) | PAD(B))."""
    return group.hash_int(group.pad(big_a), group.pad(big_b))


def compute_server_public(group: SrpGroup, verifier: int, b: int) -> int:
    """B = (k*v + g^b) % N."""
    return (group.k * verifier + pow(group.g, b, group.N)) % group.N


def server_premaster(group: SrpGroup, big_a: int, big_b: int, verifier: int, b: int) -> int:
    """S = (A * v^u)^b % N."""
    u = scrambler(group, big_a, big_b)
    return pow(big_a * pow(verifier, u, group.N) % group.N, b, group.N)


def client_premaster(group: SrpGroup, big_b: int, a: int, u: int, x: int) -> int:
    """S = (B - k*g^x)^(a + u*x) % N."""
    base = (big_b - group.k * pow(group.g, x, group.N)) % group.N
    return pow(base, a + u * x, group.N)


def _proofs(group: SrpGroup, username: str, salt: bytes, big_a: int, big_b: int, premaster: int) -> tuple[bytes, bytes]:
    """(M, HAMK) for a session with shared secret S = ``premaster``."""
    session_key = group.hash(to_bytes(premaster))
    h_n, h_g = group.hash(to_bytes(group.N)), group.hash(group.pad(group.g))
    ng_xor = bytes(a ^ b for a, b in zip(h_n, h_g, strict=True))
    proof = group.hash(ng_xor, group.hash(username.encode("utf-8")), salt, to_bytes(big_a), to_bytes(big_b),
                       session_key)
    return proof, group.hash(to_bytes(big_a), proof, session_key)


def _random_exponent() -> int:
    return int.from_bytes(secrets.token_bytes(EPHEMERAL_BYTES), "big") | 1 << (EPHEMERAL_BYTES * 8 - 1)


@dataclass(repr=False)
class SrpServerSession:
    """One login attempt on the server side, in RFC 5054's order: the server sends (salt, B) first, the client
    answers with A and its proof M. Holds the ephemeral secret ``b``; checks exactly one proof."""

    group: SrpGroup
    username: str
    salt: bytes
    verifier: int
    _b: int = field(default_factory=_random_exponent)
    _used: bool = False

    def __post_init__(self) -> None:
        if not 1 < self.verifier < self.group.N:
            raise SrpError("stored verifier is out of range")
        self.server_public = compute_server_public(self.group, self.verifier, self._b)

    def __repr__(self) -> str:
        return f"SrpServerSession(group={self.group.name}, username={self.username!r})"

    def verify(self, client_public: int, client_proof: bytes) -> bytes | None:
        """The server proof HAMK if ``client_proof`` shows knowledge of the password, else None. Single use:
        a second call raises, so one challenge never checks two guesses."""
        if self._used:
            raise SrpError("this SRP session was already used")
        self._used = True
        group = self.group
        if not 0 < client_public < group.N:
            # A % N == 0 would make S = 0 whatever the password: the classic SRP bypass (RFC 5054 2.5.4).
            return None
        if scrambler(group, client_public, self.server_public) == 0:
            return None
        premaster = server_premaster(group, client_public, self.server_public, self.verifier, self._b)
        expected, server_proof = _proofs(group, self.username, self.salt, client_public, self.server_public,
                                         premaster)
        return server_proof if hmac.compare_digest(expected, client_proof) else None


@dataclass(repr=False)
class SrpClientSession:
    """The client side (what the reference adapter and tools use; the conformance suite uses the ``srp``
    package instead)."""

    group: SrpGroup
    username: str
    password: str
    _a: int = field(default_factory=_random_exponent)

    def __post_init__(self) -> None:
        self.client_public = pow(self.group.g, self._a, self.group.N)
        self._expected_server_proof: bytes | None = None

    def __repr__(self) -> str:
        return f"SrpClientSession(group={self.group.name}, username={self.username!r})"

    def process_challenge(self, salt: bytes, server_public: int) -> bytes:
        """The client proof M for the server's (salt, B)."""
        group = self.group
        if server_public % group.N == 0 or not 0 < server_public < group.N:
            raise SrpError("server public value B is out of range")
        u = scrambler(group, self.client_public, server_public)
        if u == 0:
            raise SrpError("scrambling parameter u is zero")
        premaster = client_premaster(group, server_public, self._a, u,
                                     compute_x(group, salt, self.username, self.password))
        proof, self._expected_server_proof = _proofs(group, self.username, salt, self.client_public, server_public,
                                                     premaster)
        return proof

    def verify_server(self, server_proof: bytes) -> bool:
        """Mutual authentication: the server proved it holds the verifier."""
        expected = self._expected_server_proof
        return expected is not None and hmac.compare_digest(expected, server_proof)
