"""Data in transit: the CurveZMQ message bus (``bus``), TLS 1.3 device links with pinning (``tls``) and a
minimal federated device sync over those links (``sync``)."""
