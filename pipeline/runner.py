"""The chain ingest → structure → tag → write over many inputs, one document at a time.

A failure in one document becomes an ``ErrorRecord`` and the batch goes on; identical
documents (same normalised text) are processed once and listed under every path.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from pipeline import ingest, structure, tag, write
from pipeline.config import RunOptions
from pipeline.types import ErrorRecord, ErrorStage, Notice, PipelineError, Text

READ_SUFFIXES = ingest.SUPPORTED_SUFFIXES | {".docx", ".pdf", ".doc"}


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the notice files found below folders, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if child.is_file() and child.suffix.lower() in READ_SUFFIXES and child.suffix:
                    yield child
        else:
            yield path


@dataclass
class RunResult:
    notices: list[Notice]
    errors: list[ErrorRecord]
    seconds: dict[str, float] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)


def process(paths: Iterable[str | Path], tagger: tag.Tagger | None = None) -> RunResult:
    """Read, structure and tag every input; never raises for a bad input."""
    tagger = tagger or tag.Tagger.default()
    seconds = {"ingest": 0.0, "structure": 0.0, "tag": 0.0}
    by_id: dict[str, Text] = {}
    errors: list[ErrorRecord] = []
    inputs: list[str] = []
    for path in iter_input_files(paths):
        inputs.append(str(path))
        t0 = time.perf_counter()
        try:
            text = ingest.read_document(path)
        except PipelineError as exc:
            errors.append(ErrorRecord(str(path), exc.stage, exc.error_type, _one_line(exc.message)))
            continue
        except Exception as exc:  # a bug must not lose the rest of the batch
            errors.append(
                ErrorRecord(str(path), ErrorStage.READ, type(exc).__name__, _one_line(f"{path}: {exc}"))
            )
            continue
        finally:
            seconds["ingest"] += time.perf_counter() - t0
        if text.doc_id in by_id:
            first = by_id[text.doc_id]
            by_id[text.doc_id] = Text(**{**first.__dict__, "source_paths": (*first.source_paths, str(path))})
        else:
            by_id[text.doc_id] = text
    notices = []
    for text in by_id.values():
        notice = parse_text(text, tagger, errors, seconds)
        if notice is not None:
            notices.append(notice)
    return RunResult(notices, errors, seconds, inputs)


def parse_text(
    text: Text, tagger: tag.Tagger, errors: list[ErrorRecord], seconds: dict[str, float]
) -> Notice | None:
    """Structure and tag one text; a failure is recorded against every path of the text."""
    t0 = time.perf_counter()
    stage = ErrorStage.PARSE
    try:
        notice = structure.parse_structure(text)
        t1 = time.perf_counter()
        seconds["structure"] += t1 - t0
        stage = ErrorStage.CLASSIFY
        notice = tagger(notice)
        seconds["tag"] += time.perf_counter() - t1
        return notice
    except Exception as exc:
        for path in text.source_paths:
            errors.append(
                ErrorRecord(path, stage, type(exc).__name__, _one_line(f"{path}: {stage} failed: {exc}"))
            )
        return None


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def pipeline_version() -> str:
    try:
        return metadata.version("zhenggai")
    except metadata.PackageNotFoundError:
        from pipeline import __version__

        return __version__


def manifest(result: RunResult, tables: dict, options: RunOptions, model_id: str | None) -> dict:
    versions = {}
    for package in ("jieba", "spacy", "scikit-learn", "pandas", "pyarrow", "selectolax", "opencc"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "pipeline_version": pipeline_version(),
        "python": platform.python_version(),
        "packages": versions,
        "model_id": model_id,
        "format": options.format,
        "inputs": result.inputs,
        "counts": {name: table.num_rows for name, table in tables.items()},
        "seconds": {k: round(v, 4) for k, v in result.seconds.items()},
    }


def run(paths: Iterable[str | Path], options: RunOptions | None = None, tagger: tag.Tagger | None = None):
    """Process ``paths`` and, when ``options.out`` is set, write the tables there."""
    options = options or RunOptions()
    tagger = tagger or tag.Tagger.default(options.model)
    result = process(paths, tagger)
    t0 = time.perf_counter()
    tables = write.to_arrow(result.notices, result.errors, pipeline_version())
    if options.out is not None:
        result.seconds["write"] = 0.0
        info = manifest(result, tables, options, tagger.model_id)
        write.write_tables(tables, Path(options.out), options.format, info)
        result.seconds["write"] = time.perf_counter() - t0
    return result, tables
