"""rjieba and jieba, with the same domain dictionary, give the same Chinese words."""

from __future__ import annotations

import re

from conftest import RAW

from pipeline import ingest
from pipeline.segmenter import Segmenter

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_rjieba_and_jieba_agree_on_every_sample_paragraph():
    fast, reference = Segmenter("rjieba"), Segmenter("jieba")
    paragraphs = [
        p for path in sorted(RAW.iterdir()) for p in ingest.read_document(path).text.split("\n") if p.strip()
    ]
    assert len(paragraphs) > 100
    for paragraph in paragraphs:
        # ASCII runs (phone numbers, e-mail addresses) may be grouped differently; words may not.
        a = [w for w in fast.cut(paragraph) if CJK.search(w)]
        b = [w for w in reference.cut(paragraph) if CJK.search(w)]
        assert a == b, paragraph


def test_domain_dictionary_is_loaded_without_touching_jieba_default():
    import jieba

    assert "民主生活会" in Segmenter("rjieba").cut("召开民主生活会")
    assert "民主生活会" in Segmenter("jieba").cut("召开民主生活会")
    assert "民主生活会" not in jieba.lcut("召开民主生活会")
