"""Our HTML extraction against trafilatura's, on the saved pages: ``python -m benchmarks.html_extraction``.

For each HTML sample with a gold file: how many gold measures and problem titles appear
verbatim in the extracted text; whether the information-disclosure block (索引号, 发布机构,
成文日期), the title, the publication line and the signature, from which document fields
come, survive; and how many lines of page furniture (navigation, share and print widgets,
footer) remain.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FURNITURE = re.compile(r"首页|当前位置|打印本页|关闭窗口|分享到|主办单位|备案号|网站标识码")
DISCLOSURE = ("索引号", "发布机构", "成文日期")


def ours(html: str) -> str:
    from pipeline.ingest import html_to_text, normalise

    return normalise(html_to_text(html))


def trafilatura_text(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_tables=True, favor_recall=True) or ""


def score(text: str, gold: dict) -> dict:
    squeeze = re.sub(r"\s+", "", text)
    pieces = [m["text"] for m in gold["measures"]] + [p["title"] for p in gold["problems"]]
    found = sum(re.sub(r"\s+", "", piece) in squeeze for piece in pieces)
    return {
        "gold_pieces_found": f"{found}/{len(pieces)}",
        "disclosure_block_kept": all(word in text for word in DISCLOSURE),
        "furniture_lines_left": sum(bool(FURNITURE.search(line)) for line in text.splitlines()),
        "title_kept": bool(gold["document"].get("title")) and gold["document"]["title"] in text,
        "publication_line_kept": "发布时间" in text,
        "signature_kept": bool(gold["document"].get("issuing_org"))
        and gold["document"]["issuing_org"] in text,
    }


def main() -> None:
    rows = []
    for gold_path in sorted((REPO / "tests" / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if gold["format"] != "html":
            continue
        html = (REPO / "data" / "raw" / gold["file"]).read_text(encoding=gold["encoding"].replace("-sig", ""))
        for name, extract in (("zhenggai (selectolax)", ours), ("trafilatura", trafilatura_text)):
            rows.append({"file": gold["file"], "extractor": name, **score(extract(html), gold)})
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
