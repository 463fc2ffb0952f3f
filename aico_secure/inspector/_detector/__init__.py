"""One module per detector; ``default_detectors`` is the set every inspection runs unless told otherwise.

Order matters only for ``begin_file``/``end_file``: container sniffers first (they set ``scope.kind``, which
labels raw hits), entropy last (it annotates the findings the others made).
"""

from __future__ import annotations

from aico_secure.inspector._detector.archive import ZipDetector
from aico_secure.inspector._detector.canary import CanaryDetector
from aico_secure.inspector._detector.compressed import CompressedDetector
from aico_secure.inspector._detector.duckdb import DuckDbDetector
from aico_secure.inspector._detector.entropy import EntropyDetector
from aico_secure.inspector._detector.keys import KeyDetector
from aico_secure.inspector._detector.parquet import ParquetDetector
from aico_secure.inspector._detector.pem import PemDetector
from aico_secure.inspector._detector.rocksdb_blob import RocksDbBlobDetector
from aico_secure.inspector._detector.rocksdb_sst import RocksDbSstDetector
from aico_secure.inspector._detector.sqlite import SqliteDetector
from aico_secure.inspector._detector.textfile import TextFileDetector
from aico_secure.inspector._detector.vectors import VectorDetector
from aico_secure.inspector._detector.wrapped import WrappedDetector
from aico_secure.inspector.interface import Detector

__all__ = ["default_detectors"]


def default_detectors() -> list[Detector]:
    return [SqliteDetector(), DuckDbDetector(), ParquetDetector(), RocksDbSstDetector(), RocksDbBlobDetector(),
            TextFileDetector(), CanaryDetector(), KeyDetector(), VectorDetector(), CompressedDetector(),
            ZipDetector(), PemDetector(), WrappedDetector(), EntropyDetector()]
