"""AICO-specific bandit plugins: one module per family, registered under bandit's ``bandit.plugins`` entry point.

Because they are ordinary bandit plugins, ``bandit -r SRC`` finds the same problems as ``aico-secure scan`` once
this package is installed. Rule metadata (requirement, CWE, severity) lives in ``aico_secure.scan.rules``.
"""
