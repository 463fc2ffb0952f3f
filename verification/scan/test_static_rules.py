"""Each AICO bandit rule on code as it is really written: every positive snippet fires, every safe look-alike
(the secure way of doing the same thing, or a name that only resembles the pattern) stays silent.

Rules run through bandit itself (its manager, with only the rule under test enabled), the way the scanner and
``bandit -r`` run them, so registration and node dispatch are tested too.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import zmq
from bandit.core import config as b_config
from bandit.core import manager as b_manager

from aico_secure.scan.rules import RULES


def _z85_key() -> str:
    """A fresh CurveZMQ secret key without braces, so it can sit inside an f-string unescaped."""
    while True:
        _, secret = zmq.curve_keypair()
        text = secret.decode()
        if "{" not in text and "}" not in text:
            return text


Z = _z85_key()
Z2 = _z85_key()
HEX = os.urandom(32).hex()
RAW = "".join(f"\\x{b:02x}" for b in os.urandom(32))


def fired(tmp_path: Path, rule_id: str, source: str) -> list[int]:
    """Lines where the rule fired on ``source``; a file bandit skipped fails the test (it judged nothing)."""
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(source))
    manager = b_manager.BanditManager(
        b_config.BanditConfig(), "file", quiet=True, profile={"include": [rule_id], "exclude": []}
    )
    manager.discover_files([str(path)])
    manager.run_tests()
    assert not manager.skipped, manager.skipped
    assert manager.files_list, "bandit parsed nothing"
    return [i.lineno for i in manager.results if i.test_id == rule_id]


POSITIVE: list[tuple[str, str]] = [
    # AICO-S101: hard-coded secret key
    ("AICO-S101", f'SERVER_SECRET = b"{Z}"'),
    ("AICO-S101", f'sock.curve_secretkey = "{Z}".encode()'),
    ("AICO-S101", f'sock.setsockopt(zmq.CURVE_SECRETKEY, b"{Z}")'),
    ("AICO-S101", f'public = zmq.curve_public(b"{Z}")'),
    ("AICO-S101", f'def connect(ctx, secret_key: bytes = b"{Z}"):\n    return ctx'),
    ("AICO-S101", f'def connect(ctx, *, server_secret=b"{Z}"):\n    return ctx'),
    ("AICO-S101", f'CONFIG = {{"curve_secretkey": "{Z}", "port": 5555}}'),
    ("AICO-S101", f'server_public, server_secret = (b"{Z2}", b"{Z}")'),
    ("AICO-S101", f'private_key = bytes.fromhex("{HEX}")'),
    ("AICO-S101", f'secret_key = b"{RAW}"'),
    ("AICO-S101", f'secret = f"{Z}"'),
    ("AICO-S101", f'ENDPOINT = f"tcp://127.0.0.1:{{port}}?curve_secretkey={Z}"'),
    ("AICO-S101", f'make_socket(ctx, secret_key="{Z}")'),
    ("AICO-S101", f'self.secret_key = z85.decode(b"{Z}")'),
    ("AICO-S101", f'SECRET: bytes = b"{Z[:20]}" + b"{Z[20:]}"'),
    # AICO-S102: CURVE_ALLOW_ANY
    ("AICO-S102", 'import zmq.auth\nauth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)'),
    ("AICO-S102", 'from zmq.auth import CURVE_ALLOW_ANY as ANY\nauth.configure_curve(domain="*", location=ANY)'),
    ("AICO-S102", 'auth.configure_curve("*", "*")'),
    ("AICO-S102", 'from zmq.auth import CURVE_ALLOW_ANY\nloc = CURVE_ALLOW_ANY\nauth.configure_curve(location=loc)'),
    # AICO-S103: bound to every interface
    ("AICO-S103", 'sock.bind("tcp://*:5555")'),
    ("AICO-S103", 'sock.bind("tcp://0.0.0.0:5555")'),
    ("AICO-S103", 'sock.bind(f"tcp://*:{port}")'),
    ("AICO-S103", 'sock.bind("tcp://[::]:5555")'),
    ("AICO-S103", 'server.bind(("0.0.0.0", 8443))'),
    ("AICO-S103", 'server.bind(("", 8443))'),
    ("AICO-S103", 'server.bind(("::", 8443))'),
    ("AICO-S103", 'ADDR = "tcp://*:5556"\n\ndef serve(sock):\n    sock.bind(ADDR)'),
    ("AICO-S103", 'port = sock.bind_to_random_port("tcp://*")'),
    # AICO-S104: JWT checks off
    ("AICO-S104", 'import jwt\njwt.decode(t, k, algorithms=["HS256"], options={"verify_aud": False})'),
    ("AICO-S104", 'import jwt\njwt.decode(t, options={"verify_signature": False})'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k, algorithms=["none"])'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k)'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k, verify=False)'),
    ("AICO-S104", 'from jwt import decode as d\nd(t, k, algorithms=["HS256"], options={"verify_exp": False})'),
    ("AICO-S104", 'import jwt\nOPTS = {"verify_signature": False}\n'
                  'jwt.decode(t, k, algorithms=["HS256"], options=OPTS)'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k, algorithms=["HS256"], options=dict(verify_exp=False))'),
    ("AICO-S104", 'from jose import jwt\njwt.decode(t, k, algorithms=["HS256"], options={"verify_aud": False})'),
    # AICO-S105: block mode without integrity
    ("AICO-S105", "def enc(key, iv, data):\n    c = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()\n"
                  "    return c.update(data) + c.finalize()"),
    ("AICO-S105", "def enc(key, iv, data):\n    return AES.new(key, AES.MODE_CBC, iv).encrypt(data)"),
    ("AICO-S105", "def enc(key, data):\n    return AES.new(key, AES.MODE_ECB).encrypt(data)"),
    ("AICO-S105", "def enc(key, mac_key, data):\n    c = Cipher(algorithms.AES(key), modes.ECB()).encryptor()\n"
                  "    ct = c.update(data)\n    return ct + hmac.new(mac_key, ct, 'sha256').digest()"),
    ("AICO-S105", "from cryptography.hazmat.primitives.ciphers.modes import CBC\n\n"
                  "def enc(key, iv):\n    return Cipher(algorithms.AES(key), CBC(iv))"),
    ("AICO-S105", "def enc(key, nonce):\n    return Cipher(algorithms.AES(key), modes.CTR(nonce))"),
    # AICO-S106: weak PBKDF2, salt lost
    ("AICO-S106", 'import hashlib\nk = hashlib.pbkdf2_hmac("sha256", pw, salt, 100_000)'),
    ("AICO-S106", "kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=10000)"),
    ("AICO-S106", 'import hashlib\nITER = 1000\nk = hashlib.pbkdf2_hmac("sha256", pw, salt, ITER)'),
    ("AICO-S106", 'import hashlib\nimport os\nk = hashlib.pbkdf2_hmac("sha256", pw, os.urandom(16), 600_000)'),
    ("AICO-S106", "kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=secrets.token_bytes(16),"
                  " iterations=1_200_000)"),
    ("AICO-S106", "from argon2.low_level import hash_secret_raw\n"
                  "k = hash_secret_raw(pw, os.urandom(16), time_cost=3, memory_cost=65536, parallelism=4,"
                  " hash_len=32, type=Type.ID)"),
    ("AICO-S106", "from Crypto.Protocol.KDF import PBKDF2\nk = PBKDF2(password, salt)"),
    # AICO-S107: key material written as text
    ("AICO-S107", "def save(f, master_key):\n    f.write(master_key.hex())"),
    ("AICO-S107", "import json\n\ndef save(fh, kek):\n    json.dump({'kek': kek.hex()}, fh)"),
    ("AICO-S107", "import base64\n\ndef save(p, dek):\n    p.write_text(base64.b64encode(dek).decode())"),
    ("AICO-S107", "import base64\n\nclass K:\n    def save(self, p):\n"
                  "        blob = base64.b64encode(self.master_key).decode()\n"
                  "        with open(p, 'w') as f:\n            f.write(blob)"),
    ("AICO-S107", "import binascii, json\n\ndef save(f, data_key):\n"
                  "    record = {'data_key': binascii.hexlify(data_key).decode()}\n    json.dump(record, f)"),
    ("AICO-S107", "def save(f, secret):\n    print(secret.hex(), file=f)"),
    # AICO-S108: secrets logged
    ("AICO-S108", 'logger.info("token %s", token)'),
    ("AICO-S108", 'log.debug(f"login with {password}")'),
    ("AICO-S108", 'import logging\nlogging.warning("key=%s", master_key.hex())'),
    ("AICO-S108", 'self.logger.error("bad token: " + access_token)'),
    ("AICO-S108", 'logger.info("auth", extra={"token": token})'),
    ("AICO-S108", 'LOG.info("form %s", form["password"])'),
    ("AICO-S108", 'logger.info("creds {}".format(api_key))'),
    ("AICO-S108", 'logger.warning("admin login %s", admin_password)'),
    ("AICO-S108", 'logger.warning("rejected %s", invalid_token)'),
    ("AICO-S108", 'logger.debug("request %s", request.headers["authorization"])'),
    ("AICO-S108", 'logging.getLogger(__name__).info("refresh %s", self.refresh_token)'),
    # AICO-S109: CORS wildcard with credentials
    ("AICO-S109", 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)'),
    ("AICO-S109", 'm = Middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True)'),
    ("AICO-S109", 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https?://.*", allow_credentials=True)'),
    ("AICO-S109", 'ORIGINS = ["*"]\napp.add_middleware(CORSMiddleware, allow_origins=ORIGINS, allow_credentials=True)'),
    ("AICO-S109", "from flask_cors import CORS\nCORS(app, supports_credentials=True)"),
]

NEGATIVE: list[tuple[str, str]] = [
    ("AICO-S101", "server_public, server_secret = zmq.curve_keypair()"),
    ("AICO-S101", "public, secret = zmq.auth.load_certificate(secret_file)"),
    ("AICO-S101", f'SERVER_PUBLIC = b"{Z}"'),
    ("AICO-S101", f'sock.curve_serverkey = b"{Z}"'),
    ("AICO-S101", 'secret_key_path = "/etc/aico/keys/bus/server.key_secret"'),
    ("AICO-S101", 'COMMIT = "da39a3ee5e6b4b0d3255bfef95601890afd80709"'),
    ("AICO-S101", 'secret = os.environ["AICO_BUS_SECRET"]'),
    ("AICO-S101", 'secret_placeholder = "0000000000000000000000000000000000000000"'),
    ("AICO-S101", 'secret_key = "change-me"'),
    ("AICO-S101", f'ENDPOINT = f"tcp://127.0.0.1:{{port}}?server_public={Z}"'),
    ("AICO-S102", 'auth.configure_curve(domain="*", location=str(public_keys_dir))'),
    ("AICO-S102", 'auth.configure_curve(domain="*", location=PUBLIC_KEYS_DIR)'),
    ("AICO-S102", 'auth.configure_curve_callback(domain="*", credentials_provider=provider)'),
    ("AICO-S102", 'auth.allow("127.0.0.1")'),
    ("AICO-S103", 'sock.bind("tcp://127.0.0.1:5555")'),
    ("AICO-S103", 'sock.bind("tcp://[::1]:5555")'),
    ("AICO-S103", 'sock.bind("ipc:///run/aico/bus.sock")'),
    ("AICO-S103", 'sock.bind("inproc://bus")'),
    ("AICO-S103", 'sock.connect("tcp://127.0.0.1:5555")'),
    ("AICO-S103", 'server.bind(("127.0.0.1", 0))'),
    ("AICO-S103", 'query.bind("*")'),
    ("AICO-S103", 'sock.bind(f"tcp://127.0.0.1:{port}")'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k, algorithms=["HS256"], audience="aico")'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k, algorithms=["EdDSA"], options={"require": ["exp", "aud"]})'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k, algorithms=["HS256"], options={"verify_signature": True})'),
    ("AICO-S104", 'import jwt\njwt.decode(t, k, ["HS256"], audience="aico")'),
    ("AICO-S104", 'jwt = response.content\ntext = jwt.decode("utf-8")'),
    ("AICO-S104", 'import jwt\nheader = jwt.get_unverified_header(t)'),
    ("AICO-S104", 'import base64\nb = base64.urlsafe_b64decode(part)'),
    ("AICO-S105", "def enc(key, nonce, data, aad):\n    return AESGCM(key).encrypt(nonce, data, aad)"),
    ("AICO-S105", "def enc(key, nonce, data, aad):\n    return ChaCha20Poly1305(key).encrypt(nonce, data, aad)"),
    ("AICO-S105", "def enc(key, mac_key, iv, data):\n    c = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()\n"
                  "    ct = c.update(data) + c.finalize()\n    h = HMAC(mac_key, hashes.SHA256())\n"
                  "    h.update(iv + ct)\n    return ct + h.finalize()"),
    ("AICO-S105", "import hmac\n\ndef enc(key, mac_key, iv, data):\n"
                  "    ct = AES.new(key, AES.MODE_CBC, iv).encrypt(data)\n"
                  "    return ct + hmac.new(mac_key, ct, 'sha256').digest()"),
    ("AICO-S105", "def enc(key, nonce):\n    return Cipher(algorithms.AES(key), modes.GCM(nonce))"),
    ("AICO-S105", "def dec(self, data):\n    self._verify_signature(data)\n"
                  "    return Cipher(self._aes, modes.CBC(data[9:25])).decryptor().update(data[25:-32])"),
    ("AICO-S105", "def enc(key, nonce):\n    return AES.new(key, AES.MODE_GCM, nonce=nonce)"),
    ("AICO-S106", 'import hashlib\nk = hashlib.pbkdf2_hmac("sha256", pw, salt, 600_000)'),
    ("AICO-S106", "kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=1_200_000)"),
    ("AICO-S106", 'import hashlib, os\nsalt = os.urandom(16)\nk = hashlib.pbkdf2_hmac("sha256", pw, salt, 600_000)'),
    ("AICO-S106", 'import hashlib\nk = hashlib.pbkdf2_hmac("sha256", pw, salt, iterations)'),
    ("AICO-S106", "import hashlib, os\nd = hashlib.sha256(os.urandom(16)).digest()"),
    ("AICO-S106", "from Crypto.Protocol.KDF import PBKDF2\nk = PBKDF2(password, salt, 32, count=1_000_000)"),
    ("AICO-S107", "def save(f, public_key):\n    f.write(public_key.hex())"),
    ("AICO-S107", "import json\n\ndef save(f, wrapped_dek):\n    json.dump({'wrapped_dek': wrapped_dek.hex()}, f)"),
    ("AICO-S107", "import hashlib\n\ndef save(f, master_key):\n    f.write(hashlib.sha256(master_key).hexdigest())"),
    ("AICO-S107", "def save(f, key_id):\n    f.write(key_id.hex())"),
    ("AICO-S107", "def show(master_key):\n    fingerprint = master_key.hex()[:8]\n    return fingerprint"),
    ("AICO-S107", "def save(f, cache_key):\n    f.write(cache_key.hex())"),
    ("AICO-S108", 'logger.info("token issued for %s", user_id)'),
    ("AICO-S108", 'logger.info("token length %d", len(token))'),
    ("AICO-S108", 'logger.info("password changed for %s", username)'),
    ("AICO-S108", 'logger.info("token type %s", token_type)'),
    ("AICO-S108", 'logger.info("key id %s", key_id)'),
    ("AICO-S108", 'logger.info("masked %s", mask(token))'),
    ("AICO-S108", 'catalog.info("token %s", token)'),
    ("AICO-S108", 'logger.info("token expires at %s", token_expires_at)'),
    ("AICO-S108", 'for key, value in items:\n    logger.debug("%s=%s", key, value)'),
    ("AICO-S108", 'logger.debug("loaded %s with %d tokens", tokenizer, max_tokens)'),
    ("AICO-S109", 'app.add_middleware(CORSMiddleware, allow_origins=["https://app.aico.local"],'
                  " allow_credentials=True)"),
    ("AICO-S109", 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False)'),
    ("AICO-S109", 'app.add_middleware(CORSMiddleware, allow_origins=["*"])'),
    ("AICO-S109", 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://[a-z]+\\.aico\\.local",'
                  " allow_credentials=True)"),
    ("AICO-S109", 'from flask_cors import CORS\n'
                  'CORS(app, origins=["https://app.aico.local"], supports_credentials=True)'),
]


def _id(case: tuple[str, str]) -> str:
    return f"{case[0]}:{case[1].splitlines()[-1][:50]}"


@pytest.mark.parametrize("case", POSITIVE, ids=_id)
def test_rule_fires(tmp_path: Path, case: tuple[str, str]) -> None:
    rule_id, source = case
    assert fired(tmp_path, rule_id, source), f"{rule_id} did not fire on:\n{source}"


@pytest.mark.parametrize("case", NEGATIVE, ids=_id)
def test_rule_stays_silent(tmp_path: Path, case: tuple[str, str]) -> None:
    rule_id, source = case
    assert fired(tmp_path, rule_id, source) == [], f"{rule_id} fired on a safe look-alike:\n{source}"


def test_every_rule_has_positive_and_negative_cases() -> None:
    ids = {r.id for r in RULES}
    assert ids == {c[0] for c in POSITIVE} == {c[0] for c in NEGATIVE}


def test_rule_metadata_is_complete() -> None:
    import re

    requirements = set(re.findall(r"id: (AICO-[A-Z]+-\d+)", Path("conformance/requirements.yaml").read_text()))
    for rule in RULES:
        assert rule.requirement in requirements, rule
        assert rule.cwe > 0 and rule.name.startswith("aico_") and rule.summary


def test_entry_points_register_every_rule_under_its_name() -> None:
    """pyproject's ``bandit.plugins`` section and the rule table must agree, or ``bandit -r`` misses a rule."""
    from importlib.metadata import entry_points

    ours = {ep.name: ep for ep in entry_points(group="bandit.plugins") if ep.value.startswith("aico_secure.")}
    assert set(ours) == {r.name for r in RULES}
    for rule in RULES:
        assert ours[rule.name].load()._test_id == rule.id
