"""``aico-secure scan``: judge an AICO source tree as it is, without an adapter.

One package per axis of variation, as in pip-audit: ``_scanner/`` (one module per scanner behind
``_scanner/interface.py``: static rules through bandit and this package's bandit plugins, configuration files,
dependencies through pip-audit, the cryptographic inventory), ``_format/`` (one module per output format behind
``_format/interface.py``), ``model.py`` (findings and what each scanner covered) and ``orchestrator.py`` (runs
the scanners and decides the exit code). Findings carry the catalog requirement they threaten, so a requirement
can fail from ``scan`` as from ``conform``.

Exit codes: 0 nothing found, 1 findings, 2 could not scan (bad input, nothing scanned, vulnerability data
unavailable, a dependency that could not be audited).
"""
