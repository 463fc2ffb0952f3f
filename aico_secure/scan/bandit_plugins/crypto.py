"""Encryption without integrity and password KDFs too weak to stand: AICO-S105 and AICO-S106.

CBC (or CTR, CFB, OFB) without a MAC lets a tampered or moved ciphertext decrypt (CBC also invites padding
oracles); ECB has no nonce at all, so equal blocks show through whatever else is done. Whether a MAC is computed
is judged per function: CBC in a function that also uses HMAC/CMAC/Poly1305 passes (a heuristic: a MAC computed
by a caller is not seen).
PBKDF2 below 600,000 iterations (OWASP's figure for HMAC-SHA256) is cheap to brute-force; a random salt made
inside the KDF call is lost at once, so the derived key can never be derived again and must be stored.
"""

from __future__ import annotations

import ast
from typing import Any

from aico_secure.scan.bandit_plugins._common import argument, call_name, constant, rule, scope_of
from aico_secure.scan.bandit_plugins._common import issue as make_issue

_MAC_WORDS = ("hmac", "cmac", "poly1305", "blake2")
_MAC_PARTS = {"mac", "signature", "tag"}  # _verify_signature(), compute_mac(), check_tag()


def _computes_mac(scope: ast.AST | None) -> bool:
    """Whether the function names a MAC anywhere: an HMAC/CMAC/Poly1305 object or a helper that checks one."""
    if scope is None:
        return False
    for node in ast.walk(scope):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name is None:
            continue
        lowered = name.lower()
        if any(word in lowered for word in _MAC_WORDS) or _MAC_PARTS & set(lowered.split("_")):
            return True
    return False


_UNAUTHENTICATED = {"CBC", "CTR", "CFB", "CFB8", "OFB"}


def _block_mode(node: ast.AST, context: Any) -> str | None:
    """The mode name when the node selects a mode with no integrity of its own (cryptography's ``modes.X(...)``,
    PyCryptodome's ``AES.MODE_X``)."""
    if isinstance(node, ast.Attribute) and node.attr.startswith("MODE_"):
        mode = node.attr[5:]
        return mode if mode in _UNAUTHENTICATED | {"ECB"} else None
    if isinstance(node, ast.Call):
        name = call_name(node, context)
        last = name.split(".")[-1]
        if last in _UNAUTHENTICATED | {"ECB"} and ("modes" in name or name == last):
            return last
    return None


@rule("AICO-S105", "Call", "Attribute")
def aico_unauthenticated_block_mode(context: Any) -> Any:
    node = context.node
    mode = _block_mode(node, context)
    if mode == "ECB":
        return make_issue("AICO-S105", "AES in ECB mode: no nonce, equal blocks encrypt equally; use AESGCM.", node)
    if mode is not None and not _computes_mac(scope_of(node)):
        return make_issue(
            "AICO-S105",
            f"AES-{mode} with no MAC over the ciphertext in this function; use AESGCM or ChaCha20Poly1305 "
            "(or encrypt-then-HMAC).",
            node,
        )
    return None


_MIN_ITERATIONS = 600_000
# (position, keyword) of the iteration count and of the salt, per PBKDF2 entry point; None = not a parameter.
_PBKDF2: dict[str, tuple[tuple[int, str] | None, tuple[int, str]]] = {
    "hashlib.pbkdf2_hmac": ((3, "iterations"), (2, "salt")),
    "PBKDF2HMAC": ((3, "iterations"), (2, "salt")),
    "PBKDF2": ((3, "count"), (1, "salt")),  # PyCryptodome; count defaults to 1000
}
# Other password or key derivations whose salt must be kept to derive again.
_SALTED = {"scrypt": (1, "salt"), "Scrypt": (0, "salt"), "hash_secret_raw": (1, "salt"),
           "hash_secret": (1, "salt"), "Argon2id": (0, "salt"), "HKDF": (2, "salt")}
_RANDOM = {"urandom", "token_bytes", "get_random_bytes", "randbytes", "random_bytes"}


def _kdf(name: str) -> str | None:
    if name in _PBKDF2 or name.split(".")[-1] in {"PBKDF2HMAC", "PBKDF2"}:
        return name if name in _PBKDF2 else name.split(".")[-1]
    return None


def _inline_random(node: ast.AST | None) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return method in _RANDOM


@rule("AICO-S106", "Call")
def aico_weak_pbkdf2(context: Any) -> Any:
    call: ast.Call = context.node
    name = call_name(call, context)
    kdf = _kdf(name)
    last = name.split(".")[-1]
    if kdf is not None:
        iterations_at, salt_at = _PBKDF2[kdf]
        count_node = argument(call, *iterations_at) if iterations_at else None
        count = constant(count_node) if count_node is not None else (1000 if kdf == "PBKDF2" else None)
        if isinstance(count, int) and not isinstance(count, bool) and count < _MIN_ITERATIONS:
            return make_issue(
                "AICO-S106",
                f"PBKDF2 with {count} iterations (< {_MIN_ITERATIONS:,}); use Argon2id (RFC 9106) for passwords.",
                count_node or call,
            )
    elif last in _SALTED:
        salt_at = _SALTED[last]
    else:
        return None
    salt = argument(call, *salt_at)
    if _inline_random(salt):
        return make_issue(
            "AICO-S106",
            "Random salt generated inside the KDF call and never kept: the key cannot be derived again, so it "
            "must be stored; generate the salt first and store it with the keyring.",
            salt,
        )
    return None
