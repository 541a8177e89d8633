"""The chain ingest → structure → tag → write over many inputs: parallel, streaming, resumable.

The main process walks the inputs lazily and ingests them (reading, decoding, hashing is
cheap), so identical texts and documents already in the output are dropped before any
work is spent on them. Structure and tag run in worker processes (or on a Dask cluster),
each building its ``Tagger`` once; results come back in input order, so ids, the first
copy of a reposted notice and row order are the same whatever the engine or the number
of workers. Rows are written to part files as they arrive (``output.OutputStore``), so
memory stays flat and a killed run can be completed by running it again.
"""

from __future__ import annotations

import os
import platform
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa

from pipeline import ingest, structure, tag, write
from pipeline.config import RunOptions
from pipeline.dedup import NearDuplicateIndex, signature
from pipeline.types import ErrorRecord, ErrorStage, Notice, PipelineError, Text

READ_SUFFIXES = ingest.SUPPORTED_SUFFIXES | {".docx", ".pdf", ".doc"}
BATCH_SIZE = 16  # documents per task sent to a worker (one classifier call, one set of Arrow tables)


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the notice files found below folders, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    child = Path(root) / name
                    if not name.startswith(".") and child.suffix.lower() in READ_SUFFIXES:
                        yield child
        else:
            yield path


def read_input(path: Path, max_bytes: int) -> Text:
    """Ingest one file, refusing what is not a regular file or is far too large for a notice."""
    try:
        info = path.stat()
    except OSError as exc:
        raise PipelineError(ErrorStage.READ, "ReadError", f"{path}: cannot be read ({exc.strerror})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise PipelineError(ErrorStage.READ, "IsADirectory", f"{path}: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise PipelineError(ErrorStage.READ, "NotAFile", f"{path}: not a regular file")
    if info.st_size > max_bytes:
        raise PipelineError(
            ErrorStage.READ,
            "TooLarge",
            f"{path}: {info.st_size / 1e6:.1f} MB is too large for a notice (limit {max_bytes / 1e6:.0f} MB)",
        )
    return ingest.read_document(path)


# --- work done in the workers --------------------------------------------------------


@dataclass
class DocResult:
    """What a worker makes of one text: its table rows, or the errors it raised.

    ``process_batch`` moves the rows into its batch's Arrow tables and leaves the counts
    the main process reports (``ok``, ``status``, ``problems``, ``measures``).
    """

    doc_id: str
    rows: dict[str, write.Columns] | None
    signature: list[int] | None
    errors: list[ErrorRecord]
    seconds: dict[str, float] = field(default_factory=dict)
    ok: bool = False
    status: str | None = None
    problems: int = 0
    measures: int = 0


@dataclass
class BatchResult:
    """A worker's answer for a batch: one summary per text, in order, and the rows of the
    texts that succeeded as one Arrow table per output table (their ``documents`` rows in
    the order of those texts). Arrow crosses the process boundary as buffers, where lists of
    Python values are pickled and unpickled value by value."""

    docs: list[DocResult]
    tables: dict[str, pa.Table]


@lru_cache(maxsize=4)
def worker_tagger(model: str | None) -> tag.Tagger:
    """One Tagger per worker process and model: the spaCy pipeline and model load once."""
    return tag.Tagger.default(model)


def _failed(text: Text, stage: ErrorStage, exc: Exception, seconds: dict[str, float]) -> DocResult:
    errors = [
        ErrorRecord(p, stage, type(exc).__name__, one_line(f"{p}: {stage} failed: {exc}"))
        for p in text.source_paths
    ]
    return DocResult(text.doc_id, None, None, errors, seconds)


def _tag_document(text: Text, tagger: tag.Tagger) -> tuple[Notice | None, DocResult]:
    """Structure, fields and entities of one text (measure labels come after, batched)."""
    seconds = {"structure": 0.0, "tag": 0.0}
    stage = ErrorStage.PARSE
    t0 = time.perf_counter()
    try:
        notice = structure.parse_structure(text)
        t1 = time.perf_counter()
        seconds["structure"] = t1 - t0
        stage = ErrorStage.CLASSIFY
        notice = tagger.tag_document(notice)
        seconds["tag"] = time.perf_counter() - t1
        return notice, DocResult(text.doc_id, None, None, [], seconds)
    except Exception as exc:
        return None, _failed(text, stage, exc, seconds)


def _finish_document(text: Text, notice: Notice, doc: DocResult, failure: Exception | None) -> DocResult:
    """A labelled notice's rows and signature, or the error its labelling or rows raised."""
    if failure is not None:
        return _failed(text, ErrorStage.CLASSIFY, failure, doc.seconds)
    try:
        rows = write.rows_for(notice, pipeline_version())
        return DocResult(text.doc_id, rows, signature(notice), [], doc.seconds)
    except Exception as exc:
        return _failed(text, ErrorStage.CLASSIFY, exc, doc.seconds)


def die_with_parent(parent: int | None = None) -> None:
    """A worker ends when the run that started it is killed, instead of lingering (Linux).

    The kernel signals a worker whose parent dies only once the worker has asked for it;
    a run killed while the worker was still starting up is caught by checking, after
    asking, that the parent is still the run (``parent``, its pid).
    """
    if sys.platform.startswith("linux"):
        import contextlib
        import ctypes
        import signal

        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if parent is not None and os.getppid() != parent:
            os._exit(1)


def process_batch(texts: list[Text], model: str | None) -> BatchResult:
    """Structure and tag a batch; its measures are labelled with one classifier call.

    If that call fails, each text is labelled alone, so only the text at fault gets errors.
    """
    tagger = worker_tagger(model)
    docs: list[DocResult] = []
    tagged: list[tuple[int, Notice]] = []
    for text in texts:
        notice, doc = _tag_document(text, tagger)
        docs.append(doc)
        if notice is not None:
            tagged.append((len(docs) - 1, notice))
    t0 = time.perf_counter()
    try:
        tagger.label_measures([notice for _, notice in tagged])
        labelled = [(i, notice, None) for i, notice in tagged]
    except Exception:
        labelled = []
        for i, notice in tagged:
            try:
                tagger.label_measures([notice])
                labelled.append((i, notice, None))
            except Exception as exc:
                labelled.append((i, notice, exc))
    share = (time.perf_counter() - t0) / max(1, len(tagged))
    for i, notice, failure in labelled:
        docs[i].seconds["tag"] += share
        docs[i] = _finish_document(texts[i], notice, docs[i], failure)
    done = [d for d in docs if d.rows is not None]
    for doc in done:
        doc.ok, doc.status = True, doc.rows["documents"]["parse_status"][0]
        doc.problems = write.row_count(doc.rows["problems"])
        doc.measures = write.row_count(doc.rows["measures"])
    tables = write.tables_of([d.rows for d in done]) if done else {}
    for doc in done:
        doc.rows = None
    return BatchResult(docs, tables)


# --- engines ---------------------------------------------------------------------------


class LocalEngine:
    """In this process (one worker) or a pool of worker processes; results in input order."""

    def __init__(self, workers: int, model: str | None):
        self.workers = max(1, workers)
        self.model = model
        self._pool = None

    INLINE_BATCHES = 2  # small runs finish before worker processes would have started

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def _start_pool(self):
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )

    def map(self, batches: Iterable[list[Text]]) -> Iterator[BatchResult]:
        window: deque = deque()
        inline = 0
        for batch in batches:
            if self._pool is None and (self.workers == 1 or inline < self.INLINE_BATCHES):
                inline += 1
                yield process_batch(batch, self.model)
                continue
            if self._pool is None:
                self._start_pool()
            window.append(self._pool.submit(process_batch, batch, self.model))
            if len(window) >= self.workers * 3:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


class DaskEngine:
    """The same work on a Dask distributed cluster (an address, or a local cluster)."""

    def __init__(self, workers: int, model: str | None, scheduler: str | None):
        self.workers = max(1, workers)
        self.model = model
        self.scheduler = scheduler
        self._client = self._cluster = None

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.scheduler:
            self._client = Client(self.scheduler)
        else:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True)
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def map(self, batches: Iterable[list[Text]]) -> Iterator[BatchResult]:
        window: deque = deque()
        slots = max(2, len(self._client.scheduler_info().get("workers", {})) * 3)
        for batch in batches:
            window.append(self._client.submit(process_batch, batch, self.model, pure=False))
            if len(window) >= slots:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


# --- the run ---------------------------------------------------------------------------


@dataclass
class RunResult:
    documents: int = 0
    skipped: int = 0  # read before as the same file (under any spelling of its path): nothing to do
    duplicates: int = 0  # the text of a document already read, under another path: path added
    near_duplicates: int = 0
    problems: int = 0
    measures: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[ErrorRecord] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    inputs: int = 0
    bytes_read: int = 0


def one_line(message: str) -> str:
    return " ".join(str(message).split())


@lru_cache(maxsize=1)
def pipeline_version() -> str:
    try:
        return metadata.version("zhenggai")
    except metadata.PackageNotFoundError:
        from pipeline import __version__

        return __version__


def _batches(items: Iterable[Text], size: int) -> Iterator[list[Text]]:
    batch: list[Text] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run(paths: Iterable[str | Path], options: RunOptions | None = None, progress: Callable | None = None):
    """Process ``paths``; write the tables to ``options.out`` or return them in memory.

    Returns ``(RunResult, tables)`` where ``tables`` maps each table name to a
    ``pyarrow.Table`` (read back from the output folder when one was written).
    """
    from pipeline.output import MemoryStore, OutputStore

    options = options or RunOptions()
    result = RunResult(seconds={"ingest": 0.0, "structure": 0.0, "tag": 0.0, "write": 0.0})
    store = (
        OutputStore(Path(options.out), options.format, resume=options.resume, flush_every=options.flush_every)
        if options.out
        else MemoryStore()
    )
    model_id = tag.model_id_for(options.model)
    if options.out and options.resume:
        refuse_stale_output(store, Path(options.out), model_id)
    index = NearDuplicateIndex(store.scratch_file("near-duplicates.sqlite"))
    for doc_id, sig in store.existing_signatures():
        index.add(doc_id, sig)

    def texts() -> Iterator[Text]:
        for path in iter_input_files(paths):
            result.inputs += 1
            t0 = time.perf_counter()
            try:
                text = read_input(path, options.max_bytes)
            except PipelineError as exc:
                record = ErrorRecord(str(path), exc.stage, exc.error_type, one_line(exc.message))
                store.add_error(record)
                result.errors.append(record)
                continue
            except Exception as exc:  # a bug must not lose the rest of the batch
                record = ErrorRecord(
                    str(path), ErrorStage.READ, type(exc).__name__, one_line(f"{path}: {exc}")
                )
                store.add_error(record)
                result.errors.append(record)
                continue
            finally:
                result.seconds["ingest"] += time.perf_counter() - t0
            result.bytes_read += len(text.text.encode("utf-8"))
            if store.known(text.doc_id):
                same_file = store.has_path(text.doc_id, str(path)) or listed_as_another_spelling(
                    store, text.doc_id, path
                )
                if same_file:
                    result.skipped += 1
                else:
                    store.add_path(text.doc_id, str(path))
                    result.duplicates += 1
                if progress:
                    progress(result)
                continue
            store.note_first_path(text.doc_id, str(path))
            yield text

    engine = (
        DaskEngine(options.workers, options.model, options.scheduler)
        if options.engine == "dask"
        else LocalEngine(options.workers, options.model)
    )
    with engine:
        for batch in engine.map(_batches(texts(), BATCH_SIZE)):
            duplicate_of: list[str | None] = []
            for doc in batch.docs:
                for key, value in doc.seconds.items():
                    result.seconds[key] += value
                if not doc.ok:
                    for record in doc.errors:
                        store.add_error(record)
                        result.errors.append(record)
                    continue
                first = None
                if doc.signature is not None:
                    first = index.query(doc.signature)
                    result.near_duplicates += first is not None
                    index.add(doc.doc_id, doc.signature)
                    store.add_signature(doc.doc_id, doc.signature)
                duplicate_of.append(first)
                result.documents += 1
                result.problems += doc.problems
                result.measures += doc.measures
                result.statuses[doc.status] = result.statuses.get(doc.status, 0) + 1
                if progress:
                    progress(result)
            if batch.tables:
                t0 = time.perf_counter()
                store.add_tables(write.with_duplicate_of(batch.tables, duplicate_of), len(duplicate_of))
                result.seconds["write"] += time.perf_counter() - t0
    index.close()
    t0 = time.perf_counter()
    info = manifest(result, options, model_id)
    tables = store.finish(info)
    result.seconds["write"] += time.perf_counter() - t0
    return result, tables


def listed_as_another_spelling(store, doc_id: str, path: Path) -> bool:
    """Whether ``path`` is a file already listed for ``doc_id`` under another spelling.

    ``data/raw/a.txt``, ``./data/raw/a.txt``, its absolute path or a symbolic link to it
    name one file: listing it twice in ``documents.source_paths`` would count one input as
    two copies. Paths are compared once resolved (from this run's working directory); the
    spelling recorded first is kept. Asked only for a text already known, which is rare.
    """
    try:
        resolved = path.resolve()
        return any(Path(listed).resolve() == resolved for listed in store.paths_of(doc_id))
    except (OSError, RuntimeError):  # a path that cannot be resolved is not shown to be the same
        return False


def refuse_stale_output(store, out: Path, model_id: str) -> None:
    """A re-run only completes output of the same pipeline and model.

    Skipping documents by content hash is right when the same code and model would write
    the same rows; after an upgrade or a retrained model it would silently keep old labels
    beside new ones, so the run stops and says how to start afresh.
    """
    current = (pipeline_version(), model_id)
    for version, model in sorted(store.existing_versions(), key=str):
        if (version, model) != current:
            raise PipelineError(
                ErrorStage.WRITE,
                "StaleOutput",
                f"{out}: holds tables written by zhenggai {version} with model {model}; this run uses "
                f"{current[0]} with model {current[1]}: add --overwrite to start afresh, "
                "or choose another --out",
            )


def manifest(result: RunResult, options: RunOptions, model_id: str | None) -> dict:
    versions = {}
    for package in ("jieba", "rjieba", "spacy", "scikit-learn", "pandas", "pyarrow", "selectolax", "opencc"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "pipeline_version": pipeline_version(),
        "python": platform.python_version(),
        "platform": sys.platform,
        "packages": versions,
        "model_id": model_id,
        "format": options.format,
        "engine": options.engine,
        "workers": options.workers,
        "inputs": {
            "files": result.inputs,
            "bytes": result.bytes_read,
            "skipped_already_written": result.skipped,
            "identical_to_another_input": result.duplicates,
        },
        "seconds": {k: round(v, 4) for k, v in result.seconds.items()},
    }
