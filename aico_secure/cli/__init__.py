"""The ``aico-secure`` command line: thin argument parsing over the toolkit's modules."""
