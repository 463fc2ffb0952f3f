"""Rule metadata for the configuration scanner (AICO-C2xx) and the cryptographic inventory (AICO-C3xx).

Kept apart from the static rules so each scanner's catalog can change without touching the others; every rule
names the catalog requirement it threatens, so a finding can fail a requirement the way a conformance test does.
Where no requirement states the property, the nearest one is named and the choice is written next to the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from aico_secure.scan.model import Confidence, Finding, Severity


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str
    requirement: str | None
    cwe: int
    severity: Severity
    confidence: Confidence

    def finding(self, scanner: str, path: str, line: int, message: str, snippet: str = "") -> Finding:
        return Finding(
            rule_id=self.rule_id,
            scanner=scanner,
            requirement=self.requirement,
            severity=self.severity,
            confidence=self.confidence,
            path=path,
            line=line,
            message=message,
            cwe=self.cwe,
            snippet=snippet,
        )


_H, _M = Confidence.HIGH, Confidence.MEDIUM

CURVE_ALLOW_ANY = Rule(
    "AICO-C201", "CURVE authentication accepts any client key", "AICO-BUS-002", 287, Severity.CRITICAL, _H
)
WILDCARD_BIND = Rule("AICO-C202", "socket bound to every interface", "AICO-BUS-005", 1327, Severity.HIGH, _M)
# No requirement is about debug mode itself; debug mode's verbose logs and tracebacks are how key material and
# passwords reach log lines and error messages, which AICO-KM-003 forbids, so it is the nearest.
DEBUG_ON = Rule("AICO-C203", "debug mode enabled", "AICO-KM-003", 489, Severity.MEDIUM, _M)
CORS_WILDCARD_CREDENTIALS = Rule(
    "AICO-C204", "CORS allows any origin together with credentials", "AICO-GW-005", 942, Severity.HIGH, _H
)
TLS_BELOW_1_3 = Rule("AICO-C205", "TLS version below 1.3 allowed", "AICO-TLS-001", 757, Severity.HIGH, _H)
WEAK_KDF_CONFIG = Rule(
    "AICO-C206", "password KDF parameters below the required minimum", "AICO-KM-001", 916, Severity.HIGH, _H
)
# The catalog's storage rule (AICO-KM-003: no key or password in any file) is the nearest for every kind of
# credential, tokens and API keys included.
SECRET_IN_CONFIG = Rule("AICO-C207", "literal secret in a configuration file", "AICO-KM-003", 798, Severity.HIGH, _M)

# A digest's purpose is not visible in code, so weak hashes name no requirement and carry medium confidence.
WEAK_HASH = Rule("AICO-C301", "MD5 or SHA-1 used for security", None, 328, Severity.MEDIUM, _M)
WEAK_CIPHER = Rule(
    "AICO-C302", "broken cipher (DES, 3DES, RC4, Blowfish, ...)", "AICO-KM-011", 327, Severity.HIGH, _H
)
ECB_MODE = Rule("AICO-C303", "ECB mode", "AICO-KM-011", 327, Severity.HIGH, _H)
# RSA keys protect sync and gateway identities; the pinning requirement is the nearest one about them.
WEAK_RSA = Rule("AICO-C304", "RSA or DSA key shorter than 2048 bits", "AICO-TLS-002", 326, Severity.HIGH, _H)
DEPRECATED_TLS = Rule(
    "AICO-C305", "SSL or TLS 1.0/1.1 named in code (RFC 8996)", "AICO-TLS-001", 757, Severity.HIGH, _H
)
WEAK_KDF_CODE = Rule(
    "AICO-C306", "password KDF called with parameters below the minimum", "AICO-KM-001", 916, Severity.HIGH, _M
)

# A baseline comparison's own findings: the inventory changed since the accepted one.
NEW_ALGORITHM = Rule(
    "AICO-C391", "cryptographic algorithm not in the baseline inventory", None, 327, Severity.MEDIUM, _H
)
WEAKER_ALGORITHM = Rule(
    "AICO-C392", "cryptographic asset weaker than the baseline inventory", None, 327, Severity.HIGH, _H
)

CONFIG_RULES: tuple[Rule, ...] = (
    CURVE_ALLOW_ANY,
    WILDCARD_BIND,
    DEBUG_ON,
    CORS_WILDCARD_CREDENTIALS,
    TLS_BELOW_1_3,
    WEAK_KDF_CONFIG,
    SECRET_IN_CONFIG,
)
CRYPTO_RULES: tuple[Rule, ...] = (WEAK_HASH, WEAK_CIPHER, ECB_MODE, WEAK_RSA, DEPRECATED_TLS, WEAK_KDF_CODE)
BASELINE_RULES: tuple[Rule, ...] = (NEW_ALGORITHM, WEAKER_ALGORITHM)
RULES: dict[str, Rule] = {r.rule_id: r for r in CONFIG_RULES + CRYPTO_RULES + BASELINE_RULES}

# Minimums shared by the configuration rules and the inventory (AICO-KM-001 / RFC 9106's second recommended
# option; OWASP's password storage figures for PBKDF2 and scrypt). Argon2's parallelism has no minimum: fewer
# lanes do not make a guess cheaper for an attacker (memory and passes set that), and RFC 9106 picks p=4 for the
# defender's latency. A time cost below 3 is accepted with 2 GiB of memory (RFC 9106's first recommendation).
ARGON2_MIN_MEMORY_KIB = 64 * 1024
ARGON2_MIN_TIME = 3
PBKDF2_MIN_ITERATIONS = {"sha1": 1_300_000, "sha256": 600_000, "sha512": 210_000}
PBKDF2_DEFAULT_MIN = 600_000
SCRYPT_MIN_N = 2**17
