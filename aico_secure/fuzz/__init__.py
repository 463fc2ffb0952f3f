"""Fuzzing: one harness per surface that reads untrusted bytes (``_harness/``), each stating its contract in
``interface.Harness``; ``registry`` finds them, ``entry`` runs one under libFuzzer (Atheris), ``replay`` feeds
stored inputs through one without libFuzzer (what CI does with every corpus and regression file)."""
