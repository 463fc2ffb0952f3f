"""A device's private key lives in owner-only key files and nowhere else (TLS-002 and TLS-004: the key is what
peers pin and what authenticates the device as a client, so whoever reads a copy can be the device both ways).

The suite issues each device's key itself (``TlsIdentity.key_pem``), so it knows exactly what to search for: the
private key as PEM text, as PKCS#8 DER and as its bare private scalar, which the inspector finds raw, in hex, in
base64 at any alignment (so a base64 DER blob too) and inside PEM blocks of any label (PKCS#8, SEC1). The seed
(data-security.md) says nothing about how a device stores its TLS key, so a plaintext key in a declared,
owner-only file is allowed; a passphrase-encrypted PEM block in a stray file is not decoded and so not found.
The build names its key files through the ``SyncKeyFilesHook`` test hook; without it these checks are "not
implemented". Every check runs over a whole sync life under the suite's write watch: two devices opened, one
serving, a push and a pull, the other serving too, both closed, one reopened on its directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from aico_secure.conform import writes
from aico_secure.probes.tls import SuitePki, contract_identity
from aico_secure.target import CapabilityMissing, KeySession
from aico_secure.target.tls import SyncDevice, SyncKeyFilesHook, TlsCapability
from aico_secure.transport.tls.certs import Identity


def key_forms(identity: Identity, name: str) -> dict[str, bytes]:
    """The private key as the suite handed it over (PEM), as PKCS#8 DER and as its private scalar / exponent."""
    pem = identity.key_pem.reveal()
    key = serialization.load_pem_private_key(pem, password=None)
    forms = {f"{name} key (PEM)": pem,
             f"{name} key (PKCS#8 DER)": key.private_bytes(serialization.Encoding.DER,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption())}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        forms[f"{name} key (private scalar)"] = key.private_numbers().private_value.to_bytes(size, "big")
    elif isinstance(key, rsa.RSAPrivateKey):
        d = key.private_numbers().d
        forms[f"{name} key (private exponent)"] = d.to_bytes((d.bit_length() + 7) // 8, "big")
    return forms


@dataclass
class SyncLife:
    """What one sync life showed: the device directories, every file declared at some step, the owner-only
    problems seen after each step."""

    directories: list[Path] = field(default_factory=list)
    declared: set[Path] = field(default_factory=set)
    loose: list[str] = field(default_factory=list)

    def note(self, device: SyncDevice, directory: Path, step: str) -> None:
        if not isinstance(device, SyncKeyFilesHook):
            raise CapabilityMissing("the sync device offers no key_files() test hook (SyncKeyFilesHook)")
        files = [Path(p) for p in device.key_files()]
        missing = [str(p) for p in files if not p.is_file()]
        assert not missing, f"after {step}, key_files() names files that do not exist: {missing}"
        self.declared |= {Path(os.path.realpath(p)) for p in files}
        self.loose += [f"after {step}: {problem}" for problem in writes.not_owner_only(files, directory)]


def _life(tls: TlsCapability, session: KeySession, pki: SuitePki, idents: dict[str, Identity],
          root: Path) -> SyncLife:
    seen = SyncLife()
    opened: list[SyncDevice] = []

    def open_device(name: str) -> SyncDevice:
        directory = root / name
        device = tls.open_device(directory, session, identity=contract_identity(idents[name]),
                                 peer_ca_pem=pki.ca_pem)
        opened.append(device)
        seen.directories.append(directory)
        seen.note(device, directory, f"opening {name}")
        return device

    try:
        a, b = open_device("device-a"), open_device("device-b")
        _host, port = b.serve()
        seen.note(b, root / "device-b", "serve")
        a.put("diary-1", b"a record to sync")
        assert a.push(pki.peer(port, idents["device-b"])) == 1, "positive control: push to the pinned peer failed"
        assert a.pull(pki.peer(port, idents["device-b"])) >= 1, "positive control: pull from the pinned peer failed"
        seen.note(a, root / "device-a", "push and pull")
        _host, port_a = a.serve()
        assert b.pull(pki.peer(port_a, idents["device-a"])) >= 1, "positive control: pull from device-a failed"
        seen.note(a, root / "device-a", "second server")
        seen.note(b, root / "device-b", "pull by the server device")
        while opened:
            opened.pop().close()
        again = open_device("device-a")  # a restart: the same device opened again on its directory
        assert again.get("diary-1") == b"a record to sync", "positive control: reopened device lost its record"
        return seen
    finally:
        for device in opened:
            device.close()


def _watched(tls: TlsCapability, key_session: KeySession, pki: SuitePki,
             tmp_path: Path) -> tuple[SyncLife, writes.Watch, dict[str, Identity]]:
    idents = {name: pki.issue(name)[0] for name in ("device-a", "device-b")}  # the suite's files, before the watch
    root = tmp_path / "devices"
    with writes.watch_writes(root / "device-a", root / "device-b") as watch:
        try:
            seen = _life(tls, key_session, pki, idents, root)
        except BaseException:
            writes.discard(watch)
            raise
    assert not watch.errors, f"the write watch failed: {watch.errors[:3]}"
    return seen, watch, idents


@pytest.mark.requirement("AICO-TLS-002", "AICO-TLS-004")
def test_tls_device_key_only_in_declared_key_files(tls: TlsCapability, key_session: KeySession, pki: SuitePki,
                                                   tmp_path: Path, evidence: Callable[[str, object], None]) -> None:
    seen, watch, idents = _watched(tls, key_session, pki, tmp_path)
    try:
        secrets = {k: v for name, ident in idents.items() for k, v in key_forms(ident, name).items()}
        scan = writes.scan_written(watch, secrets=secrets)
        evidence("files written and scanned", scan.result.files_read)
        evidence("declared key files", sorted(str(p) for p in seen.declared))
        assert scan.result.files_read > 0, "the devices wrote no file: nothing was checked"
        assert not scan.result.unreadable, f"files the devices wrote could not be read: {scan.result.unreadable[:4]}"
        located = [(w, f, Path(os.path.realpath(w.path)) in seen.declared) for w, f in scan.located()]
        evidence("declared key files found holding a key", len({w.path for w, _f, ok in located if ok}))
        stray = sorted({f"{w.path} ({w.where}{', removed after writing' if w.kept else ''}): {f.label} as "
                        f"{f.encoding} in {f.container}" for w, f, ok in located if not ok})
        assert not stray, "a device private key is in files that are not declared key files: " + "; ".join(
            stray[:6])
    finally:
        writes.discard(watch)


@pytest.mark.requirement("AICO-TLS-002", "AICO-TLS-004")
def test_tls_device_key_files_owner_only(tls: TlsCapability, key_session: KeySession, pki: SuitePki,
                                         tmp_path: Path, evidence: Callable[[str, object], None]) -> None:
    """Checked after every step. A device may keep its key in memory only (no key files); then the check is that
    no file it wrote holds the key at all, so the test never passes on nothing."""
    seen, watch, idents = _watched(tls, key_session, pki, tmp_path)
    try:
        evidence("declared key files", sorted(str(p) for p in seen.declared))
        assert not seen.loose, "device key files not owner-only: " + "; ".join(seen.loose[:6])
        if not seen.declared:
            secrets = {k: v for name, ident in idents.items() for k, v in key_forms(ident, name).items()}
            scan = writes.scan_written(watch, secrets=secrets)
            assert scan.result.files_read > 0, "the devices declare no key file and wrote no file: nothing checked"
            assert not scan.result.findings, "the devices declare no key files, yet their keys are in files: " \
                                             + "; ".join(scan.findings()[:6])
    finally:
        writes.discard(watch)
