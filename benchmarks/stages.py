"""Where a notice's CPU time goes, stage by stage, in one process: ``python -m benchmarks.stages``.

The throughput target compares the whole run on two cores with a bare single-core
``jieba.lcut`` pass; this splits the work a run does per notice (reading in the main
process, then structure, fields, entities, labels, rows and MinHash in a worker) so a
change can be judged on the stage it touches. CPU time (``time.process_time``), not wall
time: other processes on the machine move it less. The last line is the ceiling those
figures allow on two cores (no process start-up, no parts to write): the run's own ratio
can only be lower.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.corpus import make_corpus

STAGES = ("read", "structure", "fields", "entities", "labels", "rows", "minhash", "arrow")


def stage_seconds(paths: list[Path], batch_size: int) -> dict[str, float]:
    """CPU seconds per stage over ``paths``, the way ``runner.process_batch`` chains them."""
    from pipeline import dedup, ingest, runner, structure, tag, write

    tagger = runner.worker_tagger(None)
    version = runner.pipeline_version()
    runner.process_batch([ingest.read_document(paths[0])], None)  # lazy loads happen before timing
    seconds: dict[str, float] = defaultdict(float)

    def timed(stage, function, *args):
        start = time.process_time()
        value = function(*args)
        seconds[stage] += time.process_time() - start
        return value

    for i in range(0, len(paths), batch_size):
        notices = []
        for path in paths[i : i + batch_size]:
            notice = timed("structure", structure.parse_structure, timed("read", ingest.read_document, path))
            notice.model_id = tagger.model_id
            timed("fields", tag.tag_fields, notice)
            for problem in notice.problems:
                problem.focus_area = tag.focus_area(problem.category, problem.title)
            notice.entities = timed("entities", tag.find_notice_entities, notice)
            tag.fill_money_recovered(notice)
            notices.append(notice)
        timed("labels", tagger.label_measures, notices)
        rows = [timed("rows", write.rows_for, notice, version) for notice in notices]
        for notice in notices:
            timed("minhash", dedup.signature, notice)
        timed("arrow", write.tables_of, rows)
    return dict(seconds)


def jieba_seconds(paths: list[Path]) -> float:
    import jieba

    from pipeline import ingest

    texts = [ingest.read_document(p).text for p in paths]
    jieba.initialize()
    start = time.process_time()
    for text in texts:
        jieba.lcut(text)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zhenggai-stages-") as tmp:
        paths = make_corpus(args.notices, Path(tmp))
        seconds = stage_seconds(paths, args.batch_size)
        baseline = jieba_seconds(paths)
    per_notice = {stage: seconds.get(stage, 0.0) / len(paths) * 1000 for stage in STAGES}
    total = sum(per_notice.values())
    jieba_ms = baseline / len(paths) * 1000
    print("| stage | ms per notice | share |")
    print("|---|---|---|")
    for stage, ms in per_notice.items():
        print(f"| {stage} | {ms:.3f} | {ms / total:.0%} |")
    print(f"| all | {total:.3f} | |")
    print(f"bare jieba.lcut: {jieba_ms:.3f} ms per notice")
    print(f"ceiling on 2 cores from these figures: {2 * jieba_ms / total:.2f}× bare jieba (1 core)")


if __name__ == "__main__":
    main()
