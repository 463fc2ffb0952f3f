"""Negative controls: the reference build with one deliberate flaw each.

Every module here exposes ``BREAKS`` (the requirement IDs its flaw must fail) and ``build()`` (a target
factory). ``aico-secure conform --controls`` runs the suite against each and reports the suite's power: the
share of controls caught on all the IDs they break. A control the suite passes is a hole in the suite.
"""
