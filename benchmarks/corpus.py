"""Varied copies of the project's own notices, for benchmarks and batch tests.

Copies differ in their numbers (counts and amounts, not dates), in encoding (one in five
GB18030) and in a closing reference line, so each has its own doc_id while keeping the
layouts and wording of real-looking notices.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "data" / "raw").iterdir()) + sorted(
    (REPO / "data" / "labelled" / "notices").glob("*.txt")
)
_COUNT = re.compile(r"(?<![\d年月.])\d{1,4}(?![\d年月日号.\-:])")


def _vary(text: str, rng: random.Random, serial: int) -> str:
    varied = _COUNT.sub(lambda m: str(rng.randint(1, 10 ** len(m.group()) - 1)), text)
    return varied + f"\n（编号：ZG-{serial:07d}）\n"


def make_corpus(n: int, out: Path, seed: int = 0) -> list[Path]:
    """Write ``n`` notices into ``out`` (sharded in folders of 1,000) and return their paths."""
    from pipeline.ingest import read_document

    rng = random.Random(seed)
    texts = [(src.suffix, read_document(src).text) for src in SOURCES]
    paths = []
    for i in range(n):
        _suffix, text = texts[i % len(texts)]
        folder = out / f"{i // 1000:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        body = _vary(text, rng, i)
        path = folder / f"notice_{i:07d}.txt"
        encoding = "gb18030" if i % 5 == 4 else "utf-8"
        path.write_bytes(body.encode(encoding, errors="replace"))
        paths.append(path)
    return paths
