"""One module per fuzzed surface, each defining ``HARNESS``; the module name is the harness name."""
