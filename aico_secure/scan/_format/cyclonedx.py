"""CycloneDX for SBOM and CBOM tools: the documents the dependency and crypto-inventory scanners built.

Each scanner that has one puts a CycloneDX JSON document into ``ScanReport.extra`` ("sbom", "cbom"); this
format writes them as one BOM (components, dependencies and vulnerabilities of both). A scan that produced
neither writes nothing useful, so that is an error, not an empty BOM.
"""

from __future__ import annotations

import json
from typing import Any

from aico_secure.scan._format.interface import ScanFormat
from aico_secure.scan.errors import ScanError
from aico_secure.scan.model import ScanReport

KINDS = ("sbom", "cbom")


def _loaded(document: object) -> dict[str, Any]:
    loaded = json.loads(document) if isinstance(document, str) else document
    if not isinstance(loaded, dict):
        raise ScanError("a scanner's CycloneDX document is not a JSON object")
    return loaded


class CycloneDxFormat(ScanFormat):
    name = "cyclonedx"
    suffix = ".cdx.json"

    def render(self, report: ScanReport) -> str:
        documents = [_loaded(report.extra[kind]) for kind in KINDS if kind in report.extra]
        if not documents:
            raise ScanError("no SBOM or CBOM was produced (the dependency and crypto scanners found nothing to "
                            "describe): nothing to write as CycloneDX")
        merged = dict(documents[0])
        for extra in documents[1:]:
            for key in ("components", "dependencies", "vulnerabilities"):
                if extra.get(key):
                    merged[key] = [*merged.get(key, []), *extra[key]]
        return json.dumps(merged, indent=2) + "\n"
