"""Text canaries in every encoding a build might apply before writing: UTF-8, UTF-16LE/BE, JSON-escaped,
URL-encoded, hex (both cases), base64 (three alignments, standard and URL-safe).

All forms are literals in the shared Aho-Corasick pass, so adding an encoding costs no extra pass."""

from __future__ import annotations

from aico_secure.inspector.encodings import text_forms
from aico_secure.inspector.interface import Detector
from aico_secure.inspector.needles import Needles, Pattern


class CanaryDetector(Detector):
    name = "canary"

    def prepare(self, needles: Needles) -> list[Pattern]:
        return [Pattern(f"canary:{canary}", encoding, needle, self.name)
                for canary in needles.canaries for encoding, needle in text_forms(canary)]
