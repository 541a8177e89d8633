"""Labelled measure tables: read them from any of the shapes people keep them in.

Everything is turned into one wide frame: ``doc_id``, ``measure_id``, ``scope``, ``text``
and one boolean column per label, so training, evaluation and export share one input.
Accepted: the annotation JSON files of ``data/labelled/annotations/``, ``seed_gold.json``,
parquet/CSV tables (wide with a column per label, or a ``labels`` column), JSONL with
``text`` and ``labels``, and the tables ``zhenggai export --to parquet`` writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline.types import LABELS

LABELLED_DIR = Path("data/labelled")


def _wide(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["doc_id", "measure_id", "scope", "problem_no", "text", "labels"])
    for label in LABELS:
        frame[label] = frame["labels"].map(lambda ls, label=label: label in (ls or []))
    unknown = {label for ls in frame["labels"] for label in (ls or []) if label not in LABELS}
    if unknown:
        raise ValueError(f"unknown labels {sorted(unknown)}; expected some of {', '.join(LABELS)}")
    return frame.drop(columns=["labels"])


def _annotation_rows(doc: dict, fallback_id: str) -> list[dict]:
    """Rows of one annotation file (``{"doc": …, "measures": […]}``)."""
    doc_id = doc.get("doc") or fallback_id
    return [
        {
            "doc_id": doc_id,
            "measure_id": f"{doc_id}:{m['id']}",
            "scope": m.get("scope", "problem"),
            "problem_no": m.get("problem_no"),
            "text": m["text"],
            "labels": m.get("labels", []),
        }
        for m in doc["measures"]
    ]


def load_annotation_dir(path: Path) -> pd.DataFrame:
    """The project's labelled corpus: one JSON file of measures per notice."""
    rows = []
    for file in sorted(Path(path).glob("*.json")):
        rows += _annotation_rows(json.loads(file.read_text(encoding="utf-8")), file.stem)
    return _wide(rows)


def load_seed_gold(path: Path) -> pd.DataFrame:
    gold = json.loads(Path(path).read_text(encoding="utf-8"))
    doc_id = Path(gold.get("file", path.name)).stem
    rows = [
        {
            "doc_id": doc_id,
            "measure_id": f"{doc_id}:{m.get('id', f'm{i + 1}')}",
            "scope": m.get("scope", "problem"),
            "problem_no": m.get("problem_no"),
            "text": m["text"],
            "labels": m.get("labels", []),
        }
        for i, m in enumerate(gold["measures"])
    ]
    return _wide(rows)


def _from_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if "text" not in frame.columns:
        raise ValueError(f"{name}: a gold table needs a 'text' column")
    if "labels" in frame.columns:
        labels = frame["labels"].map(_as_list)
    elif set(LABELS) <= set(frame.columns):
        labels = frame[list(LABELS)].astype(bool).apply(lambda r: [lab for lab in LABELS if r[lab]], axis=1)
    else:
        raise ValueError(
            f"{name}: needs a 'labels' column or one boolean column per label ({', '.join(LABELS)})"
        )
    n = len(frame)
    rows = [
        {
            "doc_id": str(frame["doc_id"].iloc[i]) if "doc_id" in frame else name,
            "measure_id": str(frame["measure_id"].iloc[i]) if "measure_id" in frame else f"{name}:{i}",
            "scope": frame["scope"].iloc[i] if "scope" in frame else None,
            "problem_no": None,
            "text": frame["text"].iloc[i],
            "labels": labels.iloc[i],
        }
        for i in range(n)
    ]
    return _wide(rows)


def _as_list(value) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            return list(json.loads(value))
        return [v for v in value.replace(";", ",").replace("|", ",").split(",") if v and v != "other"]
    return [str(v) for v in value]


def load_gold(path: str | Path) -> pd.DataFrame:
    """Read a gold table of measures with labels, whatever shape it comes in."""
    path = Path(path)
    if path.is_dir():
        if (path / "annotations").is_dir():
            return load_annotation_dir(path / "annotations")
        return load_annotation_dir(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "measures" in data and "sections" in data:
            return load_seed_gold(path)
        if isinstance(data, dict) and "measures" in data:
            return _wide(_annotation_rows(data, path.stem))
        from pipeline.export import read_label_studio

        return read_label_studio(path)
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if rows and "label" in rows[0] and "labels" not in rows[0]:
            from pipeline.export import read_doccano

            return read_doccano(path)
        return _from_table(pd.DataFrame(rows), path.stem)
    if suffix == ".parquet":
        return _from_table(pd.read_parquet(path), path.stem)
    if suffix == ".csv":
        return _from_table(pd.read_csv(path), path.stem)
    raise ValueError(f"{path}: not a gold table (.json, .jsonl, .parquet, .csv or a folder)")


def agreement(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Cohen's kappa per label between two annotators' passes over the same measures.

    Both are wide gold frames (``load_gold``); measures are matched by ``measure_id`` and
    only those in both count. Per label: measures, how many each annotator gave it, raw
    agreement and kappa (undefined, NaN, where neither annotator varies). A last row gives
    the mean kappa over the labels and the share of measures with identical label sets.
    """
    from sklearn.metrics import cohen_kappa_score

    both = first.merge(second, on="measure_id", suffixes=("_1", "_2"))
    if both.empty:
        raise ValueError("the two passes share no measure_id")
    rows = []
    for label in LABELS:
        a, b = both[f"{label}_1"].astype(bool), both[f"{label}_2"].astype(bool)
        varies = a.nunique() > 1 or b.nunique() > 1
        rows.append(
            {
                "label": label,
                "measures": len(both),
                "first": int(a.sum()),
                "second": int(b.sum()),
                "agreement": float((a == b).mean()),
                "kappa": float(cohen_kappa_score(a, b)) if varies else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    firsts, seconds = ([f"{lab}_{k}" for lab in LABELS] for k in (1, 2))
    same = both[firsts].to_numpy() == both[seconds].to_numpy()
    table.loc[len(table)] = {
        "label": "all labels",
        "measures": len(both),
        "first": int(table["first"].sum()),
        "second": int(table["second"].sum()),
        "agreement": float(same.all(axis=1).mean()),
        "kappa": float(table["kappa"].mean()),
    }
    return table


def disagreements(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """The measures two passes label differently, for adjudication: ``measure_id``, ``doc_id``,
    ``text``, ``first`` and ``second`` (label lists), and ``labels`` (those only one gave)."""
    both = first.merge(second[["measure_id", *LABELS]], on="measure_id", suffixes=("_1", "_2"))
    rows = []
    for _, row in both.iterrows():
        one = [lab for lab in LABELS if row[f"{lab}_1"]]
        two = [lab for lab in LABELS if row[f"{lab}_2"]]
        if one != two:
            rows.append(
                {
                    "measure_id": row["measure_id"],
                    "doc_id": row["doc_id"],
                    "text": row["text"],
                    "first": one,
                    "second": two,
                    "labels": sorted(set(one) ^ set(two), key=LABELS.index),
                }
            )
    return pd.DataFrame(rows, columns=["measure_id", "doc_id", "text", "first", "second", "labels"])


def to_long(frame: pd.DataFrame, source: str = "gold") -> pd.DataFrame:
    """Wide label columns → the tidy ``measure_labels`` shape (every label, predicted or not)."""
    long = frame.melt(
        id_vars=["doc_id", "measure_id"], value_vars=list(LABELS), var_name="label", value_name="predicted"
    )
    long["score"] = long["predicted"].astype(float)
    long["source"] = source
    order = {m: i for i, m in enumerate(frame["measure_id"])}
    long["_o"] = long["measure_id"].map(order)
    long["_l"] = long["label"].map(LABELS.index)
    long = long.sort_values(["_o", "_l"]).drop(columns=["_o", "_l"]).reset_index(drop=True)
    return long[["doc_id", "measure_id", "label", "score", "predicted", "source"]]
