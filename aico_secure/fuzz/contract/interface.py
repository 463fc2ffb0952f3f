"""What a contract-level fuzzing surface promises, so one runner can drive any build through its Target contract.

Harnesses in ``aico_secure.fuzz._harness`` fuzz the reference's own parsers in process; a build we did not write
can only be reached through the contract (its store files, its bus endpoint, its gateway URL). A surface owns
one such axis: ``setup`` starts what it needs from the build (through the contract only), ``step`` feeds one
generated input and checks the property, ``teardown`` stops everything it started.

Inputs come from a ``Source``: a seeded ``random.Random`` when the runner drives real services for a time
budget (libFuzzer's in-process model does not fit a broker or an HTTPS server), or Atheris's
``FuzzedDataProvider`` when one surface runs under libFuzzer. Both give the same draws, so a surface is written
once.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from aico_secure.target import Target

T = TypeVar("T")

# Kinds of finding; each one breaks the property of its surface.
WRONG_DATA = "wrong-data"  # a read returned something other than the record written (and no refusal)
UNTYPED = "untyped-exception"  # an exception outside the contract's refusals
HANG = "hang"  # an operation did not return within its bound
SERVER_ERROR = "server-error"  # a 5xx answer
DROPPED = "dropped-connection"  # the server closed the connection instead of answering
STOPPED_SERVING = "stopped-serving"  # the service no longer serves a valid request after the inputs
DELIVERED_MALFORMED = "delivered-malformed"  # the bus delivered a message that is not [topic, payload]


@dataclass(frozen=True)
class Finding:
    """One broken property. ``reproducer`` says how to get the input again (seed, surface, step, input)."""

    surface: str
    kind: str
    detail: str
    reproducer: str

    def __str__(self) -> str:
        return f"[{self.surface}] {self.kind}: {self.detail} ({self.reproducer})"


class SurfaceUnavailable(Exception):
    """The build lacks what the surface needs (a capability, a store), or its setup failed: the surface ran
    nothing, which the runner reports as incomplete, never as a pass."""


class Source(ABC):
    """Draws for one input. Both implementations are deterministic in what they were seeded with."""

    @abstractmethod
    def int_in(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""

    @abstractmethod
    def raw(self, count: int) -> bytes:
        """``count`` bytes (fewer only when an Atheris input runs out)."""

    def chance(self, probability: float) -> bool:
        return self.int_in(0, 9999) < int(probability * 10000)

    def pick(self, options: Sequence[T]) -> T:
        return options[self.int_in(0, len(options) - 1)]

    def weighted(self, options: Mapping[T, int]) -> T:
        total = sum(options.values())
        roll = self.int_in(0, total - 1)
        for option, weight in options.items():
            if roll < weight:
                return option
            roll -= weight
        raise AssertionError("unreachable: weights are positive")


class RandomSource(Source):
    """A seeded ``random.Random``: the runner's generator when libFuzzer is not in charge."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def int_in(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def raw(self, count: int) -> bytes:
        return self.rng.randbytes(max(0, count))


class ProviderSource(Source):
    """Atheris's ``FuzzedDataProvider`` (or anything with its two methods): libFuzzer's mutations steer the
    draws, so coverage guidance reaches the structure the surface generates."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def int_in(self, low: int, high: int) -> int:
        return int(self.provider.ConsumeIntInRange(low, high))

    def raw(self, count: int) -> bytes:
        return bytes(self.provider.ConsumeBytes(max(0, count)))


def provider_source(data: bytes) -> ProviderSource:
    """The draws of one libFuzzer input (``atheris.FuzzedDataProvider``): for a surface run under Atheris, where
    each ``TestOneInput(data)`` is one ``step``. Atheris is a development dependency, imported only here."""
    import atheris

    return ProviderSource(atheris.FuzzedDataProvider(data))


@runtime_checkable
class RecordSpans(Protocol):
    """Optional hook of a ``StoreCapability`` for structure-aware damage: where in its closed files each record's
    bytes live, as ``{relative path: [(start, end), ...]}``. With it the stored surface aims most of its damage
    inside records; without it the surface infers the ranges that changed while the records were written."""

    def record_spans(self, directory: Path) -> Mapping[str, Sequence[tuple[int, int]]]: ...


class ContractSurface(ABC):
    """One axis of a build's contract under fuzzing. ``step`` returns the findings of one input; an empty list
    means the property held for it. ``fatal`` findings (the service is down) end the surface's run."""

    name: str
    bound_s: float = 20.0  # the longest one operation may take before it is a hang

    @abstractmethod
    def setup(self, target: Target, workdir: Path) -> None:
        """Start what the surface drives, through the contract; ``SurfaceUnavailable`` if the build lacks it."""

    @abstractmethod
    def step(self, source: Source, label: str) -> list[Finding]:
        """Generate one input from ``source``, feed it, check the property. ``label`` identifies the input in
        the reproducer of any finding."""

    def finish(self) -> list[Finding]:
        """Checks that close the run (e.g. the service still serves after the last input)."""
        return []

    @abstractmethod
    def teardown(self) -> None:
        """Stop everything ``setup`` started; called even after a failed setup or a fatal finding."""


FATAL_KINDS = frozenset({HANG, STOPPED_SERVING})
