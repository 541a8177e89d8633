"""Near-duplicate notices: the same notice reposted with other page furniture, a few
characters changed, or converted to traditional characters.

Each notice's body (header, title lines and footer left out, in match form so traditional
and simplified agree, punctuation and spaces dropped) becomes a MinHash of its 5-character
shingles (datasketch); an LSH index finds earlier notices whose estimated Jaccard
similarity is at least ``THRESHOLD``. The first copy in input order is the one others
point to with ``documents.duplicate_of``.
"""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash, MinHashLSH

from pipeline.types import Notice, SegmentKind

NUM_PERM = 64
THRESHOLD = 0.8
SHINGLE = 5
SCHEME = "affine32"
_NOT_CONTENT = re.compile(r"[\W_]+")
_SKIPPED = {SegmentKind.HEADER, SegmentKind.FOOTER, SegmentKind.TITLE, SegmentKind.BOILERPLATE}


def body_key(notice: Notice) -> str:
    mt = notice.source.match_text
    parts = [mt[s.start : s.end] for s in notice.segments if s.kind not in _SKIPPED]
    return _NOT_CONTENT.sub("", "".join(parts))


def signature(notice: Notice) -> list[int] | None:
    """MinHash values of the notice's body, or None when it has too little text to compare."""
    key = body_key(notice)
    if len(key) < 50:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=7, scheme=SCHEME)
    minhash.update_batch([key[i : i + SHINGLE].encode("utf-8") for i in range(len(key) - SHINGLE + 1)])
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
        return MinHash(num_perm=NUM_PERM, seed=7, hashvalues=np.array(values, dtype=np.uint64), scheme=SCHEME)

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
