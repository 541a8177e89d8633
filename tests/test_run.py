"""End to end: the zhenggai command and pipeline.run over folders with good and bad files."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from conftest import RAW
from typer.testing import CliRunner

import pipeline
from pipeline.cli import app
from pipeline.write import SCHEMAS

runner = CliRunner()
GOOD = (
    "关于巡察整改情况的通报\n一、整改情况\n1.针对台账不全的问题。一是补齐台账；二是开展自查。\n"
    "2.针对培训不足的问题。一是组织培训。\n"
)


@pytest.fixture()
def mixed_folder(tmp_path):
    folder = tmp_path / "in put 输入"
    folder.mkdir()
    (folder / "good1.txt").write_text(GOOD, encoding="utf-8")
    (folder / "good2.txt").write_bytes(GOOD.replace("台账", "账目").encode("gb18030"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "unknown.txt").write_bytes(bytes([0x80, 0xFF, 0x41, 0x9F, 0xFE, 0x81]) * 60)
    return folder


def test_bad_files_become_error_rows_and_good_ones_are_written(mixed_folder, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(mixed_folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    docs = pd.read_parquet(out / "documents.parquet")
    errors = pd.read_parquet(out / "errors.parquet")
    assert sorted(p[0].rsplit("/", 1)[-1] for p in docs.source_paths) == ["good1.txt", "good2.txt"]
    assert sorted(errors.error_type) == ["BinaryFile", "EmptyFile", "UnknownEncoding"]
    for row in errors.itertuples():
        assert row.message.startswith(row.source_path + ": ")
        assert "\n" not in row.message
    assert len(pd.read_parquet(out / "problems.parquet")) == 4
    assert "documents 2" in result.output and "errors 3" in result.output


def test_strict_exits_non_zero_on_errors(mixed_folder, tmp_path):
    result = runner.invoke(app, ["run", str(mixed_folder), "--out", str(tmp_path / "o"), "--strict"])
    assert result.exit_code == 1
    assert (tmp_path / "o" / "documents.parquet").exists()


def test_every_table_of_the_schema_is_written_with_its_columns(tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(RAW), "--out", str(out)]).exit_code == 0
    for name, schema in SCHEMAS.items():
        frame = pd.read_parquet(out / f"{name}.parquet")
        assert list(frame.columns) == schema.names
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["documents"] == len(list(RAW.iterdir()))
    assert set(manifest["seconds"]) >= {"ingest", "structure", "tag", "write"}
    assert not list(out.glob(".*.tmp"))


def test_csv_format_writes_the_same_rows(tmp_path):
    assert runner.invoke(app, ["run", str(RAW), "--out", str(tmp_path / "p")]).exit_code == 0
    assert (
        runner.invoke(app, ["run", str(RAW), "--out", str(tmp_path / "c"), "--format", "csv"]).exit_code == 0
    )
    for name in ("measures", "problems", "segments"):
        p = pd.read_parquet(tmp_path / "p" / f"{name}.parquet")
        c = pd.read_csv(tmp_path / "c" / f"{name}.csv")
        assert len(p) == len(c)
        assert list(p.iloc[:, 1]) == list(c.iloc[:, 1])


def test_duckdb_format_writes_one_file_with_the_same_tables(tmp_path):
    import duckdb

    parquet = pipeline.run(RAW, out=tmp_path / "p")
    command = ["run", str(RAW), "--out", str(tmp_path / "d"), "--format", "duckdb"]
    assert runner.invoke(app, command).exit_code == 0
    assert not list((tmp_path / "d").glob("*.parquet"))  # the tables live in zhenggai.duckdb
    with duckdb.connect(str(tmp_path / "d" / "zhenggai.duckdb"), read_only=True) as con:
        names = con.execute("select table_name from information_schema.tables").fetchall()
        assert {row[0] for row in names} == set(SCHEMAS)
        assert con.execute("select count(*) from measures").fetchall() == [(len(parquet["measures"]),)]
    read_back = pipeline.write.read_tables(tmp_path / "d")
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(read_back[name], parquet[name])
    # a re-run skips what is there and rebuilds the same file
    assert runner.invoke(app, command).exit_code == 0
    again = pipeline.write.read_tables(tmp_path / "d")
    pd.testing.assert_frame_equal(again["measures"], parquet["measures"])


def test_second_run_gives_identical_tables(tmp_path):
    a = pipeline.run(RAW)
    b = pipeline.run(RAW)
    for name in ("documents", "sections", "problems", "measures", "segments"):
        pd.testing.assert_frame_equal(a[name], b[name])


def test_duplicate_inputs_are_read_once_and_listed_under_every_path(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(GOOD.replace("\n", "\r\n").encode("utf-16"))
    docs = pipeline.run(tmp_path)["documents"]
    assert len(docs) == 1
    assert sorted(p.rsplit("/", 1)[-1] for p in docs.source_paths[0]) == ["a.txt", "b.txt"]


def test_text_in_no_known_layout_is_unstructured_but_kept(tmp_path):
    (tmp_path / "essay.txt").write_text("今天天气很好，我们去公园散步。\n公园里有很多花。", encoding="utf-8")
    tables = pipeline.run(tmp_path)
    assert list(tables["documents"].parse_status) == ["unstructured"]
    seg = tables["segments"]
    assert len(seg) >= 1 and seg.start.min() == 0 and seg.end.max() == tables["documents"].chars[0]


def test_run_with_no_arguments_reads_data_raw(tmp_path, monkeypatch):
    shutil.copytree(RAW, tmp_path / "data" / "raw")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "processed" / "measures.parquet").exists()
    assert f"documents {len(list(RAW.iterdir()))}" in result.output


def test_help_explains_every_option_and_version_prints():
    text = runner.invoke(app, ["run", "--help"]).output
    for option in ("--out", "--format", "--model", "--strict", "--quiet"):
        assert option in text
    assert runner.invoke(app, ["--version"]).output.startswith("zhenggai 0.")


def test_the_default_output_folder_is_rebuilt_when_another_model_wrote_it(tmp_path, monkeypatch):
    """data/processed is the sample job's scratch folder: after a model update the job still runs."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(RAW, tmp_path / "data" / "raw")
    first = runner.invoke(app, ["run", "--model", "rules", "-q"])
    assert first.exit_code == 0, first.output
    assert set(pd.read_parquet("data/processed/documents.parquet").model_id) == {"rules"}
    second = runner.invoke(app, ["run", "-q"])
    assert second.exit_code == 0, second.output
    assert "rebuilt" in second.output
    assert set(pd.read_parquet("data/processed/documents.parquet").model_id) != {"rules"}
    chosen = runner.invoke(app, ["run", "--model", "rules", "--out", "data/processed"])
    assert chosen.exit_code == 2  # a folder named on the command line is never rebuilt unasked


def test_missing_input_is_reported_not_fatal(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    result = runner.invoke(
        app, ["run", str(tmp_path / "a.txt"), str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0
    assert "nope.txt: no such file or folder" in result.output


def test_identical_inputs_under_new_paths_are_reported_not_silently_absorbed(tmp_path):
    import json
    import shutil

    out, copy = tmp_path / "out", tmp_path / "copy"
    shutil.copytree(RAW, copy)
    first = runner.invoke(app, ["run", str(RAW), "--out", str(out), "--model", "rules"])
    assert first.exit_code == 0 and "identical inputs" not in first.output
    again = runner.invoke(app, ["run", str(copy), "--out", str(out), "--model", "rules"])
    assert again.exit_code == 0, again.output
    assert "documents 0" in again.output
    assert "identical inputs 9 (listed with their first copy)" in again.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["identical_to_another_input"] == 9
    paths = pd.read_parquet(out / "documents.parquet").source_paths
    assert all(len(p) == 2 and str(copy) in p[1] for p in paths)


def test_a_rerun_with_another_model_refuses_to_mix_labels(tmp_path):
    """Skipping by content hash would keep the old model's labels beside the new ones."""
    out = tmp_path / "out"
    first = runner.invoke(app, ["run", str(RAW), "--out", str(out), "--model", "rules", "-q"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["run", str(RAW), "--out", str(out), "--model", "rules"])
    assert again.exit_code == 0 and "skipped 9 already written" in again.output
    other = runner.invoke(app, ["run", str(RAW), "--out", str(out)])
    assert other.exit_code == 2
    assert "with model rules" in other.output and "--overwrite" in other.output
    assert set(pd.read_parquet(out / "documents.parquet").model_id) == {"rules"}  # untouched
    fresh = runner.invoke(app, ["run", str(RAW), "--out", str(out), "--overwrite", "-q"])
    assert fresh.exit_code == 0, fresh.output
    model_id = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["model_id"]
    assert model_id.startswith("measures-")
    assert set(pd.read_parquet(out / "documents.parquet").model_id) == {model_id}
