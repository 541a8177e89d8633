"""``zhenggai report OUT_DIR``: one self-contained ``report.html`` for a run.

Counts, the main charts (inline SVG with the glyphs drawn as paths, so Chinese reads
right in any browser, with no font and no network), parse-status and error summaries,
and the measures the model is least sure of.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from pipeline import charts
from pipeline.types import LABELS
from pipeline.write import atomic, read_tables

REPORT_CHARTS = (
    "label_counts",
    "labels_by_scope",
    "labels_by_focus_area",
    "labels_by_inspection_kind",
    "timeline",
    "cited_document_kinds",
    "money_and_counts",
)
STYLE = """
body{font-family:"zhenggai-cjk","WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:2rem auto;max-width:1100px;color:#222;line-height:1.5}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}figure{margin:1rem 0}.muted{color:#777}
"""


def embedded_font_css(text: str) -> str:
    """An @font-face with the shipped CJK font cut down to the characters of ``text``.

    The charts draw their glyphs as paths; the page's own Chinese text needs a font too,
    and a viewer may have none. A subset of the used characters adds tens of kilobytes.
    """
    import base64
    import logging

    from fontTools import subset

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from fontTools.ttLib import TTCollection

    font = TTCollection(str(charts.FONT_FILE)).fonts[0]
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"@font-face{{font-family:'zhenggai-cjk';src:url(data:font/ttf;base64,{data}) format('truetype')}}"


def svg(fig) -> str:
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            css = ' class="num"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
            cells.append(f"<td{css}>{html.escape('' if pd.isna(value) else str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def least_certain(
    tables: dict[str, pd.DataFrame], n: int = 20, thresholds: dict | None = None
) -> pd.DataFrame:
    labels = tables["measure_labels"].copy()
    if labels.empty:
        return pd.DataFrame(columns=["measure_id", "label", "score", "text"])
    labels["margin"] = (labels.score - labels.label.map(thresholds or {}).fillna(0.5)).abs()
    closest = labels.sort_values(["margin", "measure_id"]).drop_duplicates("measure_id").head(n)
    text = tables["measures"].set_index("measure_id").text
    closest["text"] = closest.measure_id.map(text)
    return closest[["measure_id", "label", "score", "text"]].assign(score=lambda f: f.score.round(3))


def write_report(out_dir: Path, thresholds: dict | None = None) -> Path:
    """Write ``out_dir/report.html`` from the tables a run wrote there."""
    out_dir = Path(out_dir)
    tables = read_tables(out_dir)
    if "documents" not in tables:
        raise FileNotFoundError(
            f"{out_dir}: no documents table here (run `zhenggai run --out {out_dir}` first)"
        )
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    docs, errors = tables["documents"], tables["errors"]
    wide = charts.measure_labels_wide(tables) if len(tables["measures"]) else None
    counts = pd.DataFrame(
        {
            "table": ["documents", "problems", "measures", "entities", "errors"],
            "rows": [
                len(docs),
                len(tables["problems"]),
                len(tables["measures"]),
                len(tables["entities"]),
                len(errors),
            ],
        }
    )
    status = docs.parse_status.value_counts().rename_axis("parse_status").reset_index(name="documents")
    error_summary = (
        errors.groupby(["stage", "error_type"]).size().reset_index(name="files")
        if len(errors)
        else pd.DataFrame(columns=["stage", "error_type", "files"])
    )
    parts = [
        "<h1>整改通报分析报告 · zhenggai report</h1>",
        f"<p class='muted'>{html.escape(str(out_dir))} · "
        f"pipeline {html.escape(str(manifest.get('pipeline_version', '')))} · "
        f"model {html.escape(str(manifest.get('model_id', '')))}</p>",
        "<h2>数量 Counts</h2>",
        _table(counts),
        "<h2>解析状态 Parse status</h2>",
        _table(status),
        "<h2>错误 Errors</h2>",
        _table(error_summary) if len(error_summary) else "<p>无 none</p>",
    ]
    if wide is not None:
        share = wide[[*LABELS, "other"]].mean().round(3).rename_axis("label").reset_index(name="share")
        parts += ["<h2>措施类型 Measure types</h2>", _table(share)]
        for name in REPORT_CHARTS:
            try:
                figure = charts.CHARTS[name](tables)
            except (ValueError, KeyError, IndexError):
                continue  # a chart with nothing to show is left out
            parts.append(f"<figure id='{name}'>{svg(figure)}</figure>")
        parts += [
            "<h2>最不确定的措施 Least certain measures</h2>",
            _table(least_certain(tables, 20, thresholds)),
        ]
    body = "\n".join(parts)
    visible = re.sub(r"<svg.*?</svg>", "", body, flags=re.S)
    head = (
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
        "<title>zhenggai report 整改通报分析报告</title>"
        f"<style>{embedded_font_css(visible + '整改通报分析报告')}{STYLE}</style></head><body>"
    )
    payload = head + body + "</body></html>"
    target = out_dir / "report.html"
    atomic(target, lambda tmp: tmp.write_text(payload, encoding="utf-8"))
    return target
