"""TLS 1.3 only, on the device's server and in its client (TLS-001)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Devices

from aico_secure.probes.tls import ProbeTlsServer, offered_versions
from aico_secure.target import RejectedCredentials

TLS13_SUITES = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_AES_128_CCM_SHA256"}
