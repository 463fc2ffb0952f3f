"""Mutation testing of the reference build through the conformance suite.

Why this exists: a suite that catches every negative control it was written against can still miss defects
nobody wrote a control for. Mutating the security-relevant modules of the reference build (one small defect
at a time) and running the conformance areas that exercise each module measures the suite against defects
of shapes it never saw. ``bench/mutation.py`` runs it; ``verification/test_mutation_gate.py`` runs a fixed
sample in CI. See ``docs/mutation.md``.
"""
