"""zhenggai: Chinese rectification notices → tidy tables.

>>> import pipeline
>>> notice = pipeline.parse("一、整改情况\\n1.针对台账不全的问题。一是补齐台账；二是开展自查。")
>>> [m.text for m in notice.measures]
['一是补齐台账', '二是开展自查']
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

__all__ = ["__version__", "classify", "load", "nlp", "parse", "run"]


def parse(text_or_path: str | Path, model: str | None = None, tagger=None):
    """Parse one notice (a path to a file, or the text itself) into a ``Notice``.

    ``model`` is a model folder, ``"rules"``, or None for the shipped model. Loading the
    model and the spaCy pipeline takes about a second: for many notices build one
    ``pipeline.tag.Tagger.default()`` and pass it as ``tagger``, or use ``run``.
    """
    from pipeline import ingest, structure, tag

    is_path = isinstance(text_or_path, Path) or (
        "\n" not in text_or_path and len(text_or_path) < 1024 and Path(text_or_path).is_file()
    )
    text = ingest.read_document(text_or_path) if is_path else ingest.text_from_string(text_or_path)
    notice = structure.parse_structure(text)
    return (tagger or tag.Tagger.default(model))(notice)


def run(
    paths, out: str | Path | None = None, format: str = "parquet", model: str | None = None, workers: int = 1
):
    """Run the pipeline over files or folders; return the tables as pandas DataFrames.

    With ``out`` the tables are written there, as ``zhenggai run`` does, and read back.
    """
    from pipeline import runner, write
    from pipeline.config import RunOptions

    if isinstance(paths, str | Path):
        paths = [paths]
    options = RunOptions(out=Path(out) if out else None, format=format, model=model, workers=workers)
    _, tables = runner.run(paths, options)
    if tables is None:
        return write.read_tables(Path(out))
    return write.to_frames(tables)


def classify(texts, model: str | None = None):
    """Label any measure texts, no notice needed: a tidy frame, one row per text and label.

    Columns: ``text_id`` (position in ``texts``), ``text``, ``label``, ``score``,
    ``predicted``, ``source`` (the model id).

    >>> import pipeline
    >>> frame = pipeline.classify(["一是召开党组会议，研究部署整改工作"])
    >>> sorted(frame[frame.predicted].label)
    ['meeting']
    """
    import pandas as pd

    from pipeline import tag
    from pipeline.types import LABELS

    tagger = tag.Tagger.default(model)
    texts = [texts] if isinstance(texts, str) else list(texts)
    wide = tagger.classifier.predict_frame(texts)
    rows = [
        {
            "text_id": i,
            "text": text,
            "label": label,
            "score": float(wide[f"score_{label}"].iloc[i]),
            "predicted": bool(wide[label].iloc[i]),
            "source": tagger.model_id,
        }
        for i, text in enumerate(texts)
        for label in LABELS
    ]
    columns = ["text_id", "text", "label", "score", "predicted", "source"]
    return pd.DataFrame(rows, columns=columns)


def nlp(segmenter: str = "rjieba"):
    """The entity stage as a spaCy ``Language``: ``pipeline.nlp()("…").ents``.

    Values (ISO dates, yuan, counts) are in ``doc.user_data["zhenggai_entities"]``.
    """
    from pipeline.language import make_nlp

    return make_nlp(segmenter)


def load(out: str | Path = "data/processed", raw: str | Path = "data/raw"):
    """The tables of a run as DataFrames; runs the pipeline on ``raw`` first if ``out`` is empty.

    The notebooks start here.
    """
    from pipeline import write

    out = Path(out)
    if not (out / "documents.parquet").exists():
        run(raw, out=out)
    return write.read_tables(out)
