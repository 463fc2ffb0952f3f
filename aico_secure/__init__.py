"""aico-secure: reference implementation and verification toolkit for AICO's data-security architecture.

The package has two halves that share one vocabulary (requirement IDs):

* the reference build (``aico_secure.keys``, ``aico_secure.stores``, ``aico_secure.transport``, ...), and
* the toolkit that judges any build (``aico_secure.target`` contract, ``aico_secure.conform`` runner,
  ``aico_secure.report`` formats, the ``aico-secure`` CLI).
"""

__version__ = "0.1.0"
