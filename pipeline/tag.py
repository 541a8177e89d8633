"""Stage 3, tag: the notice's fields, its entities, and every measure's labels.

The ``Tagger`` owns what this stage loads once (the measure classifier, optionally the
spaCy pipeline), so a worker process builds one and reuses it for every document;
nothing lives in module globals. Entities are found paragraph by paragraph with the
notice's own dates as context, so a date without a year gets the right one. The batch
path calls the finder directly; a Tagger given ``nlp`` (``pipeline/language.py``) runs
the same finder as a spaCy component, with the same results and the cost of a ``Doc`` per
paragraph (``tests/test_entities.py`` checks both agree).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from pipeline import entities
from pipeline.config import MODELS_DIR
from pipeline.ingest import match_form
from pipeline.types import LABELS, Entity, EntityType, MeasureLabels, Notice, SegmentKind

DEFAULT_MODEL = "measures"
RECOVERY = re.compile(r"追回|挽回|收回|退还|退回|清退|追缴|缴回|上缴|归还")


def model_folder(model: str | Path | None = None) -> Path | None:
    """The folder of the model a run uses, or None for the labelling functions alone.

    ``"rules"`` asks for the rules; without a model the shipped one is used, or the rules
    when none is shipped; a named folder must hold a trained model.
    """
    from pipeline import inference

    if model == "rules":
        return None
    folder = Path(model) if model else MODELS_DIR / DEFAULT_MODEL
    if (folder / inference.WEIGHTS_FILE).exists() or (folder / "model.skops").exists():
        return folder
    if model:
        raise FileNotFoundError(f"{folder}: no model here ({inference.WEIGHTS_FILE} or model.skops)")
    return None


def model_id_for(model: str | Path | None = None) -> str:
    """The id ``Tagger.default(model)`` will write, read from the model's ``metrics.json`` alone."""
    from pipeline import inference, rules

    folder = model_folder(model)
    return inference.read_info(folder)["model_id"] if folder else rules.RULES_SOURCE


@dataclass
class Tagger:
    """Labels measures with ``classifier`` and finds entities.

    ``classifier`` is anything with ``predict_scores(texts) -> (scores, chosen)``, two
    arrays of one row per text and one column per label (``LABELS``).
    """

    classifier: object | None = None
    model_id: str | None = None
    nlp: object | None = field(default=None, repr=False)
    find_entities: bool = True

    @classmethod
    def default(cls, model: str | Path | None = None, spacy: bool = False) -> Tagger:
        """The shipped model, a model folder, or ``"rules"`` for the labelling functions alone.

        ``spacy=True`` finds entities through ``pipeline.nlp()`` (same results, slower).
        """
        from pipeline import rules

        nlp = None
        if spacy:
            from pipeline.language import make_nlp

            nlp = make_nlp()
        folder = model_folder(model)
        if folder is None:
            return cls(rules.RulesClassifier(), rules.RULES_SOURCE, nlp)
        from pipeline import inference

        if (folder / inference.WEIGHTS_FILE).exists():  # plain arrays: no scikit-learn at run time
            linear = inference.LinearMeasureModel.load(folder)
            return cls(linear, linear.info["model_id"], nlp)
        from pipeline import classifier

        clf, info = classifier.load(folder)
        return cls(clf, info["model_id"], nlp)

    def __call__(self, notice: Notice) -> Notice:
        return self.label_measures([self.tag_document(notice)])[0]

    def tag_document(self, notice: Notice) -> Notice:
        """Everything but the measure labels: fields, focus areas, entities."""
        notice.model_id = self.model_id
        tag_fields(notice)
        for problem in notice.problems:
            problem.focus_area = focus_area(problem.category, problem.title)
        if self.find_entities:
            notice.entities = find_notice_entities(notice, self.nlp)
            fill_money_recovered(notice)
        return notice

    def label_measures(self, notices: list[Notice]) -> list[Notice]:
        """Label the measures of several notices with one call of the classifier.

        Scoring carries a fixed cost per call; a worker's batch of notices pays it once.
        Each measure's scores depend on its own text alone, so they equal one call per notice.
        """
        if self.classifier is None:
            return notices
        texts = [m.text for n in notices for m in n.measures]
        if not texts:
            return notices
        scores, chosen = self.classifier.predict_scores(texts)
        scores, chosen = np.asarray(scores, dtype=float).tolist(), np.asarray(chosen, dtype=bool).tolist()
        found: list[MeasureLabels] = []  # all built first: a failure leaves no notice half-labelled
        row = 0
        for notice in notices:
            ids = [m.measure_id for m in notice.measures]
            found.append(
                MeasureLabels(ids, scores[row : row + len(ids)], chosen[row : row + len(ids)], self.model_id)
            )
            row += len(ids)
        if row != len(scores) or any(len(r) != len(LABELS) for r in scores):
            raise ValueError(
                f"the classifier gave {len(scores)} rows of scores for {row} measures "
                f"and {len(LABELS)} labels"
            )
        for notice, labels in zip(notices, found, strict=True):
            notice.labels = labels
        return notices


def focus_area(category: str | None, title: str) -> str:
    """The standard area of inspection a problem belongs to.

    decisions (implementing the central decisions and the body's duties), corruption
    (corruption and misconduct affecting the public, discipline), organisation (building
    the party organisation, cadres), rectification (earlier findings), or other. The
    category heading decides when it points to one area; otherwise heading and title
    together do.
    """
    from pipeline.patterns.tag import FOCUS_AREAS

    def scores(text: str) -> list[int]:
        form = match_form(text)
        return [len(set(pattern.findall(form))) for _, pattern in FOCUS_AREAS]

    for text in (category or "", f"{category or ''} {title}"):
        found = scores(text)
        best = max(found)
        if best and found.count(best) == 1:
            return FOCUS_AREAS[found.index(best)][0]
    found = scores(f"{category or ''} {title}")
    return FOCUS_AREAS[found.index(max(found))][0] if max(found) else "other"


def _regions(notice: Notice) -> tuple[int, int | None, int | None]:
    """(end of the page header and title, start of the footer, start of the first problem)."""
    body_start = 0
    for seg in notice.segments:
        if seg.kind in (SegmentKind.HEADER, SegmentKind.TITLE):
            body_start = seg.end
        elif seg.kind != SegmentKind.BOILERPLATE:
            break
    footer = next((s.start for s in notice.segments if s.kind == SegmentKind.FOOTER), None)
    first_problem = notice.problems[0].start if notice.problems else None
    return body_start, footer, first_problem


def _date(iso: str | None) -> date | None:
    try:
        return date.fromisoformat(iso) if iso and len(iso) == 10 else None
    except ValueError:
        return None


def tag_fields(notice: Notice) -> None:
    """Title, publication, signature, inspection facts, feedback date, stated figures."""
    mt, text = notice.source.match_text, notice.text
    body_start, footer, first_problem = _regions(notice)
    found = entities.document_fields(mt, text, body_start, footer, first_problem)
    found.problems_stated = notice.fields.problems_stated
    title = next((s for s in notice.segments if s.kind == SegmentKind.TITLE), None)
    found.title = text[title.start : title.end].strip() if title else None
    opening_end = first_problem if first_problem is not None else (footer or len(mt))
    first_heading = min([s.start for s in notice.sections] + [opening_end])
    context = entities.DateContext(
        signing=_date(found.signing_date), publish=_date((found.publish_time or "")[:10])
    )  # the opening comes first: no year named earlier to lean on
    opening = entities.find_dates(mt[:first_heading], entities.protected_spans(mt[:first_heading]), context)
    for e in opening:
        sentence = _sentence(mt, e.start)
        if (
            e.type == EntityType.PERIOD
            and found.inspection_start is None
            and re.search("巡[察视]|审计|检查", sentence)
        ):
            found.inspection_start, found.inspection_end = e.date_start, e.date_end
        if (
            (
                e.type == EntityType.DATE
                and found.feedback_date is None
                and "反馈" in sentence[sentence.find(mt[e.start : e.end]) :]
            )
            and e.date_start
            and len(e.date_start) == 10
        ):
            found.feedback_date = e.date_start
    figures = entities.completion_figures(mt, body_start, opening_end)
    found.problems_completed = _as_int(figures["problems_completed"])
    found.problems_ongoing = _as_int(figures["problems_ongoing"])
    found.completion_rate = figures["completion_rate"]
    found.rules_made = _as_int(figures["rules_made"])
    found.people_held_accountable = _as_int(figures["people_held_accountable"])
    notice.fields = found


def _as_int(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _sentence(mt: str, pos: int) -> str:
    start = max(mt.rfind(ch, 0, pos) for ch in "。;\n") + 1
    ends = [i for i in (mt.find(ch, pos) for ch in "。;\n") if i >= 0]
    return mt[start : min(ends) if ends else len(mt)]


def find_notice_entities(notice: Notice, nlp=None) -> list[Entity]:
    """Entities of every paragraph, with notice-level offsets (through spaCy when ``nlp`` is given).

    Year-less dates lean on the years named in earlier paragraphs: read in order, the
    paragraphs build that timeline as they go (the spaCy path reads it whole first).
    """
    text = notice.text
    fields = notice.fields
    mt = notice.source.match_text
    paragraphs = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            paragraphs.append((pos, line))
        pos += len(line) + 1

    feedback, signing = _date(fields.feedback_date), _date(fields.signing_date)
    publish = _date((fields.publish_time or "")[:10])

    def context(start: int, timeline: list[tuple[int, int]]) -> entities.DateContext:
        return entities.DateContext(
            feedback=feedback, signing=signing, publish=publish, base=start, prior_years=timeline
        )

    if nlp is None:  # the finder the spaCy component runs, minus the Doc (same entities, tested)
        found = []
        timeline: list[tuple[int, int]] = []
        for start, line in paragraphs:
            paragraph_context = context(start, list(timeline))
            found.append(entities.find_entities(mt[start : start + len(line)], paragraph_context))
            timeline += [p for p in paragraph_context.explicit_years if p[0] >= start]
    else:
        from pipeline.language import CONTEXT_KEY, USER_DATA_KEY

        timeline = entities.explicit_years(mt)
        docs = []
        for start, line in paragraphs:
            doc = nlp.make_doc(line)
            doc.user_data[CONTEXT_KEY] = context(start, timeline)
            docs.append(doc)
        found = [doc.user_data[USER_DATA_KEY] for doc in nlp.pipe(docs)]
    out: list[Entity] = []
    measures = sorted(notice.measures, key=lambda m: m.start)
    problems = sorted(notice.problems, key=lambda p: p.start)
    measure_starts = [m.start for m in measures]
    problem_starts = [p.start for p in problems]
    for (base, _), paragraph in zip(paragraphs, found, strict=True):
        for raw in paragraph:
            start, end = base + raw.start, base + raw.end
            # spans do not overlap: the one starting last at or before the entity is the only candidate
            i = bisect_right(measure_starts, start) - 1
            measure = measures[i] if i >= 0 and end <= measures[i].end else None
            i = bisect_right(problem_starts, start) - 1
            problem = problems[i] if i >= 0 and start < problems[i].end else None
            value = raw.value
            if raw.type in (EntityType.PERSON, EntityType.ORG):
                value = text[start:end]  # as written: traditional characters stay traditional
            elif raw.type == EntityType.DOC_TITLE:
                value = text[start + 1 : end - 1]
            fields = {**vars(raw), "start": start, "end": end, "value": value}
            out.append(
                Entity(
                    **fields,
                    entity_id=f"{notice.doc_id}:e{len(out) + 1}",
                    text=text[start:end],
                    measure_id=measure.measure_id if measure else None,
                    problem_id=problem.problem_id if problem else (measure.problem_id if measure else None),
                )
            )
    return out


def fill_money_recovered(notice: Notice) -> None:
    """The first sum of money the opening or organisational part reports as recovered."""
    mt = notice.source.match_text
    first_problem = notice.problems[0].start if notice.problems else len(mt)
    for e in notice.entities:
        if e.type == EntityType.MONEY and e.start < first_problem and RECOVERY.search(_sentence(mt, e.start)):
            notice.fields.money_recovered = e.value_num
            return
