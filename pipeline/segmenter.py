"""Word segmentation: jieba as the reference, rjieba (its Rust port, same dictionary) for speed.

Each ``Segmenter`` owns its tokenizer instance with the project's domain dictionary
(``resources/userdict.txt``: 民主生活会, 派驻纪检组 …); jieba's shared default instance is
never modified. ``tests/test_segmenter.py`` checks that both give the same words.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

USERDICT = Path(__file__).parent / "resources" / "userdict.txt"
KINDS = ("rjieba", "jieba")


def _userdict_entries() -> list[tuple[str, int, str | None]]:
    entries = []
    for line in USERDICT.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts:
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 20
            entries.append((parts[0], freq, parts[2] if len(parts) > 2 else None))
    return entries


class Segmenter:
    """``cut(text) -> list[str]`` with the domain dictionary, backed by rjieba or jieba."""

    def __init__(self, kind: str = "rjieba"):
        if kind not in KINDS:
            raise ValueError(f"segmenter must be one of {KINDS}, not {kind!r}")
        self.kind = kind
        if kind == "rjieba":
            import rjieba

            self._impl = rjieba.Jieba()
            for word, freq, tag in _userdict_entries():
                self._impl.add_word(word, freq, tag)
            self._cut = lambda text: self._impl.cut(text, True)
        else:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            self._impl = jieba.Tokenizer()
            self._impl.load_userdict(str(USERDICT))
            self._cut = lambda text: self._impl.lcut(text, HMM=True)

    def cut(self, text: str) -> list[str]:
        return list(self._cut(text))


@lru_cache(maxsize=2)
def shared(kind: str = "rjieba") -> Segmenter:
    """One segmenter per process and kind, built on first use (dictionaries are large)."""
    return Segmenter(kind)
