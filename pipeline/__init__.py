"""zhenggai: Chinese rectification notices → tidy tables.

>>> import pipeline
>>> notice = pipeline.parse("一、整改情况\\n1.针对台账不全的问题。一是补齐台账；二是开展自查。")
>>> [m.text for m in notice.measures]
['一是补齐台账', '二是开展自查']
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

__all__ = ["__version__", "parse", "run"]


def parse(text_or_path: str | Path):
    """Parse one notice (a path to a file, or the text itself) into a ``Notice``."""
    from pipeline import ingest, runner, structure, tag

    is_path = isinstance(text_or_path, Path) or (
        "\n" not in text_or_path and len(text_or_path) < 1024 and Path(text_or_path).is_file()
    )
    text = ingest.read_document(text_or_path) if is_path else ingest.text_from_string(text_or_path)
    notice = structure.parse_structure(text)
    del runner
    return tag.Tagger.default()(notice)


def run(paths, out: str | Path | None = None, format: str = "parquet"):
    """Run the pipeline over files or folders; return the tables as pandas DataFrames.

    With ``out`` the tables are also written there, as ``zhenggai run`` does.
    """
    from pipeline import runner, write
    from pipeline.config import RunOptions

    if isinstance(paths, str | Path):
        paths = [paths]
    _, tables = runner.run(paths, RunOptions(out=Path(out) if out else None, format=format))
    return write.to_frames(tables)
