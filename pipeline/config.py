"""Paths and run options: the only place that knows where things live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INPUT = Path("data/raw")
DEFAULT_OUTPUT = Path("data/processed")
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
MODELS_DIR = Path(os.environ.get("ZHENGGAI_MODELS", REPO_DIR / "models"))
FORMATS = ("parquet", "csv", "duckdb")
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class RunOptions:
    """Options of one ``run``; frozen so every stage sees the same values."""

    out: Path | None = None
    format: str = "parquet"
    strict: bool = False
    quiet: bool = False
    model: str | None = None  # a model directory, or None for the default in models/
    workers: int = 1
    engine: str = "local"  # local or dask
    scheduler: str | None = None  # a Dask scheduler address; None starts a local cluster
    resume: bool = True  # skip documents already in ``out``; False starts the output afresh
    max_bytes: int = 20_000_000  # a larger file is not a notice
    flush_every: int = 200  # documents per committed part file


def default_workers() -> int:
    """Every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
