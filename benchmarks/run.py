"""Speed and memory of zhenggai, side by side with bare jieba: ``python -m benchmarks.run``.

Prints one table (documents/s, MB/s, peak RSS of the whole process tree) for each corpus
size and worker count, the cold start of a single-notice run against importing jieba and
building its dictionary, the ratio of the pipeline's throughput to a single-core
``jieba.lcut`` pass over the same texts (an even sample of them, passed just before and just
after each run: the machine's speed drifts, and the table's last column shows by how much),
where a notice's CPU time goes stage by stage
(``benchmarks/stages.py``), the classifier's training and loading times, and, with
``--resume-check``, whether a run killed midway and re-run equals an uninterrupted one.
Nothing here is asserted: the figures go into the README.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.corpus import REPO, make_corpus
from benchmarks.stages import jieba_seconds, stage_seconds

ZHENGGAI = [sys.executable, "-m", "pipeline.cli"]


def timed_run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) summed over the process and all its children."""
    start = time.perf_counter()
    proc = psutil.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()) / 1e6)
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, peak


def jieba_chars_per_second(texts: list[str]) -> float:
    import jieba

    jieba.initialize()
    start = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return sum(map(len, texts)) / (time.perf_counter() - start)


BASELINE_SAMPLE = 1000  # texts in each baseline pass (spread evenly over the corpus)


def baseline_sample(texts: list[str]) -> list[str]:
    """Every k-th text, at most ``BASELINE_SAMPLE``: the corpus's mix in a pass of ~10 s."""
    return texts[:: max(1, len(texts) // BASELINE_SAMPLE)][:BASELINE_SAMPLE]


def corpus_texts(folder: Path) -> list[str]:
    from pipeline.ingest import read_document

    return [read_document(p).text for p in sorted(folder.rglob("*.txt"))]


def cold_start(tmp: Path) -> tuple[float, float]:
    notice = REPO / "data" / "raw" / "01_county_bureau.txt"
    runs, base = [], []
    for i in range(3):
        runs.append(
            timed_run([*ZHENGGAI, "run", str(notice), "--out", str(tmp / f"cold{i}"), "-q", "-w", "1"])[0]
        )
        base.append(timed_run([sys.executable, "-c", "import jieba; jieba.initialize()"])[0])
    return min(runs), min(base)


def resume_check(corpus: Path, tmp: Path) -> bool:
    from pipeline.write import read_tables

    whole, broken = tmp / "whole", tmp / "broken"
    timed_run([*ZHENGGAI, "run", str(corpus), "--out", str(whole), "-q"])
    proc = subprocess.Popen(
        [*ZHENGGAI, "run", str(corpus), "--out", str(broken), "-q", "--flush-every", "50"], cwd=REPO
    )
    parts = broken / ".zhenggai" / "parts"
    while proc.poll() is None and len(list(parts.glob("*/done")) if parts.exists() else []) < 10:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    timed_run([*ZHENGGAI, "run", str(corpus), "--out", str(broken), "-q"])
    a, b = read_tables(whole), read_tables(broken)
    return all(a[name].equals(b[name]) for name in a)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--resume-check", type=int, default=0, help="corpus size for the kill/re-run check (e.g. 2000)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="zhenggai-bench-"))
    figures: dict = {"runs": []}
    try:
        for n in args.sizes:
            corpus = tmp / f"corpus{n}"
            make_corpus(n, corpus)
            texts = corpus_texts(corpus)
            chars = sum(map(len, texts))
            megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
            sample = baseline_sample(texts)
            for workers in args.workers:
                # the machine's speed drifts (it is shared): the baseline is taken just before
                # and just after each run, and the ratio uses their mean
                before = jieba_chars_per_second(sample)
                seconds, peak = timed_run(
                    [
                        *ZHENGGAI,
                        "run",
                        str(corpus),
                        "--out",
                        str(tmp / f"out{n}-{workers}"),
                        "-q",
                        "-w",
                        str(workers),
                    ]
                )
                after = jieba_chars_per_second(sample)
                jieba_rate = (before + after) / 2
                figures["runs"].append(
                    {
                        "documents": n,
                        "workers": workers,
                        "seconds": round(seconds, 2),
                        "docs_per_s": round(n / seconds, 1),
                        "mb_per_s": round(megabytes / seconds, 3),
                        "peak_rss_mb": round(peak),
                        "ratio_to_jieba_1_core": round((chars / seconds) / jieba_rate, 3),
                        "jieba_before_after_chars_per_s": [round(before), round(after)],
                    }
                )
                print(json.dumps(figures["runs"][-1]), flush=True)
        stage_paths = sorted((tmp / f"corpus{args.sizes[0]}").rglob("*.txt"))[:1000]
        stage_ms = {k: v / len(stage_paths) * 1000 for k, v in stage_seconds(stage_paths, 16).items()}
        figures["stage_ms_per_notice"] = {k: round(v, 3) for k, v in stage_ms.items()}
        figures["jieba_ms_per_notice"] = round(jieba_seconds(stage_paths) / len(stage_paths) * 1000, 3)
        cold, jieba_cold = cold_start(tmp)
        figures["cold_single_notice_s"] = round(cold, 2)
        figures["jieba_initialize_s"] = round(jieba_cold, 2)
        train_s, _ = timed_run([*ZHENGGAI, "train", "data/labelled", "--out", str(tmp / "model")])
        figures["train_s"] = round(train_s, 1)
        from pipeline import classifier, inference  # imports (sklearn, scipy, skops) are not the model's load

        start = time.perf_counter()
        classifier.load(tmp / "model")
        figures["model_load_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        inference.LinearMeasureModel.load(tmp / "model")
        figures["model_arrays_load_s"] = round(time.perf_counter() - start, 2)
        if args.resume_check:
            corpus = tmp / "resume"
            make_corpus(args.resume_check, corpus, seed=5)
            figures[f"kill_and_rerun_equal_{args.resume_check}"] = resume_check(corpus, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| documents | workers | docs/s | MB/s | peak RSS MB | × jieba (1 core) | jieba after/before |")
    print("|---|---|---|---|---|---|---|")
    for r in figures["runs"]:
        before, after = r["jieba_before_after_chars_per_s"]
        print(
            f"| {r['documents']} | {r['workers']} | {r['docs_per_s']} | {r['mb_per_s']} | "
            f"{r['peak_rss_mb']} | {r['ratio_to_jieba_1_core']} | {after / before:.2f} |"
        )
    sizes = sorted({r["documents"] for r in figures["runs"]})
    if len(sizes) > 1:
        for w in args.workers:
            rss = {r["documents"]: r["peak_rss_mb"] for r in figures["runs"] if r["workers"] == w}
            print(
                f"peak RSS {sizes[-1]} / {sizes[0]} documents, {w} worker(s): "
                f"{rss[sizes[-1]] / rss[sizes[0]]:.2f}×"
            )
    stages = figures["stage_ms_per_notice"]
    print(
        "CPU ms per notice, one process: "
        + ", ".join(f"{k} {v}" for k, v in stages.items())
        + f"; all {sum(stages.values()):.3f} (bare jieba.lcut {figures['jieba_ms_per_notice']})"
    )
    print(
        f"cold single-notice run {figures['cold_single_notice_s']} s; jieba import+initialize "
        f"{figures['jieba_initialize_s']} s; "
        f"ratio {figures['cold_single_notice_s'] / figures['jieba_initialize_s']:.2f}×"
    )
    print(
        f"zhenggai train (with grouped CV) {figures['train_s']} s; model load: estimator (skops) "
        f"{figures['model_load_s']} s, arrays (what a run loads) {figures['model_arrays_load_s']} s"
    )
    for key, value in figures.items():
        if key.startswith("kill_and_rerun"):
            print(f"{key}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
