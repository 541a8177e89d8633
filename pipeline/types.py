"""Plain dataclasses passed between the stages (ingest → structure → tag → write).

Each stage reads one of these and returns the next, so a stage can be tested on its own
and a notebook can stop after any of them. Offsets are always Python string offsets into
``Text.text`` (the stored, normalised text), half-open.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Scope(StrEnum):
    """Why a measure was taken: answering a problem, overall work, or a promise."""

    PROBLEM = "problem"
    GENERAL = "general"
    PLANNED = "planned"


class ParseStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    UNSTRUCTURED = "unstructured"


class SegmentKind(StrEnum):
    HEADER = "header"
    TITLE = "title"
    INTRO = "intro"
    SECTION_HEADING = "section_heading"
    PROBLEM_TITLE = "problem_title"
    MEASURE = "measure"
    NARRATIVE = "narrative"
    FOOTER = "footer"
    BOILERPLATE = "boilerplate"


class ErrorStage(StrEnum):
    READ = "read"
    DECODE = "decode"
    EXTRACT = "extract"
    PARSE = "parse"
    CLASSIFY = "classify"
    WRITE = "write"


class EntityType(StrEnum):
    DATE = "date"
    PERIOD = "period"
    DOC_TITLE = "doc_title"
    MONEY = "money"
    QUANTITY = "quantity"
    PERCENT = "percent"
    PERSON = "person"
    ORG = "org"


LABELS: tuple[str, ...] = (
    "study",
    "self_check",
    "system_revision",
    "accountability",
    "meeting",
    "rectification",
    "leadership",
)


@dataclass(frozen=True)
class Text:
    """Output of ingest: one decoded, normalised document.

    ``match_text`` has exactly the length of ``text``; it is the simplified-character,
    half-width-punctuation form that every pattern runs on, so spans found in it are
    valid in ``text``.
    """

    doc_id: str
    source_paths: tuple[str, ...]
    format: str
    encoding: str
    text: str
    match_text: str


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass
class Section:
    section_id: str
    parent_id: str | None
    level: int
    marker: str
    heading: str
    start: int
    end: int
    heading_end: int
    role: str = "other"  # organisation, problems, planned, other (internal, not written)


@dataclass
class Problem:
    problem_id: str
    section_id: str | None
    category: str | None
    no: int
    marker: str
    title: str
    title_start: int
    title_end: int
    start: int
    end: int
    status: str | None = None
    focus_area: str | None = None


@dataclass
class Measure:
    measure_id: str
    scope: Scope
    problem_id: str | None
    section_id: str | None
    ordinal: int
    marker: str | None
    text: str
    start: int
    end: int


@dataclass
class Segment:
    segment_id: str
    kind: SegmentKind
    start: int
    end: int


@dataclass
class EntityValue:
    """What the entity finder knows of a mention: its type, span and normalised value."""

    type: EntityType
    start: int
    end: int
    value: str | None = None
    value_num: float | None = None
    unit: str | None = None
    date_start: str | None = None
    date_end: str | None = None
    approx: bool = False
    doc_kind: str | None = None
    issued: bool | None = None


@dataclass(kw_only=True)
class Entity(EntityValue):
    """A mention placed in its notice: id, text, and the measure and problem it falls in."""

    entity_id: str
    text: str
    measure_id: str | None = None
    problem_id: str | None = None


@dataclass
class MeasureLabel:
    measure_id: str
    label: str
    score: float
    predicted: bool
    source: str


@dataclass
class MeasureLabels:
    """Every measure's score and yes/no for each label of ``LABELS``, held as columns.

    A notice of 36 measures has 252 label rows: as two lists of rows (one row per measure,
    one value per label) they come straight from the classifier's arrays, where one object
    per row cost more than scoring them. Iterating gives ``MeasureLabel`` rows, measure by
    measure in ``LABELS`` order, as the ``measure_labels`` table has them.
    """

    measure_ids: list[str] = field(default_factory=list)
    scores: list[list[float]] = field(default_factory=list)
    predicted: list[list[bool]] = field(default_factory=list)
    source: str | None = None

    def __len__(self) -> int:
        return len(self.measure_ids) * len(LABELS)

    def __iter__(self) -> Iterator[MeasureLabel]:
        for measure_id, scores, chosen in zip(self.measure_ids, self.scores, self.predicted, strict=True):
            for label, score, yes in zip(LABELS, scores, chosen, strict=True):
                yield MeasureLabel(measure_id, label, score, yes, self.source)


@dataclass
class DocumentFields:
    """The notice's own facts (title, who inspected whom, when); filled by ``tag``."""

    title: str | None = None
    publish_time: str | None = None
    source: str | None = None
    issuing_org: str | None = None
    signing_date: str | None = None
    inspection_kind: str | None = None
    inspection_round: str | None = None
    inspection_body: str | None = None
    inspected_unit: str | None = None
    inspection_start: str | None = None
    inspection_end: str | None = None
    feedback_date: str | None = None
    problems_stated: int | None = None
    problems_completed: int | None = None
    problems_ongoing: int | None = None
    completion_rate: float | None = None
    rules_made: int | None = None
    money_recovered: float | None = None
    people_held_accountable: int | None = None


@dataclass
class Notice:
    """A whole parsed notice: the ingested text plus everything the later stages found."""

    source: Text
    fields: DocumentFields = field(default_factory=DocumentFields)
    sections: list[Section] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    labels: MeasureLabels = field(default_factory=MeasureLabels)
    parse_status: ParseStatus = ParseStatus.UNSTRUCTURED
    duplicate_of: str | None = None
    model_id: str | None = None

    @property
    def doc_id(self) -> str:
        return self.source.doc_id

    @property
    def text(self) -> str:
        return self.source.text


@dataclass(frozen=True)
class ErrorRecord:
    """One input that could not be read or parsed; becomes a row of ``errors``."""

    source_path: str
    stage: ErrorStage
    error_type: str
    message: str


class PipelineError(Exception):
    """A failure tied to one input, carrying the stage it happened in."""

    def __init__(self, stage: ErrorStage, error_type: str, message: str):
        super().__init__(message)
        self.stage = stage
        self.error_type = error_type
        self.message = message
