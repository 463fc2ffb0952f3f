"""The local message bus: a CurveZMQ XSUB/XPUB broker with a ZAP allowlist, topic grants and key rotation."""

from aico_secure.transport.bus.allowlist import Allowlist, Enrollment
from aico_secure.transport.bus.broker import Broker, BrokerConfig, BrokerStats
from aico_secure.transport.bus.client import curve_socket
from aico_secure.transport.bus.keys import CurveKeyPair

__all__ = ["Allowlist", "Broker", "BrokerConfig", "BrokerStats", "CurveKeyPair", "Enrollment", "curve_socket"]
