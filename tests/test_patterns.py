"""Guarded patterns: the literal test in front of a pattern never hides one of its matches."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline import entities, ingest
from pipeline.patterns import Guarded
from pipeline.patterns import entities as entity_patterns
from pipeline.patterns import structure as structure_patterns

REPO = Path(__file__).resolve().parents[1]


def _guarded_patterns() -> list[tuple[str, Guarded]]:
    out = []
    for name, value in vars(entity_patterns).items():
        if isinstance(value, Guarded):
            out.append((name, value))
        elif isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
            out += [(f"{name}[{form}]", g) for form, g in value if isinstance(g, Guarded)]
    return out


GUARDED = _guarded_patterns()
NAMES = [name for name, _ in GUARDED]


def test_the_slow_entity_patterns_are_guarded():
    for name in ("ORG", "MONEY", "PERCENT", "QUANTITY", "CN_QUANTITY", "ROUND", "BODY", "DATE_FORMS[ymd]"):
        assert name in NAMES


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    labelled = sorted((REPO / "data" / "labelled" / "notices").glob("*"))
    files = sorted((REPO / "data" / "raw").iterdir()) + labelled
    return [line for f in files for line in ingest.read_document(f).match_text.split("\n") if line.strip()]


@pytest.mark.parametrize("name", NAMES)
def test_every_match_in_the_corpus_holds_a_literal(name, paragraphs):
    guard = dict(GUARDED)[name]
    matches = [m.group() for text in paragraphs for m in guard.pattern.finditer(text)]
    assert all(any(lit in found for lit in guard.literals) for found in matches)
    found_guarded = [m.group() for text in paragraphs for m in guard.finditer(text)]
    assert found_guarded == matches


ALPHABET = (
    "0123456789年月日号元万亿%百分之一二三四五六七八九十两第轮届"
    "巡视察组办公室纪委监检审计局省市县党组委约余多个次人项-./ 〔〕"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_no_generated_match_lacks_a_literal(text):
    for _name, guard in GUARDED:
        for m in guard.pattern.finditer(text):
            assert any(lit in m.group() for lit in guard.literals), (guard.pattern.pattern, m.group())


GATED = [(name, g) for name, g in GUARDED if g.opens_with]


def test_the_date_money_and_count_patterns_open_with_their_first_characters():
    assert {"MONEY", "PERCENT", "QUANTITY", "CN_QUANTITY", "DATE_FORMS[md]"} <= {n for n, _ in GATED}


@pytest.mark.parametrize("name", [n for n, _ in GATED])
def test_an_opening_class_keeps_every_match_of_the_corpus(name, paragraphs):
    import re

    guard = dict(GATED)[name]
    opening = re.compile(guard.opens_with)
    for text in paragraphs:
        plain = _spans(guard.plain, text)
        assert all(opening.match(text, start) for (start, _), _ in plain), name
        assert _spans(guard.pattern, text) == plain, (name, text)


def _protected_as_written():
    import re

    return re.compile(entity_patterns._PROTECTED.replace("<email>", ""))


def test_protected_numbers_open_with_their_first_characters_on_the_corpus(paragraphs):
    plain = _protected_as_written()
    for text in paragraphs:
        assert _spans(entity_patterns.PROTECTED_WITHOUT_EMAIL, text) == _spans(plain, text)


_GATED_ALPHABET = ALPHABET + "今去前明本超过共计合累近度份底初今年 \n索引编文邮政码htp:/w【】[]()院楼条款"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_GATED_ALPHABET, max_size=40))
@example("去年3月 12月5日至6日 约5000余万元 超过30% 共计十二个 2024.1.5")
@example("〔2024〕3号 索引号:11-2 邮编:100000 0731-8888888 13912345678 9:30 http://a.b 第三轮 五届")
def test_an_opening_class_keeps_every_generated_match(text):
    for name, guard in GATED:
        assert _spans(guard.pattern, text) == _spans(guard.plain, text), name
    protected = entity_patterns.PROTECTED_WITHOUT_EMAIL
    assert _spans(protected, text) == _spans(_protected_as_written(), text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET + "编邮政码索引http:w@abc_", max_size=40))
def test_protected_spans_without_the_email_branch_are_the_same_where_there_is_no_at(text):
    spans = [m.span() for m in entity_patterns.PROTECTED.finditer(text)]
    if "@" not in text:
        assert [m.span() for m in entity_patterns.PROTECTED_WITHOUT_EMAIL.finditer(text)] == spans
    assert entities.protected_spans(text) == spans


def test_protected_spans_on_the_corpus(paragraphs):
    for text in paragraphs:
        assert entities.protected_spans(text) == [m.span() for m in entity_patterns.PROTECTED.finditer(text)]
    assert entities.protected_spans("邮箱:zg_2024@example.cn,电话0551-1234567") == [(3, 21), (24, 36)]


def _first_items(text: str) -> list[tuple[str, str]]:
    """(family, marker text) of every match worth ordinal 1, as the enumeration parser takes it."""
    from pipeline.patterns import structure as structure_patterns
    from pipeline.structure import cn_to_int

    found = []
    for family, regex in structure_patterns.ENUM_FAMILIES:
        for m in regex.finditer(text):
            num = m.group("num")
            first = num == "首先" if family == "sequence_words" else cn_to_int(num) == 1
            if first:
                found.append((family, m.group()))
    return found


def test_every_enumeration_family_names_the_literals_of_its_first_item(paragraphs):
    from pipeline.patterns import structure as structure_patterns

    literals = structure_patterns.FIRST_ITEM_LITERALS
    assert set(literals) == {family for family, _ in structure_patterns.ENUM_FAMILIES}
    firsts = [item for text in paragraphs for item in _first_items(text)]
    assert {family for family, _ in firsts} >= {"cn_shi", "paren_num", "arabic", "paren_cn", "circled"}
    assert all(any(lit in marker for lit in literals[family]) for family, marker in firsts)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="一二三四五六七八九十是第首先其次最后0123456789()、.,;。①②\n 整改", max_size=30))
def test_no_generated_first_item_lacks_its_literal(text):
    from pipeline.patterns import structure as structure_patterns

    for family, marker in _first_items(text):
        assert any(lit in marker for lit in structure_patterns.FIRST_ITEM_LITERALS[family]), (family, marker)


PHONES_PLAIN = r"|(?<!\d)(?:0\d{2,3}-?\d{7,8}|1[3-9]\d{9})(?!\d)"
PHONES_FAST = r"|0(?<!\d0)\d{2,3}-?\d{7,8}(?!\d)|1(?<!\d1)[3-9]\d{9}(?!\d)"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789-号第轮〔〕()邮编:一二届 a", max_size=40))
def test_phone_branch_matches_like_its_plain_lookbehind_form(text):
    import re

    assert PHONES_FAST in entity_patterns._PROTECTED
    plain = re.compile(entity_patterns._PROTECTED.replace(PHONES_FAST, PHONES_PLAIN).replace("<email>", ""))
    fast = entity_patterns.PROTECTED_WITHOUT_EMAIL
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]
    assert [m.span() for m in fast.finditer(f"电话0551-1234567,{text}13912345678")] == [
        m.span() for m in plain.finditer(f"电话0551-1234567,{text}13912345678")
    ]


# --- structure patterns rewritten to open with a literal: each equals its plain form -------

_BOUNDARY_PLAIN = r"(?:(?<=^)|(?<=[\n。;:,!?)\] ]))"
_CN = structure_patterns.CN
_ENUM_PLAIN = {
    "cn_shi": rf"{_BOUNDARY_PLAIN}(?P<marker>(?P<num>{_CN})是)",
    "paren_num": rf"{_BOUNDARY_PLAIN}(?P<marker>\((?P<num>\d{{1,2}})\))",
    "circled": rf"(?P<marker>(?P<num>[{structure_patterns.CIRCLED}]))",
    "half_paren_num": rf"{_BOUNDARY_PLAIN}(?P<marker>(?P<num>\d{{1,2}})\))",
    "di_cn": rf"{_BOUNDARY_PLAIN}(?P<marker>第(?P<num>{_CN})[,、])",
    "sequence_words": rf"{_BOUNDARY_PLAIN}(?P<marker>(?P<num>首先|其次|再次|然后|此外|最后)),?",
    "arabic": rf"{_BOUNDARY_PLAIN}(?P<marker>(?P<num>\d{{1,2}})(?:、|\.(?![\d%])))",
    "paren_cn": rf"{_BOUNDARY_PLAIN}(?P<marker>\((?P<num>{_CN})\))",
}
_FLAT_BREAK_PLAIN = (
    r"(?:(?<=通报|报告|公告|公示|情况)|(?<=\d:\d\d)) +(?=\S)|"
    r"(?<=\S) +(?=[^ ]{8,80}?(?:通报|报告|公告)(?: |$))|"
    rf"(?<=\S) +(?=(?:{_CN})[、.](?!\d)|\((?:{_CN})\)|(?:\d{{1,2}})[.、](?![\d%])\S|问题\d{{1,3}}[:.、]|"
    r"(?:发布时间|来源|信息来源|发布日期)[:]|"
    r"(?:各界|欢迎|如对|如有|联系电话|联系方式|【打印|【关闭|打印本页|关闭窗口)|"
    r"\S{2,40}(?:党组|党委|委员会|局|办公室|院|公司|集团|政府|镇|街道) \d{4}年\d{1,2}月\d{1,2}日)"
)
_STRUCTURE_PIECES = st.sampled_from(
    [
        *"一二三十是第()12、.,;:。!?\n 9%首其最后次党组局",
        "首先",
        "其次",
        "最后",
        "通报",
        "情况",
        "12:30",
        "问题1:",
        "发布时间:",
        "欢迎",
        "2024年3月1日",
        "通报如下",
        "根据",
        "统一部署",
        "巡察",
        "——",
        "联系电话",
        "  ",
        "某某单位关于整改情况",
    ]
)
_STRUCTURE_TEXT = st.lists(_STRUCTURE_PIECES, max_size=40).map("".join)


def _spans(regex, text):
    return [(m.span(), m.groupdict()) for m in regex.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(_STRUCTURE_TEXT)
def test_enumeration_families_match_as_their_plain_boundary_forms(text):
    import re

    for family, regex in structure_patterns.ENUM_FAMILIES:
        assert _spans(regex, text) == _spans(re.compile(_ENUM_PLAIN[family]), text), family


# Flattened pages: runs of one to four spaces between the words each branch looks for,
# so a branch that takes one space too few or too many is found.
_FLAT_TEXT = st.lists(
    st.sampled_from(
        [
            *" " * 4,
            "   ",
            "通报",
            "报告",
            "公告",
            "公示",
            "情况",
            "12:30",
            "一、",
            "(二)",
            "3.",
            "12、",
            "1.5%",
            "问题2:",
            "来源:",
            "发布时间:",
            "欢迎",
            "【打印",
            "某县审计局 2024年3月1日",
            "关于整改进展情况的通报",
            "正文",
            "x",
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_STRUCTURE_TEXT, _FLAT_TEXT))
@example("关于整改情况的通报   正文")
@example("正文   关于整改进展情况的通报 正文")
@example("正文    (二)正文 12:30   x")
def test_flat_break_matches_as_its_lookbehind_first_form(text):
    import re

    plain = re.compile(_FLAT_BREAK_PLAIN)
    assert [m.span() for m in structure_patterns.FLAT_BREAK.finditer(text)] == [
        m.span() for m in plain.finditer(text)
    ]


@settings(max_examples=400, deadline=None)
@given(_STRUCTURE_TEXT)
def test_one_pass_sentences_equal_split_then_strip(text):
    from pipeline import structure

    pieces, pos = [], 0
    for m in structure_patterns.SENTENCE_SPLIT.finditer(text):
        pieces.append((pos, m.start()))
        pos = m.end()
    pieces.append((pos, len(text)))
    plain = [(a, b) for a, b in (structure._strip_span(text, a, b) for a, b in pieces) if b > a]
    assert structure._sentences(text, 0, len(text)) == plain


@settings(max_examples=400, deadline=None)
@given(_STRUCTURE_TEXT)
def test_split_not_a_measure_and_line_openings_agree_with_the_whole_patterns(text):
    p = structure_patterns
    assert bool(p.NOT_A_MEASURE.search(text)) == bool(
        p.NOT_A_MEASURE_OPENING.match(text) or p.NOT_A_MEASURE_INSIDE.search(text)
    )
    for line in text.split("\n"):
        if p.H1.match(line) or p.H2.match(line):
            assert p.HEADING_LINE_OPENING.match(line), line
        if any(regex.match(line) for _, regex in p.PROBLEM_FAMILIES):
            assert p.PROBLEM_LINE_OPENING.match(line), line
