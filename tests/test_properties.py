"""Property tests over generated and mutated notices: the parser never fails and keeps its invariants."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline
from pipeline import ingest, structure, write
from pipeline.runner import pipeline_version

MARKERS = [
    "一、",
    "二、",
    "三、",
    "（一）",
    "(二)",
    "1.",
    "2、",
    "（1）",
    "(2)",
    "①",
    "②",
    "一是",
    "二是",
    "三是",
    "首先，",
    "其次，",
    "最后，",
    "问题1：",
    "整改情况：",
    "针对",
    "的问题。",
    "关于“",
    "”问题的整改",
    "下一步，",
]
PIECES = [
    "召开党组会议研究部署整改工作",
    "组织集中学习",
    "修订《财务管理制度》",
    "对相关责任人予以处理",
    "开展全面自查",
    "清退资金3.5万元",
    "成立领导小组",
    "。",
    "；",
    "，",
    ";",
    ",",
    "\n",
    "\r\n",
    " ",
    "\u3000",
    "關於整改",
    "——",
    "联系电话：0563-1234567",
    "中共某县某局党组\n2025年2月3日",
    "<p>",
    "发布时间:2024-05-06 08:00",
]

fragment = st.one_of(st.sampled_from(MARKERS), st.sampled_from(PIECES), st.text(max_size=6))
notices = st.lists(fragment, max_size=80).map("".join)


def check_invariants(notice) -> None:
    text = notice.text
    pos = 0
    for seg in notice.segments:
        assert seg.start == pos and seg.end > seg.start
        pos = seg.end
    assert pos == len(text)
    for m in notice.measures:
        assert text[m.start : m.end] == m.text and m.text
        assert m.scope == "problem" or m.problem_id is None
    for p in notice.problems:
        assert text[p.title_start : p.title_end] == p.title
        assert p.start <= p.title_start <= p.title_end <= p.end
    for s in notice.sections:
        assert 0 <= s.start < s.end <= len(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notices)
def test_generated_notices_keep_invariants(raw):
    try:
        text = ingest.text_from_string(raw)
    except Exception as exc:  # only an empty text may be refused
        assert not raw.strip() or "EmptyFile" in type(exc).__name__ or "empty" in str(exc)
        return
    if not text.text:
        return
    notice = structure.parse_structure(text)
    check_invariants(notice)
    again = structure.parse_structure(ingest.text_from_string(raw))
    assert [m.measure_id for m in again.measures] == [m.measure_id for m in notice.measures]


@pytest.fixture(scope="module")
def tagger():
    from pipeline.tag import Tagger

    return Tagger.default()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_samples_keep_invariants(tagger, data):
    from conftest import RAW

    sample = data.draw(st.sampled_from(sorted(RAW.iterdir())))
    base = ingest.read_document(sample).text
    cut = data.draw(st.integers(0, len(base)))
    length = data.draw(st.integers(0, 200))
    insert = data.draw(st.one_of(st.sampled_from(MARKERS + PIECES), st.text(max_size=10)))
    mutated = base[:cut] + insert + base[cut + length :]
    if not ingest.normalise(mutated):
        return
    notice = pipeline.parse(mutated, tagger=tagger)
    check_invariants(notice)
    tables = write.to_frames(write.to_arrow([notice], [], pipeline_version()))
    doc_text = tables["documents"].text[0]
    for name in ("measures", "entities"):
        for row in tables[name].itertuples():
            assert doc_text[row.start : row.end] == row.text


def test_samples_tile_and_rows_match_text():
    from conftest import RAW

    tables = pipeline.run(RAW)
    texts = dict(zip(tables["documents"].doc_id, tables["documents"].text, strict=True))
    for row in tables["measures"].itertuples():
        assert texts[row.doc_id][row.start : row.end] == row.text
    for doc_id, seg in tables["segments"].groupby("doc_id"):
        seg = seg.sort_values("start")
        assert seg.start.iloc[0] == 0 and seg.end.iloc[-1] == len(texts[doc_id])
        assert (seg.start.iloc[1:].to_numpy() == seg.end.iloc[:-1].to_numpy()).all()


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.text(alphabet="整改 。，1一是 ", max_size=30),
            st.text(alphabet="措施落实到位 。一二三、是通报  ", min_size=120, max_size=200),
        ),
        max_size=8,
    ),
    at=st.integers(min_value=0, max_value=2000),
)
def test_logical_lines_from_an_offset_are_the_tail_of_all_lines(lines, at):
    """The fields stage reads only the lines from the footer on, without splitting the rest."""
    mt = "\n".join(lines)
    at = min(at, len(mt))
    line_start = mt.rfind("\n", 0, at) + 1
    tail = [ln for ln in structure.logical_lines(mt) if ln.end >= line_start]
    assert structure.logical_lines(mt, at) == tail
