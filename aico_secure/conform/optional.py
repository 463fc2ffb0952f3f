"""The optional operations of the target contract: the single list the catalog, the stripping wrapper and the
requirement-independence check all use.

A build may lack any of these and still be judged: each requirement declares (``exercises`` in
``conformance/requirements.yaml``) which of them it is *about*. A requirement that does not declare an operation
must get its verdict without it, so a build that lacks the operation is never excused from (nor wrongly failed
on) that requirement because a test used the operation as set-up.
"""

from __future__ import annotations

from collections.abc import Iterable

OPTIONAL_OPERATIONS: dict[str, str] = {
    # Key-session operations: a keyring that is created once and never rotated or re-passworded is a legitimate
    # (if weaker) build; its rotation requirements are "not implemented", everything else is still judged.
    "KeySession.rotate_data_key": "a keyring may keep one data key per purpose for its whole life",
    "KeySession.rotate_kek": "a keyring may wrap data keys directly under the master-derived key, never re-wrapped",
    "KeySession.rotate_master": "a keyring may have no master rotation short of a password change",
    "KeySession.change_password": "a build may fix the password at creation (e.g. a device-bound keyring)",
    # Store operations: an engine may have no rekey, and one that never keeps deleted data may have nothing to
    # compact; only the rotation and deletion requirements are about them.
    "Store.rotate_data_key": "an engine may not support re-keying an open store (RecordStore and VectorStore)",
    "Store.compact": "an engine may offer no explicit compaction (RecordStore and VectorStore)",
    # Test hooks: observations a build may decline to offer; the checks that need them report "not implemented".
    "SealingKeyObservable": "KeySession hook naming the data key inside a sealed blob; a format may not expose it",
    "WrappingKeyObservable": "KeySession hook fingerprinting the KEK; a build may not want to expose even that",
    "KdfReport.salt_id": "a keyring may decline to fingerprint its salt (the field is then None)",
    "SealingKeyHook": "store hook naming the data key of a stored record; page-encrypted engines may not know it",
    "FormatDeclaration": "store-capability hook declaring its on-disk encryption format; a build may not say",
    "BusKeyFilesHook": "broker hook listing its secret keys and key files; a broker may keep them opaque",
    "SyncKeyFilesHook": "sync-device hook listing its private-key files; a device may keep them opaque",
}


class UnknownOperation(ValueError):
    """A name that is not one of the contract's optional operations (a typo would silently keep or strip)."""


def checked(names: Iterable[str]) -> frozenset[str]:
    """``names`` as a set, refusing any that is not an optional operation."""
    found = frozenset(names)
    unknown = sorted(found - OPTIONAL_OPERATIONS.keys())
    if unknown:
        raise UnknownOperation(f"not optional operations of the target contract: {', '.join(unknown)}")
    return found
