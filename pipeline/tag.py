"""Stage 3, tag: give every measure its labels, and the notice its fields and entities.

The ``Tagger`` owns what this stage loads once (the measure classifier), so a worker
process builds one and reuses it for every document; nothing lives in module globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import MODELS_DIR
from pipeline.types import LABELS, MeasureLabel, Notice

DEFAULT_MODEL = "measures"


@dataclass
class Tagger:
    """Labels measures with ``classifier`` (anything with ``predict_frame(texts)``)."""

    classifier: object | None = None
    model_id: str | None = None

    @classmethod
    def default(cls, model: str | Path | None = None) -> Tagger:
        """The shipped model, a model folder, or ``"rules"`` for the labelling functions alone."""
        from pipeline import rules

        if model == "rules":
            return cls(rules.RulesClassifier(), rules.RULES_SOURCE)
        folder = Path(model) if model else MODELS_DIR / DEFAULT_MODEL
        if not (folder / "model.skops").exists():
            if model:
                raise FileNotFoundError(f"{folder}: no model.skops here")
            return cls(rules.RulesClassifier(), rules.RULES_SOURCE)
        from pipeline import classifier

        clf, info = classifier.load(folder)
        return cls(clf, info["model_id"])

    def __call__(self, notice: Notice) -> Notice:
        notice.model_id = self.model_id
        if self.classifier is not None and notice.measures:
            frame = self.classifier.predict_frame([m.text for m in notice.measures])
            scores = frame[[f"score_{label}" for label in LABELS]].to_numpy()
            chosen = frame[list(LABELS)].to_numpy()
            for i, measure in enumerate(notice.measures):
                for j, label in enumerate(LABELS):
                    notice.labels.append(
                        MeasureLabel(
                            measure.measure_id, label, float(scores[i, j]), bool(chosen[i, j]), self.model_id
                        )
                    )
        return notice
