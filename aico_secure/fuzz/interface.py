"""What a fuzzing harness promises, stated once so the campaign runner, the replay in CI and ClusterFuzzLite
all hold every harness to the same contract.

The contract of a surface: every input is answered with success or one of the surface's documented typed
refusals (``refusals``), within ``timeout_s`` seconds and ``rss_limit_mb`` of memory. Any other exception, a
crash, a hang or a memory blow-up is a finding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator


class Harness(ABC):
    name: str  # "envelope": corpus fuzz/corpus/<name>/, dictionary fuzz/dict/<name>.dict
    surface: str  # one line: which untrusted bytes, read by what
    refusals: tuple[type[BaseException], ...]  # the documented typed errors; anything else is a finding
    max_len: int = 64 * 1024  # libFuzzer -max_len: the largest input worth mutating for this surface
    timeout_s: int = 10  # libFuzzer -timeout: seconds per input before it is a hang
    rss_limit_mb: int = 2048  # libFuzzer -rss_limit_mb
    dictionary: tuple[bytes, ...] = ()  # tokens of the format (magic numbers, keywords), written as fuzz/dict/

    def setup(self) -> None:  # noqa: B027 - an optional hook; most surfaces need no state
        """Once per process, before the first input (keys, a scratch directory, a server on loopback)."""

    def teardown(self) -> None:  # noqa: B027 - an optional hook
        """Once per process after the last input of a replay (libFuzzer exits without calling it)."""

    @abstractmethod
    def run(self, data: bytes) -> None:
        """Feed ``data`` to the surface. Raise whatever the surface raises: ``check`` sorts refusals from
        findings, so a harness never swallows an exception itself."""

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        """Valid inputs written by the reference build itself, (name, bytes): the seed corpus. Seeds are
        generated, not hand-made, so they follow the format when it changes."""
        return iter(())

    def check(self, data: bytes) -> None:
        """One input under the contract: returns on success or a documented refusal, raises otherwise."""
        try:
            self.run(data)
        except self.refusals:
            pass
