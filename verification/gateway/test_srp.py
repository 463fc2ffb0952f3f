"""SRP-6a: RFC 5054 Appendix B vectors, the 3072-bit group rebuilt from its definition, and interoperability
with the independent ``srp`` package (both of its backends) in both directions."""

from __future__ import annotations

import pytest
import srp
import srp._pysrp as pysrp
from hypothesis import given, settings
from hypothesis import strategies as st

from aico_secure.conform.hypothesis_profiles import KDF, budget
from aico_secure.gateway import srp as S
from aico_secure.gateway.errors import SrpError

H = S._hex

# RFC 5054 Appendix B (SHA-1, 1024-bit group).
USER, PASSWORD = "alice", "password123"
SALT = bytes.fromhex("BEB25379D1A8581EB5A727673A2441EE")
K = H("7556AA04 5AEF2CDD 07ABAF0F 665C3E81 8913186F")
X = H("94B7555A ABE9127C C58CCF49 93DB6CF8 4D16C124")
V = H("""7E273DE8 696FFC4F 4E337D05 B4B375BE B0DDE156 9E8FA00A 9886D812 9BADA1F1 822223CA 1A605B53 0E379BA4
         729FDC59 F105B478 7E5186F5 C671085A 1447B52A 48CF1970 B4FB6F84 00BBF4CE BFBB1681 52E08AB5 EA53D15C
         1AFF87B2 B9DA6E04 E058AD51 CC72BFC9 033B564E 26480D78 E955A5E2 9E7AB245 DB2BE315 E2099AFB""")
A_PRIV = H("60975527 035CF2AD 1989806F 0407210B C81EDC04 E2762A56 AFD529DD DA2D4393")
B_PRIV = H("E487CB59 D31AC550 471E81F0 0F6928E0 1DDA08E9 74A004F4 9E61F5D1 05284D20")
A_PUB = H("""61D5E490 F6F1B795 47B0704C 436F523D D0E560F0 C64115BB 72557EC4 4352E890 3211C046 92272D8B 2D1A5358
             A2CF1B6E 0BFCF99F 921530EC 8E393561 79EAE45E 42BA92AE ACED8251 71E1E8B9 AF6D9C03 E1327F44 BE087EF0
             6530E69F 66615261 EEF54073 CA11CF58 58F0EDFD FE15EFEA B349EF5D 76988A36 72FAC47B 0769447B""")
B_PUB = H("""BD0C6151 2C692C0C B6D041FA 01BB152D 4916A1E7 7AF46AE1 05393011 BAF38964 DC46A067 0DD125B9 5A981652
             236F99D9 B681CBF8 7837EC99 6C6DA044 53728610 D0C6DDB5 8B318885 D7D82C7F 8DEB75CE 7BD4FBAA 37089E6F
             9C6059F3 88838E7A 00030B33 1EB76840 910440B1 B27AAEAE EB4012B7 D7665238 A8E3FB00 4B117B58""")
U = H("CE38B959 3487DA98 554ED47D 70A7AE5F 462EF019")
PREMASTER = H("""B0DC82BA BCF30674 AE450C02 87745E79 90A3381F 63B387AA F271A10D 233861E3 59B48220 F7C4693C
                 9AE12B0A 6F67809F 0876E2D0 13800D6C 41BB59B6 D5979B5C 00A172B4 A2A5903A 0BDCAF8A 709585EB
                 2AFAFA8F 3499B200 210DCC1F 10EB3394 3CD67FC8 8A2F39A4 BE5BEC4E C0A3212D C346D7E4 74B29EDE
                 8A469FFE CA686E5A""")


def test_rfc5054_appendix_b_vectors() -> None:
    group = S.RFC5054_1024
    assert group.k == K
    assert S.compute_x(group, SALT, USER, PASSWORD) == X
    assert S.compute_verifier(group, SALT, USER, PASSWORD) == V
    assert pow(group.g, A_PRIV, group.N) == A_PUB
    assert S.compute_server_public(group, V, B_PRIV) == B_PUB
    assert S.scrambler(group, A_PUB, B_PUB) == U
    assert S.server_premaster(group, A_PUB, B_PUB, V, B_PRIV) == PREMASTER
    assert S.client_premaster(group, B_PUB, A_PRIV, U, X) == PREMASTER


def _pi_bits(bits: int) -> int:
    """floor(pi * 2**bits) by Machin's formula in integer arithmetic (guard bits make the floor exact here)."""
    guard = 64
    scale = 1 << (bits + guard)

    def arctan_inv(n: int) -> int:
        total, term, k, sign = 0, scale // n, 1, 1
        while term:
            total += sign * (term // k)
            term //= n * n
            k += 2
            sign = -sign
        return total

    return (4 * (4 * arctan_inv(5) - arctan_inv(239))) >> guard


def _probably_prime(n: int, rounds: int = 8) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19)[:rounds]:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def test_3072_group_is_the_rfc3526_safe_prime() -> None:
    """RFC 5054's 3072-bit N is RFC 3526's: 2^3072 - 2^3008 - 1 + 2^64 * (floor(2^2942 pi) + 1690314)."""
    n = 2**3072 - 2**3008 - 1 + 2**64 * (_pi_bits(2942) + 1690314)
    group = S.RFC5054_3072
    assert group.N == n and group.bits == 3072 and group.g == 5
    assert _probably_prime(group.N) and _probably_prime((group.N - 1) // 2), "N must be a safe prime"


@pytest.mark.parametrize("backend", [srp, pysrp], ids=["srp-default", "srp-pure-python"])
@settings(max_examples=budget(KDF), deadline=None)
@given(username=st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True), password=st.text(min_size=1, max_size=40))
def test_interoperates_with_the_srp_package(backend: object, username: str, password: str) -> None:
    mod = backend
    mod.rfc5054_enable(True)  # type: ignore[attr-defined]
    group = S.RFC5054_3072
    args = {"hash_alg": mod.SHA256, "ng_type": mod.NG_CUSTOM,  # type: ignore[attr-defined]
            "n_hex": format(group.N, "X").encode(), "g_hex": b"5"}
    salt, v_bytes = mod.create_salted_verification_key(username, password, salt_len=16, **args)  # type: ignore[attr-defined]
    assert int.from_bytes(v_bytes, "big") == S.compute_verifier(group, salt, username, password)

    # their client, our server
    user = mod.User(username, password, **args)  # type: ignore[attr-defined]
    _, a_pub = user.start_authentication()
    server = S.SrpServerSession(group, username, salt, int.from_bytes(v_bytes, "big"))
    proof = user.process_challenge(salt, S.to_bytes(server.server_public))
    server_proof = server.verify(int.from_bytes(a_pub, "big"), proof)
    assert server_proof is not None
    user.verify_session(server_proof)
    assert user.authenticated()

    # our client, their server
    client = S.SrpClientSession(group, username, password)
    verifier = mod.Verifier(username, salt, v_bytes, S.to_bytes(client.client_public), **args)  # type: ignore[attr-defined]
    s, b_pub = verifier.get_challenge()
    their_proof = verifier.verify_session(client.process_challenge(s, int.from_bytes(b_pub, "big")))
    assert their_proof is not None and client.verify_server(their_proof)


def test_wrong_password_and_bad_values_fail() -> None:
    group = S.RFC5054_3072
    salt = S.new_salt()
    v = S.compute_verifier(group, salt, "bob", "right")
    for password, forged_a in (("wrong", None), ("right", 0), ("right", group.N)):
        client = S.SrpClientSession(group, "bob", password)
        server = S.SrpServerSession(group, "bob", salt, v)
        proof = client.process_challenge(salt, server.server_public)
        a_pub = client.client_public if forged_a is None else forged_a
        assert server.verify(a_pub, proof) is None
    with pytest.raises(SrpError):
        S.SrpClientSession(group, "bob", "right").process_challenge(salt, group.N)
    with pytest.raises(SrpError):
        S.SrpServerSession(group, "bob", salt, 1)


def test_a_session_checks_one_proof_only() -> None:
    group = S.RFC5054_3072
    salt = S.new_salt()
    server = S.SrpServerSession(group, "bob", salt, S.compute_verifier(group, salt, "bob", "pw"))
    client = S.SrpClientSession(group, "bob", "pw")
    proof = client.process_challenge(salt, server.server_public)
    assert server.verify(client.client_public, proof) is not None
    with pytest.raises(SrpError):
        server.verify(client.client_public, proof)


def test_secrets_stay_out_of_repr() -> None:
    group = S.RFC5054_3072
    salt = S.new_salt()
    client = S.SrpClientSession(group, "bob", "hunter2-password")
    server = S.SrpServerSession(group, "bob", salt, S.compute_verifier(group, salt, "bob", "hunter2-password"))
    text = repr(client) + repr(server)
    assert "hunter2" not in text and format(client._a, "x") not in text and format(server._b, "x") not in text
