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
FORMATS = ("parquet", "csv")


@dataclass(frozen=True)
class RunOptions:
    """Options of one ``run``; frozen so every stage sees the same values."""

    out: Path | None = None
    format: str = "parquet"
    strict: bool = False
    quiet: bool = False
    model: str | None = None  # a model directory, or None for the default in models/
