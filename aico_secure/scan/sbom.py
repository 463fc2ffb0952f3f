"""The CycloneDX SBOM of an audited dependency set: what was audited, and what was found in it.

Only dependencies that were actually audited are components: an SBOM that listed a dependency nobody could check
would read, to an SBOM consumer, as "checked, nothing found". Vulnerabilities reference their component by its
purl, so a consumer can join the two without knowing this tool.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from aico_secure.scan.model import Severity

_OSV = VulnerabilitySource(name="OSV")
_SEVERITY = {
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
}


@dataclass(frozen=True)
class SbomVulnerability:
    advisory: str
    aliases: tuple[str, ...]
    package: str
    version: str
    description: str
    severity: Severity | None  # None when the record carries none: the SBOM then states no rating
    fixed_in: tuple[str, ...]


def purl(name: str, version: str) -> str:
    return PackageURL(type="pypi", name=canonicalize_name(name), version=version).to_string()


def build_sbom(
    dependencies: Iterable[tuple[str, str]], vulnerabilities: Iterable[SbomVulnerability]
) -> dict[str, object]:
    """A CycloneDX 1.6 JSON document (as a dict) for ``dependencies`` given as (name, version) pairs."""
    bom = Bom()
    for name, version in sorted({(canonicalize_name(n), v) for n, v in dependencies}):
        ref = purl(name, version)
        bom.components.add(
            Component(
                name=name,
                version=version,
                type=ComponentType.LIBRARY,
                purl=PackageURL.from_string(ref),
                bom_ref=ref,
            )
        )
    for vuln in vulnerabilities:
        ref = purl(vuln.package, vuln.version)
        bom.vulnerabilities.add(
            Vulnerability(
                bom_ref=f"{vuln.advisory}/{ref}",
                id=vuln.advisory,
                source=_OSV,
                references=[VulnerabilityReference(id=alias, source=_OSV) for alias in vuln.aliases],
                ratings=[VulnerabilityRating(source=_OSV, severity=_SEVERITY[vuln.severity])] if vuln.severity else [],
                description=vuln.description,
                recommendation=f"upgrade to {' or '.join(vuln.fixed_in)}" if vuln.fixed_in else None,
                affects=[BomTarget(ref=ref, versions=[BomTargetVersionRange(version=vuln.version)])],
            )
        )
    document: dict[str, object] = json.loads(JsonV1Dot6(bom).output_as_string(indent=None))
    return document
