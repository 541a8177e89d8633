"""Charts of a run's tables, shared by the notebooks and ``zhenggai report``.

Every function takes the tables (``pipeline.write.read_tables`` or ``pipeline.run``) and
returns a matplotlib ``Figure`` with a title and labelled axes. Chinese text is set in the
CJK font shipped with the package (WenQuanYi Micro Hei), inside an ``rc_context`` so the
caller's matplotlib settings are left alone.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

from pipeline.types import LABELS

FONT_FILE = Path(__file__).parent / "resources" / "fonts" / "wqy-microhei.ttc"
LABEL_NAMES = {
    "study": "学习 study",
    "self_check": "自查 self_check",
    "system_revision": "制度 system_revision",
    "accountability": "问责 accountability",
    "meeting": "会议 meeting",
    "rectification": "整改 rectification",
    "leadership": "领导 leadership",
    "other": "其他 other",
}
AREA_NAMES = {
    "decisions": "决策部署 decisions",
    "corruption": "腐败和作风 corruption",
    "organisation": "党组织建设 organisation",
    "rectification": "整改 rectification",
    "other": "其他 other",
}


@lru_cache(maxsize=1)
def font_name() -> str:
    """Register the shipped CJK font with matplotlib once; return its family name."""
    font_manager.fontManager.addfont(str(FONT_FILE))
    return font_manager.FontProperties(fname=str(FONT_FILE)).get_name()


@contextmanager
def cjk_style():
    # A concrete family, not "sans-serif": text keeps it when the figure is drawn later.
    with plt.rc_context({"font.family": [font_name(), "DejaVu Sans"], "axes.unicode_minus": False}):
        yield


def _figure(width: float = 8, height: float = 4.5):
    return plt.subplots(figsize=(width, height), layout="constrained")


def measure_labels_wide(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per measure with a boolean column per label and ``other`` when none is predicted."""
    measures = tables["measures"][["doc_id", "measure_id", "scope", "problem_id"]].copy()
    labels = tables["measure_labels"]
    chosen = labels[labels.predicted.astype(bool)]
    wide = pd.crosstab(chosen.measure_id, chosen.label).reindex(columns=list(LABELS), fill_value=0) > 0
    measures = measures.merge(wide, left_on="measure_id", right_index=True, how="left")
    measures[list(LABELS)] = measures[list(LABELS)].fillna(False).astype(bool)
    measures["other"] = ~measures[list(LABELS)].any(axis=1)
    return measures


def label_counts(tables) -> plt.Figure:
    wide = measure_labels_wide(tables)
    counts = wide[[*LABELS, "other"]].sum().sort_values()
    with cjk_style():
        fig, ax = _figure()
        ax.barh([LABEL_NAMES[k] for k in counts.index], counts.to_numpy(), color="#3b6ea8")
        ax.set_title("各类整改措施数量 Measures by type")
        ax.set_xlabel("措施数 measures")
        ax.set_ylabel("类型 type")
    return fig


def _share_bars(share: pd.DataFrame, title: str, ylabel: str, legend: str) -> plt.Figure:
    """Grouped bars: one group per label, one bar per column of ``share``."""
    share = share.copy()
    share.index = [LABEL_NAMES[k] for k in share.index]
    with cjk_style():
        fig, ax = _figure(9, 4.8)
        share.plot.bar(ax=ax, rot=30)
        ax.set_title(title)
        ax.set_xlabel("类型 type")
        ax.set_ylabel(ylabel)
        ax.legend(title=legend)
    return fig


def labels_by_scope(tables) -> plt.Figure:
    share = measure_labels_wide(tables).groupby("scope")[[*LABELS, "other"]].mean().T
    return _share_bars(
        share,
        "不同范围措施的类型构成 Measure types by scope",
        "占该范围措施比例 share of measures",
        "范围 scope",
    )


def labels_by_focus_area(tables) -> plt.Figure:
    wide = measure_labels_wide(tables)
    problems = tables["problems"][["problem_id", "focus_area"]]
    joined = wide.merge(problems, on="problem_id", how="inner")
    share = joined.groupby("focus_area")[[*LABELS, "other"]].mean()
    share.index = [AREA_NAMES.get(k, k) for k in share.index]
    share.columns = [LABEL_NAMES[k] for k in share.columns]
    with cjk_style():
        fig, ax = _figure(10, 4.8)
        image = ax.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(share.shape[1]), share.columns, rotation=30, ha="right")
        ax.set_yticks(range(share.shape[0]), share.index)
        for i in range(share.shape[0]):
            for j in range(share.shape[1]):
                ax.text(j, i, f"{share.iat[i, j]:.0%}", ha="center", va="center", fontsize=8)
        fig.colorbar(image, ax=ax, label="占比 share")
        ax.set_title("各巡察重点领域问题的整改措施类型 Measure types by focus area")
        ax.set_xlabel("措施类型 measure type")
        ax.set_ylabel("重点领域 focus area")
    return fig


def labels_by_inspection_kind(tables) -> plt.Figure:
    kinds = tables["documents"][["doc_id", "inspection_kind"]]
    wide = measure_labels_wide(tables).merge(kinds, on="doc_id")
    share = wide.groupby("inspection_kind")[[*LABELS, "other"]].mean().T
    title = "巡视、巡察、审计整改的措施构成 Measure types by inspection kind"
    return _share_bars(share, title, "占比 share of measures", "检查类型 kind")


ISSUER_KINDS = (
    ("医院 hospital", ("医院",)),
    ("学校 school/university", ("大学", "学院", "学校", "中学", "小学")),
    ("企业 enterprise", ("公司", "集团", "银行")),
    ("审计 audit office", ("审计",)),
    ("乡镇街道 town/street", ("镇", "乡", "街道", "社区")),
    ("法院检察院 court", ("法院", "检察院")),
    ("局/部门 bureau/department", ("局", "部", "办公室", "委员会", "中心", "厅")),
)


def issuer_kind(org: str | None) -> str:
    """A coarse kind of issuing body, from the words in its name."""
    if not isinstance(org, str) or not org:
        return "未知 unknown"
    for kind, words in ISSUER_KINDS:
        if any(w in org for w in words):
            return kind
    return "其他 other"


def labels_by_issuer(tables) -> plt.Figure:
    wide = measure_labels_wide(tables)
    docs = tables["documents"][["doc_id", "issuing_org"]].assign(
        issuer=lambda d: d.issuing_org.map(issuer_kind)
    )
    share = wide.merge(docs, on="doc_id").groupby("issuer")[[*LABELS, "other"]].mean()
    share.columns = [LABEL_NAMES[k] for k in share.columns]
    with cjk_style():
        fig, ax = _figure(10, 4.8)
        share.plot.barh(ax=ax, stacked=True, width=0.7)
        ax.set_title("不同发布单位的措施类型构成 Measure types by issuer")
        ax.set_xlabel("标签占比之和 sum of label shares")
        ax.set_ylabel("发布单位类型 issuer kind")
        ax.legend(fontsize=7, ncols=2)
    return fig


def measures_per_problem(tables) -> plt.Figure:
    counts = tables["measures"].dropna(subset=["problem_id"]).groupby("problem_id").size()
    with cjk_style():
        fig, ax = _figure(7, 4)
        ax.hist(
            counts.to_numpy(),
            bins=range(1, int(counts.max() if len(counts) else 1) + 2),
            color="#5b8c5a",
            edgecolor="white",
            align="left",
        )
        ax.set_title("每个问题的整改措施数 Measures per problem")
        ax.set_xlabel("措施数 measures")
        ax.set_ylabel("问题数 problems")
    return fig


def timeline(tables) -> plt.Figure:
    docs = tables["documents"].copy()
    for column in ("inspection_end", "feedback_date", "signing_date", "publish_time"):
        docs[column] = pd.to_datetime(docs[column].astype("string").str[:10], errors="coerce")
    docs["to_feedback"] = (docs.feedback_date - docs.inspection_end).dt.days
    docs["to_signing"] = (docs.signing_date - docs.feedback_date).dt.days
    docs["to_publish"] = (docs.publish_time - docs.signing_date).dt.days
    docs = docs.dropna(subset=["to_feedback", "to_signing"], how="all")
    names = (docs.issuing_org.fillna(docs.doc_id)).astype(str).str.slice(0, 14)
    with cjk_style():
        fig, ax = _figure(9, max(3, 0.45 * len(docs) + 1.5))
        left = pd.Series(0.0, index=docs.index)
        for column, label, color in (
            ("to_feedback", "巡察结束→反馈 end→feedback", "#8fb3d9"),
            ("to_signing", "反馈→成文 feedback→signed", "#3b6ea8"),
            ("to_publish", "成文→发布 signed→published", "#d9a441"),
        ):
            values = docs[column].fillna(0).clip(lower=0)
            ax.barh(names, values, left=left, label=label, color=color)
            left = left + values
        ax.set_title("从巡察到整改通报的时间 From inspection to publication")
        ax.set_xlabel("天 days")
        ax.set_ylabel("发布单位 issuer")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return fig


def cited_document_kinds(tables, top: int = 12) -> plt.Figure:
    titles = tables["entities"]
    titles = titles[titles.type == "doc_title"]
    counts = titles.doc_kind.fillna("其他").value_counts().head(top).sort_values()
    with cjk_style():
        fig, ax = _figure(7, 4.5)
        ax.barh(counts.index.astype(str), counts.to_numpy(), color="#7a5ea8")
        ax.set_title("引用或制定的《文件》类型 Kinds of cited 《documents》")
        ax.set_xlabel("次数 mentions")
        ax.set_ylabel("文件类型 kind")
    return fig


def money_and_counts(tables, top: int = 12) -> plt.Figure:
    ents = tables["entities"]
    money = ents[ents.type == "money"]
    quantities = ents[ents.type == "quantity"]
    with cjk_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
        per_doc = money.groupby("doc_id").value_num.sum().div(1e4).sort_values().tail(top)
        names = tables["documents"].set_index("doc_id").issuing_org.reindex(per_doc.index)
        left.barh(
            names.fillna(pd.Series(per_doc.index, index=per_doc.index)).astype(str).str.slice(0, 14),
            per_doc.to_numpy(),
            color="#c0504d",
        )
        left.set_title("通报中的金额 Money reported")
        left.set_xlabel("万元 10,000 yuan")
        left.set_ylabel("发布单位 issuer")
        units = quantities.unit.value_counts().head(top).sort_values()
        right.barh(units.index.astype(str), units.to_numpy(), color="#4f81bd")
        right.set_title("数量的计量单位 Counts by measure word")
        right.set_xlabel("次数 mentions")
        right.set_ylabel("量词 unit")
    return fig


CHARTS = {
    "label_counts": label_counts,
    "labels_by_scope": labels_by_scope,
    "labels_by_focus_area": labels_by_focus_area,
    "labels_by_inspection_kind": labels_by_inspection_kind,
    "labels_by_issuer": labels_by_issuer,
    "measures_per_problem": measures_per_problem,
    "timeline": timeline,
    "cited_document_kinds": cited_document_kinds,
    "money_and_counts": money_and_counts,
}
