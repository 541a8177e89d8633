"""Every embedded sample in data/raw gives exactly the problems and measures of its gold file."""

from __future__ import annotations

import json

import pytest
from conftest import RAW, sample_golds

import pipeline

PUNCT = " 。.;；,，:：\n"


def _gold(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=sample_golds(), ids=lambda p: p.stem)
def case(request):
    gold = _gold(request.param)
    return gold, pipeline.parse(RAW / gold["file"])


def test_at_least_eight_samples_each_with_gold():
    files = sorted(p.name for p in RAW.iterdir() if not p.name.startswith("."))
    golds = {_gold(p)["file"] for p in sample_golds()}
    assert len(files) >= 8
    assert set(files) == golds


def test_encoding_and_format(case):
    gold, notice = case
    assert notice.source.format == gold["format"]
    assert notice.source.encoding.startswith(gold["encoding"])


def test_problems_match_gold(case):
    gold, notice = case
    got = [
        (p.no, p.marker, p.title.rstrip(PUNCT), (p.category or "").rstrip(PUNCT) or None, p.status)
        for p in notice.problems
    ]
    want = [
        (
            p["no"],
            p["marker"],
            p["title"].rstrip(PUNCT),
            (p.get("category") or "").rstrip(PUNCT) or None,
            p.get("status"),
        )
        for p in gold["problems"]
    ]
    assert got == want


def test_measures_match_gold(case):
    gold, notice = case
    no_of = {p.problem_id: p.no for p in notice.problems}
    got = [(str(m.scope), no_of.get(m.problem_id), m.text.rstrip(PUNCT)) for m in notice.measures]
    want = [(m["scope"], m["problem_no"], m["text"].rstrip(PUNCT)) for m in gold["measures"]]
    assert got == want


def test_spans_are_exact(case):
    _, notice = case
    for m in notice.measures:
        assert notice.text[m.start : m.end] == m.text
    for p in notice.problems:
        assert notice.text[p.title_start : p.title_end] == p.title


def test_every_sample_problem_gets_the_focus_area_a_reader_gives(case):
    gold, notice = case
    assert [p.focus_area for p in notice.problems] == [p["focus_area"] for p in gold["problems"]]
