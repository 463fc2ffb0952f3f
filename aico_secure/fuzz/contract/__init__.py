"""Contract-level fuzzing: any build, driven through its Target contract (stored bytes, bus frames, gateway
bodies), for a time budget. ``aico_secure.fuzz.contract.runner.run`` is the entry point."""
