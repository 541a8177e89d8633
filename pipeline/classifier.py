"""The measure-type classifier: a scikit-learn estimator, saved with skops.

Features are fitted and saved with the model as one ``Pipeline``: character n-grams of the
measure (simplified, markers and digits masked), jieba word n-grams from the project's
own segmenter (rjieba with the domain dictionary; see ``segmenter.py``),
and the votes of the labelling functions. One logistic regression per label gives the
scores; per-label thresholds are chosen on out-of-fold scores of a cross-validation
grouped by document, so a notice never informs its own threshold.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from pipeline import inference
from pipeline.inference import normalise_measure, scores_frame, segment_words
from pipeline.types import LABELS

__all__ = ["MeasureClassifier", "RuleVotes", "evaluate", "load", "normalise_measure", "save", "segment_words"]


class RuleVotes(TransformerMixin, BaseEstimator):
    """The labelling functions' votes (and their per-label union) as features."""

    def fit(self, texts, y=None):
        return self

    def transform(self, texts):
        from pipeline.rules import label_matrix, vote_matrix

        votes = vote_matrix(list(texts))
        return sparse.csr_matrix(np.hstack([votes, label_matrix(votes)]).astype(np.float64))


class MeasureClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label measure-type classifier.

    Parameters
    ----------
    C : float
        Inverse regularisation of each label's logistic regression.
    use_rules : bool
        Add the labelling functions' votes as features.
    folds : int
        Grouped cross-validation folds used to choose per-label thresholds.

    Examples
    --------
    >>> clf = MeasureClassifier().fit(texts, y, groups=doc_ids)  # doctest: +SKIP
    >>> clf.predict_frame(["一是召开党组会议，研究部署整改工作"])  # doctest: +SKIP
    """

    def __init__(self, C: float = 4.0, use_rules: bool = True, folds: int = 5, rule_weight: float = 1.0):
        self.C = C
        self.use_rules = use_rules
        self.folds = folds
        self.rule_weight = rule_weight

    def _pipeline(self) -> Pipeline:
        features = [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=(1, 3),
                    min_df=2,
                    sublinear_tf=True,
                    preprocessor=normalise_measure,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    tokenizer=segment_words,
                    preprocessor=normalise_measure,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
        ]
        weights = {"chars": 1.0, "words": 1.0}
        if self.use_rules:
            features.append(("rules", RuleVotes()))
            weights["rules"] = self.rule_weight
        model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000, solver="liblinear")
        return Pipeline(
            [
                ("features", FeatureUnion(features, transformer_weights=weights)),
                ("clf", OneVsRestClassifier(model)),
            ]
        )

    def fit(self, texts, y, groups=None):
        texts = list(texts)
        y = np.asarray(y, dtype=bool)
        self.classes_ = np.array(LABELS)
        self.model_ = self._pipeline().fit(texts, y.astype(int))
        self.thresholds_ = np.full(len(LABELS), 0.5)
        if groups is not None and len(set(groups)) >= self.folds:
            oof = self.out_of_fold_scores(texts, y, groups)
            self.thresholds_ = np.array([_best_threshold(y[:, j], oof[:, j]) for j in range(len(LABELS))])
        return self

    def out_of_fold_scores(self, texts, y, groups) -> np.ndarray:
        """Scores for every text from a model that never saw its document."""
        texts = list(texts)
        y = np.asarray(y, dtype=bool)
        oof = np.zeros(y.shape, dtype=float)
        for train, test in GroupKFold(n_splits=self.folds).split(texts, y, groups):
            model = self._pipeline().fit([texts[i] for i in train], y[train].astype(int))
            oof[test] = model.predict_proba([texts[i] for i in test])
        return oof

    def predict_proba(self, texts) -> np.ndarray:
        check_is_fitted(self, "model_")
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(LABELS)))
        return self.model_.predict_proba(texts)

    def predict(self, texts) -> np.ndarray:
        return self.predict_proba(texts) >= self.thresholds_

    def predict_scores(self, texts) -> tuple[np.ndarray, np.ndarray]:
        scores = self.predict_proba(texts)
        return scores, scores >= self.thresholds_

    def predict_frame(self, texts) -> pd.DataFrame:
        """A tidy-friendly frame: ``text``, a score column and a boolean column per label."""
        texts = list(texts)
        return scores_frame(texts, *self.predict_scores(texts))


def _best_threshold(truth: np.ndarray, scores: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.15, 0.86, 0.025):
        pred = scores >= t
        tp = (pred & truth).sum()
        f1 = 2 * tp / (pred.sum() + truth.sum()) if (pred.sum() + truth.sum()) else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    return round(best, 3)


# --- evaluation -----------------------------------------------------------------------


def evaluate(truth: np.ndarray, pred: np.ndarray, min_support: int = 0) -> pd.DataFrame:
    """Per-label precision, recall, F1, support and confusion counts, plus macro and micro rows.

    ``macro`` averages the labels with at least ``min_support`` gold measures.
    """
    truth = np.asarray(truth, dtype=bool)
    pred = np.asarray(pred, dtype=bool)
    rows = []
    for j, label in enumerate(LABELS):
        t, p = truth[:, j], pred[:, j]
        tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
        tn = int(len(t) - tp - fp - fn)
        rows.append(
            {
                "label": label,
                "precision": tp / (tp + fp) if tp + fp else 0.0,
                "recall": tp / (tp + fn) if tp + fn else 0.0,
                "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
                "support": int(t.sum()),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "tn": tn,
            }
        )
    frame = pd.DataFrame(rows)
    kept = frame[frame.support >= max(min_support, 1)]
    tp, fp, fn = frame.tp.sum(), frame.fp.sum(), frame.fn.sum()
    macro = {
        "label": "macro",
        "precision": kept.precision.mean(),
        "recall": kept.recall.mean(),
        "f1": kept.f1.mean(),
        "support": int(kept.support.sum()),
    }
    micro = {
        "label": "micro",
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "support": int(frame.support.sum()),
    }
    return pd.concat([frame, pd.DataFrame([macro, micro])], ignore_index=True)


# --- persistence ----------------------------------------------------------------------

TRUSTED_TYPES = [
    "pipeline.classifier.MeasureClassifier",
    "pipeline.classifier.RuleVotes",
    "pipeline.inference.segment_words",
    "pipeline.inference.normalise_measure",
]
MODEL_FILE = "model.skops"


def save(classifier: MeasureClassifier, folder: Path, info: dict) -> Path:
    """Write the model (skops, no pickle), its plain arrays and ``metrics.json`` into ``folder``."""
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(classifier, folder / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    inference.export(classifier, folder)
    (folder / "metrics.json").write_text(
        json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return folder


def load(folder: Path) -> tuple[MeasureClassifier, dict]:
    """Load a saved model, refusing any type outside the explicit trusted list."""
    import skops.io as sio

    path = Path(folder) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no model here (train one with `zhenggai train`)")
    try:  # skops refuses any type outside the list, so nothing else can run on load
        classifier = sio.load(path, trusted=TRUSTED_TYPES)
    except Exception as exc:
        if "Untrusted types" in str(exc) or type(exc).__name__ == "UntrustedTypesFoundException":
            raise ValueError(f"{path}: refusing to load unexpected types ({exc})") from exc
        raise
    return classifier, inference.read_info(folder)
