"""The safe key API: create, unlock, rotate. Everything that needs a key gets it from an ``UnlockedKeyring``."""

from aico_secure.keys.keyring import KdfDescription, Keyring, UnlockedKeyring
from aico_secure.keys.profiles import TEST_PARAMETERS, KdfParameters

__all__ = ["TEST_PARAMETERS", "KdfDescription", "KdfParameters", "Keyring", "UnlockedKeyring"]
