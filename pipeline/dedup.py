"""Near-duplicate notices: the same notice reposted with other page furniture, a few
characters changed, or converted to traditional characters.

Each notice's body (header, title lines and footer left out, in match form so traditional
and simplified agree, punctuation and spaces dropped) becomes a MinHash of its 5-character
shingles (datasketch); an LSH index (datasketch's band layout, kept in SQLite so it costs
no memory) finds earlier notices whose estimated Jaccard similarity is at least
``THRESHOLD``. The first copy in input order is the one others
point to with ``documents.duplicate_of``.

The shingles are hashed with numpy in one pass (a 64-bit polynomial of the five code
points, finished with MurmurHash3's fmix64) instead of one SHA-1 call per shingle in
Python. The signature is datasketch's ``affine32`` MinHash of those values, with its own
permutations, computed here as one array expression: datasketch's ``update_batch`` turns
every value into a Python int first, which cost more than the hashing itself
(``tests/test_batch.py`` checks the values equal datasketch's). Python's own ``hash`` is
never used, so every process and machine gives the same signature.

datasketch itself is imported only for another threshold than ours: its permutations are
drawn here the way it draws them (numpy's ``RandomState``), and its band layout for
``THRESHOLD`` is written down as ``BANDS``, because importing it brings in
``scipy.integrate`` (a quarter of a second of every cold start); tests check both are
datasketch's.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.types import Notice, SegmentKind

NUM_PERM = 64
THRESHOLD = 0.8
SHINGLE = 5
SCHEME = "affine32"
BANDS = ((0, 11), (11, 22), (22, 33), (33, 44), (44, 55))  # MinHashLSH(THRESHOLD, NUM_PERM).hashranges
SEED = 7
SHINGLE_HASH = "poly-fmix64-32"  # named in the signatures file, so another hashing is never mixed in
_NOT_CONTENT = re.compile(r"[\W_]+")
_SKIPPED = {SegmentKind.HEADER, SegmentKind.FOOTER, SegmentKind.TITLE, SegmentKind.BOILERPLATE}


def _content_table() -> np.ndarray:
    """``table[c]``: whether the BMP character ``c`` is kept in a body key (``_NOT_CONTENT``
    drops it otherwise), found by running ``_NOT_CONTENT`` itself over every BMP character."""
    every = "".join(map(chr, range(0x10000)))
    table = np.zeros(0x10000, dtype=bool)
    table[_code_points(_NOT_CONTENT.sub("", every))] = True
    table.flags.writeable = False
    return table


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def body_key(notice: Notice) -> str:
    mt = notice.source.match_text
    parts = [mt[s.start : s.end] for s in notice.segments if s.kind not in _SKIPPED]
    return _NOT_CONTENT.sub("", "".join(parts))


def body_key_points(notice: Notice) -> np.ndarray:
    """The code points of ``body_key(notice)``, with the dropped characters masked out by a
    table instead of one regex replacement per run of punctuation (tests/test_batch.py
    checks they are the key's)."""
    mt = notice.source.match_text
    points = _code_points("".join([mt[s.start : s.end] for s in notice.segments if s.kind not in _SKIPPED]))
    astral = points > 0xFFFF
    keep = _CONTENT_BMP[np.where(astral, 0, points)]
    if astral.any():  # rare: ask the pattern itself
        keep[astral] = [_NOT_CONTENT.match(chr(c)) is None for c in points[astral]]
    return points[keep]


def shingle_hashes(key: str) -> np.ndarray:
    """32-bit hashes of every ``SHINGLE``-character window of ``key``, computed together."""
    return _shingle_hashes_of_points(_code_points(key))


def _shingle_hashes_of_points(code_points: np.ndarray) -> np.ndarray:
    points = code_points.astype(np.uint64)
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
    """datasketch's affine32 permutations for ``SEED`` (odd multipliers ``a``, offsets ``b``),
    drawn as ``MinHash._init_permutations`` draws them, once per process."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return np.array([a, b])


def band_ranges(threshold: float) -> list[tuple[int, int]]:
    """datasketch's LSH bands for ``threshold`` (``BANDS`` for ours, without importing it)."""
    if threshold == THRESHOLD:
        return list(BANDS)
    from datasketch import MinHashLSH

    return list(MinHashLSH(threshold=threshold, num_perm=NUM_PERM).hashranges)


def minhash_values(hashes: np.ndarray) -> np.ndarray:
    """datasketch's affine32 MinHash of 32-bit ``hashes``: fmix32 each, then per permutation
    the least of ``a * h + b`` (wrapping uint32 arithmetic, as datasketch computes it)."""
    h = hashes.astype(np.uint32)
    h ^= h >> np.uint32(16)  # MurmurHash3's fmix32, datasketch's pre-mix for this scheme
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    a, b = _permutations()
    permuted = np.empty((len(a), len(h)), dtype=np.uint32)  # one buffer, reduced along rows
    np.multiply(a[:, None], h[None, :], out=permuted)
    permuted += b[:, None]
    return permuted.min(axis=1)


def signature(notice: Notice) -> list[int] | None:
    """MinHash values of the notice's body, or None when it has too little text to compare."""
    points = body_key_points(notice)  # one per character of body_key(notice)
    if len(points) < 50:
        return None
    return minhash_values(_shingle_hashes_of_points(points)).tolist()


_CONTENT_BMP = _content_table()


class NearDuplicateIndex:
    """Banded LSH over the signatures seen so far, kept in SQLite; ``query`` names the
    first similar notice.

    The bands are datasketch's own for this threshold (5 bands of 11 values for 64
    permutations at 0.8), each stored as an 8-byte hash of its values; a document sharing
    any band with the query is a candidate, and a candidate counts only when the exact
    share of equal values reaches the threshold, so a hash collision never changes the
    answer. On disk (a file in the output's state folder) the index costs the run no
    memory however many notices it has seen; without a file it lives in memory.
    """

    def __init__(self, path: Path | None = None, threshold: float = THRESHOLD):
        self.threshold = threshold
        self._bands = band_ranges(threshold)
        self._db = sqlite3.connect(str(path) if path else ":memory:")
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;  -- a cache rebuilt from the committed signatures
            PRAGMA synchronous = OFF;
            CREATE TABLE IF NOT EXISTS docs (ord INTEGER PRIMARY KEY, doc_id TEXT UNIQUE, sig BLOB);
            CREATE TABLE IF NOT EXISTS bands (band INTEGER, key INTEGER, ord INTEGER);
            CREATE INDEX IF NOT EXISTS band_key ON bands (band, key);
            """
        )

    def _keys(self, values: np.ndarray) -> list[tuple[int, int]]:
        return [
            (
                band,
                int.from_bytes(
                    hashlib.blake2b(values[a:b].tobytes(), digest_size=8).digest(), "big", signed=True
                ),
            )
            for band, (a, b) in enumerate(self._bands)
        ]

    def add(self, doc_id: str, values: list[int] | None) -> None:
        if values is None:
            return
        array = np.array(values, dtype=np.uint64)
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO docs (doc_id, sig) VALUES (?, ?)", (doc_id, array.tobytes())
        )
        if cursor.rowcount:
            self._db.executemany(
                "INSERT INTO bands VALUES (?, ?, ?)",
                [(band, key, cursor.lastrowid) for band, key in self._keys(array)],
            )

    def query(self, values: list[int] | None) -> str | None:
        if values is None:
            return None
        array = np.array(values, dtype=np.uint64)
        keys = self._keys(array)
        shares_a_band = " OR ".join(["(band = ? AND key = ?)"] * len(keys))
        rows = self._db.execute(
            "SELECT ord, doc_id, sig FROM docs "
            f"WHERE ord IN (SELECT ord FROM bands WHERE {shares_a_band}) ORDER BY ord",
            [x for pair in keys for x in pair],
        )
        for _, doc_id, sig in rows:
            if np.count_nonzero(np.frombuffer(sig, dtype=np.uint64) == array) / NUM_PERM >= self.threshold:
                return doc_id
        return None

    def close(self) -> None:
        self._db.close()
