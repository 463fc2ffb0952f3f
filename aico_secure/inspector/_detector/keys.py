"""Key material (master key, data keys, derived keys) raw, as hex in both cases, as base64 in any alignment and
either alphabet (JWK's unpadded base64url included), or as Z85 (CurveZMQ key files): the forms keys take in
config files, logs and crash dumps. DER embeds keys raw; PEM bodies are decoded by the ``pem`` detector.

Findings name the key (``key:master``), never its bytes."""

from __future__ import annotations

from aico_secure.inspector.encodings import byte_forms
from aico_secure.inspector.interface import Detector
from aico_secure.inspector.needles import Needles, Pattern


class KeyDetector(Detector):
    name = "key"

    def prepare(self, needles: Needles) -> list[Pattern]:
        return [Pattern(f"key:{name}", encoding, needle, self.name)
                for name, secret in needles.keys for encoding, needle in byte_forms(secret.reveal(), z85_forms=True)]
