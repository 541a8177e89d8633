"""Entities and document fields of a notice: the values behind dates, titles, money and counts.

Finding is done on the match form (simplified, half-width), spans are kept as offsets, and
every value is normalised: dates to ISO at the precision the text gives (``2024-07``), a
date without a year takes it from its sentence or from the window between feedback and
signing (a rectification cannot be reported after the notice was signed), money to yuan,
counts to numbers. Numbers inside document numbers, phone numbers, postcodes, house
numbers and ordinals are fenced off first and never become counts or dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pipeline.patterns import entities as pat
from pipeline.types import DocumentFields, EntityType, EntityValue

_CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def cn_number(text: str) -> float | None:
    """Arabic or Chinese numerals (十二, 两百, 二〇二四 digit by digit) to a number."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    if all(ch in _CN_DIGIT for ch in text) and len(text) > 1:
        return float(int("".join(str(_CN_DIGIT[ch]) for ch in text)))
    total, section, number = 0, 0, 0
    for ch in text:
        if ch in _CN_DIGIT:
            number = _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            unit = _CN_UNIT[ch]
            if unit == 10000:
                total += (section + number) * unit
                section = 0
            else:
                section += (number or 1) * unit
            number = 0
        else:
            return None
    return float(total + section + number)


TIMELINE_FORMS = frozenset({"ymd", "iso", "ym"})


@dataclass
class _DateMention:
    start: int
    end: int
    y: int | None
    m: int | None
    d: int | None
    form: str
    rel: int | None = None  # years after the time of writing (今年 0, 去年 -1), for the rel form


@dataclass
class DateContext:
    """What a year-less date may lean on: the notice's own key dates."""

    feedback: date | None = None
    signing: date | None = None
    publish: date | None = None
    base: int = 0  # offset of the text being read within the whole notice
    prior_years: list[tuple[int, int]] = field(default_factory=list)  # (notice offset, year) named earlier
    explicit_years: list[tuple[int, int]] = field(default_factory=list)  # (notice offset, year)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    number = cn_number(value)
    return int(number) if number is not None else None


def _overlaps(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < b and a < e for s, e in spans)


def protected_spans(mt: str) -> list[tuple[int, int]]:
    pattern = pat.PROTECTED if "@" in mt else pat.PROTECTED_WITHOUT_EMAIL
    return [m.span() for m in pattern.finditer(mt)]


def date_mentions(mt: str, protected: list[tuple[int, int]]) -> list[_DateMention]:
    found: list[_DateMention] = []
    taken: list[tuple[int, int]] = []
    for form, regex in pat.DATE_FORMS:
        for m in regex.finditer(mt):
            start, end = m.span()
            while start < end and mt[start] == " ":
                start += 1
            if _overlaps(start, end, taken) or _overlaps(start, end, protected):
                continue
            groups = m.groupdict()
            y = _int(groups.get("y"))
            mo = _int(groups.get("m"))
            d = _int(groups.get("d"))
            if (mo is not None and not 1 <= mo <= 12) or (d is not None and not 1 <= d <= 31):
                continue
            if y is not None and not 1949 <= y <= 2100:
                continue
            rel = pat.RELATIVE_YEARS[groups["rel"]] if groups.get("rel") else None
            found.append(_DateMention(start, end, y, mo, d, form, rel))
            taken.append((start, end))
    return sorted(found, key=lambda d: d.start)


def _iso(y: int | None, m: int | None, d: int | None) -> str | None:
    if y is None:
        return None
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def resolve_year(mention: _DateMention, mt: str, context: DateContext) -> int | None:
    """The year of a date written without one.

    First an explicit year earlier in the same sentence; else the years that put the date
    between the feedback and the signing (or publication) date, preferring the year of the
    last full date before it, then the most recent; else that last full date's year.
    """
    sentence_start = context.base + max(mt.rfind(ch, 0, mention.start) for ch in "。;\n") + 1
    at = context.base + mention.start
    before = [y for pos, y in context.explicit_years if sentence_start <= pos < at]
    if before:
        return before[-1]
    last_named = next((y for pos, y in reversed(context.explicit_years) if pos < at), None)
    upper = context.signing or context.publish
    lower = context.feedback
    if upper or lower:
        years = range((lower or upper).year - 1, (upper or lower).year + 2)
        fits = []
        for y in years:
            day = mention.d or (28 if upper and mention.m == upper.month else 1)
            try:
                when = date(y, mention.m, day)
            except (ValueError, TypeError):
                continue
            month_start = date(y, mention.m, 1)
            if upper and month_start > upper:
                continue
            if (
                lower
                and when < lower
                and (mention.d is not None or (y, mention.m) < (lower.year, lower.month))
            ):
                continue
            fits.append(y)
        if fits:
            return last_named if last_named in fits else max(fits)
    return last_named


def find_dates(mt: str, protected: list[tuple[int, int]], context: DateContext) -> list[EntityValue]:
    """Dates and periods (two dates joined by 至/到/—, the second sharing year and month)."""
    mentions = date_mentions(mt, protected)
    own = [(context.base + d.start, d.y) for d in mentions if d.y is not None and d.form in TIMELINE_FORMS]
    context.explicit_years = [p for p in context.prior_years if p[0] < context.base] + own
    written = context.signing or context.publish  # what 今年 and 去年 count from
    for mention in mentions:
        if mention.rel is not None and written is not None:
            mention.y = written.year + mention.rel
    out: list[EntityValue] = []
    i = 0
    while i < len(mentions):
        a = mentions[i]
        b = mentions[i + 1] if i + 1 < len(mentions) else None
        if a.y is None and a.rel is None:  # a relative year without a date of writing stays unknown
            a.y = resolve_year(a, mt, context)
        if (b is not None and re.fullmatch(pat.PERIOD_SEP, mt[a.end : b.start]) and a.form != "y") or (
            b is not None
            and a.form == "y"
            and b.form == "y"
            and re.fullmatch(pat.PERIOD_SEP, mt[a.end : b.start])
        ):
            end_y = b.y if b.y is not None else a.y
            end_m = b.m if b.m is not None else (a.m if b.d is not None else None)
            start_iso, end_iso = _iso(a.y, a.m, a.d), _iso(end_y, end_m, b.d)
            if start_iso and end_iso:
                out.append(
                    EntityValue(
                        EntityType.PERIOD,
                        a.start,
                        b.end,
                        f"{start_iso}/{end_iso}",
                        date_start=start_iso,
                        date_end=end_iso,
                    )
                )
                i += 2
                continue
        day_only = re.match(pat.PERIOD_SEP + r"(?P<d>3[01]|[12]\d|0?[1-9])日", mt[a.end :])
        if day_only and a.d is not None:
            end_iso = _iso(a.y, a.m, int(day_only.group("d")))
            start_iso = _iso(a.y, a.m, a.d)
            if start_iso and end_iso:
                out.append(
                    EntityValue(
                        EntityType.PERIOD,
                        a.start,
                        a.end + day_only.end(),
                        f"{start_iso}/{end_iso}",
                        date_start=start_iso,
                        date_end=end_iso,
                    )
                )
                i += 1
                continue
        iso = _iso(a.y, a.m, a.d)
        if iso:
            out.append(EntityValue(EntityType.DATE, a.start, a.end, iso, date_start=iso, date_end=iso))
        i += 1
    return out


def find_doc_titles(mt: str) -> list[EntityValue]:
    out = []
    for m in pat.DOC_TITLE.finditer(mt):
        inner = m.group("inner")
        bare = re.sub(r"[(（][^()（）]*[)）]$", "", inner)
        kind = next((k for k in pat.DOC_KINDS if bare.endswith(k)), None)
        sentence_start = max(mt.rfind(ch, 0, m.start()) for ch in "。;\n,") + 1
        issued = bool(pat.ISSUED_BY_SELF.search(mt[sentence_start : m.start()]))
        out.append(EntityValue(EntityType.DOC_TITLE, m.start(), m.end(), inner, doc_kind=kind, issued=issued))
    return out


def find_amounts(
    mt: str, protected: list[tuple[int, int]], taken: list[tuple[int, int]]
) -> list[EntityValue]:
    """Money (in yuan), percentages and quantities with their measure words."""
    out: list[EntityValue] = []
    spans = protected + taken  # what a new amount may not overlap; each amount found joins it
    multipliers = {"元": 1, "千元": 1e3, "万元": 1e4, "亿元": 1e8}
    for m in pat.MONEY.finditer(mt):
        start = m.start("n") if m.group("pre") in (None, "共计", "合计", "累计", "超过") else m.start()
        if _overlaps(start, m.end(), spans):
            continue
        n = cn_number(m.group("n"))
        if n is None:
            continue
        yuan = round(n * multipliers[m.group("unit")], 2)
        approx = bool(m.group("approx")) or m.group("pre") in ("约", "近")
        value = str(int(yuan)) if yuan == int(yuan) else str(yuan)
        out.append(
            EntityValue(EntityType.MONEY, start, m.end(), value, value_num=yuan, unit="元", approx=approx)
        )
        spans.append((start, m.end()))
    for m in pat.PERCENT.finditer(mt):
        start = m.start("n") if m.group("n") and m.group("pre") == "超过" else m.start()
        if _overlaps(start, m.end(), spans):
            continue
        n = cn_number(m.group("n") or m.group("cn"))
        approx = bool(m.group("approx")) or m.group("pre") in ("约", "近")
        out.append(
            EntityValue(
                EntityType.PERCENT, start, m.end(), _num_text(n), value_num=n, unit="%", approx=approx
            )
        )
        spans.append((start, m.end()))
    for regex in (pat.QUANTITY, pat.CN_QUANTITY):
        for m in regex.finditer(mt):
            pre = m.groupdict().get("pre")
            start = m.start() if pre == "约" else m.start("n")
            end = m.end()
            if (start > 0 and (mt[start - 1].isdigit() or mt[start - 1] in ".-/:")) or _overlaps(
                start, end, spans
            ):
                continue
            unit = m.group("unit")
            if regex is pat.CN_QUANTITY:
                if m.group("n") == "一" and unit not in pat.CN_ONE_UNITS:
                    continue
                if pat.FIXED_AFTER.match(mt[end : end + 2]) or (start > 0 and mt[start - 1] in "“\"'「"):
                    continue
            n = cn_number(m.group("n"))
            if n is None:
                continue
            approx = bool(m.group("approx")) or pre in ("约", "近")
            out.append(
                EntityValue(
                    EntityType.QUANTITY, start, end, _num_text(n), value_num=n, unit=unit, approx=approx
                )
            )
            spans.append((start, end))
    return out


def _num_text(n: float | None) -> str | None:
    if n is None:
        return None
    return str(int(n)) if n == int(n) else str(n)


_NOT_NAMES = {
    "单位",
    "常委",
    "成员",
    "全体",
    "全面",
    "全局",
    "程序",
    "方案",
    "方面",
    "安排",
    "文件",
    "明确",
    "时间",
    "严格",
    "严肃",
    "党员",
    "干部",
    "带头",
    "任组",
    "牵头",
    "主持",
    "亲自",
    "分管",
    "高度",
    "为组",
    "和副",
    "向社",
    "于同",
    "马上",
    "习近平",
    "毛泽东",
    "邓小平",
    "江泽民",
    "胡锦涛",
    "金融",
    "安全",
    "孔子",
    "包括",
    "周边",
    "周期",
    "曾经",
    "易地",
    "汤河",
    "石材",
    "江河",
    "方式",
    "平安",
    "管理",
    "司法",
    "宁可",
    "时任",
    "成立",
    "向上",
    "左右",
    "和谐",
    "关于",
    "关心",
    "关注",
    "关键",
    "和党",
    "于是",
    "任务",
    "任期",
    "常态",
    "常规",
    "成效",
    "华夏",
}
_NOT_NAME_STARTS = tuple(sorted(_NOT_NAMES))  # str.startswith takes a tuple: one C call


def _plausible_name(name: str) -> bool:
    if name.startswith(_NOT_NAME_STARTS):
        return False
    return name[:2] in pat.SURNAMES or name[0] in pat.SURNAMES


def find_people(mt: str) -> list[EntityValue]:
    """Personal names after a role (局长扶元金) or before 同志; roles are not in the span."""
    out: list[EntityValue] = []
    seen: set[tuple[int, int]] = set()
    for m in pat.PERSON_AFTER_ROLE.finditer(mt):
        cand = m.group("name")
        start = m.start("name")
        length = 3 if len(cand) >= 3 and cand[2] not in pat.NAME_STOP else 2
        if len(cand) >= 3 and cand[1:3] == "同志":
            continue
        name = cand[:length]
        if name[-1] in pat.NAME_STOP or not _plausible_name(name):
            continue
        if (
            start + length < len(mt)
            and mt[start + length] not in pat.NAME_STOP
            and length == 2
            and len(cand) > 2
        ):
            continue
        seen.add((start, start + length))
        out.append(EntityValue(EntityType.PERSON, start, start + length, name))
    for m in re.finditer("同志", mt):
        end = m.start()
        for length in (3, 2):
            start = end - length
            if start < 0:
                continue
            name = mt[start:end]
            boundary = (
                start == 0 or not ("\u4e00" <= mt[start - 1] <= "\u9fff") or mt[start - 1] in "长记任理席"
            )
            if boundary and _plausible_name(name) and re.fullmatch(r"[\u4e00-\u9fff]+", name):
                if not _overlaps(start, end, list(seen)):
                    seen.add((start, end))
                    out.append(EntityValue(EntityType.PERSON, start, end, name))
                break
    return out


def find_orgs(mt: str) -> list[EntityValue]:
    return [EntityValue(EntityType.ORG, m.start(), m.end(), m.group()) for m in pat.ORG.finditer(mt)]


def find_entities(mt: str, context: DateContext | None = None) -> list[EntityValue]:
    """Every entity of a text (match form), sorted by position; titles may hold others."""
    context = context or DateContext()
    protected = protected_spans(mt)
    titles = find_doc_titles(mt)
    dates = find_dates(mt, protected, context)
    amounts = find_amounts(mt, protected, [(e.start, e.end) for e in dates])
    people = find_people(mt)
    orgs = find_orgs(mt)
    return sorted([*titles, *dates, *amounts, *people, *orgs], key=lambda e: (e.start, -e.end))


def with_context_dates(found: list[EntityValue], mt: str, context: DateContext) -> list[EntityValue]:
    """``found`` with its dates found again in the notice's own date context (years filled in)."""
    dates = find_dates(mt, protected_spans(mt), context)
    kept = [e for e in found if e.type not in (EntityType.DATE, EntityType.PERIOD)]
    return sorted(kept + dates, key=lambda e: (e.start, -e.end))


# --- document fields -----------------------------------------------------------------


def _date_of(text: str) -> date | None:
    m = re.match(r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})", text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def explicit_years(mt: str) -> list[tuple[int, int]]:
    """(offset, year) of the dates that name a year and a month: the timeline year-less dates lean on.

    Read line by line, as the entities are, so a date never spans two paragraphs. A bare
    year (2023年度, 2019年以来) names the period examined, not the time of writing.
    """
    out, start = [], 0
    for line in mt.split("\n"):
        out += [
            (start + d.start, d.y)
            for d in date_mentions(line, protected_spans(line))
            if d.y is not None and d.form in TIMELINE_FORMS
        ]
        start += len(line) + 1
    return out


def document_fields(
    mt: str, text: str, body_start: int, footer_start: int | None, first_problem: int | None
) -> DocumentFields:
    """Title-independent fields: publication, source, signature, inspection facts."""
    fields = DocumentFields()
    head = mt[: max(body_start, 0)] if body_start else mt[:300]
    m = pat.PUBLISH_TIME.search(head) or pat.PUBLISH_TIME.search(mt[:400])
    if m:
        day = _date_of(m.group("d"))
        if day:
            clock = m.group("t") or ""
            if clock.count(":") == 1:
                clock += ":00"
            fields.publish_time = (
                f"{day.isoformat()}T{clock.zfill(8)}" if clock else f"{day.isoformat()}T00:00:00"
            )
    m = pat.SOURCE.search(head) or pat.SOURCE.search(mt[:400])
    if m:
        fields.source = text[m.start("v") : m.end("v")]
    tail_start = footer_start if footer_start is not None else max(0, len(mt) - 200)
    from pipeline.structure import logical_lines

    tail_lines = [
        (ln.start, mt[ln.start : ln.end]) for ln in logical_lines(mt, tail_start) if ln.end > tail_start
    ]
    tail_lines = [(max(o, tail_start), ln[max(0, tail_start - o) :]) for o, ln in tail_lines]
    for offset, line in reversed(tail_lines):
        s = line.strip()
        date_line = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s)
        if date_line and fields.signing_date is None:
            fields.signing_date = _date_of(s).isoformat() if _date_of(s) else None
            continue
        if (
            fields.signing_date
            and fields.issuing_org is None
            and 2 <= len(s) <= 40
            and "。" not in s
            and ":" not in s
        ):
            trailing = re.match(r"^(\S+?)\s*(\d{4}年\d{1,2}月\d{1,2}日)?$", s)
            if trailing and re.search(
                r"党组|党委|委员会|局|办公室|院|公司|集团|政府|学校|大学|学院|医院|中心|镇|街道|法院|检察院|支部|总支|所|部|厅|处|委|办|会|站|队|社区",
                s,
            ):
                start = offset + line.index(trailing.group(1))
                fields.issuing_org = text[start : start + len(trailing.group(1))]
                break
        elif fields.issuing_org is None:
            joined = re.match(r"^(\S{2,40}?)\s+(\d{4})年(\d{1,2})月(\d{1,2})日$", s)
            if joined and fields.signing_date is None:
                start = offset + line.index(joined.group(1))
                fields.issuing_org = text[start : start + len(joined.group(1))]
                fields.signing_date = _date_of(s[len(joined.group(1)) :].strip()).isoformat()
                break
    for line in mt[:600].split("\n")[:8]:
        dateline = pat.DATELINE.match(line)
        if dateline and fields.signing_date is None:
            fields.signing_date = _date_of(dateline.group("d")).isoformat()
        speaker = pat.SPEAKER.match(line)
        if speaker and fields.issuing_org is None:
            start = mt.index(line) + speaker.start("org")
            fields.issuing_org = text[start : start + len(speaker.group("org"))]
    scope = mt[: first_problem if first_problem is not None else len(mt)]
    counts = {k: len(r.findall(mt)) for k, r in pat.KIND_WORDS.items()}
    kind = max(counts, key=counts.get) if any(counts.values()) else None
    fields.inspection_kind = kind if kind else "other"
    m = pat.ROUND.search(scope)
    if m:
        fields.inspection_round = text[m.start("v") : m.end("v")]
    m = pat.BODY.search(scope) or pat.BODY_SHORT.search(scope)
    if m is None and fields.inspection_kind == "审计":
        m = pat.AUDIT_BODY.search(scope)
    if m:
        fields.inspection_body = text[m.start("v") : m.end("v")]
    m = pat.UNIT.search(scope)
    if m:
        unit = m.group("v")
        full = re.search(re.escape(unit) + r"(?:党组|党委|党总支|党支部)?", mt[m.start("v") :])
        fields.inspected_unit = text[m.start("v") : m.start("v") + (full.end() if full else len(unit))]
    return fields


def completion_figures(mt: str, start: int, end: int) -> dict[str, float | None]:
    """Stated totals in the opening and organisational part: completed, ongoing, rate, rules, people."""
    region = mt[start:end]

    def first(regex):
        m = regex.search(region)
        if not m:
            return None
        groups = m.groupdict()
        value = groups.get("n") or groups.get("n2")
        return float(value) if value else None

    return {
        "problems_completed": first(pat.COMPLETED),
        "problems_ongoing": first(pat.ONGOING),
        "completion_rate": first(pat.RATE),
        "rules_made": first(pat.RULES_MADE),
        "people_held_accountable": first(pat.PEOPLE_HELD),
    }
