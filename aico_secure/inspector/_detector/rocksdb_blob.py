"""RocksDB blob files (BlobDB, ``enable_blob_files``): large values live outside the SSTs, one record each.

With ``blob_compression_type`` set, every value is compressed on its own (snappy and LZ4 raw blocks, zstd,
zlib...), so a plaintext value there is invisible to a byte search. Layout (``db/blob/blob_log_format.h``):
a 30-byte header (magic ``0x00248f37``, version, column family, flags, compression type, expiration range),
then records of a 32-byte header (key length, value length, expiration, two CRCs), the key and the value, then
a 32-byte footer. Each compressed value is decompressed (bounded) and scanned; uncompressed values are already
covered by the byte scan of the file.
"""

from __future__ import annotations

from aico_secure.inspector._detector import _sst
from aico_secure.inspector.interface import Detector, Scope

MAGIC = (0x00248F37).to_bytes(4, "little")
HEADER = 30
RECORD_HEADER = 32
FOOTER = 32


class RocksDbBlobDetector(Detector):
    name = "rocksdb-blob"
    raw_only = True

    def begin_file(self, scope: Scope) -> None:
        if scope.size >= HEADER and scope.head[:4] == MAGIC:
            scope.kind = "rocksdb-blob"

    def end_file(self, scope: Scope) -> None:
        if scope.kind != "rocksdb-blob":
            return
        compression = _sst.COMPRESSION.get(scope.head[13])
        if compression is None:
            scope.unreadable("rocksdb-blob", f"unknown blob compression type {scope.head[13]}")
            return
        end = scope.size - FOOTER if scope.tail[-FOOTER:][:4] == MAGIC else scope.size  # no footer while open
        offset, records = HEADER, 0
        try:
            while offset + RECORD_HEADER <= end:
                header = scope.read_at(offset, RECORD_HEADER)
                key_len = int.from_bytes(header[0:8], "little")
                value_len = int.from_bytes(header[8:16], "little")
                value_at = offset + RECORD_HEADER + key_len
                if value_at + value_len > end:
                    raise _sst.SstError(f"record at {offset} runs past the end of the file")
                if compression != "none":
                    if value_len > scope.limits.decode_cap:
                        raise _sst.SstError(f"record at {offset} is larger than the decode cap")
                    value = _sst.decompress(scope.read_at(value_at, value_len), compression, 2,
                                            scope.limits.decode_cap)
                    scope.scan_decoded([value], container=f"rocksdb-blob:record@{offset}/{compression}",
                                       origin=offset)
                offset = value_at + value_len
                records += 1
        except _sst.SstError as exc:
            scope.unreadable("rocksdb-blob", f"blob file not fully decoded: {exc}")
        scope.observe(self.name, f"RocksDB blob file: {records} record(s), compression {compression}",
                      records=records)
