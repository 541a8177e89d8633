"""Labelled datasets: export with pre-annotations, import back, splits grouped by document."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import RAW
from typer.testing import CliRunner

from pipeline import export
from pipeline.cli import app
from pipeline.types import LABELS

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert runner.invoke(app, ["run", str(RAW), "--out", str(out), "--quiet"]).exit_code == 0
    return out


def _labels(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    return {
        m: tuple(lab for lab in LABELS if row[lab])
        for m, (_, row) in zip(frame.measure_id, frame.iterrows(), strict=True)
    }


@pytest.mark.parametrize(("target", "suffix"), [("label-studio", ".json"), ("doccano", ".jsonl")])
def test_export_then_import_without_edits_gives_identical_labels(run_dir, tmp_path, target, suffix):
    exported = tmp_path / f"tasks{suffix}"
    result = runner.invoke(app, ["export", "--to", target, "--from", str(run_dir), "--out", str(exported)])
    assert result.exit_code == 0, result.output
    gold = tmp_path / "gold.parquet"
    assert runner.invoke(app, ["import", str(exported), "--out", str(gold)]).exit_code == 0
    before = export.dataset_from_run(run_dir)
    after = pd.read_parquet(gold)
    assert _labels(after) == _labels(before)
    assert list(after.text) == list(before.text)


def test_label_studio_file_follows_the_documented_task_format(run_dir, tmp_path):
    path = export.export(export.dataset_from_run(run_dir), "label-studio", tmp_path / "ls.json")
    tasks = json.loads(path.read_text(encoding="utf-8"))
    config = (tmp_path / "ls.config.xml").read_text(encoding="utf-8")
    assert '<Choices name="labels" toName="text" choice="multiple">' in config
    for task in tasks[:20]:
        assert isinstance(task["id"], int) and isinstance(task["data"]["text"], str)
        prediction = task["predictions"][0]
        assert isinstance(prediction["model_version"], str) and 0 <= prediction["score"] <= 1
        for result in prediction["result"]:
            assert (result["from_name"], result["to_name"], result["type"]) == ("labels", "text", "choices")
            assert set(result["value"]["choices"]) <= set(LABELS)


def test_docbin_loads_with_spacy_and_carries_cats(run_dir, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    frame = export.dataset_from_run(run_dir)
    path = export.export(frame, "spacy", tmp_path / "train.spacy")
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("zh").vocab))
    assert len(docs) == len(frame)
    assert docs[0].text == frame.text[0]
    assert set(docs[0].cats) == set(LABELS)
    assert {lab for lab, v in docs[0].cats.items() if v == 1.0} == {
        lab for lab in LABELS if frame.loc[0, lab]
    }


def test_parquet_dataset_has_a_card_and_grouped_splits(run_dir, tmp_path):
    path = export.export(export.dataset_from_run(run_dir), "parquet", tmp_path / "ds.parquet")
    frame = pd.read_parquet(path)
    assert frame.groupby("doc_id").split.nunique().max() == 1
    card = (tmp_path / "ds.README.md").read_text(encoding="utf-8")
    assert f"{len(frame)} measures" in card and "| split |" in card


def test_uncertain_picks_the_measures_nearest_their_thresholds(run_dir, tmp_path):
    frame = export.dataset_from_run(run_dir)
    picked = export.least_certain(frame, 5)
    margins = pd.concat([(frame[f"score_{lab}"] - 0.5).abs() for lab in LABELS], axis=1).min(axis=1)
    assert len(picked) == 5
    assert picked.margin.max() <= margins.sort_values().iloc[5] + 1e-12
    out = tmp_path / "u.jsonl"
    result = runner.invoke(
        app, ["export", "--to", "doccano", "--from", str(run_dir), "--out", str(out), "--uncertain", "7"]
    )
    assert result.exit_code == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 7
