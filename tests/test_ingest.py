"""Decoding, HTML extraction and normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import ingest
from pipeline.types import ErrorStage, PipelineError

NOTICE = "关于巡察整改进展情况的通报\n一、整改情况\n1.针对台账不全的问题。一是补齐台账；二是开展自查。\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (NOTICE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + NOTICE.encode("utf-8"), "utf-8-sig"),
        (NOTICE.encode("gb18030"), "gb18030"),
        (NOTICE.encode("utf-16"), "utf-16"),
        (NOTICE.encode("utf-16-le"), "utf-16-le"),
        (NOTICE.encode("big5", errors="ignore").replace(b"\n", b"\r\n") * 3, "big5"),
    ],
)
def test_decodes_every_encoding_to_the_same_text(data, encoding):
    text = ingest.text_from_bytes(data)
    assert text.encoding.lower().replace("_", "-") == encoding
    assert "整改" in text.text or "整改" in text.match_text
    assert "\r" not in text.text


def test_truncated_utf8_is_still_utf8():
    data = NOTICE.encode("utf-8")[:-2]
    text = ingest.text_from_bytes(data)
    assert text.encoding == "utf-8 (repaired)"
    assert text.text.startswith("关于巡察整改")


@pytest.mark.parametrize(
    ("data", "stage", "error_type"),
    [
        (b"", ErrorStage.READ, "EmptyFile"),
        (b"  \n\n ", ErrorStage.READ, "EmptyFile"),
        (b"PK\x03\x04" + bytes(range(256)), ErrorStage.DECODE, "BinaryFile"),
        (bytes(range(256)) * 4, ErrorStage.DECODE, "BinaryFile"),
        (bytes([0x80, 0xFF, 0x41, 0x9F, 0xFE, 0x81]) * 50, ErrorStage.DECODE, "UnknownEncoding"),
    ],
)
def test_bad_bytes_raise_a_named_error(data, stage, error_type):
    with pytest.raises(PipelineError) as info:
        ingest.text_from_bytes(data, name="bad.txt")
    assert info.value.stage == stage
    assert info.value.error_type == error_type
    assert info.value.message.startswith("bad.txt: ")
    assert "\n" not in info.value.message


def test_crlf_bom_and_invisible_characters_are_normalised():
    data = "\ufeff标题\r\n正文\u200b一句。\r\n\r\n\r\n\r\n下一段。  \r\n".encode()
    assert ingest.text_from_bytes(data).text == "标题\n正文一句。\n\n下一段。"


def test_pdf_hard_wraps_are_joined_and_page_numbers_dropped():
    para = (
        "根据县委统一部署县委第二巡察组对我局开展了常规巡察并反馈了意见"
        "现将整改情况通报如下各项措施均已落实到位。"
    )
    wrapped = "\n".join(para[i : i + 20] for i in range(0, len(para), 20))
    text = "\n\n".join([wrapped] * 4) + "\n\n— 2 —\n\n" + "\n\n".join([wrapped] * 4)
    out = ingest.normalise(text)
    assert out.split("\n\n") == [para] * 8


def test_short_lines_are_not_joined():
    text = "一、组织领导\n成立领导小组。\n二、问题整改\n1.针对台账的问题。"
    assert ingest.normalise(text) == text


def test_match_form_folds_traditional_and_width_keeping_length():
    text = "關於巡察整改進展情況的通報（一）：１。"
    folded = ingest.match_form(text)
    assert folded == "关于巡察整改进展情况的通报(一):1。"
    assert len(folded) == len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFFEF, exclude_categories=("Cs",))))
def test_match_form_folds_every_full_width_form_and_nothing_else(text):
    folded = ingest.match_form(text)
    assert len(folded) == len(text)
    assert not any(0xFF01 <= ord(ch) <= 0xFF5E or ch == "\u3000" for ch in folded)
    simplified = ingest._t2s().convert(text)
    if len(simplified) == len(text):  # where t2s kept the length, only the width fold differs
        assert all(
            f == s or (ord(s) - ord(f) == 0xFEE0) or (s == "\u3000" and f == " ")
            for f, s in zip(folded, simplified, strict=True)
        )


def _fold_one(ch: str) -> str:
    return chr(ord(ch) - 0xFEE0) if 0xFF01 <= ord(ch) <= 0xFF5E else " " if ch == "\u3000" else ch


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            [*map(chr, range(0xFF00, 0xFF62)), "\u3000", "\u3001", " ", "a", "1", "关", "。"]
        )
    )
)
def test_width_folding_is_the_fold_of_each_character(text):
    assert ingest.fold_widths(text) == "".join(map(_fold_one, text))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x01, max_codepoint=0x2FFFF, exclude_categories=("Cs",))))
def test_cjk_share_counts_characters_as_its_definition_says(text):
    """Counted over runs for speed, the share must equal a count of single characters."""
    letters = [ch for ch in text if ord(ch) > 0x7F and not ch.isspace()]
    cjk = [ch for ch in letters if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"]
    expected = (len(cjk) / len(letters)) if letters else (1.0 if text.isascii() else 0.0)
    assert ingest._cjk_share(text) == expected


def test_html_keeps_article_and_disclosure_block_and_drops_furniture():
    html = """<html><head><title>t</title><style>p{}</style><script>var a=1;</script></head><body>
    <div class="nav"><a href="/">首页</a><a>政务公开</a></div>
    <table class="xxgk"><tr><td>索引号：</td><td>11341800-2024-0001</td></tr>
    <tr><td>发布机构：</td><td>某县某局</td></tr></table>
    <div class="article"><p>关于巡察整改情况的通报</p><p>一、整改情况</p>
    <p>1.针对<span>台账</span>不全的问题。一是补齐台账。</p></div>
    <div class="share">分享到：微信</div><div class="footer">主办单位：某县人民政府</div>
    <p>【打印本页】【关闭窗口】</p></body></html>"""
    text = ingest.text_from_bytes(html.encode(), suffix=".html").text
    assert text.split("\n") == [
        "索引号： 11341800-2024-0001",
        "发布机构： 某县某局",
        "关于巡察整改情况的通报",
        "一、整改情况",
        "1.针对台账不全的问题。一是补齐台账。",
    ]


def test_html_without_body_text_is_an_extract_error():
    with pytest.raises(PipelineError) as info:
        ingest.text_from_bytes(b"<html><head><title>x</title></head></html>", name="p.html", suffix=".html")
    assert info.value.stage == ErrorStage.EXTRACT


def test_deeply_nested_html_does_not_recurse():
    html = "<div>" * 5000 + "<p>一、整改情况</p>" + "</div>" * 5000
    assert ingest.text_from_bytes(html.encode(), suffix=".html").text == "一、整改情况"


def test_doc_id_is_hash_of_normalised_text():
    a = ingest.text_from_bytes(NOTICE.encode("utf-8"))
    b = ingest.text_from_bytes(NOTICE.replace("\n", "\r\n").encode("gb18030"))
    assert a.doc_id == b.doc_id and len(a.doc_id) == 16


def test_a_file_glued_from_utf8_and_gb18030_reads_whole():
    text = NOTICE * 3
    half = len(text) // 2 + 3  # the seam falls inside a line
    decoded = ingest.text_from_bytes(text[:half].encode("utf-8") + text[half:].encode("gb18030"))
    assert decoded.encoding == "utf-8+gb18030"
    assert decoded.text == ingest.normalise(text)


# traditional characters inside and outside OpenCC phrases (乾隆 stays, 乾淨 → 干净), full-width
# punctuation, spaces and line breaks: what a batch of measures can hold
_MATCH_FORM_CHARS = "乾隆淨後臺灣發財髮國會議問題整改，。；：（）\u3000 \n1a"
_MATCH_FORM_ALPHABET = st.sampled_from([*_MATCH_FORM_CHARS, "乾隆", "乾淨"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_MATCH_FORM_ALPHABET, max_size=12).map("".join), max_size=8))
def test_match_forms_of_a_batch_equal_match_form_text_by_text(texts):
    assert ingest.match_forms(texts) == [ingest.match_form(t) for t in texts]


def test_match_forms_converts_a_batch_in_one_pass_with_phrases_intact():
    texts = ["乾隆年間的檔案", "把賬目整理乾淨（二）", "臺灣"]
    assert ingest.match_forms(texts) == ["乾隆年间的档案", "把账目整理干净(二)", "台湾"]
    assert ingest.match_forms(["第一行\n第二行", "會議"]) == ["第一行\n第二行", "会议"]  # text by text
