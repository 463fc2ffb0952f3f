"""Text files as the inspector reads them: sniffed as text or JSON (``textfile``), searched for every encoded
form of the canaries and keys (``canary``, ``key``), PEM bodies decoded (``pem``), base64 / hex runs that start
with a compressed stream's magic decoded (``wrapped``), and the window-scanning detectors (vectors, entropy).

Seeds are the text files the reference build writes next to its stores (RocksDB's LOG and OPTIONS files, the
binding's config), plus canary prose as an application or its logger would write it: UTF-8 and UTF-16 notes,
JSON, URL-encoded log lines, base64- and hex-wrapped compressed values, PEM blocks.
"""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse
import zlib
from collections.abc import Iterator

from aico_secure.fuzz._harness._inspect import CANARIES, KEY, InspectorHarness, canary_text, reference_store_files
from aico_secure.inspector._detector.pem import BEGIN

SEED_LIMIT = 32 << 10


class InspectTextHarness(InspectorHarness):
    name = "inspect_text"
    surface = "a text, log or JSON file in a scanned directory: text sniffing, encoded canaries, PEM and wrapped data"
    max_len = SEED_LIMIT
    dictionary = (
        BEGIN, b"-----END ", b"-----", b"PRIVATE KEY", b"ENCRYPTED", b"Proc-Type: 4,ENCRYPTED", b"CERTIFICATE",
        b"H4sI", b"eJ", b"eNo", b"KLUv/", b"BCJNG", b"UEsDB", b"QlpoO", b"/Td6WFo", b"1f8b08", b"789c", b"28b52ffd",
        b"504b0304", b"\\u00fc", b"%C3%BC", b"\\u2603", b"\xef\xbb\xbf", b"\xff\xfe", b'{"', b'": "', b"\r\n",
        CANARIES[0].encode(), KEY.hex().encode(),
    )

    def layout(self, data: bytes) -> dict[str, bytes]:
        return {"notes.json" if data.lstrip()[:1] in (b"{", b"[") else "notes.txt": data}

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        for path, content in reference_store_files("rocksdb").items():
            name = path.rsplit("/", 1)[-1]
            if name.startswith(("LOG", "OPTIONS", "rocksdict-config")):
                yield f"reference-{name}", content[:SEED_LIMIT]
        text = canary_text(8)
        yield "utf-8", text
        yield "utf-16", "\ufeff".encode("utf-16-le") + text.decode().encode("utf-16-le")
        yield "json", json.dumps({"note": CANARIES[1], "tags": [CANARIES[0]], "key": KEY.hex()}).encode()
        yield "json-ascii", json.dumps({"note": CANARIES[1]}, ensure_ascii=True).encode()
        yield "log-url", f"GET /search?q={urllib.parse.quote_plus(CANARIES[1])} 200\n".encode()
        yield "wrapped", (f"value={base64.b64encode(gzip.compress(text, mtime=0)).decode()}\n"
                          f"hex={zlib.compress(text).hex()}\n").encode()
        body = base64.encodebytes(b"\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20" + KEY).decode()
        yield "pem", f"-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n".encode()
        yield "pem-encrypted", (b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"
                                + base64.encodebytes(KEY) + b"-----END RSA PRIVATE KEY-----\n")


HARNESS = InspectTextHarness()
