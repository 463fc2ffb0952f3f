"""The target contract: the only thing a build must implement to be judged by the conformance suite."""

from aico_secure.target.contract import STORE_NAMES, Target
from aico_secure.target.errors import (
    AccessDenied,
    CapabilityMissing,
    ContractError,
    IntegrityViolation,
    RejectedCredentials,
)
from aico_secure.target.keys import KdfReport, KeysCapability, KeySession
from aico_secure.target.loader import TargetLoadError, load_target
from aico_secure.target.stores import RecordStore, StoreCapability, VectorStore

__all__ = [
    "STORE_NAMES",
    "AccessDenied",
    "CapabilityMissing",
    "ContractError",
    "IntegrityViolation",
    "KdfReport",
    "KeySession",
    "KeysCapability",
    "RecordStore",
    "RejectedCredentials",
    "StoreCapability",
    "Target",
    "TargetLoadError",
    "VectorStore",
    "load_target",
]
