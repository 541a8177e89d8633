"""Labelled datasets out and back in: Label Studio, doccano, spaCy DocBin, parquet.

Exports carry the model's predictions as pre-annotations, so annotators correct rather
than start from nothing; imports turn corrected files back into a gold table that
``zhenggai train`` and ``zhenggai evaluate`` read. Splits are grouped by document
(a stable hash of ``doc_id``), so no notice straddles train and test.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.types import LABELS

TARGETS = ("label-studio", "doccano", "spacy", "parquet")
LABEL_STUDIO_CONFIG = (
    '<View>\n  <Text name="text" value="$text"/>\n  <Choices name="labels" toName="text" choice="multiple">\n'
    + "".join(f'    <Choice value="{label}"/>\n' for label in LABELS)
    + "  </Choices>\n</View>\n"
)


def split_of(doc_id: str, dev: float = 0.1, test: float = 0.1) -> str:
    """train/dev/test by a stable hash of the document id."""
    bucket = int(hashlib.sha256(str(doc_id).encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test else "dev" if bucket < test + dev else "train"


def dataset_from_run(out_dir: Path) -> pd.DataFrame:
    """Measures of a run with their label scores, one wide row per measure."""
    from pipeline.write import read_tables

    tables = read_tables(out_dir)
    measures, labels = tables["measures"], tables["measure_labels"]
    if labels.empty:
        raise ValueError(f"{out_dir}: measure_labels is empty; run `zhenggai run` with a model first")
    scores = labels.pivot(index="measure_id", columns="label", values="score")
    chosen = labels.pivot(index="measure_id", columns="label", values="predicted")
    frame = measures[["doc_id", "measure_id", "scope", "text"]].copy()
    for label in LABELS:
        frame[f"score_{label}"] = frame.measure_id.map(scores[label]).astype(float)
        frame[label] = frame.measure_id.map(chosen[label]).astype(bool)
    frame["source"] = labels.groupby("measure_id")["source"].first().reindex(frame.measure_id).to_numpy()
    return frame.reset_index(drop=True)


def dataset_from_gold(frame: pd.DataFrame, source: str = "gold") -> pd.DataFrame:
    frame = frame.copy()
    for label in LABELS:
        frame[f"score_{label}"] = frame[label].astype(float)
    frame["source"] = source
    return frame


def least_certain(frame: pd.DataFrame, n: int, thresholds: dict[str, float] | None = None) -> pd.DataFrame:
    """The ``n`` measures whose closest label score lies nearest its threshold."""
    thresholds = thresholds or {}
    margins = np.column_stack(
        [np.abs(frame[f"score_{label}"].to_numpy() - thresholds.get(label, 0.5)) for label in LABELS]
    ).min(axis=1)
    return frame.assign(margin=margins).sort_values(["margin", "measure_id"]).head(n).reset_index(drop=True)


def export(frame: pd.DataFrame, target: str, out: Path) -> Path:
    """Write ``frame`` (from ``dataset_from_run``/``dataset_from_gold``) as ``target``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.assign(split=frame.doc_id.map(split_of))
    if target == "label-studio":
        tasks = []
        for i, row in enumerate(frame.itertuples(index=False)):
            chosen = [label for label in LABELS if getattr(row, label)]
            scores = [getattr(row, f"score_{label}") for label in LABELS]
            tasks.append(
                {
                    "id": i + 1,
                    "data": {
                        "text": row.text,
                        "measure_id": row.measure_id,
                        "doc_id": row.doc_id,
                        "scope": row.scope,
                        "split": row.split,
                    },
                    "predictions": [
                        {
                            "model_version": str(row.source),
                            "score": float(np.mean(scores)),
                            "result": [
                                {
                                    "from_name": "labels",
                                    "to_name": "text",
                                    "type": "choices",
                                    "value": {"choices": chosen},
                                }
                            ],
                        }
                    ],
                }
            )
        out.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        out.with_name(out.stem + ".config.xml").write_text(LABEL_STUDIO_CONFIG, encoding="utf-8")
    elif target == "doccano":
        with out.open("w", encoding="utf-8") as fh:
            for row in frame.itertuples(index=False):
                record = {
                    "text": row.text,
                    "label": [label for label in LABELS if getattr(row, label)],
                    "measure_id": row.measure_id,
                    "doc_id": row.doc_id,
                    "scope": row.scope,
                    "split": row.split,
                }
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif target == "spacy":
        import spacy
        from spacy.tokens import DocBin

        nlp = spacy.blank("zh")  # character segmenter: no dictionary needed to read the file
        docs = DocBin(store_user_data=True)
        for row in frame.itertuples(index=False):
            doc = nlp.make_doc(row.text)
            doc.cats = {label: float(getattr(row, label)) for label in LABELS}
            doc.user_data["measure_id"] = row.measure_id
            doc.user_data["doc_id"] = row.doc_id
            doc.user_data["split"] = row.split
            docs.add(doc)
        docs.to_disk(out)
    elif target == "parquet":
        columns = [
            "doc_id",
            "measure_id",
            "scope",
            "split",
            "text",
            *LABELS,
            *[f"score_{lab}" for lab in LABELS],
            "source",
        ]
        frame[columns].to_parquet(out, index=False)
        out.with_name(out.stem + ".README.md").write_text(dataset_card(frame), encoding="utf-8")
    else:
        raise ValueError(f"unknown export target {target!r}; choose one of {', '.join(TARGETS)}")
    return out


def dataset_card(frame: pd.DataFrame) -> str:
    lines = [
        "# Measure-type dataset",
        "",
        f"{len(frame)} measures from {frame.doc_id.nunique()} documents.",
        "",
    ]
    lines += ["| label | measures |", "|---|---|"]
    lines += [f"| {label} | {int(frame[label].sum())} |" for label in LABELS]
    lines += ["", "| split | measures | documents |", "|---|---|---|"]
    for split, part in frame.groupby("split"):
        lines.append(f"| {split} | {len(part)} | {part.doc_id.nunique()} |")
    lines += ["", "Sources: " + ", ".join(f"{s} ({n})" for s, n in frame.source.value_counts().items()), ""]
    lines += ["Splits are grouped by document (stable hash of doc_id).", ""]
    return "\n".join(lines)


# --- imports --------------------------------------------------------------------------


def _rows_to_gold(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for label in LABELS:
        frame[label] = frame["labels"].map(lambda ls, label=label: label in ls)
    return frame.drop(columns=["labels"])[["doc_id", "measure_id", "scope", "text", *LABELS]]


def read_label_studio(path: Path) -> pd.DataFrame:
    """Label Studio JSON export: the latest annotation of each task, else its prediction."""
    tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for task in tasks:
        data = task["data"]
        results = None
        annotations = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
        if annotations:
            results = annotations[-1].get("result", [])
        elif task.get("predictions"):
            results = task["predictions"][0].get("result", [])
        choices = [c for r in results or [] if r.get("type") == "choices" for c in r["value"]["choices"]]
        rows.append(
            {
                "doc_id": data.get("doc_id", "label-studio"),
                "measure_id": data.get("measure_id", str(task.get("id"))),
                "scope": data.get("scope"),
                "text": data["text"],
                "labels": choices,
            }
        )
    return _rows_to_gold(rows)


def read_doccano(path: Path) -> pd.DataFrame:
    """doccano text-classification JSONL (``label`` is the list of chosen labels)."""
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        record = json.loads(line)
        labels = record.get("label", record.get("labels", []))
        rows.append(
            {
                "doc_id": record.get("doc_id", "doccano"),
                "measure_id": record.get("measure_id", str(i)),
                "scope": record.get("scope"),
                "text": record["text"],
                "labels": list(labels),
            }
        )
    return _rows_to_gold(rows)
