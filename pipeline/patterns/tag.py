"""Labelling functions for the measure types: one per cue family and label.

Each function is (name, label, pattern, veto). It votes for its label when ``pattern``
matches the measure text (in match form: simplified, half-width) and ``veto`` does not.
They follow ../shared/corpus/LABELLING.md and WORDING.md: the cue families of each label,
and the decision rules that take a cue away from a label (for example rule 5: a meeting
named only as the place a decision was taken is not a meeting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LabellingFunction:
    name: str
    label: str
    pattern: re.Pattern[str]
    veto: re.Pattern[str] | None = None

    def __call__(self, text: str) -> bool:
        return bool(self.pattern.search(text)) and not (self.veto and self.veto.search(text))


def _lf(name: str, label: str, pattern: str, veto: str | None = None) -> LabellingFunction:
    return LabellingFunction(name, label, re.compile(pattern), re.compile(veto) if veto else None)


# Conditional threats and intentions report no act (WORDING.md section 4).
CONDITIONAL = r"^[^,;]{0,4}(?:对|凡|如|一经)[^,;]{0,30}的,?(?:将|要|一律|坚决|严肃|及时|依规|依纪)|一经发现|发现问题及时"
# A meeting that is only where a decision on people was taken (rule 5).
DECISION_VENUE = r"经[^,;。]{0,16}(?:会|会议)[^,;。]{0,4}(?:研究决定|研究,|决定)"
OUTSIDERS = r"企业|商户|经营户|群众|居民|村民|律师|供应商|施工单位|物业|外卖|商家|市场主体|从业人员|乡镇|街道|村\(社区\)|社会"
SELF_CRITICISM_IN_MEETING = r"(?:民主生活会|组织生活会)[^。]*(?:自我批评|对照检查|查摆)"

LABELLING_FUNCTIONS: tuple[LabellingFunction, ...] = (
    # study
    _lf("study_learn", "study", r"学习|领学|研学|原文|读书班|中心组|第一议题", veto=r"学习计划$|学习强国"),
    _lf("study_training", "study", r"培训|轮训|授课|辅导|讲座|解读|应知应会|测试", veto=OUTSIDERS),
    _lf(
        "study_warning",
        "study",
        r"警示教育|警示片|以案促改|以案说法|以案为鉴|廉政教育|党课|主题党日|参观[^,;]{0,10}基地|心得体会",
    ),
    # self_check
    _lf("check_self", "self_check", r"自查|排查|清查|起底|摸排|摸底|摸清|盘点|对账|登记造册|清点"),
    _lf(
        "check_verify",
        "self_check",
        r"核查|核对|复核|抽查|回头看|复查|检视|查摆|剖析|对照检查|未发现类似",
        veto=r"调查核实|核实后",
    ),
    _lf(
        "check_inspect",
        "self_check",
        r"(?:开展|进行|组织|全面|专项|逐[一项户笔页]|实地)[^,;]{0,8}检查|明察暗访|四不两直|实地查看|调阅|查阅|逐页|梳理",
        veto=r"书面检查|责令[^,;]{0,4}检查|督查|督导",
    ),
    _lf(
        "check_in_meeting", "self_check", SELF_CRITICISM_IN_MEETING + r"|(?:民主生活会|组织生活会)[^。]*批评"
    ),  # rule 3
    # system_revision
    _lf(
        "rule_instrument",
        "system_revision",
        r"(?:制定|修订|修改|出台|印发|完善|建立|健全|新建|废止|起草|编制)[^,;。]{0,20}(?:制度|机制|办法|细则|规定|规则|规程|流程|清单|标准|指引|守则|意见|方案|《)",
        veto=r"整改方案|整改措施|任务清单|问题清单|责任清单|整改台账|整改清单",
    ),
    _lf(
        "rule_routine",
        "system_revision",
        r"每(?:周|月|季度?|年|半年|学期)[^,;]{0,12}(?:至少|定期|开展|通报|公示|召开|研究|报送|检查)|定期[^,;]{0,8}(?:通报|公示|轮岗|报告|检查)|常态化|长效机制|建章立制|固化|挂钩|纳入[^,;]{0,12}(?:考核|议题|要点|计划|制度|清单|内容)",
    ),
    # accountability
    _lf(
        "acc_sanction",
        "accountability",
        r"问责|追责|追究[^,;]{0,6}责任|诫勉|函询|处分|警告|记过|记大过|组织处理|免去|停岗|扣发|扣除[^,;]{0,8}(?:绩效|目标分|奖金)|取消[^,;]{0,6}评优|立案审查|予以处理|严肃处理|不予问责|容错",
        veto=CONDITIONAL,
    ),
    _lf(
        "acc_talk",
        "accountability",
        r"约谈|谈话提醒|提醒谈话|谈话提示|批评教育|通报批评|严肃批评|责令[^,;]{0,6}检查|书面检查|作出?检查",
        veto=OUTSIDERS + "|" + CONDITIONAL,
    ),
    _lf("acc_referral", "accountability", r"移送|移交[^,;]{0,8}(?:纪委|监委|纪检|司法|公安)|线索"),
    _lf("acc_self_criticism", "accountability", r"自我批评|检讨", veto=SELF_CRITICISM_IN_MEETING),
    # meeting
    _lf(
        "meet_convene",
        "meeting",
        r"(?:召开|主持|组织召开|举行|先后召开)[^,;。]{0,30}(?:会|会议)",
        veto=r"^[^,;]{0,30}(?:学习会|培训会|警示教育大会)[^,;]*$|" + DECISION_VENUE,
    ),
    _lf(
        "meet_kinds",
        "meeting",
        r"党组会|党委会|党组扩大会|扩大会议|专题会|民主生活会|组织生活会|领导小组会|推进会|调度会|部署会|动员会|例会|局务会|院务会|办公会|联席会|复盘会|通报会|支委会|常委会|碰头会",
        veto=DECISION_VENUE + r"|每(?:年|季度|月)[^,;]{0,10}(?:至少|不少于)",
    ),
    _lf(
        "meet_study",
        "meeting",
        r"专题研究|研究部署|集体研究|会商|听取[^,;]{0,12}汇报|审议通过",
        veto=r"每(?:年|季度|月)[^,;]{0,10}(?:至少|不少于)",
    ),
    # rectification
    _lf(
        "fix_money",
        "rectification",
        r"退还|退回|清退|退缴|追回|追缴|收回|缴回|缴入|上缴|归还|补缴|补交|补提|补发|兑付|清收|核减|冲减|压减|调账|调整账务|核销|挽回",
    ),
    _lf(
        "fix_records",
        "rectification",
        r"补签|补录|补齐|补正|补办|补充完善|重新印发|归档|录入|建档|完善[^,;]{0,8}(?:资料|手续|档案|台账资料)",
    ),
    _lf(
        "fix_physical",
        "rectification",
        r"拆除|复绿|补植|维修|修缮|修补|更换|安装|购置|疏通|清运|清掏|施划|查封|改造|硬化|整修|接入|开工|投入使用|上线",
    ),
    _lf(
        "fix_structure",
        "rectification",
        r"撤销|注销|关停|终止|重新招标|公开招租|腾退|调整|配备|配齐|增设|设置|纳入[^,;]{0,8}(?:低保|范围|预算|保障|系统)|转办|移交|罚款|处罚|责令[^,;]{0,6}整改|清理|整治",
    ),
    _lf(
        "fix_result",
        "rectification",
        r"已(?:全部|按要求)?(?:整改|完成|办结|清退|退还|补|撤销|拆除|实现)|整改到位|完成整改|销号|完成率|全部完成",
        veto=CONDITIONAL,
    ),
    # leadership
    _lf(
        "lead_group",
        "leadership",
        r"领导小组|工作专班|专班|下设办公室|任组长|为组长|第一责任人|一岗双责|牵头抓总|带头领办|亲自(?:部署|督办|抓|过问)",
    ),
    _lf(
        "lead_duty",
        "leadership",
        r"压实[^,;]{0,6}责任|层层压实|明确[^,;]{0,10}(?:分工|责任|时限|牵头)|分解[^,;]{0,4}任务|责任到人|责任清单|问题清单|任务清单|整改台账|整改方案|细化[^,;]{0,6}措施|挂图作战|倒排工期|对账销号|销号管理|清单式|责任状|审核把关|签字背书",
    ),
    _lf(
        "lead_supervise",
        "leadership",
        r"督办|督查|督导|提醒函|整改通知书|定期调度|动态跟踪|跟踪问效|跟踪监督|再反馈|列席指导|监督检查整改",
    ),
)


# --- focus areas of inspection (problems.focus_area) -------------------------------------
# Each area's cue words; a problem takes the area with most cues in its category heading,
# or, where the heading names none or several equally, in heading and title together.
# Ties go to the earlier area: a heading about earlier findings often also names the party.
FOCUS_AREAS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "rectification",
        re.compile(
            r"上[一]?轮|前[一]?轮|历次|以往|巡[视察](?:等)?监督.{0,6}整改|审计.{0,8}整改|整改.{0,4}(?:不到位|不彻底|不力)|监督整改|反馈问题.{0,4}整改"
        ),
    ),
    (
        "organisation",
        re.compile(
            r"基层党组织|党组织建设|组织建设|领导班子|班子建设|干部队伍|干部选拔|选人用人|人才|组织生活|三会一课|党员(?:教育|管理|发展)|党建|支部|组织体系"
        ),
    ),
    (
        "corruption",
        re.compile(
            r"腐败|不正之风|作风|医风|师德|廉洁|廉政|八项规定|纪律|财经|财务|财政|预算|国库|非税|资金|资产|经费|劳务费|列支|收费|价格|超标准|采购|招标|工程|违规|群众身边|群众反映|全面从严治党|监督责任|主体责任|四风|公务|报销|利益|资格审核|把关不严|发放"
        ),
    ),
    (
        "decisions",
        re.compile(
            r"决策部署|党中央|贯彻落实|理论学习|学习贯彻|意识形态|政治建设|政治责任|新发展理念|根本任务|立德树人|课程思政|主责主业|职能|职责|服务|发展|政策|中心工作|国家战略|民生|安全|执法|监管|改革|乡村振兴|推进缓慢|未开工|人居环境|生态|环境|扬尘|污染|治理|整治|管护"
        ),
    ),
)
