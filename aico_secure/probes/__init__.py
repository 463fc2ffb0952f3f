"""Probes: the conformance suite's own clients and observers, usable against any build through the contract.

They open real sockets on 127.0.0.1 with their own keys and certificates, never the build's code, so a build
cannot pass by agreeing with itself.
"""
