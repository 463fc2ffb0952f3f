"""The cryptographic inventory (CBOM): which algorithms, modes, key sizes, KDF parameters, curves and protocol
versions the tree's Python code uses, and where.

Found with ``ast`` and the file's imports (``from cryptography.hazmat.primitives.ciphers import modes`` makes
``modes.CBC`` resolvable; ``Cryptodome`` is read as ``Crypto``), for cryptography, pycryptodome, hashlib, hmac,
argon2-cffi, PyNaCl, pyzmq's CURVE and ssl. Only literal arguments count (numbers, strings, module constants and
simple arithmetic such as ``64 * 1024``); an argument computed at run time leaves the parameter unknown, and a
library default fills it only where the library documents one.

The inventory is a CycloneDX 1.6 document (``cryptographic-asset`` components with ``cryptoProperties``, every
occurrence as ``evidence.occurrences`` with file and line) in ``ScannerResult.documents["cbom"]``. What
CycloneDX has no field for is a component property: ``aico:library``, ``aico:algorithm`` and ``aico:family``
(what a baseline compares), ``aico:strength:<dimension>`` (the numbers a baseline orders by) and
``aico:param:<name>`` (KDF parameters). CurveZMQ has no CycloneDX protocol type, so it is a protocol of type
``other``. The inventory by itself is not a finding; weak primitives are (AICO-C3xx in ``config_rules``).
The same directories as the configuration scanner are skipped, and files over the size bound or that do not
parse are reported in ``problems``.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CryptoAssetType,
    CryptoExecutionEnvironment,
    CryptoMode,
    CryptoPrimitive,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
)
from cyclonedx.output.json import JsonV1Dot6

from aico_secure.scan import config_rules as rules
from aico_secure.scan._scanner.config import MAX_FILE_BYTES, iter_tree, out_of_time
from aico_secure.scan._scanner.interface import Scanner, ScanOptions
from aico_secure.scan.model import Finding, ScannerResult

MAX_SOURCE_BYTES = 2 * MAX_FILE_BYTES

# ------------------------------------------------------------------------------------------------ assets


@dataclass(frozen=True)
class Asset:
    """One cryptographic asset; equal assets at different places are one component with several occurrences."""

    name: str  # "AES-256-GCM", "PBKDF2-HMAC-SHA256", "TLS 1.3"
    algorithm: str  # what a baseline matches on: "AES", "SHA-256", "PBKDF2", "Argon2id", "TLS"
    family: str  # what a baseline orders within: "aes", "hash", "pbkdf2", "argon2", "rsa", "tls", ...
    primitive: str  # CycloneDX primitive ("ae", "block-cipher", "hash", "kdf", ...) or "protocol"
    library: str
    mode: str | None = None
    parameter_set: str | None = None  # key or digest size in bits
    curve: str | None = None
    strength: tuple[tuple[str, int], ...] = ()  # higher is stronger in every dimension
    params: tuple[tuple[str, str], ...] = ()


_HASHES: dict[str, tuple[str, int, int]] = {  # key -> (name, rank, bits)
    "md5": ("MD5", 0, 128),
    "sha1": ("SHA-1", 1, 160),
    "sha224": ("SHA-224", 2, 224),
    "sha256": ("SHA-256", 3, 256),
    "sha384": ("SHA-384", 4, 384),
    "sha512": ("SHA-512", 5, 512),
    "sha512_224": ("SHA-512/224", 2, 224),
    "sha512_256": ("SHA-512/256", 3, 256),
    "sha3_224": ("SHA3-224", 2, 224),
    "sha3_256": ("SHA3-256", 3, 256),
    "sha3_384": ("SHA3-384", 4, 384),
    "sha3_512": ("SHA3-512", 5, 512),
    "blake2b": ("BLAKE2b", 5, 512),
    "blake2s": ("BLAKE2s", 3, 256),
    "shake_128": ("SHAKE128", 3, 128),
    "shake_256": ("SHAKE256", 5, 256),
    "sm3": ("SM3", 3, 256),
}
_MODE_RANK = {"ecb": 0, "cbc": 1, "cfb": 1, "cfb8": 1, "ofb": 1, "ctr": 2, "xts": 2}  # AEAD modes: 3
_AEAD_MODES = {"gcm", "ccm", "ocb", "ocb3", "siv", "gcmsiv", "eax"}
_BROKEN_CIPHERS = {"DES", "3DES", "RC4", "RC2", "Blowfish", "CAST5", "IDEA"}
_CIPHER_NAMES = {
    "AES": "AES", "AES128": "AES", "AES256": "AES", "TripleDES": "3DES", "DES3": "3DES", "DES": "DES",
    "ARC4": "RC4", "ARC2": "RC2", "Blowfish": "Blowfish", "CAST5": "CAST5", "CAST": "CAST5", "IDEA": "IDEA",
    "SEED": "SEED", "Camellia": "Camellia", "SM4": "SM4", "ChaCha20": "ChaCha20", "Salsa20": "Salsa20",
}  # fmt: skip
_CURVE_BITS = {
    "secp192r1": 192, "secp224r1": 224, "secp256r1": 256, "secp384r1": 384, "secp521r1": 521, "secp256k1": 256,
    "brainpoolp256r1": 256, "brainpoolp384r1": 384, "brainpoolp512r1": 512, "p-256": 256, "p-384": 384,
    "p-521": 521, "p256": 256, "p384": 384, "p521": 521, "nist p-256": 256, "ed25519": 256, "curve25519": 256,
}  # fmt: skip
_CURVE_ALIASES = {"p-256": "secp256r1", "p256": "secp256r1", "nist p-256": "secp256r1", "prime256v1": "secp256r1",
                  "p-384": "secp384r1", "p384": "secp384r1", "p-521": "secp521r1", "p521": "secp521r1"}  # fmt: skip


def hash_key(text: str) -> str | None:
    """``"SHA256"``, ``"sha-256"``, ``"sha3_256"`` -> the ``_HASHES`` key."""
    key = text.lower().replace("-", "").replace("/", "_")
    if key.startswith("sha3") and "_" not in key and len(key) > 4:
        key = "sha3_" + key[4:]
    if key.startswith("sha512") and len(key) > 6 and "_" not in key:
        key = "sha512_" + key[6:]
    return key if key in _HASHES else None


def hash_asset(key: str, library: str) -> Asset:
    name, rank, bits = _HASHES[key]
    return Asset(name, name, "hash", "hash", library, parameter_set=str(bits), strength=(("digest", rank),))


def cipher_asset(cipher: str, mode: str | None, key_bits: int | None, library: str) -> Asset:
    mode = mode.lower() if mode else None
    parts = [cipher] + ([str(key_bits)] if key_bits else []) + ([mode.upper()] if mode else [])
    strength: list[tuple[str, int]] = []
    if key_bits:
        strength.append(("key_size", key_bits))
    if mode:
        strength.append(("mode", 3 if mode in _AEAD_MODES else _MODE_RANK.get(mode, 1)))
    primitive = "ae" if mode in _AEAD_MODES else ("stream-cipher" if cipher in {"RC4", "ChaCha20", "Salsa20"}
                                                   else "block-cipher")  # fmt: skip
    return Asset(
        "-".join(parts), cipher, cipher.lower(), primitive, library, mode=mode,
        parameter_set=str(key_bits) if key_bits else None, strength=tuple(strength),
    )  # fmt: skip


def tls_asset(major: int, minor: int, library: str) -> Asset:
    """(1, n) is TLS 1.n, (0, n) is SSL n."""
    name = f"TLS 1.{minor}" if major == 1 else f"SSL {minor}"
    return Asset(name, "TLS", "tls", "protocol", library, parameter_set=name.split()[1],
                 strength=(("version", 10 + minor if major == 1 else minor),))  # fmt: skip


# ------------------------------------------------------------------------------------------------ the AST walk

_HAZMAT = "cryptography.hazmat.primitives."
_NACL_LIMITS = {  # PyNaCl's argon2id opslimit / memlimit (bytes) constants
    "OPSLIMIT_MIN": 1, "OPSLIMIT_INTERACTIVE": 2, "OPSLIMIT_MODERATE": 3, "OPSLIMIT_SENSITIVE": 4,
    "MEMLIMIT_MIN": 8192, "MEMLIMIT_INTERACTIVE": 64 * 1024 * 1024, "MEMLIMIT_MODERATE": 256 * 1024 * 1024,
    "MEMLIMIT_SENSITIVE": 1024 * 1024 * 1024,
}  # fmt: skip
_ARGON2_PROFILES = {"RFC_9106_LOW_MEMORY": (3, 65536, 4), "RFC_9106_HIGH_MEMORY": (1, 2097152, 4),
                    "CHEAPEST": (1, 8, 1), "PRE_21_2": (2, 102400, 8)}  # fmt: skip
_CURVE_ATTRS = {"curve_server", "curve_secretkey", "curve_publickey", "curve_serverkey"}


@dataclass
class _Hit:
    asset: Asset
    line: int
    weak: list[tuple[rules.Rule, str]] = field(default_factory=list)


def _argon2(variant: str, t: int | None, m: int | None, p: int | None, library: str) -> _Hit:
    params = tuple((k, str(v)) for k, v in (("time_cost", t), ("memory_kib", m), ("parallelism", p)) if v is not None)
    strength = tuple((k, v) for k, v in (("memory_kib", m), ("time_cost", t)) if v is not None)
    hit = _Hit(Asset(variant, variant, "argon2", "kdf", library, params=params, strength=strength), 0)
    # RFC 9106: t=1 with 2 GiB is the first recommendation; below 2 GiB the second (t=3, 64 MiB) is the floor.
    if m is not None and m < rules.ARGON2_MIN_MEMORY_KIB:
        hit.weak.append((rules.WEAK_KDF_CODE, f"{variant} memory {m} KiB < 64 MiB"))
    elif t is not None and t < rules.ARGON2_MIN_TIME and (m is None or m < 2 * 1024 * 1024):
        hit.weak.append((rules.WEAK_KDF_CODE, f"{variant} time cost {t} < 3"))
    return hit


class _Inventory(ast.NodeVisitor):
    def __init__(self, tree: ast.Module) -> None:
        self.aliases: dict[str, str] = {}
        self.constants: dict[str, ast.expr] = {}
        self.hits: list[_Hit] = []
        self.consumed: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = _norm(a.name)
                    else:
                        top = a.name.split(".")[0]
                        self.aliases[top] = _norm(top)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    self.aliases[a.asname or a.name] = _norm(f"{node.module}.{a.name}")
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.constants[stmt.targets[0].id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                self.constants[stmt.target.id] = stmt.value

    # -------------------------------------------------------------------- resolution
    def qual(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def int_of(self, node: ast.expr | None, depth: int = 0) -> int | None:
        if node is None or depth > 10:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.int_of(self.constants[node.id], depth + 1)
        if isinstance(node, ast.BinOp):
            left, right = self.int_of(node.left, depth + 1), self.int_of(node.right, depth + 1)
            if left is None or right is None:
                return None
            return _arith(node.op, left, right)
        q = self.qual(node) if isinstance(node, ast.Attribute | ast.Name) else None
        if q and q.split(".")[-1] in _NACL_LIMITS and q.startswith("nacl."):
            return _NACL_LIMITS[q.split(".")[-1]]
        return None

    def str_of(self, node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.constants:
            value = self.constants[node.id]
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
        return None

    def digest_of(self, node: ast.expr | None) -> str | None:
        """A hash named by a string, a constructor reference (``hashlib.sha256``) or an instance
        (``hashes.SHA256()``, ``Crypto.Hash.SHA256``)."""
        if node is None:
            return None
        text = self.str_of(node)
        if text is not None:
            return hash_key(text)
        target = node.func if isinstance(node, ast.Call) else node
        q = self.qual(target)
        if q is None:
            return None
        self.consumed.add(id(target))
        return hash_key(q.split(".")[-1])

    @staticmethod
    def arg(call: ast.Call, pos: int | None, name: str) -> ast.expr | None:
        for kw in call.keywords:
            if kw.arg == name:
                return kw.value
        if pos is not None and pos < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
            return call.args[pos]
        return None

    def emit(self, hit: _Hit, node: ast.AST) -> None:
        hit.line = getattr(node, "lineno", 0)
        self.hits.append(hit)

    # -------------------------------------------------------------------- visitors
    def visit_Call(self, node: ast.Call) -> None:
        q = self.qual(node.func) if id(node.func) not in self.consumed else None
        if q is not None:
            hit = self.call(q, node)
            if hit is not None:
                self.consumed.add(id(node.func))
                self.emit(hit, node)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.reference(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self.reference(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr in _CURVE_ATTRS:
                self.emit(_curvezmq(), node)
                break
        self.generic_visit(node)

    def reference(self, node: ast.Attribute | ast.Name) -> None:
        if id(node) in self.consumed:
            return
        q = self.qual(node)
        if q is None:
            return
        hit = self.ref(q)
        if hit is not None:
            self.consumed.add(id(node))
            self.emit(hit, node)

    # -------------------------------------------------------------------- what references mean
    def ref(self, q: str) -> _Hit | None:
        last = q.split(".")[-1]
        if q.startswith("ssl.TLSVersion.") or q.startswith("ssl.PROTOCOL_"):
            return _tls_hit(last)
        if q.startswith("hashlib.") and hash_key(last) and last != "new":
            return _hash_hit(last, "hashlib", True)
        if q in {"zmq.CURVE_ALLOW_ANY", "zmq.auth.CURVE_ALLOW_ANY", "zmq.CURVE_SERVER", "zmq.CURVE"}:
            return _curvezmq()
        if q.startswith("argon2.profiles.") and last in _ARGON2_PROFILES:
            t, m, p = _ARGON2_PROFILES[last]
            return _argon2("Argon2id", t, m, p, "argon2-cffi")
        if q.startswith(_HAZMAT + "hashes.") and hash_key(last):
            return _hash_hit(last, "cryptography", True)
        return None

    # -------------------------------------------------------------------- what calls mean
    def call(self, q: str, c: ast.Call) -> _Hit | None:
        last = q.split(".")[-1]
        if q.startswith("hashlib."):
            return self.hashlib_call(last, c)
        if q in {"hmac.new", "hmac.digest", "hmac.HMAC"}:
            digest = self.digest_of(self.arg(c, 2, "digestmod" if last != "digest" else "digest"))
            return _hmac(digest, "hmac")
        if q.startswith("Crypto."):
            return self.pycryptodome_call(q, c)
        if q.startswith("cryptography."):
            return self.cryptography_call(q, c)
        if q.startswith("argon2."):
            return self.argon2_call(q, c)
        if q.startswith("nacl."):
            return self.nacl_call(q, c)
        if q in {"zmq.curve_keypair", "zmq.curve_public", "zmq.auth.create_certificates"}:
            return _curvezmq()
        if q in {"ssl.create_default_context", "ssl.SSLContext", "ssl.wrap_socket"}:
            proto = self.arg(c, 0, "protocol")
            pq = self.qual(proto) if proto is not None else None
            if pq and pq.startswith("ssl.PROTOCOL_"):
                self.consumed.add(id(proto))
                return _tls_hit(pq.split(".")[-1])
            return _Hit(Asset("TLS", "TLS", "tls", "protocol", "ssl"), 0)
        if q in {"os.urandom", "secrets.token_bytes", "secrets.token_hex", "secrets.token_urlsafe"}:
            return _Hit(Asset("OS CSPRNG", "OS CSPRNG", "drbg", "drbg", q.split(".")[0]), 0)
        return None

    def hashlib_call(self, last: str, c: ast.Call) -> _Hit | None:
        not_for_security = any(
            kw.arg == "usedforsecurity" and isinstance(kw.value, ast.Constant) and kw.value.value is False
            for kw in c.keywords
        )
        if last == "new":
            name = self.str_of(self.arg(c, 0, "name"))
            return _hash_hit(name, "hashlib", not not_for_security) if name and hash_key(name) else None
        if last == "file_digest":
            digest = self.digest_of(self.arg(c, 1, "digest"))
            return hash_asset_hit(digest, "hashlib")
        if last == "pbkdf2_hmac":
            digest = hash_key(self.str_of(self.arg(c, 0, "hash_name")) or "")
            return _pbkdf2(digest, self.int_of(self.arg(c, 3, "iterations")), "hashlib")
        if last == "scrypt":
            return _scrypt(self.int_of(self.arg(c, None, "n")), "hashlib")
        if hash_key(last):
            return _hash_hit(last, "hashlib", not not_for_security)
        return None

    def cryptography_call(self, q: str, c: ast.Call) -> _Hit | None:
        last = q.split(".")[-1]
        lib = "cryptography"
        if q == "cryptography.fernet.Fernet" or q == "cryptography.fernet.MultiFernet":
            return _Hit(Asset("Fernet (AES-128-CBC, HMAC-SHA256)", "Fernet", "fernet", "ae", lib, mode="cbc",
                              parameter_set="128"), 0)  # fmt: skip
        if q.startswith(_HAZMAT + "ciphers.aead."):
            parts = q.removeprefix(_HAZMAT + "ciphers.aead.").split(".")
            bits = self.int_of(self.arg(c, 0, "bit_length")) if parts[-1] == "generate_key" else None
            if parts[0] == "ChaCha20Poly1305":
                return _Hit(Asset("ChaCha20-Poly1305", "ChaCha20-Poly1305", "chacha20", "ae", lib,
                                  parameter_set="256", strength=(("key_size", 256),)), 0)  # fmt: skip
            mode = {"AESGCM": "gcm", "AESCCM": "ccm", "AESOCB3": "ocb", "AESSIV": "siv", "AESGCMSIV": "gcmsiv"}
            if parts[0] in mode:
                return _Hit(cipher_asset("AES", mode[parts[0]], bits, lib), 0)
            return None
        if q == _HAZMAT + "ciphers.Cipher":
            return self.cipher_object(c)
        if q.startswith(_HAZMAT + "ciphers.algorithms.") and last in _CIPHER_NAMES:
            bits = {"AES128": 128, "AES256": 256}.get(last)
            return _cipher_hit(cipher_asset(_CIPHER_NAMES[last], None, bits, lib))
        if q.startswith(_HAZMAT + "ciphers.modes."):
            return _cipher_hit(cipher_asset("AES", last, None, lib))
        if q.startswith(_HAZMAT + "hashes.") and hash_key(last):
            return _hash_hit(last, lib, True)
        if q == _HAZMAT + "hmac.HMAC":
            return _hmac(self.digest_of(self.arg(c, 1, "algorithm")), lib)
        if q == _HAZMAT + "kdf.pbkdf2.PBKDF2HMAC":
            digest = self.digest_of(self.arg(c, 0, "algorithm"))
            return _pbkdf2(digest, self.int_of(self.arg(c, 3, "iterations")), lib)
        if q == _HAZMAT + "kdf.scrypt.Scrypt":
            return _scrypt(self.int_of(self.arg(c, 2, "n")), lib)
        if q in {_HAZMAT + "kdf.hkdf.HKDF", _HAZMAT + "kdf.hkdf.HKDFExpand"}:
            digest = self.digest_of(self.arg(c, 0, "algorithm"))
            name = f"HKDF-{_HASHES[digest][0]}" if digest else "HKDF"
            return _Hit(Asset(name, "HKDF", "hkdf", "kdf", lib, strength=_digest_strength(digest)), 0)
        if q.startswith(_HAZMAT + "kdf.argon2.Argon2"):
            return _argon2(last, self.int_of(self.arg(c, None, "iterations")),
                           self.int_of(self.arg(c, None, "memory_cost")), self.int_of(self.arg(c, None, "lanes")),
                           lib)  # fmt: skip
        if q in {_HAZMAT + "asymmetric.rsa.generate_private_key", _HAZMAT + "asymmetric.dsa.generate_private_key"}:
            algo = "RSA" if ".rsa." in q else "DSA"
            return _keypair(algo, self.int_of(self.arg(c, 1 if algo == "RSA" else 0, "key_size")), lib)
        if q.startswith(_HAZMAT + "asymmetric.ec.") and last.upper() == last and last.startswith(("SECP", "BRAIN")):
            return _ec(last, lib)
        if q == _HAZMAT + "asymmetric.ec.generate_private_key":
            curve = self.arg(c, 0, "curve")
            target = curve.func if isinstance(curve, ast.Call) else curve
            cq = self.qual(target) if target is not None else None
            if cq and target is not None:
                self.consumed.add(id(target))
                return _ec(cq.split(".")[-1], lib)
            return _Hit(Asset("EC", "EC", "ec", "signature", lib), 0)
        for family in ("ed25519", "ed448", "x25519", "x448"):
            if q.startswith(f"{_HAZMAT}asymmetric.{family}.") and last in {"generate", "from_private_bytes"}:
                return _named_curve(family, lib)
        if q.startswith(_HAZMAT + "asymmetric.padding.") and last in {"OAEP", "PSS", "PKCS1v15"}:
            prim = "pke" if last != "PSS" else "signature"
            return _Hit(Asset(f"RSA-{last}", f"RSA-{last}", "rsa-padding", prim, lib), 0)
        if q.startswith(_HAZMAT + "keywrap.aes_key_wrap"):
            return _Hit(Asset("AES-KW", "AES-KW", "aes-kw", "key-wrap", lib), 0)
        return None

    def cipher_object(self, c: ast.Call) -> _Hit | None:
        """``Cipher(algorithms.AES(key), modes.CBC(iv))``: one asset, cipher and mode together."""
        alg, mode = self.arg(c, 0, "algorithm"), self.arg(c, 1, "mode")
        cipher, bits, mode_name = "AES", None, None
        if isinstance(alg, ast.Call) and (aq := self.qual(alg.func)):
            self.consumed.add(id(alg.func))
            cipher = _CIPHER_NAMES.get(aq.split(".")[-1], aq.split(".")[-1])
            bits = {"AES128": 128, "AES256": 256}.get(aq.split(".")[-1])
        if mode is not None:
            target = mode.func if isinstance(mode, ast.Call) else mode
            mq = self.qual(target)
            if mq:
                self.consumed.add(id(target))
                mode_name = mq.split(".")[-1]
        return _cipher_hit(cipher_asset(cipher, mode_name, bits, "cryptography"))

    def pycryptodome_call(self, q: str, c: ast.Call) -> _Hit | None:
        parts = q.split(".")
        lib = "pycryptodome"
        if len(parts) == 4 and parts[1] == "Cipher" and parts[3] == "new" and parts[2] in _CIPHER_NAMES:
            mode_node = self.arg(c, 1, "mode")
            mode = None
            if mode_node is not None and (mq := self.qual(mode_node)) and mq.split(".")[-1].startswith("MODE_"):
                self.consumed.add(id(mode_node))
                mode = mq.split(".")[-1].removeprefix("MODE_").lower()
            return _cipher_hit(cipher_asset(_CIPHER_NAMES[parts[2]], mode, None, lib))
        if len(parts) == 4 and parts[1] == "Cipher" and parts[2] == "ChaCha20_Poly1305":
            return _Hit(Asset("ChaCha20-Poly1305", "ChaCha20-Poly1305", "chacha20", "ae", lib,
                              parameter_set="256", strength=(("key_size", 256),)), 0)  # fmt: skip
        if len(parts) == 4 and parts[1] == "Hash" and parts[3] == "new":
            if parts[2] == "HMAC":
                return _hmac(self.digest_of(self.arg(c, 2, "digestmod")), lib)
            return _hash_hit(parts[2], lib, True) if hash_key(parts[2]) else None
        if q == "Crypto.Protocol.KDF.PBKDF2":
            module = self.arg(c, None, "hmac_hash_module")
            digest = self.digest_of(module) if module is not None else "sha1"
            count = self.arg(c, 3, "count")
            return _pbkdf2(digest, self.int_of(count) if count is not None else 1000, lib)
        if q == "Crypto.Protocol.KDF.scrypt":
            return _scrypt(self.int_of(self.arg(c, 3, "N")), lib)
        if q in {"Crypto.PublicKey.RSA.generate", "Crypto.PublicKey.DSA.generate"}:
            return _keypair(parts[2], self.int_of(self.arg(c, 0, "bits")), lib)
        if q == "Crypto.PublicKey.ECC.generate":
            curve = self.str_of(self.arg(c, None, "curve"))
            return _ec(curve or "unknown", lib)
        return None

    def argon2_call(self, q: str, c: ast.Call) -> _Hit | None:
        lib = "argon2-cffi"
        if q == "argon2.PasswordHasher":
            t, m, p = (self.arg(c, 0, "time_cost"), self.arg(c, 1, "memory_cost"), self.arg(c, 2, "parallelism"))
            # argon2-cffi's documented defaults (RFC 9106 low-memory profile since 21.2.0).
            return _argon2("Argon2id", self.int_of(t) if t else 3, self.int_of(m) if m else 65536,
                           self.int_of(p) if p else 4, lib)  # fmt: skip
        if q in {"argon2.low_level.hash_secret", "argon2.low_level.hash_secret_raw"}:
            kind = self.arg(c, 6, "type")
            kq = self.qual(kind) if kind is not None else None
            variant = {"ID": "Argon2id", "I": "Argon2i", "D": "Argon2d"}.get((kq or "").split(".")[-1], "Argon2")
            return _argon2(variant, self.int_of(self.arg(c, 2, "time_cost")),
                           self.int_of(self.arg(c, 3, "memory_cost")), self.int_of(self.arg(c, 4, "parallelism")),
                           lib)  # fmt: skip
        return None

    def nacl_call(self, q: str, c: ast.Call) -> _Hit | None:
        lib = "pynacl"
        if q in {"nacl.secret.SecretBox", "nacl.secret.Aead"}:
            name = "XSalsa20-Poly1305" if q.endswith("SecretBox") else "XChaCha20-Poly1305"
            return _Hit(Asset(name, name, name.lower(), "ae", lib, parameter_set="256",
                              strength=(("key_size", 256),)), 0)  # fmt: skip
        if q in {"nacl.public.Box", "nacl.public.SealedBox", "nacl.public.PrivateKey.generate"}:
            return _named_curve("x25519", lib)
        if q in {"nacl.signing.SigningKey", "nacl.signing.SigningKey.generate"}:
            return _named_curve("ed25519", lib)
        if q.startswith("nacl.pwhash.argon2id.") and q.split(".")[-1] in {"kdf", "str"}:
            kdf = q.endswith(".kdf")
            ops = self.arg(c, 3 if kdf else 1, "opslimit")
            mem = self.arg(c, 4 if kdf else 2, "memlimit")
            t = self.int_of(ops) if ops is not None else (4 if kdf else 2)
            m = self.int_of(mem) if mem is not None else (2**30 if kdf else 64 * 2**20)
            return _argon2("Argon2id", t, m // 1024 if m is not None else None, 1, lib)
        if q.startswith("nacl.hash.") and hash_key(q.split(".")[-1]):
            return _hash_hit(q.split(".")[-1], lib, True)
        return None


def _arith(op: ast.operator, left: int, right: int) -> int | None:
    """The arithmetic constants are written with (``64 * 1024``, ``2**17``, ``1 << 16``), bounded."""
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Pow | ast.LShift) and 0 <= right < 64:
        return left**right if isinstance(op, ast.Pow) else left << right
    if isinstance(op, ast.FloorDiv) and right:
        return left // right
    return None


def _norm(module: str) -> str:
    return "Crypto" + module[len("Cryptodome") :] if module.startswith("Cryptodome") else module


def _digest_strength(digest: str | None) -> tuple[tuple[str, int], ...]:
    return (("digest", _HASHES[digest][1]),) if digest else ()


def _hash_hit(name: str, library: str, for_security: bool) -> _Hit:
    key = hash_key(name)
    assert key is not None
    hit = _Hit(hash_asset(key, library), 0)
    if for_security and key in {"md5", "sha1"}:
        hit.weak.append((rules.WEAK_HASH, f"{_HASHES[key][0]} used (pass usedforsecurity=False if not for security)"))
    return hit


def hash_asset_hit(digest: str | None, library: str) -> _Hit | None:
    return _Hit(hash_asset(digest, library), 0) if digest else None


def _hmac(digest: str | None, library: str) -> _Hit:
    name = f"HMAC-{_HASHES[digest][0]}" if digest else "HMAC"
    return _Hit(Asset(name, "HMAC", "hmac", "mac", library, strength=_digest_strength(digest)), 0)


def _pbkdf2(digest: str | None, iterations: int | None, library: str) -> _Hit:
    name = f"PBKDF2-HMAC-{_HASHES[digest][0]}" if digest else "PBKDF2"
    strength = _digest_strength(digest) + ((("iterations", iterations),) if iterations is not None else ())
    params = (("iterations", str(iterations)),) if iterations is not None else ()
    hit = _Hit(Asset(name, "PBKDF2", "pbkdf2", "kdf", library, strength=strength, params=params), 0)
    minimum = rules.PBKDF2_MIN_ITERATIONS.get(digest or "", rules.PBKDF2_DEFAULT_MIN)
    if iterations is not None and iterations < minimum:
        hit.weak.append((rules.WEAK_KDF_CODE, f"{name} with {iterations} iterations < {minimum}"))
    return hit


def _scrypt(n: int | None, library: str) -> _Hit:
    hit = _Hit(Asset("scrypt", "scrypt", "scrypt", "kdf", library, strength=(("n", n),) if n else (),
                     params=(("n", str(n)),) if n else ()), 0)  # fmt: skip
    if n is not None and n < rules.SCRYPT_MIN_N:
        hit.weak.append((rules.WEAK_KDF_CODE, f"scrypt N={n} < 2^17"))
    return hit


def _cipher_hit(asset: Asset) -> _Hit:
    hit = _Hit(asset, 0)
    if asset.algorithm in _BROKEN_CIPHERS:
        hit.weak.append((rules.WEAK_CIPHER, f"{asset.algorithm} is broken"))
    if asset.mode == "ecb":
        hit.weak.append((rules.ECB_MODE, f"{asset.name}: ECB leaks plaintext patterns"))
    return hit


def _keypair(algorithm: str, bits: int | None, library: str) -> _Hit:
    name = f"{algorithm}-{bits}" if bits else algorithm
    prim = "pke" if algorithm == "RSA" else "signature"
    hit = _Hit(Asset(name, algorithm, algorithm.lower(), prim, library, parameter_set=str(bits) if bits else None,
                     strength=(("key_size", bits),) if bits else ()), 0)  # fmt: skip
    if bits is not None and bits < 2048:
        hit.weak.append((rules.WEAK_RSA, f"{name}: key shorter than 2048 bits"))
    return hit


def _ec(curve: str, library: str) -> _Hit:
    key = curve.lower()
    key = _CURVE_ALIASES.get(key, key)
    bits = _CURVE_BITS.get(key)
    strength = (("key_size", bits),) if bits else ()
    size = str(bits) if bits else None
    asset = Asset(f"EC-{key}", "EC", "ec", "signature", library, curve=key, parameter_set=size, strength=strength)
    return _Hit(asset, 0)


def _named_curve(family: str, library: str) -> _Hit:
    name = {"ed25519": "Ed25519", "ed448": "Ed448", "x25519": "X25519", "x448": "X448"}[family]
    prim = "signature" if family.startswith("ed") else "key-agree"
    curve = {"ed25519": "curve25519", "x25519": "curve25519", "ed448": "curve448", "x448": "curve448"}[family]
    return _Hit(Asset(name, name, family, prim, library, curve=curve), 0)


def _curvezmq() -> _Hit:
    return _Hit(Asset("CurveZMQ", "CurveZMQ", "curvezmq", "protocol", "pyzmq", curve="curve25519"), 0)


def _tls_hit(constant: str) -> _Hit | None:
    """``TLSv1_3``, ``PROTOCOL_TLSv1_2``, ``SSLv3``, ``PROTOCOL_TLS_SERVER`` (negotiated: no version)."""
    name = constant.removeprefix("PROTOCOL_")
    versions = {"SSLv2": (0, 2), "SSLv3": (0, 3), "TLSv1": (1, 0), "TLSv1_1": (1, 1), "TLSv1_2": (1, 2),
                "TLSv1_3": (1, 3)}  # fmt: skip
    if name in versions:
        hit = _Hit(tls_asset(*versions[name], "ssl"), 0)
        if versions[name] < (1, 2):
            hit.weak.append((rules.DEPRECATED_TLS, f"{hit.asset.name} is deprecated (RFC 8996)"))
        return hit
    if name in {"TLS", "TLS_CLIENT", "TLS_SERVER", "SSLv23", "MINIMUM_SUPPORTED", "MAXIMUM_SUPPORTED"}:
        return _Hit(Asset("TLS", "TLS", "tls", "protocol", "ssl"), 0)
    return None


# ------------------------------------------------------------------------------------------------ CBOM document


def _component(index: int, asset: Asset, places: list[tuple[str, int]]) -> Component:
    props = [Property(name="aico:library", value=asset.library), Property(name="aico:algorithm", value=asset.algorithm),
             Property(name="aico:family", value=asset.family)]  # fmt: skip
    props += [Property(name=f"aico:strength:{k}", value=str(v)) for k, v in asset.strength]
    props += [Property(name=f"aico:param:{k}", value=v) for k, v in asset.params]
    if asset.primitive == "protocol":
        ptype = ProtocolPropertiesType.TLS if asset.family == "tls" else ProtocolPropertiesType.OTHER
        crypto = CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ptype, version=asset.parameter_set),
        )
    else:
        mode = CryptoMode(asset.mode) if asset.mode in {m.value for m in CryptoMode} else None
        if asset.mode and mode is None:
            mode = CryptoMode.OTHER
        crypto = CryptoProperties(
            asset_type=CryptoAssetType.ALGORITHM,
            algorithm_properties=AlgorithmProperties(
                primitive=CryptoPrimitive(asset.primitive),
                mode=mode,
                parameter_set_identifier=asset.parameter_set,
                curve=asset.curve,
                execution_environment=CryptoExecutionEnvironment.SOFTWARE_PLAIN_RAM,
            ),
        )
    return Component(
        name=asset.name,
        type=ComponentType.CRYPTOGRAPHIC_ASSET,
        bom_ref=f"crypto-{index}",
        crypto_properties=crypto,
        properties=props,
        evidence=ComponentEvidence(occurrences=[Occurrence(location=p, line=line) for p, line in places]),
    )


def build_cbom(assets: dict[Asset, list[tuple[str, int]]]) -> dict[str, object]:
    """A CycloneDX 1.6 JSON document (as a dict), components in a stable order."""
    bom = Bom()
    ordered = sorted(assets.items(), key=lambda kv: (kv[0].family, kv[0].name, kv[0].library, kv[0].params))
    for index, (asset, places) in enumerate(ordered, start=1):
        bom.components.add(_component(index, asset, sorted(set(places))))
    document: dict[str, object] = json.loads(JsonV1Dot6(bom).output_as_string())
    return document


def inventory_source(text: str, rel: str) -> tuple[list[tuple[Asset, int]], list[Finding]]:
    """Every asset in one module with its line, and the findings for weak ones. Raises SyntaxError."""
    tree = ast.parse(text, filename=rel)
    visitor = _Inventory(tree)
    visitor.visit(tree)
    lines = text.splitlines()
    findings: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    for hit in visitor.hits:
        for rule, message in hit.weak:
            if (rule.rule_id, hit.line) in seen:
                continue
            seen.add((rule.rule_id, hit.line))
            snippet = lines[hit.line - 1].strip()[:200] if 0 < hit.line <= len(lines) else ""
            findings.append(rule.finding("crypto", rel, hit.line, message, snippet))
    return [(h.asset, h.line) for h in visitor.hits], findings


class CryptoInventoryScanner(Scanner):
    name = "crypto"

    def __init__(self, max_bytes: int = MAX_SOURCE_BYTES) -> None:
        self.max_bytes = max_bytes

    def scan(self, root: Path, options: ScanOptions) -> ScannerResult:
        result = ScannerResult(scanner=self.name)
        files, result.problems = iter_tree(root, lambda p: p.suffix == ".py", self.max_bytes)
        assets: dict[Asset, list[tuple[str, int]]] = {}
        deadline = time.monotonic() + options.timeout_seconds
        for done, path in enumerate(files):
            if time.monotonic() > deadline:
                result.problems.append(out_of_time(options, len(files) - done))
                break
            rel = path.relative_to(root).as_posix()
            try:
                text = path.read_bytes().decode("utf-8-sig")
                found, findings = inventory_source(text, rel)
            except (UnicodeDecodeError, SyntaxError, ValueError, RecursionError) as exc:
                result.problems.append(f"{rel}: does not parse as Python ({type(exc).__name__})")
                continue
            result.items_scanned += 1
            result.findings.extend(findings)
            for asset, line in found:
                assets.setdefault(asset, []).append((rel, line))
        result.documents["cbom"] = build_cbom(assets)
        return result


def assets_of(document: object) -> Iterable[dict[str, object]]:
    """The assets a CBOM document holds, as plain records (what a baseline stores and compares)."""
    components = document.get("components", []) if isinstance(document, dict) else []
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict) or component.get("type") != "cryptographic-asset":
            continue
        props = {p.get("name"): p.get("value") for p in component.get("properties", []) if isinstance(p, dict)}
        strength = {
            str(k).removeprefix("aico:strength:"): int(str(v))
            for k, v in props.items()
            if str(k).startswith("aico:strength:")
        }
        evidence = component.get("evidence")
        occurrences = evidence.get("occurrences", []) if isinstance(evidence, dict) else []
        first = occurrences[0] if occurrences and isinstance(occurrences[0], dict) else {}
        yield {
            "name": component.get("name"),
            "location": first.get("location", ""),
            "line": first.get("line", 0),
            "algorithm": props.get("aico:algorithm", component.get("name")),
            "family": props.get("aico:family", ""),
            "strength": strength,
        }
