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
    "STORE_NAMES", "Target", "AccessDenied", "CapabilityMissing", "ContractError", "IntegrityViolation",
    "RejectedCredentials", "KdfReport", "KeysCapability", "KeySession", "TargetLoadError", "load_target",
    "RecordStore", "StoreCapability", "VectorStore",
]
