"""Shared fixtures: the repo's samples and the real seed notice from ../shared."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"
GOLD = REPO / "tests" / "gold"
SHARED = Path(os.environ.get("ZHENGGAI_SHARED", REPO.parent / "shared"))
SEED_TEXT = SHARED / "corpus" / "000_3715770dda1cf338.txt"
SEED_GOLD = SHARED / "corpus" / "seed_gold.json"


@pytest.fixture(scope="session")
def seed_gold() -> dict:
    if not SEED_GOLD.exists() or not SEED_TEXT.exists():
        pytest.skip("../shared/corpus is not here")
    return json.loads(SEED_GOLD.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_notice(seed_gold):
    import pipeline

    return pipeline.parse(SEED_TEXT)


def sample_golds() -> list[Path]:
    return sorted(GOLD.glob("*.json"))
