"""Stage 4, write: ``Notice`` objects → the tidy tables of SCHEMA.md, written atomically.

Only this stage writes files. Every table has a fixed pyarrow schema, so an empty table
still has its typed columns, and a second run writes byte-identical ids. Each file is
written under a temporary name in the output folder and renamed into place, so a run that
is killed leaves the previous table, never half of a new one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from itertools import chain
from operator import attrgetter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.types import LABELS, ErrorRecord, MeasureLabels, Notice

S, INT, F, B = pa.string(), pa.int64(), pa.float64(), pa.bool_()

SCHEMAS: dict[str, pa.Schema] = {
    "documents": pa.schema(
        [
            ("doc_id", S),
            ("source_paths", pa.list_(S)),
            ("format", S),
            ("encoding", S),
            ("text", S),
            ("chars", INT),
            ("title", S),
            ("publish_time", S),
            ("source", S),
            ("issuing_org", S),
            ("signing_date", S),
            ("inspection_kind", S),
            ("inspection_round", S),
            ("inspection_body", S),
            ("inspected_unit", S),
            ("inspection_start", S),
            ("inspection_end", S),
            ("feedback_date", S),
            ("problems_stated", INT),
            ("problems_found", INT),
            ("measures_found", INT),
            ("parse_status", S),
            ("duplicate_of", S),
            ("pipeline_version", S),
            ("model_id", S),
            ("problems_completed", INT),
            ("problems_ongoing", INT),
            ("completion_rate", F),
            ("rules_made", INT),
            ("money_recovered", F),
            ("people_held_accountable", INT),
        ]
    ),
    "sections": pa.schema(
        [
            ("doc_id", S),
            ("section_id", S),
            ("parent_id", S),
            ("level", INT),
            ("marker", S),
            ("heading", S),
            ("start", INT),
            ("end", INT),
        ]
    ),
    "problems": pa.schema(
        [
            ("doc_id", S),
            ("problem_id", S),
            ("section_id", S),
            ("category", S),
            ("focus_area", S),
            ("no", INT),
            ("marker", S),
            ("title", S),
            ("status", S),
            ("start", INT),
            ("end", INT),
        ]
    ),
    "measures": pa.schema(
        [
            ("doc_id", S),
            ("measure_id", S),
            ("scope", S),
            ("problem_id", S),
            ("section_id", S),
            ("ordinal", INT),
            ("marker", S),
            ("text", S),
            ("start", INT),
            ("end", INT),
        ]
    ),
    "measure_labels": pa.schema(
        [("doc_id", S), ("measure_id", S), ("label", S), ("score", F), ("predicted", B), ("source", S)]
    ),
    "entities": pa.schema(
        [
            ("doc_id", S),
            ("entity_id", S),
            ("measure_id", S),
            ("problem_id", S),
            ("type", S),
            ("text", S),
            ("start", INT),
            ("end", INT),
            ("value", S),
            ("value_num", F),
            ("unit", S),
            ("date_start", S),
            ("date_end", S),
            ("approx", B),
            ("doc_kind", S),
            ("issued", B),
        ]
    ),
    "segments": pa.schema([("doc_id", S), ("segment_id", S), ("kind", S), ("start", INT), ("end", INT)]),
    "errors": pa.schema([("source_path", S), ("stage", S), ("error_type", S), ("message", S)]),
}
TABLES = tuple(SCHEMAS)


Columns = dict[str, list]  # one list per field of a table, all of one length


def rows_for(notice: Notice, pipeline_version: str) -> dict[str, Columns]:
    """Every row one notice contributes, table by table, as columns ready for Arrow.

    Columns rather than a dict per row: a worker sends them to the main process, which
    unpickles and converts them, and for the ~600 rows of a notice that is several times
    cheaper than as dicts.
    """
    doc_id, f = notice.doc_id, notice.fields
    document = {
        "doc_id": doc_id,
        "source_paths": list(notice.source.source_paths),
        "format": notice.source.format,
        "encoding": notice.source.encoding,
        "text": notice.text,
        "chars": len(notice.text),
        "title": f.title,
        "publish_time": f.publish_time,
        "source": f.source,
        "issuing_org": f.issuing_org,
        "signing_date": f.signing_date,
        "inspection_kind": f.inspection_kind,
        "inspection_round": f.inspection_round,
        "inspection_body": f.inspection_body,
        "inspected_unit": f.inspected_unit,
        "inspection_start": f.inspection_start,
        "inspection_end": f.inspection_end,
        "feedback_date": f.feedback_date,
        "problems_stated": f.problems_stated,
        "problems_found": len(notice.problems),
        "measures_found": len(notice.measures),
        "parse_status": str(notice.parse_status),
        "duplicate_of": notice.duplicate_of,
        "pipeline_version": pipeline_version,
        "model_id": notice.model_id,
        "problems_completed": f.problems_completed,
        "problems_ongoing": f.problems_ongoing,
        "completion_rate": f.completion_rate,
        "rules_made": f.rules_made,
        "money_recovered": f.money_recovered,
        "people_held_accountable": f.people_held_accountable,
    }
    return {
        "documents": {name: [document[name]] for name in SCHEMAS["documents"].names},
        "sections": _columns("sections", doc_id, notice.sections),
        "problems": _columns("problems", doc_id, notice.problems),
        "measures": _columns("measures", doc_id, notice.measures),
        "measure_labels": _label_columns(doc_id, notice.labels),
        "entities": _columns("entities", doc_id, notice.entities),
        "segments": _columns("segments", doc_id, notice.segments),
        "errors": empty_columns("errors"),
    }


_AS_TEXT = {"scope", "type", "kind"}  # enums, written as their values


def _columns(table: str, doc_id: str, objects: list) -> Columns:
    """A table's columns from the dataclasses whose attributes carry its field names."""
    names = SCHEMAS[table].names[1:]
    columns: Columns = {"doc_id": [doc_id] * len(objects)}
    fields = zip(*map(attrgetter(*names), objects), strict=True) if objects else ([] for _ in names)
    for name, values in zip(names, fields, strict=True):
        columns[name] = [str(v) for v in values] if name in _AS_TEXT else list(values)
    return columns


def _label_columns(doc_id: str, labels: MeasureLabels) -> Columns:
    """``measure_labels`` rows straight from the label columns: measure by measure, ``LABELS`` order."""
    width = len(LABELS)
    measures = len(labels.measure_ids)
    if len(labels.scores) != measures or len(labels.predicted) != measures:
        raise ValueError(f"{doc_id}: {measures} measures but {len(labels.scores)} rows of label scores")
    if any(len(row) != width for rows in (labels.scores, labels.predicted) for row in rows):
        raise ValueError(f"{doc_id}: label rows must hold one value for each of the {width} labels")
    count = len(labels)
    return {
        "doc_id": [doc_id] * count,
        "measure_id": [m for m in labels.measure_ids for _ in range(width)],
        "label": list(LABELS) * measures,
        "score": list(chain.from_iterable(labels.scores)),
        "predicted": list(chain.from_iterable(labels.predicted)),
        "source": [labels.source] * count,
    }


def empty_columns(table: str | pa.Schema) -> Columns:
    schema = SCHEMAS[table] if isinstance(table, str) else table
    return {name: [] for name in schema.names}


def extend_columns(target: Columns, more: Columns) -> None:
    for name, values in target.items():
        values.extend(more[name])


def append_row(target: Columns, row: dict) -> None:
    for name, values in target.items():
        values.append(row[name])


def tables_of(many: list[dict[str, Columns]]) -> dict[str, pa.Table]:
    """The rows of several notices as one Arrow table per output table, in order."""
    tables = {}
    for name in TABLES:
        columns = empty_columns(name)
        for rows in many:
            extend_columns(columns, rows[name])
        tables[name] = pa.Table.from_pydict(columns, schema=SCHEMAS[name])
    return tables


def with_duplicate_of(tables: dict[str, pa.Table], first_copies: list[str | None]) -> dict[str, pa.Table]:
    """``tables`` with ``documents.duplicate_of`` set, one value per documents row in order
    (the near-duplicate index lives in the main process, so it is filled in there)."""
    documents = tables["documents"]
    if len(first_copies) != documents.num_rows:
        raise ValueError(f"{len(first_copies)} duplicate_of values for {documents.num_rows} documents")
    column = documents.schema.get_field_index("duplicate_of")
    values = pa.array(first_copies, documents.schema.field(column).type)
    return {**tables, "documents": documents.set_column(column, documents.schema.field(column), values)}


def row_count(columns: Columns) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def error_row(e: ErrorRecord) -> dict:
    return {
        "source_path": e.source_path,
        "stage": str(e.stage),
        "error_type": e.error_type,
        "message": e.message,
    }


def to_arrow(
    notices: Iterable[Notice], errors: Iterable[ErrorRecord], pipeline_version: str
) -> dict[str, pa.Table]:
    """Build every table of SCHEMA.md, in document order, with its fixed schema."""
    collected = {name: empty_columns(name) for name in TABLES}
    for notice in notices:
        for name, columns in rows_for(notice, pipeline_version).items():
            extend_columns(collected[name], columns)
    for e in errors:
        append_row(collected["errors"], error_row(e))
    return {name: pa.Table.from_pydict(columns, schema=SCHEMAS[name]) for name, columns in collected.items()}


def to_frames(tables: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    """pandas views of the tables, with nullable dtypes so missing stays missing."""
    return {name: table.to_pandas(types_mapper=_pandas_type) for name, table in tables.items()}


def _pandas_type(arrow_type: pa.DataType):
    if arrow_type == pa.string():
        return pd.StringDtype()
    if arrow_type == pa.int64():
        return pd.Int64Dtype()
    if arrow_type == pa.bool_():
        return pd.BooleanDtype()
    if arrow_type == pa.float64():
        return pd.Float64Dtype()
    return None


def csv_schema(schema: pa.Schema) -> pa.Schema:
    """CSV has no list type: list columns become JSON text."""
    return pa.schema([(f.name, pa.string() if pa.types.is_list(f.type) else f.type) for f in schema])


def for_csv(table: pa.Table) -> pa.Table:
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            as_json = [
                json.dumps(v, ensure_ascii=False) if v is not None else None
                for v in table.column(i).to_pylist()
            ]
            table = table.set_column(i, field.name, pa.array(as_json, pa.string()))
    return table


def atomic(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: all or nothing."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs are ordinary files
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_tables(out_dir: Path) -> dict[str, pd.DataFrame]:
    """Read the tables a run wrote (parquet, CSV or one DuckDB file) back as DataFrames."""
    out_dir = Path(out_dir)
    frames = {}
    duckdb_file = out_dir / "zhenggai.duckdb"
    for name in TABLES:
        if (p := out_dir / f"{name}.parquet").exists():
            frames[name] = to_frames({name: pq.read_table(p)})[name]
        elif (p := out_dir / f"{name}.csv").exists():
            frames[name] = pd.read_csv(p, dtype_backend="pyarrow")
        elif duckdb_file.exists():
            import duckdb

            with duckdb.connect(str(duckdb_file), read_only=True) as con:
                result = con.table(name).arrow()  # a Table in DuckDB 1.x, a RecordBatchReader in 2.x
                table = result if isinstance(result, pa.Table) else result.read_all()
            frames[name] = to_frames({name: table.cast(SCHEMAS[name])})[name]
    return frames
