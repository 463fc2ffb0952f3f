"""AICO-DAR-009: what each store declares about its encryption (``FormatDeclaration.declared_format``: engine,
cipher, mode, MAC, page size) is what its files show.

Everything is read from the bytes the store leaves on disk, with no key and none of the build's code; what the
bytes cannot show is left unchecked rather than taken on trust:

* ``sqlcipher``: no file starts with SQLite's plaintext header; the database's length is a whole number of the
  declared pages; its first 16 bytes (the salt) differ between two stores; and when a MAC is declared, a bit
  flipped in the middle of the data region of *every* page (the region the declared reserve leaves for data) is
  refused. Which bytes of the reserve are the IV and which the MAC cannot be seen without the key.
* ``duckdb``: the main header of every database file says "encrypted" with the declared cipher (GCM, CTR, CBC)
  and key size, and the blocks after the headers are whole blocks of the declared size.
* ``sealed-values``: one value (document) of every length 0..48 is stored, and the lengths of the values in the
  plaintext container are read back. A length-preserving mode (GCM, CTR, SIV, ChaCha20-Poly1305, ...) turns 49
  consecutive plaintext lengths into 49 consecutive sealed lengths (a constant overhead); a padded block mode
  (CBC), or a store that pads plaintexts (``value_padding``), turns them into steps of 16 (of the padding). A
  separate MAC only adds a constant, so it cannot be told from the lengths.

All mismatches of a store are listed together, so one run names every defect of the declaration.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from pathlib import Path

from aico_secure.target import CapabilityMissing, KeySession, StoreCapability, VectorStore
from aico_secure.target.stores import FormatDeclaration, StoreFormat

from . import _format as fmt
from ._support import Workload, open_store, vector, write
from .conftest import per_store

Evidence = Callable[[str, object], None]
LENGTHS = range(49)  # every plaintext length across three AES blocks and then some


def declaration(store: StoreCapability) -> StoreFormat:
    if not isinstance(store, FormatDeclaration):
        raise CapabilityMissing(f"store {store.name!r} declares no format (no declared_format() hook)")
    declared = store.declared_format()
    assert isinstance(declared, StoreFormat), f"declared_format() returned {type(declared).__name__}"
    return declared


def _filled(store: StoreCapability, session: KeySession, directory: Path) -> Workload:
    opened = open_store(store, session, directory)
    try:
        return write(opened, Workload(), count=24, tag="fmt")
    finally:
        opened.close()


def sqlcipher_problems(store: StoreCapability, session: KeySession, root: Path, declared: StoreFormat,
                       evidence: Evidence) -> list[str]:
    problems: list[str] = []
    if not declared.page_size:
        return ["a sqlcipher store must declare its page size"]
    if declared.mac and declared.mac.upper() not in fmt.MAC_BYTES:
        return [f"declared MAC {declared.mac!r} is not one SQLCipher has ({', '.join(fmt.MAC_BYTES)})"]
    one, other = root / "one", root / "other"
    workload = _filled(store, session, one)
    _filled(store, session, other)
    for path in fmt.files_under(one):
        if path.read_bytes()[:len(fmt.SQLITE_HEADER)] == fmt.SQLITE_HEADER:
            problems.append(f"{path.name} starts with SQLite's plaintext header")
    database, second = fmt.sqlcipher_database(one), fmt.sqlcipher_database(other)
    if database is None or second is None:
        return [*problems, "the store left no database file"]
    data = database.read_bytes()
    pages, rest = divmod(len(data), declared.page_size)
    if rest or not pages:
        problems.append(f"{database.name} is {len(data)} bytes, not a whole number of {declared.page_size}-byte pages")
    salt, other_salt = data[:fmt.SQLCIPHER_SALT], second.read_bytes()[:fmt.SQLCIPHER_SALT]
    if salt == other_salt or len(set(salt)) <= 1:
        problems.append("the first 16 bytes (SQLCipher's salt) are the same in two stores: no random salt there")
    evidence(f"{store.name} database", f"{len(data)} bytes = {pages} pages of {declared.page_size}"
                                        f"{f' + {rest}' if rest else ''}; salts differ: {salt != other_salt}")
    if declared.mac:
        reserve = fmt.sqlcipher_reserve(declared.mac)
        offsets = fmt.page_data_middles(len(data), declared.page_size, reserve)
        relative = database.relative_to(one)
        accepted = [number for number, offset in enumerate(offsets)
                    if not fmt.flip_refused(store, session, one, root / "trial", relative, offset, workload)]
        evidence(f"{store.name} pages flipped", f"{len(offsets)} (reserve {reserve} bytes for IV + {declared.mac}); "
                                                f"refused: {len(offsets) - len(accepted)}")
        if not offsets:
            problems.append("no page to flip a bit in: the MAC could not be checked")
        if accepted:
            problems.append(f"{declared.mac} is declared, but a bit flipped in the data region of page(s) "
                            f"{accepted[:8]} of {len(offsets)} was not refused")
    return problems


def duckdb_problems(store: StoreCapability, session: KeySession, root: Path, declared: StoreFormat,
                    evidence: Evidence) -> list[str]:
    _filled(store, session, root / "one")
    headers = fmt.duckdb_headers(root / "one")
    if not headers:
        return ["no file of the store has DuckDB's main header"]
    problems = []
    key_bits = _key_bits(declared.cipher)
    for header in headers:
        evidence(f"{store.name} {header.path.name}", f"encrypted={header.encrypted} cipher={header.cipher} "
                                                     f"key={header.key_bits} bits")
        if not header.encrypted:
            problems.append(f"{header.path.name}: the main header says the database is not encrypted")
            continue
        if header.cipher != declared.mode.upper():
            problems.append(f"{header.path.name}: encrypted with {header.cipher}, declared {declared.mode}")
        if key_bits is not None and header.key_bits != key_bits:
            problems.append(f"{header.path.name}: {header.key_bits}-bit key, declared {declared.cipher}")
        if declared.page_size and header.blocks_bytes % declared.page_size:
            problems.append(f"{header.path.name}: its blocks are not whole {declared.page_size}-byte blocks")
    return problems


def _key_bits(cipher: str) -> int | None:
    digits = "".join(c for c in cipher.split("-")[-1] if c.isdigit())
    return int(digits) if cipher.upper().startswith("AES") and digits else None


def sealed_problems(store: StoreCapability, session: KeySession, root: Path, declared: StoreFormat,
                    evidence: Evidence) -> list[str]:
    mode = declared.mode.upper()
    if mode not in fmt.LENGTH_PRESERVING | fmt.BLOCK_PADDED:
        return [f"declared mode {declared.mode!r}: the suite cannot tell from lengths what it does"]
    opened = open_store(store, session, root / "one")
    try:
        for length in LENGTHS:
            if isinstance(opened, VectorStore):
                text = "".join(secrets.choice(string.ascii_letters) for _ in range(length))
                opened.add(f"item-{length:03d}", vector(f"fmt-{length}"), text, {"n": "x"})
            else:
                opened.put(f"value-{length:03d}", secrets.token_bytes(length))
    finally:
        opened.close()
    try:
        lengths = fmt.sealed_lengths(root / "one", declared.container)
    except fmt.UnreadableContainer as exc:
        return [str(exc)]
    step = max(declared.value_padding or 1, fmt.AES_BLOCK if mode in fmt.BLOCK_PADDED else 1)
    first, run = fmt.longest_run(lengths)
    steps = fmt.longest_progression(lengths, step)
    evidence(f"{store.name} sealed lengths", f"{len(lengths)} values in the {declared.container} container; longest "
                                             f"run of consecutive lengths: {run} from {first}; expected step {step}")
    if step == 1 and run < len(LENGTHS):
        return [f"declared {declared.mode}, a length-preserving mode, but {len(LENGTHS)} consecutive plaintext "
                f"lengths gave no run of {len(LENGTHS)} consecutive sealed lengths (longest {run}): padded blocks"]
    if step > 1 and (run > step or steps < len(LENGTHS) // step):
        return [f"declared {declared.mode} padded to {step} bytes, but sealed lengths do not move in steps of "
                f"{step} (longest run of consecutive lengths {run}, longest progression in steps of {step}: {steps})"]
    return []


ENGINES = {"sqlcipher": sqlcipher_problems, "duckdb": duckdb_problems, "sealed-values": sealed_problems}


@per_store("AICO-DAR-009")
def test_the_files_show_what_the_store_declares(store: StoreCapability, key_session: KeySession, tmp_path: Path,
                                                evidence: Evidence) -> None:
    declared = declaration(store)
    evidence(f"{store.name} declares", f"{declared.engine}: {declared.cipher}-{declared.mode} mac={declared.mac} "
                                       f"page={declared.page_size} container={declared.container}")
    check = ENGINES.get(declared.engine)
    assert check is not None, f"engine {declared.engine!r} is not one whose files the suite can read"
    problems = check(store, key_session, tmp_path, declared, evidence)
    assert not problems, f"{store.name}'s files do not show what it declares:\n  " + "\n  ".join(problems)
