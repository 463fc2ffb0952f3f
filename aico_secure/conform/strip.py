"""A build with some optional operations taken away, to prove each requirement is judged without them.

``stripped(target, keep)`` returns a ``Target`` that behaves exactly like ``target`` except that every optional
operation (``aico_secure.conform.optional``) not in ``keep`` is gone the way a real build lacks it: an optional
method raises ``NotImplementedError``, an optional hook is absent (``isinstance`` against its Protocol fails),
``KdfReport.salt_id`` is ``None``. Sessions, stores, brokers and devices the build hands out are wrapped the same
way; objects handed back to the build are unwrapped first, so the build never sees a wrapper. ``build()`` is a
factory for ``--aico-target``: it reads the build to wrap and what to keep from the environment, because the
suite loads targets by name (and loads them again for restarts).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection
from typing import Any

from aico_secure.conform.optional import checked
from aico_secure.target import KdfReport, Target, load_target

BASE_ENV = "AICO_STRIP_BASE"  # factory spec of the build to wrap; the reference build when unset
KEEP_ENV = "AICO_STRIP_KEEP"  # comma-separated optional operations to keep; unset or empty keeps none

_SESSION_OPS = ("rotate_data_key", "rotate_kek", "rotate_master", "change_password")
_SESSION_HOOKS = {"SealingKeyObservable": ("sealing_key_id",), "WrappingKeyObservable": ("wrapping_key_id",)}
_STORE_OPS = ("rotate_data_key", "compact")


def _unwrap(value: Any) -> Any:
    return value._wrapped if isinstance(value, _Proxy) else value


def _missing(name: str) -> Callable[..., Any]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise NotImplementedError(f"this build does not offer {name}")

    return refuse


class _Proxy:
    """Delegates every attribute to the wrapped object, except the names in ``_absent`` (an AttributeError, so
    runtime Protocol checks fail) and ``_refused`` (a method raising NotImplementedError). Calls unwrap proxy
    arguments and pass results through ``_results`` (method or attribute name -> wrapper)."""

    def __init__(self, wrapped: object, *, absent: Collection[str] = (), refused: Collection[str] = (),
                 label: str = "", results: dict[str, Callable[[Any], Any]] | None = None) -> None:
        object.__setattr__(self, "_wrapped", wrapped)
        object.__setattr__(self, "_absent", frozenset(absent))
        object.__setattr__(self, "_refused", frozenset(refused))
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_results", results or {})

    def __getattr__(self, name: str) -> Any:
        if name in self._absent:
            raise AttributeError(name)
        if name in self._refused:
            return _missing(f"{self._label}.{name}")
        value = getattr(self._wrapped, name)
        wrap_result = self._results.get(name)
        if not callable(value):
            return wrap_result(value) if wrap_result is not None else value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*(_unwrap(a) for a in args), **{k: _unwrap(v) for k, v in kwargs.items()})
            return wrap_result(result) if wrap_result is not None else result

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._wrapped, name, value)

    def __repr__(self) -> str:
        return f"stripped({self._wrapped!r})"

    def __hash__(self) -> int:
        return hash(self._wrapped)

    def __eq__(self, other: object) -> bool:
        return bool(self._wrapped == _unwrap(other))


def stripped(target: Target, keep: Collection[str]) -> Target:
    """``target`` without every optional operation not in ``keep`` (names from ``OPTIONAL_OPERATIONS``)."""
    kept = checked(keep)

    def session(obj: Any) -> Any:
        refused = [op for op in _SESSION_OPS if f"KeySession.{op}" not in kept]
        absent = [m for hook, methods in _SESSION_HOOKS.items() if hook not in kept for m in methods]
        return _Proxy(obj, absent=absent, refused=refused, label="KeySession")

    def kdf_report(report: Any) -> Any:
        if "KdfReport.salt_id" in kept or not isinstance(report, KdfReport):
            return report
        return dataclasses.replace(report, salt_id=None)

    def store(obj: Any) -> Any:
        refused = [op for op in _STORE_OPS if f"Store.{op}" not in kept]
        absent = [] if "SealingKeyHook" in kept else ["sealing_key_id"]
        return _Proxy(obj, absent=absent, refused=refused, label="store")

    def broker(obj: Any) -> Any:
        absent = [] if "BusKeyFilesHook" in kept else ["secret_material", "key_files"]
        return _Proxy(obj, absent=absent, label="BusBroker")

    def device(obj: Any) -> Any:
        return _Proxy(obj, absent=[] if "SyncKeyFilesHook" in kept else ["key_files"], label="SyncDevice")

    def trail(obj: Any) -> Any:
        return _Proxy(obj, results={"session": session})  # key operations through the trail are the session's

    def capability(obj: Any, results: dict[str, Callable[[Any], Any]], absent: Collection[str] = ()) -> Any:
        return None if obj is None else _Proxy(obj, results=results, absent=absent)

    return dataclasses.replace(
        target,
        name=f"{target.name} (optional operations kept: {', '.join(sorted(kept)) or 'none'})",
        keys=capability(target.keys, {"create": session, "unlock": session, "describe_kdf": kdf_report}),
        stores={name: capability(cap, {"open": store}, [] if "FormatDeclaration" in kept else ["declared_format"])
                for name, cap in target.stores.items()},
        bus=capability(target.bus, {"start": broker}),
        tls=capability(target.tls, {"open_device": device}),
        gateway=capability(target.gateway, {}),
        consent=capability(target.consent, {}),
        audit=capability(target.audit, {"open": trail}),
    )


def kept_from_environment() -> frozenset[str]:
    return checked(n.strip() for n in os.environ.get(KEEP_ENV, "").split(",") if n.strip())


def build() -> Target:
    """Factory for ``--aico-target=aico_secure.conform.strip:build``."""
    base = load_target(os.environ.get(BASE_ENV) or "aico_secure.reference:build")
    return stripped(base, kept_from_environment())
