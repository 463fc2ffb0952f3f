#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: one fuzzer per harness of the registry (aico_secure/fuzz/_harness/), so a
# new harness is fuzzed without touching this file. Runs in the source tree ($SRC/aico-secure) with $SRC, $OUT
# and $WORK set by the builder.
#
# For each harness NAME:
#   $SRC/fuzz_NAME.py               a wrapper calling aico_secure.fuzz.entry for NAME (what libFuzzer re-runs)
#   $OUT/fuzz_NAME                  the wrapper packaged by compile_python_fuzzer (PyInstaller)
#   $OUT/fuzz_NAME_seed_corpus.zip  fuzz/corpus/NAME/ (or, if that is empty, the harness's own seeds)
#   $OUT/fuzz_NAME.dict             the harness's dictionary, if it has one
#   $OUT/fuzz_NAME.options          [libfuzzer] timeout / rss_limit_mb / max_len of the harness
set -euo pipefail  # also when run as `bash build.sh`, which ignores the flags of the first line

# Install the project with the builder's flags (its C extensions, if any, built with the sanitizer's flags).
pip3 install .

python3 - "$SRC" "$OUT" "$(pwd)" > "$WORK/aico-fuzzers.txt" <<'PY'
import hashlib
import sys
import zipfile
from pathlib import Path

from aico_secure.fuzz import campaign, files, registry

src, out, tree = (Path(a) for a in sys.argv[1:4])
for name in registry.names():
    harness = registry.load(name)
    fuzzer = f"fuzz_{name}"
    (src / f"{fuzzer}.py").write_text(campaign.wrapper_source(name), encoding="utf-8")
    (out / f"{fuzzer}.options").write_text(
        f"[libfuzzer]\ntimeout = {harness.timeout_s}\nrss_limit_mb = {harness.rss_limit_mb}\n"
        f"max_len = {harness.max_len}\n", encoding="utf-8")
    if harness.dictionary:
        (out / f"{fuzzer}.dict").write_text(files.dictionary_text(harness.dictionary), encoding="utf-8")
    corpus = files.corpus_dir(name, tree / "fuzz")
    stored = sorted(p for p in corpus.iterdir() if p.is_file()) if corpus.is_dir() else []
    with zipfile.ZipFile(out / f"{fuzzer}_seed_corpus.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        if stored:
            for path in stored:
                archive.write(path, path.name)
        else:  # a checkout without the corpus: the reference build's own writes
            harness.setup()
            try:
                for _label, data in harness.seeds():
                    archive.writestr(hashlib.sha1(data, usedforsecurity=False).hexdigest(), data)
            finally:
                harness.teardown()
    print(fuzzer)
PY

# The harnesses are imported by name at run time (importlib), so PyInstaller must be told to take the whole
# package and its data files.
while read -r fuzzer; do
  compile_python_fuzzer "$SRC/$fuzzer.py" --collect-submodules=aico_secure --collect-data=aico_secure
done < "$WORK/aico-fuzzers.txt"
