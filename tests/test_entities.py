"""Document fields and entities: the seed notice, the samples' gold, and the hard cases."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict

import pytest
from conftest import RAW, REPO, sample_golds

import pipeline
from pipeline import entities
from pipeline.ingest import match_form

SEED_TYPES = ("date", "period", "doc_title", "money", "quantity", "person")


def _value(v):
    return str(v["n"] if isinstance(v, dict) else v)


def test_seed_document_fields_equal(seed_notice, seed_gold):
    got = asdict(seed_notice.fields)
    for key, want in seed_gold["document"].items():
        assert got[key] == want, key


@pytest.mark.parametrize("kind", SEED_TYPES)
def test_seed_entities_precision_recall(seed_notice, seed_gold, kind):
    gold = {(e["start"], e["end"]) for e in seed_gold["entities"] if e["type"] == kind}
    got = {(e.start, e.end) for e in seed_notice.entities if e.type == kind}
    tp = len(gold & got)
    assert tp / len(got) >= 0.95 and tp / len(gold) >= 0.95, (sorted(gold - got), sorted(got - gold))


def test_seed_dates_and_money_values_equal(seed_notice, seed_gold):
    got = {(e.start, e.end): e for e in seed_notice.entities}
    for e in seed_gold["entities"]:
        if e["type"] in ("date", "period", "money"):
            mine = got[(e["start"], e["end"])]
            assert mine.value == _value(e["value"]), e
    money = next(e for e in seed_notice.entities if e.type == "money")
    assert money.value_num == 348200 and money.unit == "元"


def test_seed_entities_carry_their_measure_and_problem(seed_notice):
    measures = {m.measure_id: m for m in seed_notice.measures}
    title = next(e for e in seed_notice.entities if e.text == "《广德市城市管理局财务管理制度》")
    assert title.measure_id in measures and measures[title.measure_id].start <= title.start
    assert title.problem_id == measures[title.measure_id].problem_id
    assert title.doc_kind == "制度" and title.issued is True


@pytest.fixture(scope="module", params=sample_golds(), ids=lambda p: p.stem)
def sample(request):
    gold = json.loads(request.param.read_text(encoding="utf-8"))
    return gold, pipeline.parse(RAW / gold["file"])


def test_sample_fields_equal(sample):
    gold, notice = sample
    got = asdict(notice.fields)
    assert {k: got[k] for k in gold["document"]} == gold["document"]


def test_sample_entities_equal(sample):
    gold, notice = sample
    want = {(e["type"], e["start"], e["end"], _value(e["value"])) for e in gold["entities"]}
    got = {(str(e.type), e.start, e.end, e.value) for e in notice.entities if e.type in {w[0] for w in want}}
    assert got == want


def _dates(text: str, **context) -> dict[str, str]:
    found = entities.find_entities(match_form(text), entities.DateContext(**context))
    return {text[e.start : e.end]: e.value for e in found if e.type in ("date", "period")}


def test_year_less_date_across_a_year_boundary():
    from datetime import date

    text = "一是12月10日印发《财务管理办法》；二是1月6日召开党组会议。"
    got = _dates(text, feedback=date(2024, 9, 20), signing=date(2025, 2, 12))
    assert got == {"12月10日": "2024-12-10", "1月6日": "2025-01-06"}


def test_years_named_relative_to_the_time_of_writing():
    from datetime import date

    text = "去年10月至今年1月开展排查；今年3月5日召开会议；明年6月底前完成；本年度修订制度2项；前年追回资金。"
    got = _dates(text, signing=date(2025, 2, 18))
    assert got == {
        "去年10月至今年1月": "2024-10/2025-01",
        "今年3月5日": "2025-03-05",
        "明年6月底": "2026-06",
        "本年度": "2025",
        "前年": "2023",
    }
    assert _dates("今年3月召开会议。") == {}  # no date of writing to count from
    assert _dates("收回以前年度借款，说明年度预算调整情况。", signing=date(2025, 2, 18)) == {}


def test_year_less_date_takes_the_year_its_period_names():
    text = "2023年3月4日至5月6日，县委巡察组进行了巡察，并于6月12日反馈了意见。"
    got = _dates(text)
    assert got == {"2023年3月4日至5月6日": "2023-03-04/2023-05-06", "6月12日": "2023-06-12"}


def test_year_less_dates_lean_on_years_named_in_earlier_paragraphs_only():
    text = (
        "县委第二巡察组对我局开展了巡察。\n一、整改情况\n"
        "1.针对台账不全的问题。一是3月5日补齐台账。\n二是2023年4月清理往来款。\n三是5月8日召开会议。"
    )
    notice = pipeline.parse(text)
    values = {e.text: e.value for e in notice.entities if e.type == "date"}
    # 5月8日 follows the line naming 2023; 3月5日 comes before any year, takes none from
    # later lines and, with no year to give it, is left out
    assert values == {"2023年4月": "2023-04", "5月8日": "2023-05-08"}
    assert entities.explicit_years(match_form("2023年\n4月开展")) == []  # a date never spans two lines


def test_notice_signed_in_february_resolves_december_to_the_year_before():
    text = (
        "根据县委统一部署，县委第二巡察组对我局开展了巡察。\n一、整改情况\n"
        "1.针对台账不全的问题。一是12月10日补齐台账。\n中共某县某局党组\n2025年2月18日"
    )
    notice = pipeline.parse(text)
    assert notice.fields.signing_date == "2025-02-18"
    assert [e.value for e in notice.entities if e.text == "12月10日"] == ["2024-12-10"]


def test_document_numbers_phones_and_postcodes_are_not_counts_or_dates():
    text = (
        "依据《通知》(皖财购〔2022〕556 号)和财购〔2022〕194号，"
        "联系电话：0563-6031988，邮编：242200，门牌47号，第六轮巡察。"
    )
    found = entities.find_entities(match_form(text))
    kinds = defaultdict(list)
    for e in found:
        kinds[str(e.type)].append(text[e.start : e.end])
    assert kinds["quantity"] == [] and kinds["date"] == []


@pytest.mark.parametrize(
    ("text", "value", "unit", "approx"),
    [
        ("追回资金34.82万元", "348200", "元", False),
        ("收回约1.5亿元", "150000000", "元", True),
        ("退还3000余元", "3000", "元", True),
        ("开展错时巡查130余次", "130", "次", True),
        ("召开五次会议", "5", "次", False),
        ("排查十二个点位", "12", "个", False),
        ("施划停车标线约150米", "150", "米", True),
    ],
)
def test_money_and_quantities_are_normalised(text, value, unit, approx):
    found = [e for e in entities.find_entities(match_form(text)) if e.type in ("money", "quantity")]
    assert [(e.value, e.unit, e.approx) for e in found] == [(value, unit, approx)]


def test_people_exclude_their_roles():
    text = "局党组书记、局长扶元金同志主持召开会议，党委书记、董事长沈伯钧对整改作出部署。"
    found = [text[e.start : e.end] for e in entities.find_entities(match_form(text)) if e.type == "person"]
    assert found == ["扶元金", "沈伯钧"]


def test_nlp_gives_doc_ents_aligned_to_tokens():
    nlp = pipeline.nlp()
    doc = nlp("2024年9月14日，局长扶元金同志组织学习《中华人民共和国招标投标法》，追回资金34.82万元。")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("2024年9月14日", "date"),
        ("扶元金", "person"),
        ("《中华人民共和国招标投标法》", "doc_title"),
        ("34.82万元", "money"),
    ]
    assert next(e.value for e in doc.user_data["zhenggai_entities"]) == "2024-09-14"


def test_entities_table_rows_match_document_text():
    tables = pipeline.run(RAW)
    texts = dict(zip(tables["documents"].doc_id, tables["documents"].text, strict=True))
    ents = tables["entities"]
    assert len(ents) > 300
    for row in ents.itertuples():
        assert texts[row.doc_id][row.start : row.end] == row.text
    dates = ents[ents.type == "date"]
    assert dates.date_start.str.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?").all()


def test_batch_entities_equal_the_spacy_components():
    """The batch path calls the finder directly; ``pipeline.nlp()`` must find exactly the same."""
    from pipeline import ingest, structure
    from pipeline.tag import Tagger

    direct, through_spacy = Tagger.default("rules"), Tagger.default("rules", spacy=True)
    paths = (
        sorted((REPO / "data" / "raw").glob("*.txt"))
        + sorted((REPO / "data" / "labelled" / "notices").glob("*.txt"))[:20]
    )
    total = 0
    for path in paths:
        text = ingest.read_document(path)
        a = direct(structure.parse_structure(text)).entities
        b = through_spacy(structure.parse_structure(text)).entities
        assert a == b, path.name
        total += len(a)
    assert total > 500
