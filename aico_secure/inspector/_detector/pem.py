"""PEM blocks (``-----BEGIN ...-----``): the base64 body is decoded and the DER inside scanned.

Key files (PKCS#8, SEC1, PKCS#1, OpenSSH, certificates) are base64 wrapped at 64 characters per line: the
base64 form of a key found by the literal pass is broken by the line breaks, so the body is decoded and the
DER scanned, where the raw key bytes (and any canary in a certificate) are found by the literal pass. The
block is read with bounded reads (at most ``MAX_BLOCK`` bytes); a block without its END line is decoded as far
as it goes and reported as not fully inspected.

Encrypted blocks (``ENCRYPTED PRIVATE KEY``, or legacy ``Proc-Type: 4,ENCRYPTED``) hold a key protected by a
passphrase, which is what "encrypted at rest" asks for: they are recorded as an observation, not decoded.
"""

from __future__ import annotations

import base64
import binascii
import re

from aico_secure.inspector.interface import Detector, Scope, Stream, Window
from aico_secure.inspector.needles import Needles, Pattern

BEGIN = b"-----BEGIN "
MAX_BLOCK = 1 << 20
_HEADER = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n")
_B64 = re.compile(rb"[^A-Za-z0-9+/=]")


class PemDetector(Detector):
    name = "pem"

    def prepare(self, needles: Needles) -> list[Pattern]:
        return [Pattern("magic:pem", "pem", BEGIN, self.name)]

    def matched(self, scope: Scope, stream: Stream, window: Window, pattern: Pattern, start: int, end: int) -> None:
        offset = window.start + start
        if stream.reader is not None:
            block = stream.reader(offset, MAX_BLOCK)
        else:
            block = bytes(window.data[start:start + MAX_BLOCK])
        header = _HEADER.match(block)
        if header is None:
            return
        label = header.group(1).decode("ascii")
        end_marker = b"-----END " + header.group(1) + b"-----"
        stop = block.find(end_marker, header.end())
        body = block[header.end():stop if stop >= 0 else len(block)]
        where = f"pem@{offset}:{label}" if stream.raw else f"{stream.container}>pem@{offset}:{label}"
        if "ENCRYPTED" in label or b"Proc-Type: 4,ENCRYPTED" in body[:256]:
            scope.observe(self.name, f"{where}: encrypted PEM block (passphrase-protected; not decoded)")
            return
        if stream.depth >= scope.limits.max_depth:
            scope.unreadable(where, f"PEM block nested more than {scope.limits.max_depth} levels deep: not decoded")
            return
        if b":" in body.split(b"\n\n", 1)[0][:256]:
            body = body.split(b"\n\n", 1)[-1]  # RFC 1421 headers before the base64
        try:
            der = base64.b64decode(_B64.sub(b"", body) + b"==")
        except (binascii.Error, ValueError):
            scope.unreadable(where, "PEM body is not valid base64: not inspected")
            return
        scope.scan_decoded([der], container=where, origin=offset if stream.raw else stream.origin or 0,
                           parent=stream)
        if stop < 0:
            scope.unreadable(where, f"PEM block without its END line within {MAX_BLOCK} bytes: decoded as far as "
                             "it goes")
