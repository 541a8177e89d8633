"""Stage 2, structure: ``Text`` → ``Notice`` with sections, problems, measures and segments.

The parser works on logical lines of ``Text.match_text`` (flattened pages are cut back
into lines before heading markers). It first fences off the page header and the footer
(contact block, signature), then finds headings and problems, then cuts measures out of
each problem's answer and out of the text around the problems, and last tiles the whole
text into segments. Every span is an offset into ``Text.text``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate, pairwise, product
from typing import NamedTuple

from pipeline.ingest import match_form
from pipeline.patterns import structure as pat
from pipeline.types import (
    Measure,
    Notice,
    ParseStatus,
    Problem,
    Scope,
    Section,
    Segment,
    SegmentKind,
    Text,
)

_CN_VALUES = {ch: i + 1 for i, ch in enumerate(pat.CN_DIGITS)}


def cn_to_int(numeral: str) -> int:
    """Small Chinese numerals as used in markers: 一 … 九十九."""
    if numeral.isdecimal():
        return int(numeral)
    if numeral in pat.CIRCLED:
        return pat.CIRCLED.index(numeral) + 1
    if numeral in pat.SEQUENCE_ORDER:
        return pat.SEQUENCE_ORDER[numeral]
    if "十" not in numeral:
        return _CN_VALUES.get(numeral[-1], 0)
    tens, _, ones = numeral.partition("十")
    return (_CN_VALUES.get(tens, 1) if tens else 1) * 10 + (_CN_VALUES.get(ones, 0) if ones else 0)


class Line(NamedTuple):
    """A logical line: a paragraph of the text, or a piece of a flattened one (a tuple, as
    a notice has hundreds of them, hashed into sets and dicts)."""

    start: int
    end: int


@dataclass(frozen=True)
class _Heading:
    line: Line
    level: int
    marker: str
    marker_start: int
    heading_start: int
    heading_end: int
    end: int | None = None  # where the section stops, when not at the next heading (a sub-problem group)


@dataclass(frozen=True)
class _ProblemStart:
    line: Line
    marker: str
    marker_start: int
    no: int | None


def logical_lines(mt: str, start: int = 0) -> list[Line]:
    """Lines of the text; a long flattened line is cut where a space stands for a break.

    With ``start``, only the lines from the one holding that offset on (the same lines,
    without splitting the text before them).
    """
    lines: list[Line] = []
    pos = mt.rfind("\n", 0, start) + 1
    for raw in mt[pos:].split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        if end - start > pat.FLAT_LINE_MIN:
            cuts = [m.start() for m in pat.FLAT_BREAK.finditer(mt, start, end)]
            if len(cuts) >= 2:
                bounds = [start, *cuts, end]
                for a, b in pairwise(bounds):
                    while a < b and mt[a] == " ":
                        a += 1
                    lines.append(Line(a, b))
                continue
        lines.append(Line(start, end))
    return lines


def _strip_span(text: str, start: int, end: int, chars: str = pat.TRAILING) -> tuple[int, int]:
    while start < end and text[start] in " \n":
        start += 1
    while end > start and text[end - 1] in chars:
        end -= 1
    return start, end


# --- header, title and footer ---------------------------------------------------------


def find_header_and_title(mt: str, lines: list[Line]) -> tuple[int, Line | None]:
    """End offset of the leading page furniture, and the title line if there is one."""
    body_start = 0
    title: Line | None = None
    for line in lines[:40]:
        s = mt[line.start : line.end].strip()
        if not s:
            continue
        if pat.META_LINE.search(s) and len(s) < 120:
            body_start = line.end
            continue
        is_heading = pat.H1.match(s) or pat.H2.match(s)
        if title is None and not is_heading and len(s) <= 90 and "。" not in s and pat.TITLE_HINT.search(s):
            title = Line(*_strip_span(mt, line.start, line.end, " "))
            body_start = line.end
            continue
        if title is None and not is_heading and len(s) <= 14 and not re.search(r"[。,;:]", s):
            body_start = line.end  # navigation crumbs and widget labels
            continue
        break
    return body_start, title


def find_footer(mt: str, lines: list[Line]) -> tuple[int | None, int | None]:
    """(footer start, signature start): the contact block, signature and page furniture at the end."""
    footer_start = signature_start = None
    for line in reversed(lines):
        s = mt[line.start : line.end].strip()
        if not s:
            continue
        is_signature = (
            len(s) <= 45 and "。" not in s and (pat.SIGNATURE_LINE.match(s) or pat.DATE_LINE.match(s))
        )
        if is_signature:
            signature_start = line.start
        elif not (pat.FOOTER_LINE.search(s) or (pat.META_LINE.search(s) and len(s) < 80)):
            break
        footer_start = line.start
    return footer_start, signature_start


# --- headings and problems ------------------------------------------------------------


def _heading_in(mt: str, line: Line) -> _Heading | None:
    s = mt[line.start : line.end]
    for level, regex in ((1, pat.H1), (2, pat.H2)):
        m = regex.match(s)
        if not m:
            continue
        rest_start = line.start + m.start("rest")
        first = re.search(r"[。:;]|(?<=\S) +(?=\S)", mt[rest_start : line.end])
        if line.end - rest_start <= pat.HEADING_MAX and (
            first is None or first.end() >= line.end - rest_start
        ):
            heading_end = line.end
        elif first is not None and first.end() <= pat.HEADING_MAX:
            heading_end = rest_start + first.end()
        else:
            return None
        return _Heading(
            line, level, m.group("marker").strip(), line.start + m.start("marker"), rest_start, heading_end
        )
    return None


def _reads_as_item(heading: str) -> bool:
    """A planned (N) line that is a sentence, not a title: it closes with a stop and runs on
    past a comma (a title such as 巩固整改成果 or 强化制度建设。 does neither)."""
    heading = heading.rstrip()
    return heading.endswith(("。", ";")) and "," in heading


def _choose_problem_family(mt: str, body: list[Line], planned_lines: set[Line]) -> list[_ProblemStart]:
    # every family's pattern opens as PROBLEM_LINE_OPENING does: other lines match none
    candidates = [
        (line, mt[line.start : line.end])
        for line in body
        if line not in planned_lines and pat.PROBLEM_LINE_OPENING.match(mt, line.start, line.end)
    ]
    for name, regex in pat.PROBLEM_FAMILIES:
        found: list[_ProblemStart] = []
        for line, text in candidates:
            m = regex.match(text)
            if not m:
                continue
            head = mt[line.start : min(line.end, line.start + 120)]
            if name not in ("labelled_no", "numbered_labelled") and not pat.PROBLEMISH.search(head):
                continue
            num = m.groupdict().get("num")
            marker = m.group("marker")
            marker_start = line.start + m.start("marker") + (len(marker) - len(marker.lstrip()))
            found.append(_ProblemStart(line, marker.strip(), marker_start, cn_to_int(num) if num else None))
        if name == "numbered" and len(found) < 2:
            continue
        if found:
            return found
    return []


def _sub_problems(
    mt: str, body: list[Line], planned_lines: set[Line], starts: list[_ProblemStart], headings: list[_Heading]
) -> tuple[list[_ProblemStart], list[_Heading]]:
    """Deeper nesting (FORMATS.md §5): ``1.关于“…”问题的整改`` over ``（1）关于“…”的问题。`` lines.

    The quoted sub-problems are the problems fed back, each with its own answer; the line
    grouping them, which answers nothing itself, becomes a level-3 section heading.
    """
    out: list[_ProblemStart] = []
    groups: list[_Heading] = []
    line_starts = [line.start for line in body]  # ascending
    for i, ps in enumerate(starts):
        stops = [s.line.start for s in starts[i + 1 :]] + [
            h.line.start for h in headings if h.line.start > ps.line.start
        ]
        stop = min(stops, default=len(mt))
        subs = []
        # the lines starting strictly between the problem's line and the stop
        for line in body[bisect_right(line_starts, ps.line.start) : bisect_left(line_starts, stop)]:
            if line in planned_lines:
                continue
            m = pat.SUB_PROBLEM.match(mt, line.start, line.end)
            if m and pat.PROBLEMISH.search(mt, line.start, min(line.end, line.start + 120)):
                marker = m.group("marker").strip()
                subs.append(_ProblemStart(line, marker, m.start("marker"), int(m.group("num"))))
        if not subs or subs[0].no != 1 or ps.marker.startswith("("):
            out.append(ps)
            continue
        title_start = ps.marker_start + len(ps.marker)
        title_end = _title_end(mt, title_start, ps.line.end, labelled=False)
        if mt[title_end : ps.line.end].strip(pat.TRAILING):  # the line answers its problem itself
            out.append(ps)
            continue
        start = title_start + len(mt[title_start:title_end]) - len(mt[title_start:title_end].lstrip())
        groups.append(_Heading(ps.line, 3, ps.marker, ps.marker_start, start, title_end, stop))
        out += subs
    return out, groups


def _title_end(mt: str, start: int, line_end: int, labelled: bool) -> int:
    segment = mt[start:line_end]
    cut = len(segment)
    label = pat.ANSWER_LABEL.search(segment)
    if label and label.start() > 0:
        cut = label.start()
    enum = pat.TITLE_ENUM_START.search(segment)
    if enum:
        cut = min(cut, enum.start())
    if labelled:
        stop = segment.find("。", 0, cut)
        return start + (stop + 1 if stop >= 0 else _rstrip_len(segment[:cut]))
    m = pat.TITLE_END.search(segment, 0, cut)
    if m:
        return start + m.end()
    return start + _rstrip_len(segment[:cut])


def _rstrip_len(s: str) -> int:
    return len(s.rstrip(" ,;:"))


# --- measures -------------------------------------------------------------------------


class _Item(NamedTuple):
    marker: str
    start: int
    end: int


def _line_end(mt: str, pos: int, limit: int) -> int:
    nl = mt.find("\n", pos, limit)
    return limit if nl < 0 else nl


def _next_ordinal(
    mt: str, family: str, regex: re.Pattern[str], want: int, after: int, limit: int
) -> re.Match | None:
    for m in regex.finditer(mt, after, limit):
        if family == "sequence_words":
            if pat.SEQUENCE_ORDER[m.group("num")] > 1:
                return m
            continue
        if cn_to_int(m.group("num")) == want:
            return m
    if family == "arabic":  # …;5局党组… : the next number glued to the text after a stop
        return re.compile(pat.GLUED_ARABIC.format(num=want)).search(mt, after, limit)
    if family == "cn_shi":  # 一是…二是 may run on with no stop in between
        wanted = f"{_int_to_cn(want)}是"
        pos = mt.find(wanted, after, limit)
        while pos > 0:
            before = mt[pos - 1]
            if before not in pat.RUN_ON_EXCLUDED_BEFORE and before not in pat.CN_DIGITS:
                return pat.RUN_ON_MARKER.match(mt, pos, limit)
            pos = mt.find(wanted, pos + 1, limit)
    return None


def _int_to_cn(n: int) -> str:
    digits = pat.CN_DIGITS
    if n <= 10:
        return digits[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens - 1]) + "十" + (digits[ones - 1] if ones else "")


_ENUM_PATTERN = dict(pat.ENUM_FAMILIES)
_ENUM_FAMILIES_AND_LITERALS = tuple(
    (family, regex, pat.FIRST_ITEM_LITERALS[family]) for family, regex in pat.ENUM_FAMILIES
)
_FIRST_ITEM_LITERALS = tuple(sorted({lit for lits in pat.FIRST_ITEM_LITERALS.values() for lit in lits}))
# For each answer to "which of _FIRST_ITEM_LITERALS does a stretch hold?", the families worth
# trying there, in ENUM_FAMILIES order: one look-up instead of testing every family's literals.
_FAMILIES_FOR_LITERALS = {
    held: tuple(
        f
        for f in _ENUM_FAMILIES_AND_LITERALS
        if any(lit in f[2] for lit, h in zip(_FIRST_ITEM_LITERALS, held, strict=True) if h)
    )
    for held in product((False, True), repeat=len(_FIRST_ITEM_LITERALS))
}


def enumeration_runs(mt: str, start: int, end: int) -> list[list[_Item]]:
    """Runs of enumerated items (一是…二是…, （1）…, ①…) between ``start`` and ``end``.

    The family whose first item comes first wins; each following item must carry the
    next ordinal of the same family, so nested lists inside an item do not cut it.
    """
    # most stretches hold the first-item literal of no family or of one: try only those
    families = _FAMILIES_FOR_LITERALS[tuple(map(mt[start:end].__contains__, _FIRST_ITEM_LITERALS))]
    runs: list[list[_Item]] = []
    pos = start
    while families and pos < end:
        first: tuple[int, str, re.Pattern[str], re.Match] | None = None
        for family, regex, literals in families:
            # only a first item starting earlier can win: stop scanning just past the best so far
            limit = end if first is None else min(end, first[0] + pat.MARKER_SPAN)
            if not any(map(mt[pos:limit].__contains__, literals)):
                continue
            for m in regex.finditer(mt, pos, limit):
                num = m.group("num")
                if (family == "sequence_words" and num == "首先") or (
                    family != "sequence_words" and cn_to_int(num) == 1
                ):
                    if first is None or m.start() < first[0]:
                        first = (m.start(), family, regex, m)
                    break
        if first is None:
            break
        _, family, regex, m = first
        matches = [m]
        want = 2
        while True:
            nxt = _next_ordinal(mt, family, regex, want, matches[-1].end(), end)
            if nxt is None or (
                _line_end(mt, matches[-1].start(), end) < nxt.start()
                and family != "cn_shi"
                and _blocked(mt, matches[-1].start(), nxt.start())
            ):
                break
            matches.append(nxt)
            want += 1
            if family == "sequence_words" and nxt.group("num") == "最后":
                break
        items = []
        for i, mm in enumerate(matches):
            item_end = _line_end(mt, mm.start(), end)  # an item stops at its paragraph's end
            if i + 1 < len(matches):
                item_end = min(item_end, matches[i + 1].start())
            else:
                tail = pat.RUN_TAIL.search(mt, mm.end(), item_end)
                item_end = tail.start() if tail else item_end
            items.append(_Item(mm.group("marker"), mm.start(), item_end))
        runs.append(items)
        pos = max(items[-1].end, matches[-1].end())
    return runs


def _blocked(mt: str, a: int, b: int) -> bool:
    """Items of one run sit on consecutive lines; a heading between them ends the run."""
    return pat.HEADING_AFTER_BREAK.search(mt, a, b) is not None


def _sentences(mt: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the sentences between two offsets, cut at SENTENCE_SPLIT and stripped as
    ``_strip_span`` does (pat.SENTENCE finds them in one pass; tests compare the two)."""
    return [m.span() for m in pat.SENTENCE.finditer(mt, start, end)]


def _is_action_sentence(s: str, reported: bool = False) -> bool:
    if len(s) < 8:  # decided first: every path below ends in False for these too
        return False
    if not (pat.ACTION_CUE.search(s) or (reported and pat.REPORTED_DONE.search(s))):
        return False
    if pat.NOT_A_MEASURE_OPENING.match(s) or pat.NOT_A_MEASURE_INSIDE.search(s):  # pat.NOT_A_MEASURE
        return False
    if pat.EXPLANATION_START.match(s) and not pat.EXPLANATION_OVERRIDE.search(s):
        return False
    return not (pat.H1.match(s) or pat.H2.match(s))


def measure_spans(mt: str, start: int, end: int, *, answer: bool = False) -> list[tuple[int, int, int, bool]]:
    """(marker length, start, end, planned_hint) of the measures reported between two offsets.

    Enumerated items are measures; outside them each action sentence is one, and a
    sentence opening with 下一步 makes it and the rest of its paragraph planned. In a
    problem's ``answer`` the text before the first item is explanation, so only a status
    line (整改情况：已完成整改) counts there.
    """
    out: list[tuple[int, int, int, bool]] = []
    pos = start
    for i, run in enumerate(enumeration_runs(mt, start, end)):
        if i == 0 and answer:
            out += [m for m in _sentence_measures(mt, pos, run[0].start) if m[0] < 0]
        else:
            out += _sentence_measures(mt, pos, run[0].start, reported=answer)
        for item in run:
            a, b = _strip_span(mt, item.start, item.end)
            if b > a:
                out.append((len(item.marker), a, b, False))
        pos = run[-1].end
    out += _sentence_measures(mt, pos, end, reported=answer)
    return [(max(0, k), a, b, planned) for k, a, b, planned in out]


def _sentence_measures(
    mt: str, start: int, end: int, reported: bool = False
) -> list[tuple[int, int, int, bool]]:
    """Action sentences between two offsets; a status line gets marker length -1."""
    out = []
    planned_from = None
    for a, b in _sentences(mt, start, end):
        s = mt[a:b]
        label = pat.ANSWER_LABEL.match(s)
        if label and not pat.STATUS_LINE.match(s):  # 整改情况：中心对… : the label is not the measure
            a += label.end() + len(s[label.end() :]) - len(s[label.end() :].lstrip())
            s = mt[a:b]
        if pat.PLANNED_START.match(s):
            planned_from = a
        if planned_from is not None and mt.find("\n", planned_from, a) >= 0:
            planned_from = None
        status = pat.STATUS_LINE.match(s)
        if status:
            out.append((-1, a, b, False))
        elif _is_action_sentence(s, reported):
            out.append((0, a, b, planned_from is not None))
    return out


def _status(mt: str, start: int, end: int) -> str | None:
    m = pat.STATUS_LABEL.search(mt, start, end)
    if m:
        return "completed" if pat.STATUS_COMPLETED.search(m.group("status")) else "ongoing"
    if pat.STATUS_ONGOING.search(mt, start, end):
        return "ongoing"
    if pat.STATUS_DONE.search(mt, start, end):
        return "completed"
    return None


def problems_stated(mt: str, start: int, end: int) -> int | None:
    m = pat.PROBLEMS_STATED.search(mt, start, end)
    if not m:
        return None
    count = m.group("count") or m.group("count2") or m.group("count3")
    return int(count) if count else None


# --- the stage ------------------------------------------------------------------------


def parse_structure(source: Text) -> Notice:
    """Find sections, problems, measures and segments of one notice."""
    mt, doc_id = source.match_text, source.doc_id
    lines = logical_lines(mt)
    body_start, title_line = find_header_and_title(mt, lines)
    footer_start, signature_start = find_footer(mt, lines)
    if footer_start is not None and footer_start < body_start:
        footer_start = signature_start = None
    limit = (
        signature_start
        if signature_start is not None
        else footer_start
        if footer_start is not None
        else len(mt)
    )
    body_end = footer_start if footer_start is not None else len(mt)
    body = [ln for ln in lines if ln.start >= body_start and ln.end <= body_end and ln.end > ln.start]

    # only a line opening as H1 or H2 does (a numeral or a bracket) can hold a heading
    headings = [
        h
        for ln in body
        if pat.HEADING_LINE_OPENING.match(mt, ln.start, ln.end) and (h := _heading_in(mt, ln)) is not None
    ]
    planned_lines: set[Line] = set()
    for i, h in enumerate(headings):
        if h.level == 1 and pat.PLANNED_HEADING.search(mt[h.heading_start : h.heading_end]):
            nxt = next((g.line.start for g in headings[i + 1 :] if g.level == 1), limit)
            planned_lines |= {ln for ln in body if h.line.start <= ln.start < nxt}

    # in 三、下一步, （一）巩固成果。对…… is an item with a lead phrase, not a sub-section,
    # and so is a whole sentence on its own line: （二）每半年对…开展一次回头看，防止…。
    planned_level2 = [h for h in headings if h.level == 2 and h.line in planned_lines]
    lead_phrase_items = {h.line for h in planned_level2 if mt[h.heading_end : h.line.end].strip()}
    sentence_items = {
        h.line: h
        for h in planned_level2
        if h.line not in lead_phrase_items and _reads_as_item(mt[h.heading_start : h.heading_end])
    }
    headings = [h for h in headings if h.line not in lead_phrase_items and h.line not in sentence_items]
    problem_starts = _choose_problem_family(mt, body, planned_lines)
    problem_starts, groups = _sub_problems(mt, body, planned_lines, problem_starts, headings)
    problem_lines = {p.line for p in problem_starts}
    headings = [h for h in headings if h.line not in problem_lines] + groups
    headings.sort(key=lambda h: h.marker_start)

    sections = _build_sections(source.text, doc_id, headings, limit)
    problems = _build_problems(mt, source.text, doc_id, problem_starts, headings, sections, limit)

    measures: list[Measure] = []
    for p in problems:
        for k, (marker_len, a, b, _) in enumerate(
            measure_spans(mt, p.title_end, p.end, answer=True), start=1
        ):
            marker = source.text[a : a + marker_len] or None
            measures.append(
                Measure(
                    f"{p.problem_id}m{k}",
                    Scope.PROBLEM,
                    p.problem_id,
                    p.section_id,
                    k,
                    marker,
                    source.text[a:b],
                    a,
                    b,
                )
            )
    measures += _free_measures(
        mt, source.text, doc_id, body, headings, problems, sections, title_line, sentence_items
    )
    measures.sort(key=lambda m: m.start)

    notice = Notice(source=source, sections=sections, problems=problems, measures=measures)
    first_part = problems[0].start if problems else limit
    notice.fields.problems_stated = problems_stated(mt, body_start, first_part)
    if pat.ALL_COMPLETED.search(mt, body_start, first_part):
        for p in problems:
            p.status = p.status or "completed"
    notice.segments = _segments(
        mt, doc_id, body_start, title_line, headings, problems, measures, footer_start
    )
    notice.parse_status = _parse_status(sections, problems, measures)
    return notice


def _build_sections(text: str, doc_id: str, headings: list[_Heading], limit: int) -> list[Section]:
    sections: list[Section] = []
    for i, h in enumerate(headings):
        end = next((g.line.start for g in headings[i + 1 :] if g.level <= h.level), limit)
        end = min(end, h.end) if h.end is not None else end
        parent = next(
            (s for s in reversed(sections) if s.level < h.level and s.start <= h.line.start < s.end), None
        )
        heading = text[h.heading_start : h.heading_end].strip()
        sections.append(
            Section(
                section_id=f"{doc_id}:s{i + 1}",
                parent_id=parent.section_id if parent else None,
                level=h.level,
                marker=text[h.marker_start : h.marker_start + len(h.marker)],
                heading=heading,
                start=h.marker_start,
                end=max(end, h.heading_end),
                heading_end=h.heading_end,
            )
        )
    for s in sections:
        if s.level == 1 and pat.PLANNED_HEADING.search(s.heading):
            s.role = "planned"
    return sections


def _innermost(sections: list[Section], pos: int) -> Section | None:
    """The deepest section holding ``pos`` (the first of that level, as ``max`` picks it)."""
    found = None
    for s in sections:
        if s.start <= pos < s.end and (found is None or s.level > found.level):
            found = s
    return found


def _build_problems(mt, text, doc_id, starts, headings, sections, limit) -> list[Problem]:
    problems: list[Problem] = []
    boundaries = sorted({p.marker_start for p in starts} | {h.marker_start for h in headings} | {limit})
    aspects = [s for s in sections if s.level <= 2]  # not sub-problem groups
    for i, ps in enumerate(starts):
        # the first boundary past the marker (there is one: limit)
        end = boundaries[bisect_right(boundaries, ps.marker_start)] if ps.marker_start < limit else len(mt)
        title_start = ps.marker_start + len(ps.marker)
        while title_start < ps.line.end and mt[title_start] == " ":
            title_start += 1
        labelled = ps.marker.startswith(("问题", "(")) or bool(pat.LABELLED_TITLE.match(mt, title_start))
        title_end = _title_end(mt, title_start, min(ps.line.end, end), labelled)
        section = _innermost(sections, ps.marker_start)
        aspect = _innermost(aspects, ps.marker_start)
        category = None
        if aspect is not None and not pat.GENERIC_CONTAINER.fullmatch(aspect.heading):
            category = aspect.heading
        if section is not None:
            for s in sections:
                if s.start <= ps.marker_start < s.end and s.role != "planned":
                    s.role = "problems"
        no = ps.no if ps.no is not None else i + 1
        pid = f"{doc_id}:p{i + 1}"
        problems.append(
            Problem(
                problem_id=pid,
                section_id=section.section_id if section else None,
                category=category,
                no=no,
                marker=text[ps.marker_start : ps.marker_start + len(ps.marker)],
                title=text[title_start:title_end],
                title_start=title_start,
                title_end=title_end,
                start=ps.marker_start,
                end=end,
                status=_status(mt, ps.marker_start, end),
            )
        )
    return problems


def _free_measures(
    mt, text, doc_id, body, headings, problems, sections, title_line, sentence_items
) -> list[Measure]:
    """General and planned measures: actions reported outside the problem-by-problem part.

    ``sentence_items``: next-steps lines of one whole sentence after a (N) marker, each one
    planned measure with its marker.
    """
    heading_at = {h.line: h for h in headings}
    in_a_problem = _covering(problems)
    planned_sections = [s for s in sections if s.role == "planned"]
    spans: list[tuple[str | None, int, int, Scope, str | None]] = []
    for line in body:
        if title_line is not None and line.start <= title_line.start < line.end:
            continue
        if line in sentence_items:
            item = sentence_items[line]
            ms, me = _strip_span(mt, item.marker_start, item.heading_end)
            section = _innermost(sections, ms)
            marker = text[ms : ms + len(item.marker)]
            spans.append((marker, ms, me, Scope.PLANNED, section.section_id if section else None))
            continue
        a = line.start
        if line in heading_at:
            a = heading_at[line].heading_end
        while a < line.end and mt[a] == " ":  # an indented problem line starts at its marker
            a += 1
        if a >= line.end or in_a_problem(a):
            continue
        section = _innermost(sections, a)
        in_planned = any(s.start <= a < s.end for s in planned_sections)
        families = (*CONTINUED_FAMILIES, "paren_cn") if in_planned else CONTINUED_FAMILIES
        continued = _continued_item(mt, a, line.end, spans[-1] if spans else None, families)
        # 二是… opening its own paragraph, after 一是… in the one before, is one item
        found = [continued] if continued is not None else measure_spans(mt, a, line.end)
        for marker_len, ms, me, planned_hint in found:
            scope = Scope.PLANNED if in_planned or planned_hint else Scope.GENERAL
            spans.append(
                (text[ms : ms + marker_len] or None, ms, me, scope, section.section_id if section else None)
            )
    out: list[Measure] = []
    counters = {Scope.GENERAL: 0, Scope.PLANNED: 0}
    for marker, ms, me, scope, section_id in sorted(spans, key=lambda s: s[1]):
        counters[scope] += 1
        prefix = "g" if scope is Scope.GENERAL else "n"
        out.append(
            Measure(
                f"{doc_id}:{prefix}{counters[scope]}",
                scope,
                None,
                section_id,
                counters[scope],
                marker,
                text[ms:me],
                ms,
                me,
            )
        )
    return out


def _covering(problems: list[Problem]):
    """``covered(pos)``: whether some problem holds ``pos``, by bisection instead of a scan
    of every problem for every line (problems may overlap: the test is against the
    furthest end of those starting at or before ``pos``)."""
    spans = sorted((p.start, p.end) for p in problems)
    starts = [a for a, _ in spans]
    reach = list(accumulate((b for _, b in spans), max))

    def covered(pos: int) -> bool:
        i = bisect_right(starts, pos)
        return i > 0 and reach[i - 1] > pos

    return covered


# markers that number measures, not problems (1. and (1) number both, so they never continue)
CONTINUED_FAMILIES = ("cn_shi", "circled", "di_cn")


def _ordinal_of(marker: str) -> tuple[str, int] | None:
    """(family, ordinal) of an enumeration marker such as 二是, （3）, ④."""
    marker = match_form(marker)  # the patterns read the match form (（一） → (一))
    for family, regex in pat.ENUM_FAMILIES:
        m = regex.match(marker)
        if m and m.group("marker") == marker and family != "sequence_words":
            return family, cn_to_int(m.group("num"))
    return None


def _continued_item(mt, start, end, previous, families) -> tuple[int, int, int, bool] | None:
    """The paragraph as one item when it opens with the next marker of the previous paragraph's run.

    Runs are found paragraph by paragraph outside the problems, so a list whose items
    each open a paragraph (一是压实责任。……  ⏎ 二是细化清单。……) would otherwise lose every
    item after the first to sentence splitting.
    """
    if previous is None or previous[0] is None:
        return None
    before = _ordinal_of(previous[0])
    if before is None or before[0] not in families:
        return None
    a, b = _strip_span(mt, start, end)
    if b <= a or mt.count("\n", previous[2], a) > 2:
        return None
    m = _ENUM_PATTERN[before[0]].match(mt, a, b)  # only the previous item's family can continue it
    if m and cn_to_int(m.group("num")) == before[1] + 1:
        return (len(m.group("marker")), a, b, False)
    return None


def _segments(
    mt, doc_id, body_start, title_line, headings, problems, measures, footer_start
) -> list[Segment]:
    """Tile the text: every character in exactly one segment."""
    spans: list[tuple[int, int, SegmentKind]] = []
    if title_line is not None:
        spans.append((title_line.start, title_line.end, SegmentKind.TITLE))
    for h in headings:
        spans.append((h.marker_start, h.heading_end, SegmentKind.SECTION_HEADING))
    for p in problems:
        spans.append((p.start, p.title_end, SegmentKind.PROBLEM_TITLE))
    for m in measures:
        spans.append((m.start, m.end, SegmentKind.MEASURE))
    end_of_text = len(mt)
    if footer_start is not None:
        spans.append((footer_start, end_of_text, SegmentKind.FOOTER))
    spans.sort()
    first_heading = min(
        [h.marker_start for h in headings] + [p.start for p in problems] + [footer_start or end_of_text]
    )
    tiles: list[tuple[int, int, SegmentKind]] = []
    pos = 0
    for a, b, kind in spans:
        a = max(a, pos)
        if b <= a:
            continue
        if a > pos:
            _add_gap_tiles(tiles, mt, pos, a, body_start, first_heading)
        tiles.append((a, b, kind))
        pos = b
    if pos < end_of_text:
        _add_gap_tiles(tiles, mt, pos, end_of_text, body_start, first_heading)
    return [Segment(f"{doc_id}:t{i + 1}", kind, a, b) for i, (a, b, kind) in enumerate(tiles)]


def _add_gap_tiles(
    out: list[tuple[int, int, SegmentKind]], mt: str, a: int, b: int, body_start: int, first_heading: int
) -> None:
    if a < body_start:
        out.append((a, min(b, body_start), SegmentKind.HEADER))
        a = min(b, body_start)
    if a >= b:
        return
    if not pat.CONTENT_CHAR.search(mt, a, b):
        out.append((a, b, SegmentKind.BOILERPLATE))
    elif b <= first_heading:
        out.append((a, b, SegmentKind.INTRO))
    else:
        out.append((a, b, SegmentKind.NARRATIVE))


def _parse_status(sections, problems, measures) -> ParseStatus:
    if not problems and not sections and not measures:
        return ParseStatus.UNSTRUCTURED
    if problems and measures:
        answered = {m.problem_id for m in measures if m.problem_id}
        return ParseStatus.OK if all(p.problem_id in answered for p in problems) else ParseStatus.PARTIAL
    if not problems and not sections:
        return ParseStatus.UNSTRUCTURED
    return ParseStatus.PARTIAL
