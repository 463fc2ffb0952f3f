"""One module per output format of ``aico-secure inspect``; the registry is ``aico_secure.inspector.formats``."""
