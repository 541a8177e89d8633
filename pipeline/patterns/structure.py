"""Patterns for finding a notice's parts.

They all run on ``Text.match_text``: simplified characters, half-width punctuation
(``（一）`` is matched as ``(一)``, ``；`` as ``;``). Families are ordered from the most
specific to the least, as FORMATS.md lists them.
"""

import re

CN_DIGITS = "一二三四五六七八九十"
CN = f"[{CN_DIGITS}]{{1,3}}"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# --- headings -------------------------------------------------------------------------
H1 = re.compile(rf"^[ ]*(?P<marker>(?P<num>{CN})[、.])[ ]*(?P<rest>\S.*)$")
H2 = re.compile(rf"^[ ]*(?P<marker>\((?P<num>{CN})\)[、.]?)[ ]*(?P<rest>\S.*)$")
# How a line matched by H1 or H2 opens (tests/test_patterns.py checks it).
HEADING_LINE_OPENING = re.compile(rf"[ ]*[{CN_DIGITS}(]")
HEADING_MAX = 80  # longer first sentences are body text that happens to start with 一、

PLANNED_HEADING = re.compile(r"下一步|下步|今后|后续|长效|努力方向|工作打算|工作安排|巩固.{0,6}成果")
# Headings of the whole problem part (二、整改落实情况) are containers, not categories.
GENERIC_CONTAINER = re.compile(
    r"(?:巡[察视]|审计|反馈|具体|问题|的|集中|整改|落实|进展|完成|工作|情况|关于|意见|发现|指出|查出|各项|任务|专项|和|及|、| )+[。.]?"
)

# --- problems: (family name, pattern), most specific first ------------------------------
PROBLEM_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("labelled_no", re.compile(rf"^[ ]*(?P<marker>问题[ ]*(?P<num>\d{{1,3}}|{CN})[ ]*[:.、])")),
    (
        "labelled_cn",
        re.compile(
            rf"^[ ]*(?P<marker>\((?P<num>{CN})\)[ ]*)(?=(?:反馈|巡[察视]|审计)?(?:指出的?)?问题[ ]*:)"
        ),
    ),
    (
        "numbered_labelled",
        re.compile(
            r"^[ ]*(?P<marker>(?P<num>\d{1,3})[ ]*[.、](?!\d))[ ]*(?=(?:审计|巡察|巡视|检查)?(?:指出|发现|反馈)(?:的)?(?:问题)?[ ]*:)"
        ),
    ),
    ("numbered_topic", re.compile(r"^[ ]*(?P<marker>(?P<num>\d{1,3})[ ]*[.、](?!\d))[ ]*(?=针对|关于|对于)")),
    ("paren_topic", re.compile(r"^[ ]*(?P<marker>\((?P<num>\d{1,3})\)[、.]?)[ ]*(?=针对|关于|对于)")),
    ("cn_topic", re.compile(rf"^[ ]*(?P<marker>\((?P<num>{CN})\)[、.]?)[ ]*(?=针对|关于|对于).{{0,80}}问题")),
    (
        "unnumbered_topic",
        re.compile(
            r"^[ ]*(?P<marker>)(?=(?:针对|关于)[^\n]{1,100}?问题(?:的整改)?[。:.,\n]|(?:针对|关于)[^\n]{1,100}?问题$)"
        ),
    ),
    ("numbered", re.compile(r"^[ ]*(?P<marker>(?P<num>\d{1,3})[ ]*[.、](?!\d))[ ]*(?=\S)")),
)
# How a line matched by any of PROBLEM_FAMILIES opens (tests/test_patterns.py checks it).
PROBLEM_LINE_OPENING = re.compile(r"[ ]*(?:问题|\(|\d|针对|关于)")
# A quoted sub-problem under a problem group: （1）关于“…”的问题。
SUB_PROBLEM = re.compile(
    r"[ ]*(?P<marker>\((?P<num>\d{1,2})\)[、.]?)[ ]*(?=(?:针对|关于|对于)[^\n]{0,120}?问题)"
)
# Where a problem statement stops and the answer starts.
TITLE_END = re.compile(
    r"问题(?:的整改(?:情况)?)?[。:;.](?!\d)|问题(?:的整改(?:情况)?)?(?=[ ]|$)|[。;](?=\s*(?:[一二三四五六七八九十]是|整改))|。"
)
# 一是… or (1) right after a stop, where a problem title on an answer's line stops.
TITLE_ENUM_START = re.compile(rf"(?<=[。;:, ])[ ]*{CN}是|(?<=[。;: ])[ ]*\(1\)|[①]")
# A problem title that reads as a label (指出的问题：…), after the marker.
LABELLED_TITLE = re.compile(r"(?:反馈|巡[察视]|审计|检查)?(?:指出|发现)?的?(?:问题)?[ ]*:")
ANSWER_LABEL = re.compile(r"(?:整改|落实)(?:措施|情况|落实情况|进展|结果|进度)?[ ]*:")
PROBLEMISH = re.compile(
    r"问题|漏洞|隐患|风险|欠缺|较多|弱化|虚化|走过场|形式主义|不彻底|不严格|不实|不细|不准|不当|不到位|不严|不足|不够|不力|不规范|不全|不及时|缺失|缺位|薄弱|滞后|违规|偏差|不高|不强|短板|差距|"
    r"未按|未经|未严格|未落实|未执行|未建立|未收|未纳入|未复垦|挤占|挪用|截留|虚报|套取|闲置|拖欠|过多|过高|"
    r"(?:审计|巡察|巡视)(?:指出|发现)"
)

# --- measures: enumeration families -------------------------------------------------------
BOUNDARY_CHARS = r"\n。;:,!?)\] "
BOUNDARY = rf"(?:(?<=^)|(?<=[{BOUNDARY_CHARS}]))"  # a marker opens the text or follows one of these


def _opened_at_boundary(read: int) -> str:
    """``read`` characters into a marker: it opened at BOUNDARY (at the start, or after a
    BOUNDARY_CHARS character). A family pattern that opens with this lookbehind makes ``re``
    try every position; one that opens with a character and checks this just after it is
    scanned for that character in C (tests/test_patterns.py compares both forms)."""
    return rf"(?<![^{BOUNDARY_CHARS}]{'.' * read})"


_AT_BOUNDARY = _opened_at_boundary(1)
# Each pattern matches what BOUNDARY + the marker would, written to open with the marker.
ENUM_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn_shi", re.compile(rf"(?P<marker>(?P<num>[{CN_DIGITS}]{_AT_BOUNDARY}[{CN_DIGITS}]{{0,2}})是)")),
    ("paren_num", re.compile(rf"(?P<marker>\({_AT_BOUNDARY}(?P<num>\d{{1,2}})\))")),
    ("circled", re.compile(rf"(?P<marker>(?P<num>[{CIRCLED}]))")),
    ("half_paren_num", re.compile(rf"(?P<marker>(?P<num>\d{_AT_BOUNDARY}\d?)\))")),
    ("di_cn", re.compile(rf"(?P<marker>第{_AT_BOUNDARY}(?P<num>{CN})[,、])")),
    (
        "sequence_words",
        re.compile(rf"(?P<marker>(?P<num>首先|其次|再次|然后|此外|最后){_opened_at_boundary(2)}),?"),
    ),
    (
        "arabic",
        re.compile(rf"(?P<marker>(?P<num>\d{_AT_BOUNDARY}\d?)(?:、|\.(?![\d%])))"),
    ),  # 1、7月… is an item
    ("paren_cn", re.compile(rf"(?P<marker>\({_AT_BOUNDARY}(?P<num>{CN})\))")),
)
# What a first item (ordinal 1) of each family must contain: where a stretch of text holds
# none of these, that family's pattern, which tries every position, need not scan it.
FIRST_ITEM_LITERALS: dict[str, tuple[str, ...]] = {
    "cn_shi": ("一是",),  # a numeral worth 1 ends in 一 (二一 is read as 1 too)
    "paren_num": (")",),
    "circled": ("①",),
    "half_paren_num": (")",),
    "di_cn": ("第",),
    "sequence_words": ("首先",),
    "arabic": ("、", "."),
    "paren_cn": (")",),
}
# Room for any marker above and the character its lookahead reads (（12）, 第十二、…).
MARKER_SPAN = 16
# Later ordinals of 一是 may run on with no stop before them, but not inside words.
RUN_ON_EXCLUDED_BEFORE = "统唯之第万专同划单逐"
RUN_ON_MARKER = re.compile(rf"(?P<marker>(?P<num>{CN})是)")
# An Arabic ordinal glued to its text (WORDING.md §5), taken only as the expected next one.
GLUED_ARABIC = r"(?<=[;。])[ ]*(?P<marker>(?P<num>{num}))(?=[\u4e00-\u9fff])"
# A heading line between two items, which ends their run.
HEADING_AFTER_BREAK = re.compile(rf"\n[ ]*(?:{CN}[、.]|\({CN}\))")
SEQUENCE_ORDER = {"首先": 1, "其次": 2, "再次": 3, "然后": 3, "此外": 4, "最后": 9}

# A status line reported as a measure (WORDING.md shape 16), its 整改情况： label included.
STATUS_LINE = re.compile(
    r"^(?:整改(?:情况|进展|状态|进度|结果)|完成情况)[ ]*:[ ]*(?P<status>(?:已|正在|持续|部分|基本|未)\S*)"
)
# What may follow the last enumerated item in its paragraph without belonging to it.
RUN_TAIL = re.compile(r"。(?=[ ]*(?:截至|截止|目前|至此|综上|总体上|下一步|通过以上|经过整改))")
SENTENCE_SPLIT = re.compile(r"[。;!?]|\n")
TRAILING = " \n。;,、:!?"
# A sentence: a stretch between SENTENCE_SPLIT characters less its leading spaces and its
# TRAILING characters (of which only " ,、:" can occur inside it), found in one pass.
SENTENCE = re.compile(r"[^。;!?\n ][^。;!?\n]*[^。;!?\n ,、:]|[^。;!?\n ,、:]")

# A sentence outside an enumeration is a measure only when it reports one of these acts.
ACTION_CUE = re.compile(
    r"召开|主持|学习|研讨|培训|授课|党课|辅导|讲座|警示教育|观看|参观|宣讲|测试|读书班|主题党日|"
    r"自查|排查|检查|清查|核查|核对|复核|抽查|回头看|复查|梳理|盘点|对账|摸清|摸底|查摆|剖析|检视|明察暗访|"
    r"实地查看|走访|登记造册|调阅|查阅|"
    r"制定|修订|修改完善|完善了|出台|印发|建立|健全|建章立制|废止|挂钩|纳入|推行|"
    r"问责|追责|追究|约谈|诫勉|谈话|函询|批评教育|通报批评|处分|警告|予以处理|严肃处理|免去|调离|停岗|"
    r"扣发|扣除|移交|移送|立案|组织处理|"
    r"组织[^。;]{0,30}会|举行[^。;]{0,30}会|党组会|党委会|例会|调度|研究部署|安排部署|专题研究|听取|会商|"
    r"清理|整治|补交|补缴|补发|补提|退还|退回|清退|追回|追缴|收回|缴回|缴入|上缴|归还|核减|冲减|压减|调账|核销|"
    r"补签|补录|补齐|补正|补办|归档|录入|公示|拆除|复绿|维修|修缮|更换|安装|购置|清运|施划|查封|"
    r"撤销|注销|终止|招标|招租|腾退|调整|配备|转办|罚款|整改到位|完成整改|已整改|办结|销号|"
    r"成立|领导小组|专班|压实|分工|责任到人|责任人|时限|清单|台账|督办|督导|督查|挂图|倒排|跟踪|签订|下发|"
    r"完成率|已完成|正在整改|追回资金|"
    r"增设|拆分|撤并|取消|转回|收缴|退缴|扣减|扣收|暂停|下达|责令|送达|实行|稽核|接入|开通|恢复|验收|"
    r"列为|选派|包保|整顿|新建|新增|招录|划分|一律|须经|设为|设置"
)
NOT_A_MEASURE = re.compile(
    r"^——|在[^。]{0,40}会议上$|(?:通报|公布|报告|公告)如下|予以公布|予以通报|现将|欢迎.{0,20}监督|如有.{0,10}(?:意见|建议)|"
    r"联系(?:电话|方式|人)|通信地址|通讯地址|邮政编码|邮编|电子邮箱|请予审议|请审议|"
    r"^(?:根据|按照).{0,30}(?:统一部署|安排).{0,40}(?:巡[察视]|审计)"
)
# NOT_A_MEASURE as two tests: its branches anchored at the start (for ``match``), and the
# others, each opening with a literal character, so ``re`` scans for those in C instead of
# trying every branch at every position (a sentence is NOT_A_MEASURE when either finds it).
NOT_A_MEASURE_OPENING = re.compile(r"——|(?:根据|按照).{0,30}(?:统一部署|安排).{0,40}(?:巡[察视]|审计)")
NOT_A_MEASURE_INSIDE = re.compile(
    r"在[^。]{0,40}会议上$|通报如下|公布如下|报告如下|公告如下|予以公布|予以通报|现将|欢迎.{0,20}监督|如有.{0,10}(?:意见|建议)|"
    r"联系(?:电话|方式|人)|通信地址|通讯地址|邮政编码|邮编|电子邮箱|请予审议|请审议"
)
EXPLANATION_START = re.compile(
    r"^(?:经核实|经查|经了解|经核查|由于|原因是|该笔|该项|该项目)"
    r"|^(?:审计|巡察|巡视|检查)(?:组|局)?(?:抽查)?(?:指出|发现|反映|查出)"  # the finding restated
)
EXPLANATION_OVERRIDE = re.compile(r"予以处理|问责|处分|诫勉|约谈|批评|已.{0,8}(?:整改|退还|清退|补交|撤销)")
# In a problem's answer a sentence reporting a result is a measure even without an act cue
# (预算股已将884万元细化分配到…); 已经 is left out, as in 已经认识到.
REPORTED_DONE = re.compile(r"已(?!经)|均已|全部")
PLANNED_START = re.compile(r"^(?:下一步|下步|今后|接下来|后续)")

# --- status and stated totals -----------------------------------------------------------
STATUS_COMPLETED = re.compile(
    r"已(?:全部)?完成整改|已整改(?:到位|完成|完毕)|整改(?:已)?完成|已办结|已销号|已完成[。,;]?$"
)
# Without a label, only these words set a problem's status (长期坚持 alone is a habit, not a status).
STATUS_ONGOING = re.compile(r"正在整改|持续整改|整改中|部分整改|阶段性完成|未完成整改")
STATUS_DONE = re.compile(r"已(?:全部)?完成整改|已整改(?:到位|完成|完毕)|已办结|已销号")
STATUS_LABEL = re.compile(
    r"(?:整改(?:情况|进展|状态|进度|结果)|完成情况|目前状态)[ ]*:[ ]*"
    r"(?P<status>已(?:全部)?完成整改|已整改(?:到位|完成|完毕)|已完成|已办结|已销号|正在整改|持续整改|整改中|"
    r"部分整改|基本完成|未完成|长期坚持|阶段性完成)"
)
# A statement before the problems that every one of them is done.
ALL_COMPLETED = re.compile(
    r"(?:问题|任务)[^。;]{0,6}?(?:已)?全部(?:完成整改|整改(?:到位|完成|完毕)|办结|销号)"
)
PROBLEMS_STATED = re.compile(
    r"(?:反馈|指出|交办|发现|查出|提出)(?:了)?(?:[^。;,]{0,12}?)(?:(?P<areas>\d+|[一二三四五六七八九十]+)个方面)?"
    r"[^。;\d]{0,6}?(?P<count>\d+)(?:个|项|条)(?:具体)?问题"
    r"|(?P<areas2>\d+|[一二三四五六七八九十]+)个方面(?:\d+(?:个|项))?(?P<count2>\d+)(?:个|项|条)(?:具体)?问题"
    r"|(?:反馈|反映|指出|查出)问题(?:共)?(?P<count3>\d+)(?:个|项|条)"
)

# --- header, title and footer lines --------------------------------------------------
META_LINE = re.compile(
    r"^[•·\-* ]*(?:发布时间|发布日期|日期|时间|来源|信息来源|文章来源|索引号|信息索引号|发布机构|发文机关|成文日期|"
    r"主题分类|主题词|体裁分类|文号|发文字号|浏览次数|浏览量|阅读次数|访问量|点击数|字号|当前位置|您现在的位置|"
    r"所在位置|首页|分享|打印|主动公开|公开方式|公开范围|有效性|生成日期|标题|名称|编号|作者|责任编辑|编辑|审核|"
    r"校对|关键词|分类|内容分类|所属机构|公开时限|公开形式)\s*(?::|>|\||$)"
    r"|^[•·\-* ]*(?:首页|网站首页).{0,3}(?:>|»|->)"
    r"|(?:>|>>|->|»)\s*\S+\s*(?:>|>>|->|»)"
    r"|^(?:主动公开|依申请公开|不予公开|字号[::]?.*|朗读|无障碍|繁体|简体|English|登录|注册|打印本页|关闭窗口)$"
    r"|^\d{4}-\d{2}-\d{2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
    r"|^[A-Za-z0-9/\-]{6,}$"
)
TITLE_HINT = re.compile(r"整改|巡[察视]|审计|通报|情况|报告|公告|公示|进展")
FOOTER_LINE = re.compile(
    r"欢迎.{0,30}监督|如[有对].{0,20}(?:意见|建议)|联系(?:电话|方式|人)|通信地址|通讯地址|来信地址|邮政编码|邮编|"
    r"电子邮箱|电子信箱|邮箱|举报电话|监督电话|请予审议|请审议|以上报告|特此(?:通报|公告)|"
    r"责任编辑|编辑[::]|审核[::]|校对[::]|主办单位|承办单位|版权所有|备案号|ICP|网站标识码|技术支持|"
    r"打印本页|关闭窗口|分享到|扫一扫|您访问的链接即将离开|"
    r"^[—\-]+$|^(?:附件|抄送|印发)[::]"
)
DATE_LINE = re.compile(
    r"^[ ]*(?:\d{4}|[〇零一二三四五六七八九○]{4})年[\d一二三四五六七八九十〇○]{1,3}月[\d一二三四五六七八九十〇○]{1,3}日[ ]*$|^\d{4}[-./]\d{1,2}[-./]\d{1,2}$"
)
SIGNATURE_LINE = re.compile(
    r"^[ ]*\S{2,40}(?:党组|党委|委员会|局|办公室|院|厅|所|中心|公司|集团|政府|学校|大学|学院|医院|组|部|处|镇|街道|法院|检察院|支部|总支)[ ]*(?:\d{4}年.*)?$"
)

# Flattened notices: a space that stands for a line break before a heading or problem marker.
# Each branch reads "spaces after X, before Y"; it opens with the first space and looks back
# from there, so ``re`` scans for a space in C instead of trying the lookbehinds at every
# position (tests/test_patterns.py checks it against the plain form, lookbehinds first).
FLAT_BREAK = re.compile(
    r" (?:(?<=(?:通报|报告|公告|公示|情况) )|(?<=\d:\d\d )) *(?=\S)"
    r"| (?<=\S ) *(?=[^ ]{8,80}?(?:通报|报告|公告)(?: |$))"
    rf"| (?<=\S ) *(?=(?:{CN})[、.](?!\d)|\((?:{CN})\)|(?:\d{{1,2}})[.、](?![\d%])\S|问题\d{{1,3}}[:.、]|"
    r"(?:发布时间|来源|信息来源|发布日期)[:]|"
    r"(?:各界|欢迎|如对|如有|联系电话|联系方式|【打印|【关闭|打印本页|关闭窗口)|"
    r"\S{2,40}(?:党组|党委|委员会|局|办公室|院|公司|集团|政府|镇|街道) \d{4}年\d{1,2}月\d{1,2}日)"
)
FLAT_LINE_MIN = 120
# A gap with none of these between the segments found is boilerplate.
CONTENT_CHAR = re.compile(r"[\w\u4e00-\u9fff]")
