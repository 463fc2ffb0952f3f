"""Reports auditors read: one model (``model.ConformanceReport``), one module per output format."""
