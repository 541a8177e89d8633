"""Stage 3, tag: give every measure its labels, and the notice its fields and entities.

The ``Tagger`` owns what this stage loads once (the measure classifier), so a worker
process builds one and reuses it for every document; nothing lives in module globals.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.types import LABELS, MeasureLabel, Notice


@dataclass
class Tagger:
    """Labels measures with ``classifier`` (an object with ``predict_frame(texts)``)."""

    classifier: object | None = None
    model_id: str | None = None

    @classmethod
    def default(cls, model: str | None = None) -> Tagger:
        return cls(classifier=None, model_id=None)

    def __call__(self, notice: Notice) -> Notice:
        notice.model_id = self.model_id
        if self.classifier is not None and notice.measures:
            frame = self.classifier.predict_frame([m.text for m in notice.measures])
            for measure, (_, row) in zip(notice.measures, frame.iterrows(), strict=True):
                for label in LABELS:
                    notice.labels.append(
                        MeasureLabel(
                            measure.measure_id,
                            label,
                            float(row[f"score_{label}"]),
                            bool(row[label]),
                            self.model_id,
                        )
                    )
        return notice
