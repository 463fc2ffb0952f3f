"""``python -m aico_secure.fuzz.entry NAME [libFuzzer flags]``: one harness under libFuzzer (Atheris).

The harness's own bounds (``-timeout``, ``-rss_limit_mb``, ``-max_len``) are passed unless the caller gives
its own, so a campaign started by hand, by ``aico-secure fuzz`` or by ClusterFuzzLite holds the same contract.

Coverage comes from the functions loaded once the harness is set up, in this package and the parsers it calls
(``COVERED``), less a few modules (``UNINSTRUMENTED``): instrumenting those would hook comparisons of numpy
arrays, whose results Atheris keeps, so memory would grow with every input until ``-rss_limit_mb`` ends a long
campaign. ``atheris.instrument_all`` (everything loaded: cryptography, starlette, the whole standard library)
cost 25-70 s per start here and guided nothing our parsers decide. A harness imports what it fuzzes at module
level or in ``setup``, so it is instrumented.

libFuzzer re-runs its own ``argv[0]`` for ``-merge``, ``-minimize_crash`` and ``-fork``; ``python -m`` gives it
a path to this file, which is not executable and does not name the harness. So ``argv[0]`` becomes a small
executable launcher for this harness, written once per process.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path


def default_flags(harness_name: str) -> list[str]:
    from aico_secure.fuzz import registry

    harness = registry.load(harness_name)
    return [f"-timeout={harness.timeout_s}", f"-rss_limit_mb={harness.rss_limit_mb}", f"-max_len={harness.max_len}"]


def with_defaults(name: str, flags: list[str]) -> list[str]:
    given = {f.split("=", 1)[0] for f in flags if f.startswith("-")}
    return [f for f in default_flags(name) if f.split("=", 1)[0] not in given] + flags


def launcher(name: str, directory: Path | None = None) -> Path:
    """An executable that runs this harness with whatever flags libFuzzer gives it."""
    folder = directory or Path(tempfile.mkdtemp(prefix=f"aico-fuzz-{name}-"))
    path = folder / f"fuzz_{name}"
    path.write_text(f"#!{sys.executable}\nimport sys\nfrom aico_secure.fuzz.entry import main\n"
                    f"sys.exit(main([sys.argv[0], {name!r}, *sys.argv[1:]]))\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# Instrumented: this package and the pure-Python parsers it hands untrusted bytes to (JSON, base64, URL and
# e-mail header parsing, archives and compressed streams, text codecs, JSON Schema validation, the SRP library).
COVERED = ("aico_secure", "json", "base64", "urllib", "email", "ipaddress", "zipfile", "gzip", "tarfile", "bz2",
           "lzma", "codecs", "encodings", "jsonschema", "srp", "zmq.auth")
# Not instrumented: modules whose comparisons are on numpy arrays (Atheris's comparison hook keeps every result,
# so memory would grow with every input) and the fuzzing machinery itself.
UNINSTRUMENTED = ("aico_secure.fuzz.entry", "aico_secure.fuzz.registry", "aico_secure.fuzz.interface",
                  "aico_secure.inspector._detector.vectors", "aico_secure.inspector._detector.entropy",
                  "aico_secure.inspector._detector._lowprec", "numpy")


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1].startswith("-"):
        print("usage: python -m aico_secure.fuzz.entry NAME [libFuzzer flags]", file=sys.stderr)
        return 2
    from aico_secure.fuzz import registry

    name = argv[1]
    harness = registry.load(name)
    harness.setup()
    instrument_covered(UNINSTRUMENTED)
    import atheris

    program = argv[0] if os.access(argv[0], os.X_OK) and not argv[0].endswith(".py") else str(launcher(name))
    atheris.Setup([program, *with_defaults(name, argv[2:])], harness.check)
    atheris.Fuzz()
    return 0


def instrument_covered(excluded: tuple[str, ...]) -> int:
    """Atheris instrumentation for every loaded function of the packages whose branches guide the fuzzer
    (``COVERED``: this package, and the parsers it hands untrusted bytes to), except the excluded modules.
    Like ``atheris.instrument_all`` but scoped: instrumenting every loaded function (cryptography, starlette,
    the whole standard library) costs a minute per start and adds no guidance. Returns how many were
    instrumented."""
    import gc

    import atheris
    from atheris import instrument_bytecode

    def wanted(module: object) -> bool:
        name = module if isinstance(module, str) else ""
        return (any(name == p or name.startswith(p + ".") for p in COVERED)
                and not any(name == p or name.startswith(p + ".") for p in excluded))

    functions = [obj for obj in gc.get_objects()
                 if instrument_bytecode._is_instrumentable(obj) and wanted(getattr(obj, "__module__", None))]
    for function in functions:
        atheris.instrument_func(function)
    return len(functions)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
