"""The structure stage on small cases of every layout family, and on the labelled corpus."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from pipeline import ingest, structure

PUNCT = " 。.;；,，:：\n"


def parse(text: str):
    return structure.parse_structure(ingest.text_from_string(text))


@pytest.mark.parametrize(
    ("answer", "markers"),
    [
        ("一是补齐台账；二是开展自查；三是修订制度。", ["一是", "二是", "三是"]),
        ("（1）补齐台账；（2）开展自查。", ["（1）", "（2）"]),
        ("①补齐台账；②开展自查。", ["①", "②"]),
        ("首先，补齐台账。其次，开展自查。最后，修订制度。", ["首先", "其次", "最后"]),
        ("第一，补齐台账；第二，开展自查。", ["第一，", "第二，"]),
        ("整改措施：1、补齐台账；2、开展自查。", ["1、", "2、"]),
        ("一是补齐台账二是开展自查", ["一是", "二是"]),
        ("整改措施:1、7月至9月开展自查;2、12月补齐台账。", ["1、", "2、"]),  # a digit after 、
        ("1、召开党组会议;2、组织学习;3局党组修订制度;4、补齐台账。", ["1、", "2、", "3", "4、"]),  # glued
    ],
)
def test_every_enumeration_family_gives_one_measure_per_item(answer, markers):
    notice = parse(f"二、问题整改情况\n1.针对台账不全的问题。{answer}")
    assert len(notice.problems) == 1
    assert [m.marker for m in notice.measures] == markers
    assert all(m.scope == "problem" for m in notice.measures)


@pytest.mark.parametrize(
    ("line", "marker", "title"),
    [
        ("1.针对台账不全的问题。一是补齐台账。", "1.", "针对台账不全的问题。"),
        ("2、关于“报销把关不严”问题的整改", "2、", "关于“报销把关不严”问题的整改"),
        ("问题3：公务用车登记不全。", "问题3：", "公务用车登记不全。"),
        ("（一）反馈问题：公务用车登记不全。", "（一）", "反馈问题：公务用车登记不全。"),
        ("4.审计指出：专项资金闲置。", "4.", "审计指出：专项资金闲置。"),
    ],
)
def test_problem_heading_families(line, marker, title):
    notice = parse(f"二、问题整改情况\n{line}\n一是补齐台账。")
    assert [(p.marker, p.title) for p in notice.problems] == [(marker, title)]


def test_quoted_sub_problems_under_a_problem_group_are_the_problems():
    notice = parse(
        "二、整改落实情况\n（一）贯彻落实决策部署方面\n"
        "1.关于“项目推进缓慢”问题的整改\n"
        "（1）关于“4个项目长期未开工”的问题。\n一是召开专题会议研究部署；二是2个项目已开工建设。\n"
        "（2）关于“文化站功能闲置”的问题。\n一是开展全面排查；二是修订考核办法。\n"
        "2.关于“台账不全”问题的整改\n一是补齐台账；二是开展自查。"
    )
    assert [(p.marker, p.title) for p in notice.problems] == [
        ("（1）", "关于“4个项目长期未开工”的问题。"),
        ("（2）", "关于“文化站功能闲置”的问题。"),
        ("2.", "关于“台账不全”问题的整改"),
    ]
    group = next(s for s in notice.sections if s.level == 3)
    assert group.heading == "关于“项目推进缓慢”问题的整改"
    assert [p.section_id == group.section_id for p in notice.problems] == [True, True, False]
    assert {p.category for p in notice.problems} == {"贯彻落实决策部署方面"}
    markers = [[m.marker for m in notice.measures if m.problem_id == p.problem_id] for p in notice.problems]
    assert markers == [["一是", "二是"]] * 3
    assert all(m.scope == "problem" for m in notice.measures)


def test_audit_answers_indented_lines_findings_and_reported_results():
    notice = parse(
        "二、审计查出问题的整改情况\n"
        "    1.关于预算代编比例偏高的问题。审计指出,代编资金1326万元未落实到具体项目。"
        "预算股已将884万元细化分配到11个部门。\n"
        "    2.关于存量资金盘活不及时的问题。一是收回存量资金;二是建立定期清理制度。"
    )
    # the finding restated is not a measure, a reported result is one even without an act
    # cue, and an indented problem line is not read a second time as a general measure
    assert [(m.scope, m.text) for m in notice.measures] == [
        ("problem", "预算股已将884万元细化分配到11个部门"),
        ("problem", "一是收回存量资金"),
        ("problem", "二是建立定期清理制度"),
    ]


def test_an_answer_label_before_narrative_is_not_part_of_the_measure():
    answer = "整改情况：中心对往来款逐笔核实，已收回53.8万元。"
    notice = parse(f"二、问题整改情况\n问题1：往来款长期挂账。\n{answer}")
    assert [m.text for m in notice.measures] == ["中心对往来款逐笔核实，已收回53.8万元"]


def test_status_line_is_a_measure_and_sets_the_status():
    notice = parse("二、整改情况\n问题1：台账不全。\n整改情况：已完成整改。一是补齐台账；二是开展自查。")
    assert [m.text for m in notice.measures] == ["整改情况：已完成整改", "一是补齐台账", "二是开展自查"]
    assert notice.problems[0].status == "completed"


def test_next_steps_are_planned_and_the_organisation_general():
    notice = parse(
        "一、整改工作开展情况\n局党组高度重视。9月2日召开党组会议，研究部署整改工作；成立整改工作领导小组。\n"
        "二、问题整改情况\n1.针对台账不全的问题。一是补齐台账。\n三、下一步工作打算\n下一步，将持续开展回头看，建立长效机制。"
    )
    scopes = [(m.scope, m.text) for m in notice.measures]
    assert scopes == [
        ("general", "9月2日召开党组会议，研究部署整改工作"),
        ("general", "成立整改工作领导小组"),
        ("problem", "一是补齐台账"),
        ("planned", "下一步，将持续开展回头看，建立长效机制"),
    ]


def test_flattened_page_is_cut_back_into_lines():
    flat = (
        "中共某局党组关于巡察整改情况的通报 根据县委统一部署，2024年3月至5月，"
        "县委第二巡察组对我局开展了常规巡察，并于6月反馈了巡察意见。局党组照单全收、逐项整改，现将整改进展情况予以公布。"
        " 一、整改情况 1.关于“台账不全”问题的整改 一是补齐台账；二是开展自查。"
        " 2.关于“培训不足”问题的整改 一是组织培训；二是建立培训制度。 中共某局党组 2024年8月9日"
    )
    notice = parse(flat)
    assert [p.title for p in notice.problems] == ["关于“台账不全”问题的整改", "关于“培训不足”问题的整改"]
    assert len(notice.measures) == 4
    assert notice.segments[-1].kind == "footer"


def test_items_that_each_open_a_paragraph_stay_whole():
    """一是压实责任。…⏎二是细化清单。… : the lead phrase and its sentences are one measure."""
    notice = parse(
        "一、整改工作开展情况\n"
        "一是压实整改责任。局党组5月28日召开党组会议，成立整改工作领导小组。\n"
        "二是细化整改清单。建立问题、任务、责任三张清单，细化整改措施38条。\n"
        "三是抓实学习培训。6月6日集中学习了《审计法》，组织财会人员培训46人次。\n"
        "二、问题整改情况\n1.针对台账不全的问题。一是补齐台账；二是开展自查。\n"
    )
    general = [m for m in notice.measures if m.scope == "general"]
    assert [m.marker for m in general] == ["一是", "二是", "三是"]
    assert general[1].text == "二是细化整改清单。建立问题、任务、责任三张清单，细化整改措施38条"
    assert [m.marker for m in notice.measures if m.scope == "problem"] == ["一是", "二是"]


def test_numbered_lines_that_are_not_measure_markers_do_not_continue():
    """1. and (1) number problems as often as measures: a paragraph opening 2. is not item 2."""
    notice = parse(
        "一、整改工作开展情况\n1.局党组召开党组会议研究整改。\n"
        "2.成立整改工作领导小组。建立问题整改台账并逐项销号。\n"
    )
    assert [m.text for m in notice.measures][-2:] == ["2.成立整改工作领导小组", "建立问题整改台账并逐项销号"]


@pytest.mark.parametrize(
    ("items", "markers", "texts", "titles"),
    [
        (  # （一）巩固成果。对…… is an item with a lead phrase, not a sub-section
            "（一）巩固整改成果。对正在整改的2个问题继续按月调度，确保6月底前销号。\n"
            "（二）健全长效机制。每半年开展一次交叉检查，结果与绩效挂钩。\n",
            ["（一）", "（二）"],
            ["（一）巩固整改成果。对正在整改的2个问题", "（二）健全长效机制。每半年开展一次交叉检查"],
            [],
        ),
        (  # a whole sentence after the marker is an item; a short title alone on its line is not
            "（一）巩固整改成果\n对正在整改的2个问题继续按月调度，确保6月底前销号。\n"
            "（二）每半年对存量资金开展一次回头看,由绩效股随机抽取10个部门复核,防止问题反弹。\n"
            "（三）把审计整改与预算管理改革结合起来,持续提升资金使用绩效。\n",
            [None, "（二）", "（三）"],
            ["对正在整改的2个问题", "（二）每半年对存量资金", "（三）把审计整改"],
            ["巩固整改成果"],
        ),
    ],
)
def test_items_of_the_next_steps_section_are_planned_measures(items, markers, texts, titles):
    notice = parse("一、整改工作开展情况\n局党组召开党组会议研究部署整改工作。\n三、下一步工作打算\n" + items)
    planned = [m for m in notice.measures if m.scope == "planned"]
    assert [m.marker for m in planned] == markers
    assert all(m.text.startswith(t) for m, t in zip(planned, texts, strict=True))
    assert [s.heading for s in notice.sections if s.level == 2] == titles


@pytest.mark.parametrize(
    "sentence",
    [
        "在26个小区新建电动自行车集中充电棚41处",
        "将原资产经营部拆分为资产运营部和租赁服务部",
        "多收的23.62万元已按学生名单原路转回家长账户",
        "社区服务用房对外出租一律通过街道集体资产交易平台公开进行",
        "医院向超声科、检验科下达了整改通知书，责令两科限期整改",
    ],
)
def test_reported_fixes_worded_without_the_common_cue_verbs_are_measures(sentence):
    notice = parse(f"一、整改工作开展情况\n{sentence}。\n")
    assert [m.text for m in notice.measures] == [sentence]


def test_structure_finds_the_annotated_measures_of_the_labelled_corpus():
    """A regression guard on the labelled notices (108).

    The parser was first written against none of them; later fixes (nested sub-problems,
    glued ordinals, indented problem lines, audit findings) were checked on batches 1-4,
    so this is a development figure, no longer a held-out one. Batch 5 (s-v) arrived after
    those fixes: recall 0.894, precision 0.918 on it alone, when it was added, before the
    fixes it prompted (problem-title words of audit reports, more action cues, status lines
    keeping their label as most annotations do). All 108: 0.939 / 0.955.
    """
    found = total = predicted = 0
    for path in sorted((REPO / "data" / "labelled" / "annotations").glob("*.json")):
        annotation = json.loads(path.read_text(encoding="utf-8"))
        text = ingest.read_document(REPO / "data" / "labelled" / "notices" / f"{annotation['doc']}.txt")
        notice = structure.parse_structure(text)
        got = {m.text.rstrip(PUNCT) for m in notice.measures}
        gold = [m["text"].rstrip(PUNCT) for m in annotation["measures"]]
        found += sum(g in got for g in gold)
        total += len(gold)
        predicted += len(notice.measures)
    assert found / total >= 0.93 and found / predicted >= 0.945, (found / total, found / predicted)
