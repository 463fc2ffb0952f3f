"""Bus secret keys live in owner-only key files and nowhere else: the broker's own key (BUS-003: whoever reads
it can be the broker) and each component's (BUS-002: whoever reads it can be that component).

The build names its key files and the keys it holds through the ``BusKeyFilesHook`` test hook; without it these
checks are "not implemented". Modes are checked on every declared key file (and the directories above it, up to
the bus directory) after start, after an enrollment and after a rotation. The leak checks run a broker's whole
life (start, enroll, rotate, revoke, stop, restart on the same directory, enroll again) under the suite's write
watch and search every file written anywhere, removed ones included, for every secret key in every encoding the
inspector knows: one found in a file that is not (and was not, at some step) a declared key file is a finding.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import zmq
from zmq.utils import z85

from aico_secure.conform import writes
from aico_secure.conform.checks import find_leaks
from aico_secure.probes.bus import RecordingSink
from aico_secure.target import CapabilityMissing
from aico_secure.target.bus import BusBroker, BusCapability, BusCredentials, BusKeyFilesHook

POINTS = ("start", "enroll", "rotate")


def _hook(broker: BusBroker) -> BusKeyFilesHook:
    if not isinstance(broker, BusKeyFilesHook):
        raise CapabilityMissing("the broker offers no key_files()/secret_material() test hook (BusKeyFilesHook)")
    return broker


def _z85(name: str, value: bytes) -> bytes:
    if len(value) == 32:
        return z85.encode(value)
    assert len(value) == 40, f"secret_material() entry {name!r} is neither a Z85 key nor 32 raw bytes"
    return value


@dataclass
class BusKeys:
    """What a broker's life showed: every file ever declared, every secret key (server and component)."""

    declared: set[Path] = field(default_factory=set)
    server: dict[str, bytes] = field(default_factory=dict)
    components: dict[str, bytes] = field(default_factory=dict)

    def note(self, broker: BusBroker, step: str) -> None:
        hook = _hook(broker)
        files = hook.key_files()
        missing = [str(p) for p in files if not Path(p).is_file()]
        assert not missing, f"after {step}, key_files() names files that do not exist: {missing}"
        self.declared |= {Path(os.path.realpath(p)) for p in files}
        owned = False
        for name, value in hook.secret_material().items():
            key = _z85(name, bytes(value))
            owned = owned or zmq.curve_public(key) == broker.server_key
            self._add(self.server if zmq.curve_public(key) == broker.server_key else self.components,
                      f"{name} [{step}]", key)
        assert owned, f"after {step}, secret_material() holds no secret key belonging to the broker's server_key"

    def issued(self, creds: BusCredentials, step: str) -> None:
        self._add(self.components, f"{creds.component} [{step}]", creds.secret_key.reveal())

    @staticmethod
    def _add(into: dict[str, bytes], name: str, key: bytes) -> None:
        """Z85 text and raw bytes of one key, once (the first step that showed it names it)."""
        if key not in into.values():
            into[f"{name} z85"] = key
            into[f"{name} raw"] = z85.decode(key)


def _life(bus: BusCapability, directory: Path) -> BusKeys:
    """Start, enroll two components, rotate one, revoke the other, stop; restart on the directory, enroll one."""
    seen = BusKeys()
    broker = bus.start(directory, audit=RecordingSink())
    try:
        seen.note(broker, "start")
        for i in range(2):
            seen.issued(broker.enroll(f"keyholder-{i}", publish=["probe."], subscribe=["probe."]), "enroll")
        seen.note(broker, "enroll")
        seen.issued(broker.rotate("keyholder-0"), "rotate")
        seen.note(broker, "rotate")
        broker.revoke("keyholder-1")
        seen.note(broker, "revoke")
    finally:
        broker.stop()
    again = bus.start(directory, audit=RecordingSink())
    try:
        seen.note(again, "restart")
        seen.issued(again.enroll("keyholder-2", publish=["probe."]), "enroll after restart")
        seen.note(again, "enroll after restart")
    finally:
        again.stop()
    return seen


def _stray_copies(bus: BusCapability, tmp_path: Path, pick: Callable[[BusKeys], dict[str, bytes]],
                  evidence: Callable[[str, object], None]) -> list[str]:
    directory = tmp_path / "bus"
    with writes.watch_writes(directory) as watch:
        try:
            seen = _life(bus, directory)
        except BaseException:
            writes.discard(watch)
            raise
    try:
        assert not watch.errors, f"the write watch failed: {watch.errors[:3]}"
        secrets = pick(seen)
        assert secrets, "no secret key of that kind was seen: nothing to look for"
        scan = writes.scan_written(watch, secrets=secrets)
        evidence("files written and scanned", scan.result.files_read)
        evidence("declared key files", sorted(str(p) for p in seen.declared))
        assert scan.result.files_read > 0, "the broker wrote no file: nothing was checked"
        assert not scan.result.unreadable, f"files the broker wrote could not be read: {scan.result.unreadable[:4]}"
        located = [(w, f, Path(os.path.realpath(w.path)) in seen.declared) for w, f in scan.located()]
        evidence("declared key files found holding them", len({w.path for w, _f, ok in located if ok}))
        return sorted({f"{w.path} ({w.where}{', removed after writing' if w.kept else ''}): {f.label} as "
                       f"{f.encoding} in {f.container}" for w, f, ok in located if not ok})
    finally:
        writes.discard(watch)


@pytest.mark.requirement("AICO-BUS-003")
def test_bus_server_secret_only_in_declared_key_files(bus: BusCapability, tmp_path: Path,
                                                      evidence: Callable[[str, object], None]) -> None:
    stray = _stray_copies(bus, tmp_path, lambda s: s.server, evidence)
    assert not stray, "the broker's secret key is in files that are not its declared key files: " + "; ".join(
        stray[:6])


@pytest.mark.requirement("AICO-BUS-002")
def test_bus_component_secrets_only_in_declared_key_files(bus: BusCapability, tmp_path: Path,
                                                          evidence: Callable[[str, object], None]) -> None:
    stray = _stray_copies(bus, tmp_path, lambda s: s.components, evidence)
    assert not stray, "component secret keys are in files that are not declared key files: " + "; ".join(
        stray[:6])


# ---- modes ----------------------------------------------------------------------------------------------------
def _drive_to(point: str, broker: BusBroker) -> None:
    if point in ("enroll", "rotate"):
        broker.enroll("keyholder-0", publish=["probe."])
        broker.enroll("keyholder-1", subscribe=["probe."])
    if point == "rotate":
        broker.rotate("keyholder-0")


def _holders(broker: BusBroker, staging: Path) -> dict[Path, set[str]]:
    """Each declared key file and whose secret it holds ("server", "component"; empty if none is readable)."""
    seen = BusKeys()
    seen.note(broker, "now")
    files = sorted(seen.declared)
    staging.mkdir()
    try:
        for index, path in enumerate(files):
            shutil.copyfile(path, staging / str(index))
        labelled = {f"server:{n}": v for n, v in seen.server.items()}
        labelled.update({f"component:{n}": v for n, v in seen.components.items()})
        result = find_leaks(staging, secrets=labelled)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    holders: dict[Path, set[str]] = {p: set() for p in files}
    for finding in result.findings:
        holders[files[int(Path(finding.path).name)]].add(finding.label.removeprefix("key:").split(":", 1)[0])
    return holders


def _check_modes(kind: str, point: str, bus: BusCapability, tmp_path: Path,
                 evidence: Callable[[str, object], None]) -> None:
    directory = tmp_path / "bus"
    broker = bus.start(directory, audit=RecordingSink())
    try:
        _drive_to(point, broker)
        holders = _holders(broker, tmp_path / "staging")
        # A declared file in which no known key is readable may hold it in a form the inspector does not know:
        # it is checked as holding either kind.
        files = sorted(p for p, kinds in holders.items() if kind in kinds or not kinds)
        evidence(f"declared {kind} key files after {point}", [str(p) for p in files])
        assert files, f"after {point}, the broker declares no file holding a {kind} secret key (the contract " \
                      "keeps the broker's key pair and component keys in its directory): nothing was checked"
        loose = writes.not_owner_only(files, directory)
        assert not loose, f"after {point}, {kind} key files not owner-only: " + "; ".join(loose[:6])
    finally:
        broker.stop()


@pytest.mark.requirement("AICO-BUS-003")
@pytest.mark.parametrize("point", POINTS)
def test_bus_server_key_files_owner_only(point: str, bus: BusCapability, tmp_path: Path,
                                         evidence: Callable[[str, object], None]) -> None:
    _check_modes("server", point, bus, tmp_path, evidence)


@pytest.mark.requirement("AICO-BUS-002")
@pytest.mark.parametrize("point", [p for p in POINTS if p != "start"])
def test_bus_component_key_files_owner_only(point: str, bus: BusCapability, tmp_path: Path,
                                            evidence: Callable[[str, object], None]) -> None:
    _check_modes("component", point, bus, tmp_path, evidence)
