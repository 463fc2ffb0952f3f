"""Report format implementations; look them up with ``aico_secure.report.formats.get``."""
