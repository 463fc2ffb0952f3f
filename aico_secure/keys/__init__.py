"""The safe key API: create, unlock, rotate. Everything that needs a key gets it from an ``UnlockedKeyring``."""

from aico_secure.keys.errors import CounterRollbackError, KeyringBusyError, KeyringChangedError, KeyringIOError
from aico_secure.keys.keyring import KdfDescription, Keyring, UnlockedKeyring, check_counter_name
from aico_secure.keys.profiles import TEST_PARAMETERS, KdfParameters

__all__ = ["TEST_PARAMETERS", "CounterRollbackError", "KdfDescription", "KdfParameters", "Keyring",
           "KeyringBusyError", "KeyringChangedError", "KeyringIOError", "UnlockedKeyring", "check_counter_name"]
