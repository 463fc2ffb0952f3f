"""Approximate distance-comparison-preserving encryption (DCPE) of embedding vectors.

Why: a vector database must compare distances between stored vectors and a query, so embeddings cannot be
sealed with an AEAD like everything else, yet an embedding in the clear can be inverted back to much of the
text it came from. This is the scale-and-perturb scheme of Fuchsbauer, Ghosal, Hauke and O'Neill,
"Approximate Distance-Comparison-Preserving Symmetric Encryption" (SCN 2022), with one addition::

    c = s * Q x + lambda,   lambda uniform in the ball of radius s * beta / 4

* ``s`` is a secret scale factor and ``beta`` the approximation parameter of the paper: if
  ``|x - y| < |x - z| - beta`` then ``|c_x - c_y| < |c_x - c_z|`` for every encryption, so nearest-neighbour
  search over ciphertexts returns the plaintext neighbours up to ``beta``. Noise is fresh for every encryption
  (from the OS CSPRNG), queries included, so equal vectors give unrelated ciphertexts.
* ``Q`` is a secret random orthogonal matrix (Haar distributed, generated from an AES-CTR keystream keyed
  from the data key). It preserves every distance exactly and is our addition: without it ``c / |c|`` is
  within ``beta / 4`` of ``x / |x|``, i.e. a normalised embedding would be readable up to the noise.

What it leaks (see docs/stores.md): approximate distances and their order between all stored vectors and
queries (that is the point), hence cluster structure and near-duplicates; vector norms up to ``s``; with
``d`` or more known plaintext/ciphertext pairs an attacker can estimate ``Q`` and ``s``. Ciphertexts are not
decryptable (the noise is not kept); stores keep an AEAD-sealed exact copy when they need the vector back.

This is a hazmat module: it takes raw secrets and arrays and knows nothing about stores or key ids.
"""

from __future__ import annotations

import math
import os
from typing import NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aico_secure.crypto.raw import ctr_keystream
from aico_secure.crypto.subkeys import derive_subkey
from aico_secure.sensitive import SecretBytes

SCALE_MIN = 2.0**10
SCALE_MAX = 2.0**20
MAX_DIMENSION = 8192
DEFAULT_BETA = 0.1  # plaintext distance units; recall@10 ~0.95 on the synthetic set of verification/stores


def _uniform_open01(raw: bytes, count: int) -> NDArray[np.float64]:
    """``count`` floats uniform in (0, 1) from 8 random bytes each (53-bit mantissa, never exactly 0)."""
    words = np.frombuffer(raw, dtype="<u8", count=count)
    return ((words >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 2.0**53)


def _normals(raw: bytes, count: int) -> NDArray[np.float64]:
    """``count`` standard normal samples by Box-Muller from ``8 * 2 * ceil(count / 2)`` random bytes."""
    pairs = (count + 1) // 2
    u = _uniform_open01(raw, 2 * pairs).reshape(pairs, 2)
    radius = np.sqrt(-2.0 * np.log(u[:, 0]))
    angle = 2.0 * math.pi * u[:, 1]
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])[:count]


def _normal_bytes(count: int) -> int:
    return 16 * ((count + 1) // 2)


def _rotation(key: SecretBytes, dimension: int) -> NDArray[np.float64]:
    """A Haar-random orthogonal matrix: QR of a Gaussian matrix, signs fixed by R's diagonal (Mezzadri 2007)."""
    count = dimension * dimension
    gaussian = _normals(ctr_keystream(key.reveal(), _normal_bytes(count)), count).reshape(dimension, dimension)
    q, r = np.linalg.qr(gaussian)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return np.asarray(q * signs, dtype=np.float64)


class DcpeKey:
    """The secret parameters for one vector dimension. Its repr says nothing about them."""

    __slots__ = ("_beta", "_rotation_t", "_scale", "dimension")

    def __init__(self, data_key: SecretBytes, dimension: int, *, beta: float = DEFAULT_BETA) -> None:
        if not isinstance(dimension, int) or isinstance(dimension, bool) or not 1 <= dimension <= MAX_DIMENSION:
            raise ValueError(f"vector dimension must be an integer in 1..{MAX_DIMENSION}")
        if not (isinstance(beta, float | int) and math.isfinite(beta) and beta >= 0):
            raise ValueError("beta must be a finite, non-negative number")
        if len(data_key) < 32:
            raise ValueError("a DCPE key needs at least 256 bits of key material")
        self.dimension = dimension
        self._beta = float(beta)
        scale_bytes = derive_subkey(data_key, "dcpe/scale", length=8).reveal()
        fraction = _uniform_open01(scale_bytes, 1)[0]
        self._scale = SCALE_MIN + fraction * (SCALE_MAX - SCALE_MIN)
        # Q transposed, in float32. Why: once a vector store's search has evicted it from the CPU caches, reading
        # the matrix is most of an encryption's cost, and float32 halves it. Ciphertexts are float32 anyway, and
        # the product's rounding (about 1e-6 of s|x|) is the order of that final rounding and far below the
        # noise (radius s * beta / 4), so what a ciphertext preserves or reveals does not change.
        rotation = _rotation(derive_subkey(data_key, f"dcpe/rotation/d{dimension}"), dimension)
        self._rotation_t = np.ascontiguousarray(rotation.T, dtype=np.float32)

    def __repr__(self) -> str:
        return f"DcpeKey(dimension={self.dimension}, <secret parameters redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("DcpeKey refuses to be pickled")

    @property
    def beta(self) -> float:
        return self._beta

    def encrypt(self, vectors: ArrayLike) -> NDArray[np.float32]:
        """Encrypt one vector (shape ``(d,)``) or a batch (shape ``(n, d)``) with fresh noise for each."""
        plain = np.asarray(vectors, dtype=np.float64)
        single = plain.ndim == 1
        batch = plain.reshape(1, -1) if single else plain
        if batch.ndim != 2 or batch.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of dimension {self.dimension}")
        if not np.all(np.isfinite(batch)):
            raise ValueError("vectors must be finite (no NaN or infinity)")
        n, d = batch.shape
        noise = self._noise(n, d)
        cipher = self._scale * (batch.astype(np.float32) @ self._rotation_t).astype(np.float64) + noise
        if not np.all(np.isfinite(cipher.astype(np.float32))):
            raise ValueError("vector components too large to encrypt into float32")
        out: NDArray[np.float32] = cipher.astype(np.float32)
        return out.reshape(d) if single else out

    def _noise(self, n: int, d: int) -> NDArray[np.float64]:
        """Uniform samples from the ball of radius ``s * beta / 4``: random direction, radius ``r * U^(1/d)``."""
        if self._beta == 0:
            return np.zeros((n, d))
        raw = os.urandom(_normal_bytes(n * d) + 8 * n)
        direction = _normals(raw[: _normal_bytes(n * d)], n * d).reshape(n, d)
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        radius_fraction = _uniform_open01(raw[_normal_bytes(n * d):], n) ** (1.0 / d)
        noise: NDArray[np.float64] = direction * (self._scale * self._beta / 4.0 * radius_fraction)[:, None]
        return noise
