"""RocksDB SST files: every block found through the table's own index, decompressed and scanned.

RocksDB compresses data blocks (snappy by default, also LZ4, zstd, zlib as raw deflate, bzip2), and raw snappy
and LZ4 blocks have no magic bytes, so a plaintext value in an SST is invisible to a byte search. This detector
reads the footer, the metaindex and the index (see ``_sst``), checks that the data blocks tile the start of the
file, and scans each decompressed block with the same patterns as everything else.

An SST whose data blocks hold readable prose is reported as a readable plaintext container (medium): AICO
stores are meant to encrypt values before they reach the engine, so only keys and ciphertext should be there.
An SST that cannot be decoded completely is reported as not fully inspected, never as clean.
"""

from __future__ import annotations

from collections import Counter

from aico_secure.inspector._detector import _sst
from aico_secure.inspector._detector._readable import readable_text
from aico_secure.inspector.interface import Detector, Scope, Stream


class RocksDbSstDetector(Detector):
    name = "rocksdb-sst"
    raw_only = True

    def begin_file(self, scope: Scope) -> None:
        if _sst.is_sst(scope.tail):
            scope.kind = "rocksdb-sst"

    def end_file(self, scope: Scope) -> None:
        if scope.kind != "rocksdb-sst":
            return
        try:
            self._decode(scope)
        except _sst.SstError as exc:
            scope.unreadable("rocksdb-sst", f"SST not fully decoded: {exc}")

    def _decode(self, scope: Scope) -> None:
        read, size, cap = scope.read_at, scope.size, scope.limits.decode_cap
        footer = _sst.read_footer(read, size)
        fv = footer.format_version

        def block(handle: _sst.Handle) -> tuple[bytes, str]:
            return _sst.read_block(read, size, handle, fv, cap)

        meta_contents, _ = block(footer.metaindex)
        meta = _sst.metaindex(meta_contents)
        index_handle = footer.index or meta.get(b"rocksdb.index")
        if index_handle is None:
            raise _sst.SstError("no index handle in the footer or the metaindex")
        properties = meta.get(b"rocksdb.properties")
        itype = _sst.index_type(block(properties)[0]) if properties else _sst.INDEX_BINARY
        parse = {"value_delta": fv >= 4, "first_key": itype == _sst.INDEX_FIRST_KEY}
        most = size // _sst.TRAILER + 1  # data blocks tile the file: each takes at least its trailer
        index_contents, _ = block(index_handle)
        handles = _sst.index_handles(index_contents, **parse, limit=most)
        index_blocks = [(index_handle, index_contents)]
        if itype == _sst.INDEX_TWO_LEVEL:
            # Partitions are decoded before anything is scanned (so before the scan's budget sees them), and a
            # hostile index can list one compression bomb thousands of times: bounded here by the file's budget.
            partitions, handles = handles, []
            budget, decoded = scope.limits.file_decode_budget(size), 0
            for partition in partitions:
                contents, _ = block(partition)
                decoded += len(contents)
                if decoded > budget:
                    raise _sst.SstError(f"index partitions decode to more than the per-file budget of {budget} bytes")
                index_blocks.append((partition, contents))
                handles += _sst.index_handles(contents, **parse, limit=most - len(handles))
        _check_tiling(handles)

        compressions: Counter[str] = Counter()
        readable = 0
        for handle in handles:
            contents, compression = block(handle)
            compressions[compression] += 1
            scope.scan_decoded([contents], container=f"rocksdb-sst:block@{handle.offset}/{compression}",
                               origin=handle.offset)
            if readable_text(contents) is not None:
                readable += 1
        for name, handle in sorted(meta.items()):
            contents, _ = block(handle)
            scope.scan_decoded([contents], container=f"rocksdb-sst:{name.decode('ascii', 'replace')}",
                               origin=handle.offset)
        for handle, contents in index_blocks:
            scope.scan_decoded([contents], container="rocksdb-sst:index", origin=handle.offset)
        summary = ", ".join(f"{n} {c}" for c, n in sorted(compressions.items()))
        scope.observe(self.name, f"RocksDB SST format_version {fv}: {len(handles)} data block(s) ({summary}) "
                      "decoded and scanned", data_blocks=len(handles), format_version=fv)
        if readable:
            scope.report(Stream(container="rocksdb-sst"), 0, "container:rocksdb-sst", "readable-blocks",
                         detector=self.name, severity="medium",
                         detail=f"{readable} of {len(handles)} data block(s) hold readable text")


def _check_tiling(handles: list[_sst.Handle]) -> None:
    """Data blocks are written back to back from offset 0: anything else means the index was misread."""
    expected = 0
    for handle in sorted(handles, key=lambda h: h.offset):
        if handle.offset != expected:
            raise _sst.SstError(f"data blocks do not tile the file (gap or overlap at {expected})")
        expected = handle.offset + handle.size + _sst.TRAILER
