"""Near-duplicate notices: the same notice reposted with other page furniture, a few
characters changed, or converted to traditional characters.

Each notice's body (header, title lines and footer left out, in match form so traditional
and simplified agree, punctuation and spaces dropped) becomes a MinHash of its 5-character
shingles (datasketch); an LSH index finds earlier notices whose estimated Jaccard
similarity is at least ``THRESHOLD``. The first copy in input order is the one others
point to with ``documents.duplicate_of``.

The shingles are hashed with numpy in one pass (a 64-bit polynomial of the five code
points, finished with MurmurHash3's fmix64) instead of one SHA-1 call per shingle in
Python; datasketch applies its permutations to those values. Python's own ``hash`` is
never used, so every process and machine gives the same signature.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from pipeline.types import Notice, SegmentKind

NUM_PERM = 64
THRESHOLD = 0.8
SHINGLE = 5
SCHEME = "affine32"
SHINGLE_HASH = "poly-fmix64-32"  # named in the signatures file, so another hashing is never mixed in
_NOT_CONTENT = re.compile(r"[\W_]+")
_SKIPPED = {SegmentKind.HEADER, SegmentKind.FOOTER, SegmentKind.TITLE, SegmentKind.BOILERPLATE}


def body_key(notice: Notice) -> str:
    mt = notice.source.match_text
    parts = [mt[s.start : s.end] for s in notice.segments if s.kind not in _SKIPPED]
    return _NOT_CONTENT.sub("", "".join(parts))


def shingle_hashes(key: str) -> np.ndarray:
    """32-bit hashes of every ``SHINGLE``-character window of ``key``, computed together."""
    points = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(points) - SHINGLE + 1
    h = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE):  # wrapping uint64 arithmetic is the intended modulus
        h = h * np.uint64(0x100000001B3) ^ points[k : k + n]
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h >> np.uint64(32)


@lru_cache(maxsize=1)
def _permutations() -> np.ndarray:
    """datasketch's permutations for our seed, drawn once per process instead of per notice."""
    return MinHash(num_perm=NUM_PERM, seed=7, scheme=SCHEME).permutations


def signature(notice: Notice) -> list[int] | None:
    """MinHash values of the notice's body, or None when it has too little text to compare."""
    key = body_key(notice)
    if len(key) < 50:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=7, scheme=SCHEME, hashfunc=int, permutations=_permutations())
    minhash.update_batch(shingle_hashes(key).tolist())
    return [int(v) for v in minhash.hashvalues]


class NearDuplicateIndex:
    """LSH over the signatures seen so far; ``query`` names the first similar notice."""

    def __init__(self, threshold: float = THRESHOLD):
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._order: dict[str, int] = {}
        self._minhash: dict[str, MinHash] = {}

    @staticmethod
    def _as_minhash(values: list[int]) -> MinHash:
        return MinHash(
            num_perm=NUM_PERM,
            seed=7,
            hashvalues=np.array(values, dtype=np.uint64),
            scheme=SCHEME,
            permutations=_permutations(),  # drawing them again per call cost the main process 0.5 ms a notice
        )

    def add(self, doc_id: str, values: list[int] | None) -> None:
        if values is None or doc_id in self._order:
            return
        minhash = self._as_minhash(values)
        self._lsh.insert(doc_id, minhash)
        self._order[doc_id] = len(self._order)
        self._minhash[doc_id] = minhash

    def query(self, values: list[int] | None) -> str | None:
        if values is None or not self._order:
            return None
        minhash = self._as_minhash(values)
        close = [d for d in self._lsh.query(minhash) if self._minhash[d].jaccard(minhash) >= self.threshold]
        return min(close, key=self._order.__getitem__) if close else None
