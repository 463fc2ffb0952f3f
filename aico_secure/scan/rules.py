"""The static scanner's own rules: one source of truth for the bandit plugins, the SARIF writer and the docs.

Each rule names the catalog requirement its pattern threatens, so a finding fails a requirement from ``scan``
as a test fails it from ``conform``. Bandit's own tests keep bandit's metadata; the few that threaten a catalog
requirement directly are mapped in ``BANDIT_REQUIREMENTS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aico_secure.scan.model import Confidence, Severity


@dataclass(frozen=True)
class Rule:
    id: str
    name: str  # bandit's test name too, and the entry-point name
    requirement: str
    cwe: int
    severity: Severity
    confidence: Confidence
    summary: str  # one line: what the rule matches


RULES: tuple[Rule, ...] = (
    Rule("AICO-S101", "aico_hardcoded_secret_key", "AICO-BUS-002", 321, Severity.CRITICAL, Confidence.HIGH,
         "A CurveZMQ or other 32-byte secret key written into the source (Z85, hex, base64 or raw bytes)."),
    Rule("AICO-S102", "aico_curve_allow_any", "AICO-BUS-002", 287, Severity.CRITICAL, Confidence.HIGH,
         "configure_curve() told to accept any client key (CURVE_ALLOW_ANY, under any name, or '*')."),
    Rule("AICO-S103", "aico_bind_all_interfaces", "AICO-BUS-005", 1327, Severity.HIGH, Confidence.HIGH,
         "A socket bound to every interface (tcp://*, 0.0.0.0, ::, or an empty host)."),
    Rule("AICO-S104", "aico_jwt_unverified", "AICO-GW-002", 347, Severity.HIGH, Confidence.HIGH,
         "A JWT decoded with a check switched off, the 'none' algorithm, or no algorithm list."),
    Rule("AICO-S105", "aico_unauthenticated_block_mode", "AICO-KM-011", 353, Severity.HIGH, Confidence.MEDIUM,
         "AES-ECB, or AES-CBC/CTR/CFB/OFB in a function that computes no MAC (heuristic)."),
    Rule("AICO-S106", "aico_weak_pbkdf2", "AICO-KM-001", 916, Severity.HIGH, Confidence.HIGH,
         "PBKDF2 under 600,000 iterations, or a KDF whose random salt is generated inside the call."),
    Rule("AICO-S107", "aico_key_written_as_text", "AICO-KM-003", 312, Severity.HIGH, Confidence.MEDIUM,
         "A key-named value hex- or base64-encoded and written to a file or serialised with json/yaml."),
    Rule("AICO-S108", "aico_secret_logged", "AICO-AUD-002", 532, Severity.HIGH, Confidence.MEDIUM,
         "A token, password or key handed to a logger (argument, f-string, %-format or extra)."),
    Rule("AICO-S109", "aico_cors_wildcard_credentials", "AICO-GW-005", 942, Severity.HIGH, Confidence.HIGH,
         "CORS allowing any origin ('*' or a regex matching any origin) together with credentials."),
)

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

# Bandit's own tests that threaten a catalog requirement as they stand: certificate checks off (B501, B323) and
# protocol versions below TLS 1.3 (B502-B504) break the TLS requirements.
BANDIT_REQUIREMENTS: dict[str, str] = {
    "B323": "AICO-TLS-003",
    "B501": "AICO-TLS-003",
    "B502": "AICO-TLS-001",
    "B503": "AICO-TLS-001",
    "B504": "AICO-TLS-001",
}


def requirement_for(rule_id: str) -> str | None:
    """The catalog requirement a rule (ours or bandit's) threatens, None when no requirement applies."""
    if rule_id in BY_ID:
        return BY_ID[rule_id].requirement
    return BANDIT_REQUIREMENTS.get(rule_id)
