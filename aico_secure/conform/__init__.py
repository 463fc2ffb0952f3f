"""The conformance runner: catalog, pytest plugin, per-requirement outcomes and the orchestration of runs."""
