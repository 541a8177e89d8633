"""Batch at scale: workers, resuming after a kill, near-duplicates, Dask, and bad input."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

import pipeline
from pipeline import write

sys.path.insert(0, str(REPO))
from benchmarks.corpus import make_corpus

BAD = REPO / "tests" / "fixtures" / "bad"
ZHENGGAI = [sys.executable, "-m", "pipeline.cli"]
KEYS = {
    "documents": ["doc_id"],
    "sections": ["section_id"],
    "problems": ["problem_id"],
    "measures": ["measure_id"],
    "measure_labels": ["measure_id", "label"],
    "entities": ["entity_id"],
    "segments": ["segment_id"],
    "errors": ["source_path", "error_type"],
}


def _zhenggai(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ZHENGGAI, *map(str, args)], capture_output=True, text=True, cwd=REPO, check=False, **kwargs
    )


def assert_same_tables(a: Path, b: Path, ordered: bool = True) -> None:
    ta, tb = write.read_tables(a), write.read_tables(b)
    for name, keys in KEYS.items():
        left, right = ta[name], tb[name]
        if not ordered:
            left = left.sort_values(keys).reset_index(drop=True)
            right = right.sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    make_corpus(int(os.environ.get("ZHENGGAI_TEST_CORPUS", 160)), folder)
    return folder


def test_two_workers_write_the_same_tables_as_one(corpus, tmp_path):
    assert _zhenggai("run", corpus, "--out", tmp_path / "one", "--workers", 1, "-q").returncode == 0
    assert _zhenggai("run", corpus, "--out", tmp_path / "two", "--workers", 2, "-q").returncode == 0
    assert_same_tables(tmp_path / "one", tmp_path / "two")
    docs = pd.read_parquet(tmp_path / "two" / "documents.parquet")
    assert len(docs) == len(list(corpus.rglob("*.txt")))


def _wait_for_parts(out: Path, parts: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = (
            list((out / ".zhenggai" / "parts").glob("*/done"))
            if (out / ".zhenggai" / "parts").exists()
            else []
        )
        if len(done) >= parts:
            return
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    raise AssertionError("no parts were committed in time")


def test_killed_run_completed_by_a_rerun_equals_an_uninterrupted_run(corpus, tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert _zhenggai("run", corpus, "--out", whole, "--workers", 2, "-q").returncode == 0
    proc = subprocess.Popen(
        [*ZHENGGAI, "run", str(corpus), "--out", str(broken), "--workers", "2", "-q", "--flush-every", "10"],
        cwd=REPO,
    )
    _wait_for_parts(broken, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (broken / "documents.parquet").exists()
    rerun = _zhenggai("run", corpus, "--out", broken, "--workers", 2)
    assert rerun.returncode == 0, rerun.stderr
    assert "already written" in rerun.stdout
    assert_same_tables(whole, broken)


def test_killed_overwrite_leaves_the_previous_tables_complete(corpus, tmp_path):
    out = tmp_path / "out"
    assert _zhenggai("run", REPO / "data" / "raw", "--out", out, "-q").returncode == 0
    before = write.read_tables(out)
    proc = subprocess.Popen(
        [
            *ZHENGGAI,
            "run",
            str(corpus),
            "--out",
            str(out),
            "--overwrite",
            "--workers",
            "2",
            "-q",
            "--flush-every",
            "10",
        ],
        cwd=REPO,
    )
    _wait_for_parts(out, 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = write.read_tables(out)
    for name in KEYS:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_run_killed_between_renaming_the_tables_and_removing_the_parts(tmp_path, monkeypatch):
    """The last window of ``finish``: the new tables are in place but the parts they came
    from are still there. A re-run must take each document's rows once, keep the extra
    paths of duplicate inputs, and give the uninterrupted run's tables."""
    import pipeline.output

    folder = tmp_path / "in"
    make_corpus(30, folder)
    first = sorted(folder.rglob("*.txt"))[0]
    shutil.copy(first, folder / "again, elsewhere.txt")
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    pipeline.run(folder, out=whole, workers=1)
    real_rmtree = shutil.rmtree

    def killed_at_parts(path, *args, **kwargs):
        if Path(path).name == "parts" and Path(path).parent.name == ".zhenggai":
            raise KeyboardInterrupt("killed")
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(pipeline.output.shutil, "rmtree", killed_at_parts)
    from pipeline import runner
    from pipeline.config import RunOptions

    with pytest.raises(KeyboardInterrupt):
        runner.run([folder], RunOptions(out=broken, workers=1, flush_every=7))
    monkeypatch.setattr(pipeline.output.shutil, "rmtree", real_rmtree)
    assert any((broken / ".zhenggai" / "parts").iterdir())  # the parts outlived the renames
    pipeline.run(folder, out=broken, workers=1)
    assert_same_tables(whole, broken)
    docs = write.read_tables(broken)["documents"]
    assert docs.doc_id.is_unique and len(docs) == 30
    paths = docs.set_index("doc_id").source_paths.map(len)
    assert paths.sum() == 31 and paths.max() == 2


def test_parts_left_by_an_older_release_in_parquet_are_still_combined(tmp_path, monkeypatch):
    """Parts are Arrow IPC files now; a run interrupted under a release that wrote parquet
    parts (same version number) must still be completed from them."""
    import pyarrow.parquet as pq

    from pipeline import output, runner
    from pipeline.config import RunOptions

    folder = tmp_path / "in"
    make_corpus(12, folder)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    pipeline.run(folder, out=whole, workers=1)
    real_rmtree = shutil.rmtree

    def killed_before_combining(path, *args, **kwargs):
        if Path(path).name == "parts":
            raise KeyboardInterrupt("killed")
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(output.shutil, "rmtree", killed_before_combining)
    with pytest.raises(KeyboardInterrupt):
        runner.run([folder], RunOptions(out=broken, workers=1, flush_every=5))
    monkeypatch.setattr(output.shutil, "rmtree", real_rmtree)
    for table in (broken / "documents.parquet", *broken.glob("*.parquet")):
        table.unlink(missing_ok=True)  # as if killed before the tables were renamed into place
    arrow = sorted((broken / ".zhenggai" / "parts").rglob("*.arrow"))
    assert arrow
    for part in arrow:  # rewrite every part as the older release did
        pq.write_table(output.ArrowPart(part).read_all(), part.with_suffix(".parquet"))
        part.unlink()
    result, _ = runner.run([folder], RunOptions(out=broken, workers=1))
    assert result.skipped == 12 and result.documents == 0  # every notice read back from the parts
    assert_same_tables(whole, broken)


def test_exact_and_near_duplicates(tmp_path):
    import opencc

    original = (REPO / "data" / "raw" / "01_county_bureau.txt").read_text(encoding="utf-8")
    other = (REPO / "data" / "raw" / "03_gb18030.txt").read_bytes()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_original.txt").write_text(original, encoding="utf-8")
    (folder / "b_same_bytes_elsewhere.txt").write_text(original, encoding="utf-8")
    (folder / "c_repost.txt").write_text(
        "首页 > 行业资讯 > 政务\n字号：大 中 小\n"
        + original
        + "\n【打印本页】【关闭窗口】\n本站声明：转载仅供参考",
        encoding="utf-8",
    )
    (folder / "d_few_changed.txt").write_text(
        original.replace("农田", "农地", 2).replace("17个", "18个"), encoding="utf-8"
    )
    (folder / "e_traditional.txt").write_text(opencc.OpenCC("s2t").convert(original), encoding="utf-8")
    (folder / "f_unrelated.txt").write_bytes(other)
    docs = pipeline.run(folder, out=tmp_path / "out")["documents"]
    by_file = {
        Path(paths[0]).name: row for paths, (_, row) in zip(docs.source_paths, docs.iterrows(), strict=True)
    }
    first = by_file["a_original.txt"]
    assert len(docs) == 5
    assert [Path(p).name for p in first.source_paths] == ["a_original.txt", "b_same_bytes_elsewhere.txt"]
    assert pd.isna(first.duplicate_of) and pd.isna(by_file["f_unrelated.txt"].duplicate_of)
    for name in ("c_repost.txt", "d_few_changed.txt", "e_traditional.txt"):
        assert by_file[name].duplicate_of == first.doc_id, name


@pytest.mark.parametrize("length", [1, 2, 64, 3001])
def test_minhash_values_equal_datasketch(length):
    """Our one-expression MinHash is datasketch's affine32 MinHash of the same values."""
    import numpy as np
    from datasketch import MinHash

    from pipeline.dedup import NUM_PERM, SCHEME, SEED, _permutations, minhash_values

    hashes = np.random.default_rng(length).integers(0, 2**32, length, dtype=np.uint64)
    reference = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=int)
    reference.update_batch(hashes.tolist())
    assert reference.permutations.dtype == _permutations().dtype
    assert (reference.permutations == _permutations()).all()
    assert minhash_values(hashes).tolist() == reference.hashvalues.tolist()


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_band_layout_is_datasketchs(threshold):
    """The bands written down for our threshold (and those asked of datasketch for others)
    are MinHashLSH's own."""
    from datasketch import MinHashLSH

    from pipeline.dedup import NUM_PERM, band_ranges

    assert band_ranges(threshold) == list(MinHashLSH(threshold=threshold, num_perm=NUM_PERM).hashranges)


def test_a_run_does_not_import_datasketch():
    """datasketch pulls in scipy.integrate, a quarter of a second of every cold start."""
    import subprocess
    import sys

    code = (
        "import sys, pipeline.dedup as d, pipeline.runner;"
        "d.NearDuplicateIndex().close(); d.minhash_values(__import__('numpy').arange(9));"
        "print('datasketch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "False\n"


def test_near_duplicate_index_on_disk_answers_like_in_memory_and_is_removed(tmp_path):
    import numpy as np

    from pipeline.dedup import NUM_PERM, NearDuplicateIndex

    rng = np.random.default_rng(0)
    first = rng.integers(0, 2**32, NUM_PERM)
    close = first.copy()
    close[-6:] = 7  # 58 of 64 values shared: above the 0.8 threshold
    far = rng.integers(0, 2**32, NUM_PERM)
    answers = []
    for path in (None, tmp_path / "index.sqlite"):
        index = NearDuplicateIndex(path)
        assert index.query(first.tolist()) is None
        index.add("a", first.tolist())
        index.add("b", close.tolist())
        index.add("a", far.tolist())  # an id already there keeps its first signature
        answers.append((index.query(close.tolist()), index.query(far.tolist()), index.query(first.tolist())))
        index.close()
    assert answers[0] == answers[1] == ("a", None, "a")  # the first copy, in input order
    pipeline.run(REPO / "data" / "raw", out=tmp_path / "out")
    assert not list((tmp_path / "out" / ".zhenggai").glob("*.sqlite"))  # a run's working index is gone


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dask_cluster_writes_the_same_tables_as_the_local_engine(tmp_path):
    pytest.importorskip("distributed")
    corpus = tmp_path / "corpus"
    make_corpus(40, corpus, seed=3)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    dask = str(bin_dir / "dask") if (bin_dir / "dask").exists() else shutil.which("dask")
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = subprocess.Popen(
        [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    try:
        local = _zhenggai("run", corpus, "--out", tmp_path / "local", "--workers", 1, "-q")
        assert local.returncode == 0, local.stderr
        remote = _zhenggai(
            "run",
            corpus,
            "--out",
            tmp_path / "dask",
            "--engine",
            "dask",
            "--scheduler",
            address,
            "-q",
            timeout=600,
        )
        assert remote.returncode == 0, remote.stderr
        assert_same_tables(tmp_path / "local", tmp_path / "dask")
        manifest = (tmp_path / "dask" / "manifest.json").read_text(encoding="utf-8")
        assert '"engine": "dask"' in manifest
    finally:
        for proc in (workers, scheduler):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_classifier_failure_on_one_notice_spares_the_rest_of_its_batch(monkeypatch):
    """Measures of a worker's batch are labelled in one call; when it fails, each notice is
    labelled alone, so only the notice at fault becomes an error row."""
    from pipeline import ingest, rules, runner, structure, tag
    from pipeline.types import ErrorStage

    texts = [ingest.read_document(p) for p in sorted((REPO / "data" / "raw").iterdir())]
    poison = structure.parse_structure(texts[2]).measures[0].text

    class FailsOnOneMeasure(rules.RulesClassifier):
        def predict_scores(self, measure_texts):
            if poison in measure_texts:
                raise RuntimeError("cannot score this one")
            return super().predict_scores(measure_texts)

    tagger = tag.Tagger(FailsOnOneMeasure(), "test-model")
    monkeypatch.setattr(runner, "worker_tagger", lambda model: tagger)
    batch = runner.process_batch(texts, None)
    assert [i for i, doc in enumerate(batch.docs) if not doc.ok] == [2]
    assert batch.docs[2].errors[0].stage == ErrorStage.CLASSIFY
    assert "cannot score this one" in batch.docs[2].errors[0].message
    ok = [doc.doc_id for doc in batch.docs if doc.ok]
    assert len(ok) == len(texts) - 1
    assert batch.tables["documents"].column("doc_id").to_pylist() == ok
    assert set(batch.tables["measure_labels"].column("doc_id").to_pylist()) == set(ok)


def test_bad_input_battery_in_one_batch_with_good_notices(tmp_path):
    folder = tmp_path / "batch"
    shutil.copytree(BAD, folder)
    for good in (REPO / "data" / "raw").iterdir():
        shutil.copy(good, folder / f"good_{good.name}")
    with (folder / "big.txt").open("wb") as fh:
        block = ("一、整改情况。" * 1000 + "\n").encode("utf-8")
        while fh.tell() < 50_000_000:
            fh.write(block)
    locked = folder / "locked.txt"
    locked.write_text("一、整改情况", encoding="utf-8")
    locked.chmod(0)
    (folder / "dangling.txt").symlink_to(folder / "nowhere.txt")
    os.mkfifo(folder / "pipe.txt")
    out = tmp_path / "out"
    result = _zhenggai("run", folder, "--out", out, "--workers", 2, timeout=600)
    assert result.returncode == 0, result.stderr
    tables = write.read_tables(out)
    docs, errors = tables["documents"], tables["errors"]
    names = {
        Path(p).name: row
        for paths, (_, row) in zip(docs.source_paths, docs.iterrows(), strict=True)
        for p in paths
    }
    reasons = {Path(p).name: t for p, t in zip(errors.source_path, errors.error_type, strict=True)}
    for good in (REPO / "data" / "raw").iterdir():
        assert f"good_{good.name}" in names
    assert reasons["empty.txt"] == "EmptyFile"
    assert reasons["binary.txt"] == "BinaryFile"
    assert reasons["zip_renamed.txt"] == "BinaryFile"
    assert reasons["no_body.html"] == "NoVisibleText"
    assert reasons["big.txt"] == "TooLarge"
    assert reasons["dangling.txt"] == "ReadError"
    assert reasons["pipe.txt"] == "NotAFile"
    assert "locked.txt" in names or reasons.get("locked.txt") == "ReadError"  # root may read it anyway
    for name in (
        "truncated_utf8.txt",
        "mixed_encodings.txt",
        "deeply_nested.html",
        "pasted_twice.txt",
        "整改 通报 一.txt",
    ):
        assert name in names, name
    assert names["deeply_nested.html"].parse_status in ("ok", "partial")
    assert names["pasted_twice.txt"].parse_status in ("ok", "partial")
    for row in errors.itertuples():
        assert row.message.startswith(row.source_path + ": ") and "\n" not in row.message


def test_workers_die_with_a_killed_run(corpus, tmp_path):
    import psutil

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*ZHENGGAI, "run", str(corpus), "--out", str(out), "--workers", "2", "-q", "--flush-every", "10"],
        cwd=REPO,
    )
    _wait_for_parts(out, 2, proc)
    deadline = time.time() + 60  # the first batches run in the main process, then the pool starts
    while not (children := psutil.Process(proc.pid).children(recursive=True)) and time.time() < deadline:
        time.sleep(0.05)
    assert children, "the run should have worker processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [p.pid for p in alive]


def test_body_key_points_are_the_body_key_characters():
    """The signature reads the body key through a table of kept characters; it must be the key."""
    from pipeline import dedup, ingest, structure

    texts = [
        p.read_text(encoding="utf-8", errors="replace") for p in sorted((REPO / "data" / "raw").glob("*.txt"))
    ]
    texts.append("一、整改情况\n一是𠀀补齐台账，_完善制度；二是开展自查（全面）。\n——2024年3月1日")
    for text in texts:
        notice = structure.parse_structure(ingest.text_from_string(text))
        key = dedup.body_key(notice)
        assert "".join(map(chr, dedup.body_key_points(notice).tolist())) == key
    assert "𠀀" in key and "_" not in key and "，" not in key


def test_one_file_under_other_spellings_is_one_input(tmp_path, monkeypatch):
    """A relative path, ``./`` or ``..`` in it, the absolute path and a symbolic link name one
    file: it is skipped, not listed again as an identical copy; a real copy is listed."""
    folder = tmp_path / "notices"
    folder.mkdir()
    notice = folder / "a.txt"
    shutil.copy(REPO / "data" / "raw" / "01_county_bureau.txt", notice)
    shutil.copy(notice, folder / "copy.txt")
    (tmp_path / "link.txt").symlink_to(notice)
    monkeypatch.chdir(tmp_path)
    spellings = [notice, "notices/a.txt", "./notices/../notices/a.txt", "link.txt"]

    docs = pipeline.run(spellings)["documents"]
    assert len(docs) == 1 and docs.source_paths[0].tolist() == [str(notice)]

    from pipeline import runner
    from pipeline.config import RunOptions

    out = tmp_path / "out"
    pipeline.run(notice, out=out)
    result, _ = runner.run([*spellings[1:], "notices/copy.txt"], RunOptions(out=out))
    assert (result.skipped, result.duplicates, result.documents) == (3, 1, 0)
    paths = list(write.read_tables(out)["documents"].source_paths[0])
    assert paths == [str(notice), "notices/copy.txt"]


def test_tables_combined_from_many_parts_are_written_in_few_row_groups(corpus, tmp_path, monkeypatch):
    """Parts read back in small batches are gathered again: a table is one row group per
    ``ROW_GROUP_ROWS`` rows, not one per part batch; the rows are those of one big part."""
    import pyarrow.parquet as pq

    from pipeline import output, runner
    from pipeline.config import RunOptions

    one_part, many_parts = tmp_path / "one", tmp_path / "many"
    runner.run([corpus], RunOptions(out=one_part, workers=1, flush_every=10_000))
    monkeypatch.setattr(output.ArrowPart, "BATCH", 100)
    monkeypatch.setattr(output, "ROW_GROUP_ROWS", 5_000)
    runner.run([corpus], RunOptions(out=many_parts, workers=1, flush_every=7))
    labels = pq.ParquetFile(many_parts / "measure_labels.parquet").metadata
    groups = [labels.row_group(i).num_rows for i in range(labels.num_row_groups)]
    assert labels.num_rows > 10_000 and 2 <= len(groups) <= labels.num_rows // 5_000 + 1
    assert all(5_000 <= n < 5_000 + 100 for n in groups[:-1])
    assert_same_tables(one_part, many_parts)
