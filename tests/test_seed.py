"""The real seed notice from ../shared against its hand annotation (skipped where absent)."""

from __future__ import annotations

PUNCT = " 。.;；,，:：\n"


def test_exactly_32_problems_with_their_categories(seed_notice, seed_gold):
    assert len(seed_notice.problems) == 32
    headings = {s["id"]: s["heading"] for s in seed_gold["sections"]}
    for got, want in zip(seed_notice.problems, seed_gold["problems"], strict=True):
        assert got.no == want["no"]
        assert got.marker == want["marker"]
        assert got.title == want["title"]
        assert (got.start, got.end) == (want["start"], want["end"])
        assert got.category == headings[want["section"]]


def test_sections_match(seed_notice, seed_gold):
    got = [(s.level, s.marker, s.heading, s.start, s.end) for s in seed_notice.sections]
    want = [(s["level"], s["marker"], s["heading"], s["start"], s["end"]) for s in seed_gold["sections"]]
    assert got == want


def _span(m):
    return m["start"], m["end"]


def test_problem_measures_f1_and_spans(seed_notice, seed_gold):
    text = seed_notice.text
    gold = {
        (
            m["start"],
            m["end"] - len(text[m["start"] : m["end"]]) + len(text[m["start"] : m["end"]].rstrip(PUNCT)),
        )
        for m in seed_gold["measures"]
        if m["scope"] == "problem"
    }
    got = {
        (m.start, m.start + len(m.text.rstrip(PUNCT))) for m in seed_notice.measures if m.scope == "problem"
    }
    tp = len(gold & got)
    f1 = 2 * tp / (len(gold) + len(got))
    assert f1 >= 0.98
    assert gold <= got, "every problem-scope gold measure is found with its span"


def test_general_and_planned_measures_found_with_scope(seed_notice, seed_gold):
    by_span = {(m.start, m.end): m for m in seed_notice.measures}
    for m in seed_gold["measures"]:
        if m["scope"] == "problem":
            continue
        got = by_span.get(_span(m))
        assert got is not None, m["text"]
        assert got.scope == m["scope"]
        assert got.problem_id is None


def test_measures_carry_their_problem(seed_notice, seed_gold):
    no_of = {p.problem_id: p.no for p in seed_notice.problems}
    by_span = {(m.start, m.end): m for m in seed_notice.measures}
    for m in seed_gold["measures"]:
        if m["scope"] == "problem":
            assert no_of[by_span[_span(m)].problem_id] == m["problem_no"]
            assert by_span[_span(m)].marker == m["marker"]


def test_sections_one_and_three_hold_no_problem_and_no_problem_measure(seed_notice):
    outside = [s for s in seed_notice.sections if s.marker in ("一、", "三、")]
    assert len(outside) == 2
    for s in outside:
        assert not [p for p in seed_notice.problems if s.start <= p.start < s.end]
        inside = [m for m in seed_notice.measures if s.start <= m.start < s.end]
        assert inside and all(m.scope != "problem" for m in inside)


def test_headings_contact_and_signature_are_never_measures(seed_notice):
    text = seed_notice.text
    for m in seed_notice.measures:
        assert "联系电话" not in m.text and "欢迎" not in m.text
        assert "中共广德市城市管理局党组\n" not in text[m.start : m.end + 1]
    heading_spans = [(s.start, s.end) for s in seed_notice.sections]
    for m in seed_notice.measures:
        assert all(m.start != a for a, _ in heading_spans)
    kinds = {seg.kind for seg in seed_notice.segments if seg.start >= text.index("欢迎广大干部群众")}
    assert kinds == {"footer"}


def test_parse_status_ok(seed_notice):
    assert seed_notice.parse_status == "ok"


def test_the_four_category_headings_map_to_the_four_standard_areas_in_order(seed_notice):
    areas = []
    for p in seed_notice.problems:
        if not areas or areas[-1] != p.focus_area:
            areas.append(p.focus_area)
    assert areas == ["decisions", "corruption", "organisation", "rectification"]
