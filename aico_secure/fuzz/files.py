"""Where a harness's stored inputs live in a checkout: ``fuzz/corpus/<name>/`` (inputs worth mutating, seeded
from the reference build's own writes and grown by campaigns), ``fuzz/regressions/<name>/`` (minimised inputs
that once broke the surface: kept forever) and ``fuzz/dict/<name>.dict`` (the harness's format tokens)."""

from __future__ import annotations

from pathlib import Path

CHECKOUT_FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"


def corpus_dir(name: str, root: Path = CHECKOUT_FUZZ_DIR) -> Path:
    return root / "corpus" / name


def regressions_dir(name: str, root: Path = CHECKOUT_FUZZ_DIR) -> Path:
    return root / "regressions" / name


def dict_path(name: str, root: Path = CHECKOUT_FUZZ_DIR) -> Path:
    return root / "dict" / f"{name}.dict"


def dictionary_text(tokens: tuple[bytes, ...]) -> str:
    """libFuzzer's dictionary syntax: one quoted token per line, anything but printable ASCII as ``\\xNN``."""

    def quoted(token: bytes) -> str:
        return "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\x{b:02x}" for b in token)

    return "".join(f'"{quoted(t)}"\n' for t in tokens)


def write_seeds(harness_name: str, root: Path = CHECKOUT_FUZZ_DIR) -> list[Path]:
    """Write the harness's seeds (the reference build's own writes) into its corpus folder and its dictionary
    file; returns the seed files written. Names are content digests, as libFuzzer names corpus files."""
    import hashlib

    from aico_secure.fuzz import registry

    harness = registry.load(harness_name)
    folder = corpus_dir(harness_name, root)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    harness.setup()
    try:
        for _label, data in harness.seeds():
            path = folder / hashlib.sha256(data).hexdigest()[:40]
            path.write_bytes(data)
            written.append(path)
    finally:
        harness.teardown()
    if harness.dictionary:
        dict_path(harness_name, root).parent.mkdir(parents=True, exist_ok=True)
        dict_path(harness_name, root).write_text(dictionary_text(harness.dictionary), encoding="utf-8")
    return written
