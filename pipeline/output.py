"""Where a run's rows go: memory, or an output folder written in committed parts.

``OutputStore`` buffers rows and flushes them every ``flush_every`` documents into
``OUT/.zhenggai/parts/<seq>/<table>.arrow``; a part counts only once its ``done`` marker
exists, so a run killed mid-flush leaves nothing half-written that a re-run would trust.
``finish`` streams the previous tables and the parts, in order, into the documented files
(written under temporary names and renamed), then removes the parts. A re-run over the
same output therefore skips what is already there and completes what was interrupted.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import write
from pipeline.dedup import SHINGLE_HASH
from pipeline.types import ErrorRecord
from pipeline.write import SCHEMAS, TABLES

STATE_DIR = ".zhenggai"
ROW_GROUP_ROWS = 64 * 1024  # a row group of a written table holds about this many rows,
ROW_GROUP_BYTES = 4 * 1024 * 1024  # or about this much data, whichever comes first
DUCKDB_FILE = "zhenggai.duckdb"
SIGNATURES_FILE = f"signatures-{SHINGLE_HASH}.parquet"  # another hashing starts afresh, never mixes
SIGNATURES = pa.schema([("doc_id", pa.string()), ("signature", pa.list_(pa.uint64()))])
PATHS = pa.schema([("doc_id", pa.string()), ("path", pa.string())])
_BUFFERED = {**SCHEMAS, "signatures": SIGNATURES, "paths": PATHS}  # what a part file holds


class MemoryStore:
    """Keeps every row in memory and returns Arrow tables (for ``pipeline.run`` without ``out``)."""

    def __init__(self):
        self.columns = {name: write.empty_columns(name) for name in TABLES}  # rows made here (errors)
        self.tables: dict[str, list[pa.Table]] = {}  # rows from the workers
        self.extra_paths: dict[str, list[str]] = {}
        self.first_paths: dict[str, str] = {}

    def existing_signatures(self):
        return []

    def known(self, doc_id: str) -> bool:
        return doc_id in self.first_paths

    def has_path(self, doc_id: str, path: str) -> bool:
        return path == self.first_paths.get(doc_id) or path in self.extra_paths.get(doc_id, [])

    def paths_of(self, doc_id: str) -> list[str]:
        first = self.first_paths.get(doc_id)
        return ([first] if first is not None else []) + self.extra_paths.get(doc_id, [])

    def note_first_path(self, doc_id: str, path: str) -> None:
        self.first_paths[doc_id] = path

    def add_path(self, doc_id: str, path: str) -> None:
        self.extra_paths.setdefault(doc_id, []).append(path)

    def add_tables(self, tables: dict[str, pa.Table], documents: int) -> None:
        for name, table in tables.items():
            self.tables.setdefault(name, []).append(table)

    def add_error(self, record: ErrorRecord) -> None:
        write.append_row(self.columns["errors"], write.error_row(record))

    def add_signature(self, doc_id: str, values: list[int]) -> None:
        pass

    def scratch_file(self, name: str) -> Path | None:
        return None  # an in-memory run keeps its working indexes in memory

    def finish(self, manifest: dict) -> dict[str, pa.Table]:
        tables = {
            name: pa.concat_tables(
                [*self.tables.get(name, []), pa.Table.from_pydict(self.columns[name], schema=SCHEMAS[name])]
            )
            for name in TABLES
        }
        documents = tables["documents"]
        if self.extra_paths:
            ids, firsts = documents.column("doc_id").to_pylist(), documents.column("source_paths").to_pylist()
            paths = [[*p, *self.extra_paths.get(i, [])] for i, p in zip(ids, firsts, strict=True)]
            column = documents.schema.get_field_index("source_paths")
            tables["documents"] = documents.set_column(
                column, documents.schema.field(column), pa.array(paths, documents.schema.field(column).type)
            )
        return tables


def _scratch_db(path: Path, tables: str, shared: bool = False) -> sqlite3.Connection:
    """A SQLite file for one run's working state: no journal, no fsync, one long
    transaction (the file is rebuilt if the run dies, so durability buys nothing).
    ``shared``: usable from other threads (the caller serialises the calls)."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=not shared)
    db.executescript(f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; {tables} BEGIN;")
    return db


class PathLedger:
    """The documents a run knows and every path each came from, kept in SQLite.

    A set of ids and a dict of paths held about 1 KB per notice in the main process, so
    memory grew with the corpus; SQLite keeps them on disk behind a bounded page cache.
    The file is scratch: rebuilt from the tables at the start of each run, removed at finish.
    """

    def __init__(self, path: Path):
        self._db = _scratch_db(
            path,
            "CREATE TABLE paths(doc_id TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (doc_id, path))"
            " WITHOUT ROWID;",
        )

    def known(self, doc_id: str) -> bool:
        found = self._db.execute("SELECT 1 FROM paths WHERE doc_id = ? LIMIT 1", (doc_id,))
        return found.fetchone() is not None

    def has_path(self, doc_id: str, path: str) -> bool:
        found = self._db.execute("SELECT 1 FROM paths WHERE doc_id = ? AND path = ?", (doc_id, path))
        return found.fetchone() is not None

    def paths_of(self, doc_id: str) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT path FROM paths WHERE doc_id = ?", (doc_id,))]

    def add(self, doc_id: str, path: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO paths VALUES (?, ?)", (doc_id, path))

    def add_many(self, pairs) -> None:
        self._db.executemany("INSERT OR IGNORE INTO paths VALUES (?, ?)", pairs)

    def close(self) -> None:
        self._db.close()


class OutputStore:
    """Streams rows into committed part files, then combines them into the documented tables."""

    def __init__(self, out: Path, fmt: str = "parquet", resume: bool = True, flush_every: int = 200):
        self.out = Path(out)
        self.fmt = fmt
        self.flush_every = flush_every
        self.state = self.out / STATE_DIR
        self.parts = self.state / "parts"
        self.out.mkdir(parents=True, exist_ok=True)
        if not resume:
            shutil.rmtree(self.state, ignore_errors=True)
        self._drop_uncommitted()
        self.resume = resume
        self._buffer = self._empty_buffer()  # rows made in this process: paths, errors, signatures
        self._tables: dict[str, list[pa.Table]] = {}  # rows from the workers, as Arrow
        self._pending_docs = 0
        self._seq = max((int(p.name) for p in self._committed()), default=0)
        self._ledger = PathLedger(self.scratch_file("paths.sqlite"))
        if resume:
            for source in self._sources("documents"):
                for batch in source.iter_batches(columns=["doc_id", "source_paths"]):
                    ids, paths = batch.column(0).to_pylist(), batch.column(1).to_pylist()
                    self._ledger.add_many(
                        (doc_id, path) for doc_id, many in zip(ids, paths, strict=True) for path in many or []
                    )
            for source in self._sources("paths"):
                for batch in source.iter_batches():
                    self._ledger.add_many(_pairs(batch))

    # --- what is there already ---------------------------------------------------------

    def _committed(self) -> list[Path]:
        if not self.parts.exists():
            return []
        return sorted((p for p in self.parts.iterdir() if (p / "done").exists()), key=lambda p: int(p.name))

    def _drop_uncommitted(self) -> None:
        if self.parts.exists():
            for part in self.parts.iterdir():
                if not (part / "done").exists():
                    shutil.rmtree(part, ignore_errors=True)

    def _state_table(self, name: str) -> Path:
        """The parquet copy a re-run reads: the output file itself, or a copy beside CSV or DuckDB output."""
        if name == "signatures":
            return self.state / SIGNATURES_FILE
        if self.fmt == "parquet":
            return self.out / f"{name}.parquet"
        return self.state / "final" / f"{name}.parquet"

    def _sources(self, name: str) -> list[pq.ParquetFile | ArrowPart]:
        return [source for _, source in self._origins(name)]

    def _origins(self, name: str) -> list[tuple[str, pq.ParquetFile | ArrowPart]]:
        """(origin, file) of every place rows of ``name`` live: the last tables, then the parts."""
        files = []
        final = self._state_table(name)
        if self.resume and name != "paths" and final.exists():
            files.append(("final", pq.ParquetFile(final)))
        for part in self._committed():
            path = part / f"{name}.arrow"
            if path.exists():
                files.append((part.name, ArrowPart(path)))
            elif (legacy := part / f"{name}.parquet").exists():  # a part left by an older release
                files.append((part.name, pq.ParquetFile(legacy)))
        return files

    def existing_versions(self) -> set[tuple[str, str | None]]:
        """(pipeline_version, model_id) of the documents already written."""
        found: set[tuple[str, str | None]] = set()
        for source in self._sources("documents"):
            for batch in source.iter_batches(columns=["pipeline_version", "model_id"]):
                found.update(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True))
        return found

    def existing_signatures(self):
        for source in self._sources("signatures"):
            for batch in source.iter_batches():
                yield from zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)

    def known(self, doc_id: str) -> bool:
        return self._ledger.known(doc_id)

    def has_path(self, doc_id: str, path: str) -> bool:
        return self._ledger.has_path(doc_id, path)

    def paths_of(self, doc_id: str) -> list[str]:
        return self._ledger.paths_of(doc_id)

    def note_first_path(self, doc_id: str, path: str) -> None:
        self._ledger.add(doc_id, path)

    # --- adding ------------------------------------------------------------------------

    def add_path(self, doc_id: str, path: str) -> None:
        self._ledger.add(doc_id, path)
        write.append_row(self._buffer["paths"], {"doc_id": doc_id, "path": path})

    def add_tables(self, tables: dict[str, pa.Table], documents: int) -> None:
        """Rows of ``documents`` notices from a worker, flushed every ``flush_every`` notices."""
        for name, table in tables.items():
            if table.num_rows:
                self._tables.setdefault(name, []).append(table)
        self._pending_docs += documents
        if self._pending_docs >= self.flush_every:
            self.flush()

    def add_error(self, record: ErrorRecord) -> None:
        write.append_row(self._buffer["errors"], write.error_row(record))

    def add_signature(self, doc_id: str, values: list[int]) -> None:
        write.append_row(self._buffer["signatures"], {"doc_id": doc_id, "signature": values})

    def scratch_file(self, name: str) -> Path:
        """A fresh file in the state folder for a working index of this run (removed at finish)."""
        path = self.state / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        return path

    def flush(self) -> None:
        if not self._tables and not any(write.row_count(columns) for columns in self._buffer.values()):
            return
        self._seq += 1
        part = self.parts / str(self._seq)
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        for name, columns in self._buffer.items():
            pieces = self._tables.get(name, [])
            if write.row_count(columns):
                pieces = [*pieces, pa.Table.from_pydict(columns, schema=_BUFFERED[name])]
            if pieces:
                # one chunk, not one per worker batch: finish reads and rewrites it in big batches
                ArrowPart.write(pa.concat_tables(pieces).combine_chunks(), part / f"{name}.arrow")
        (part / "done").write_text("", encoding="utf-8")
        self._buffer = self._empty_buffer()
        self._tables = {}
        self._pending_docs = 0

    @staticmethod
    def _empty_buffer() -> dict[str, write.Columns]:
        return {name: write.empty_columns(schema) for name, schema in _BUFFERED.items()}

    # --- combining ---------------------------------------------------------------------

    def finish(self, manifest: dict) -> None:
        """Combine the previous tables and every committed part into the documented files.

        Every table is first written under a temporary name; only when all are written are
        they renamed into place, then the parts removed. A document's rows are taken from
        the first place that holds it, so combining again after an interruption at any
        point gives the same tables.
        """
        self.flush()
        self._ledger.close()
        combine = Ownership(self.scratch_file("combine.sqlite"))
        for rank, (origin, source) in enumerate(self._origins("documents")):
            for batch in source.iter_batches(columns=["doc_id"]):
                combine.add_documents(origin, rank, batch.column(0).to_pylist())
        for source in self._sources("paths"):
            for batch in source.iter_batches():
                combine.add_extra_paths(_pairs(batch))
        combine.settle()
        staged: list[tuple[Path, Path]] = []
        # two tables at a time: reading, compressing and encoding run in Arrow without the GIL
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda name: self._stage(name, combine), TABLES))
        counts = {name: count for name, (count, _) in zip(TABLES, results, strict=True)}
        staged += [pair for _, pairs in results for pair in pairs]
        if self.fmt == "duckdb":
            staged.append(self._stage_duckdb({target.stem: tmp for tmp, target in staged}))
        staged.append(self._stage_signatures(combine))
        combine.close()
        manifest = {**manifest, "counts": counts}
        manifest_tmp = self.state / ".manifest.json.tmp"
        manifest_tmp.write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8"
        )
        staged.append((manifest_tmp, self.out / "manifest.json"))
        for tmp, target in staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        shutil.rmtree(self.parts, ignore_errors=True)
        for scratch in self.state.glob("*.sqlite"):
            scratch.unlink(missing_ok=True)

    def _rows(self, name: str, combine: Ownership):
        """Batches of ``name`` in order, each document's rows once, extra paths merged."""
        seen_errors: set[tuple] = set()
        for origin, source in self._origins(name):
            dropped = combine.dropped(origin)
            for batch in source.iter_batches(batch_size=4000):
                table = pa.Table.from_batches([batch]).cast(SCHEMAS[name])
                if name == "errors":
                    rows = [r for r in table.to_pylist() if _once(r, seen_errors)]
                    table = pa.Table.from_pylist(rows, schema=SCHEMAS[name])
                else:
                    table = _without(table, dropped)
                    ids = table.column("doc_id").to_pylist() if name == "documents" else []
                    if extra := combine.extra_paths(ids):
                        rows = table.to_pylist()
                        for row in rows:
                            more = [p for p in extra.get(row["doc_id"], []) if p not in row["source_paths"]]
                            row["source_paths"] = [*row["source_paths"], *more]
                        table = pa.Table.from_pylist(rows, schema=SCHEMAS[name])
                if table.num_rows:
                    yield table

    def _stage(self, name: str, combine: Ownership) -> tuple[int, list[tuple[Path, Path]]]:
        """Write ``name`` combined under temporary names: (rows, [(temporary, final path)])."""
        staged: list[tuple[Path, Path]] = []
        state = self._state_table(name)
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.with_name(f".{state.name}.staged")
        count = 0
        with pq.ParquetWriter(tmp, SCHEMAS[name], compression="zstd") as writer:
            for table in _row_groups(self._rows(name, combine)):
                writer.write_table(table)
                count += table.num_rows
        staged.append((tmp, state))
        if self.fmt == "csv":
            import pyarrow.csv as pacsv

            csv_tmp = self.out / f".{name}.csv.staged"
            with pacsv.CSVWriter(csv_tmp, write.csv_schema(SCHEMAS[name])) as writer:
                for batch in pq.ParquetFile(tmp).iter_batches():
                    writer.write_table(write.for_csv(pa.Table.from_batches([batch])))
            staged.append((csv_tmp, self.out / f"{name}.csv"))
        return count, staged

    def _stage_duckdb(self, parquet: dict[str, Path]) -> tuple[Path, Path]:
        """One DuckDB file holding every table (SCHEMA.md ``--format duckdb``), built from the
        staged parquet copies, which stay behind as what a re-run reads."""
        import duckdb

        tmp = self.out / f".{DUCKDB_FILE}.staged"
        tmp.unlink(missing_ok=True)
        with duckdb.connect(str(tmp)) as con:
            for name in TABLES:
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(parquet[name])])
        return tmp, self.out / DUCKDB_FILE

    def _stage_signatures(self, combine: Ownership) -> tuple[Path, Path]:
        target = self.state / SIGNATURES_FILE
        tmp = self.state / f".{SIGNATURES_FILE}.staged"
        with pq.ParquetWriter(tmp, SIGNATURES) as writer:
            for origin, source in self._origins("signatures"):
                dropped = combine.dropped(origin)
                for batch in source.iter_batches():
                    writer.write_table(_without(pa.Table.from_batches([batch]), dropped))
        return tmp, target


class ArrowPart:
    """A part file in Arrow's IPC format with lz4 buffers, read by ``finish`` in batches.

    Parts are written once and read once, so speed matters more than size: against
    parquet with lz4 this writes about three times and reads about six times faster.
    Reads through the same ``iter_batches`` as ``pyarrow.parquet.ParquetFile``.
    """

    BATCH = 4000
    _OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def write(cls, table: pa.Table, path: Path) -> None:
        with pa.ipc.new_file(path, table.schema, options=cls._OPTIONS) as writer:
            writer.write_table(table, max_chunksize=cls.BATCH)

    def read_all(self) -> pa.Table:
        with pa.OSFile(str(self.path)) as source:
            return pa.ipc.open_file(source).read_all()

    def iter_batches(self, columns: list[str] | None = None, batch_size: int | None = None):
        with pa.OSFile(str(self.path)) as source:  # read, not mapped: batches outlive the file
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                yield batch.select(columns) if columns else batch


class Ownership:
    """Which place's rows stand for each document when the tables are combined.

    The first place (the previous tables, then the parts in order) that holds a document
    owns it; a document found again later (a part already combined before an interruption)
    has its later rows dropped. Only those rows are listed, in SQLite, so combining costs
    memory for the conflicts, not for the corpus. Extra paths of duplicate inputs wait here
    too, until their document's row is written.
    """

    def __init__(self, path: Path):
        self._db = _scratch_db(
            path,
            "CREATE TABLE seen(doc_id TEXT NOT NULL, origin TEXT NOT NULL, rank INTEGER NOT NULL);"
            "CREATE TABLE extra(doc_id TEXT NOT NULL, path TEXT NOT NULL);",
            shared=True,
        )
        self._lock = threading.Lock()  # tables are staged on two threads, one connection
        self._has_extra = False

    def add_documents(self, origin: str, rank: int, doc_ids: list[str]) -> None:
        self._db.executemany("INSERT INTO seen VALUES (?, ?, ?)", ((d, origin, rank) for d in doc_ids))

    def add_extra_paths(self, pairs) -> None:
        self._db.executemany("INSERT INTO extra VALUES (?, ?)", pairs)

    def settle(self) -> None:
        """List the (document, place) pairs whose rows are dropped; index the extra paths."""
        self._db.executescript(
            "CREATE TABLE dropped AS SELECT s.doc_id, s.origin FROM seen s JOIN"
            " (SELECT doc_id, MIN(rank) AS first FROM seen GROUP BY doc_id HAVING COUNT(*) > 1) c"
            " ON s.doc_id = c.doc_id WHERE s.rank != c.first;"
            "CREATE INDEX extra_doc ON extra(doc_id);"
        )
        self._has_extra = self._db.execute("SELECT 1 FROM extra LIMIT 1").fetchone() is not None

    def dropped(self, origin: str) -> pa.Array:
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT doc_id FROM dropped WHERE origin = ?", (origin,))
            return pa.array([r[0] for r in rows], pa.string())

    def extra_paths(self, doc_ids: list[str]) -> dict[str, list[str]]:
        """Extra paths of these documents, in the order they were met."""
        if not self._has_extra or not doc_ids:
            return {}
        found: dict[str, list[str]] = {}
        with self._lock:
            rows = self._db.execute(
                "SELECT doc_id, path FROM extra"
                " WHERE doc_id IN (SELECT value FROM json_each(?)) ORDER BY rowid",
                (json.dumps(doc_ids),),
            ).fetchall()
        for doc_id, path in rows:
            found.setdefault(doc_id, []).append(path)
        return found

    def close(self) -> None:
        self._db.close()


def _pairs(batch: pa.RecordBatch):
    return zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)


def _row_groups(tables: Iterable[pa.Table]) -> Iterator[pa.Table]:
    """``tables`` gathered into tables of about ``ROW_GROUP_ROWS`` rows or ``ROW_GROUP_BYTES``,
    each then written as one row group.

    The parts are read back a few thousand rows at a time; written as they come, each
    would be a row group of its own (656 of them for the label rows of 10,000 notices),
    which encodes slower, compresses worse (121 MB of tables against 103) and makes every
    reader open more pieces. The byte bound keeps a group of documents (full texts) small
    in memory: at 16 MB a group, peak memory at 10,000 notices grew 1.21× over 1,000,
    against 1.08× at 4 MB (``ru_maxrss``, one worker).
    """
    pending: list[pa.Table] = []
    rows = size = 0
    for table in tables:
        pending.append(table)
        rows += table.num_rows
        size += table.nbytes
        if rows >= ROW_GROUP_ROWS or size >= ROW_GROUP_BYTES:
            yield pa.concat_tables(pending)
            pending, rows, size = [], 0, 0
    if pending:
        yield pa.concat_tables(pending)


def _without(table: pa.Table, dropped: pa.Array) -> pa.Table:
    """``table`` less the rows of the documents in ``dropped`` (usually none)."""
    if not len(dropped):
        return table
    return table.filter(pc.invert(pc.is_in(table.column("doc_id"), value_set=dropped)))


def _once(row: dict, seen: set[tuple]) -> bool:
    key = (row["source_path"], row["stage"], row["error_type"], row["message"])
    if key in seen:
        return False
    seen.add(key)
    return True
