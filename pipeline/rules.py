"""Rule votes for the measure types: weak labels, and the baseline the model must beat.

The labelling functions themselves are data in ``pipeline/patterns/tag.py``; this module
applies them and summarises them the way weak-supervision tools do (coverage, overlap,
conflict, and accuracy where gold labels exist).
"""

from __future__ import annotations

import re

import numpy as np

from pipeline.ingest import match_form
from pipeline.patterns.tag import LABELLING_FUNCTIONS
from pipeline.types import LABELS

RULES_SOURCE = "rules"


def rules_fingerprint() -> str:
    """A hash of every labelling function: a saved model is only valid with the rules it saw."""
    import hashlib

    payload = "\n".join(
        f"{lf.name}\t{lf.label}\t{lf.pattern.pattern}\t{lf.veto.pattern if lf.veto else ''}"
        for lf in LABELLING_FUNCTIONS
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


_TITLE = re.compile(r"《[^《》]*》")


def rule_form(text: str) -> str:
    """Match form with document titles blanked: 《…处分条例》 studied is not a sanction."""
    return _TITLE.sub("《文件》", match_form(text))


def vote_matrix(texts: list[str]) -> np.ndarray:
    """Boolean matrix, one row per text, one column per labelling function."""
    return votes_of_match_forms([match_form(t) for t in texts])


def votes_of_match_forms(matched: list[str]) -> np.ndarray:
    """``vote_matrix`` for texts already in match form (the model has them at hand).

    Each function's pattern scans all the texts at once, joined by line breaks, instead of
    one search per text and function (a worker's batch: ~500 texts × 24 functions): the
    scanning is the same, the calls are not. That is exact because the patterns hold no
    anchors or lookarounds (``tests/test_classifier.py`` checks), so a match that stays
    within one text is a match of that text alone; should a match run across a line
    break, that function is applied text by text instead. Vetoes are checked only on the
    texts a pattern matched.
    """
    forms = [_TITLE.sub("《文件》", m) for m in matched]
    votes = np.zeros((len(forms), len(LABELLING_FUNCTIONS)), dtype=bool)
    if not forms:
        return votes
    joined = "\n".join(forms)
    starts = np.cumsum([0] + [len(f) + 1 for f in forms[:-1]])
    for j, lf in enumerate(LABELLING_FUNCTIONS):
        positions = []
        for m in lf.pattern.finditer(joined):
            if "\n" in m.group():
                positions = None
                break
            positions.append(m.start())
        if positions is None:
            rows = [i for i, form in enumerate(forms) if lf.pattern.search(form)]
        else:
            rows = np.unique(np.searchsorted(starts, positions, side="right") - 1).tolist()
        for i in rows:
            votes[i, j] = not (lf.veto and lf.veto.search(forms[i]))
    return votes


def label_matrix(votes: np.ndarray) -> np.ndarray:
    """Per label: true when any of its functions voted."""
    out = np.zeros((votes.shape[0], len(LABELS)), dtype=bool)
    for j, lf in enumerate(LABELLING_FUNCTIONS):
        out[:, LABELS.index(lf.label)] |= votes[:, j]
    return out


def apply_rules(texts: list[str]):
    """One row per text: a boolean column per label (the rules' prediction)."""
    import pandas as pd

    return pd.DataFrame(label_matrix(vote_matrix(texts)), columns=list(LABELS))


def _spans(form: str) -> list[tuple[int, int] | None]:
    out = []
    for lf in LABELLING_FUNCTIONS:
        m = lf.pattern.search(form) if lf(form) else None
        out.append(m.span() if m else None)
    return out


def summary(texts: list[str], gold=None):
    """Coverage, overlap and conflicts per function; precision and recall against ``gold``.

    ``overlap``: share of its firings where another function fires on the same text.
    ``conflicts``: share of its firings where a function of another label claims the
    same words (overlapping matches), the multi-label form of two rules disagreeing.
    """
    import pandas as pd

    votes = vote_matrix(texts)
    spans = [_spans(rule_form(t)) for t in texts]
    rows = []
    for j, lf in enumerate(LABELLING_FUNCTIONS):
        fired = votes[:, j]
        n = int(fired.sum())
        others = np.delete(votes, j, axis=1).any(axis=1)
        conflicts = 0
        for text_spans in spans:
            mine = text_spans[j]
            if mine is None:
                continue
            conflicts += any(
                other is not None
                and LABELLING_FUNCTIONS[k].label != lf.label
                and other[0] < mine[1]
                and mine[0] < other[1]
                for k, other in enumerate(text_spans)
            )
        row = {
            "function": lf.name,
            "label": lf.label,
            "coverage": n / len(texts) if len(texts) else 0.0,
            "fires": n,
            "overlap": float((fired & others).sum() / n) if n else 0.0,
            "conflicts": conflicts / n if n else 0.0,
        }
        if gold is not None:
            truth = gold[lf.label].to_numpy(dtype=bool)
            row["precision"] = float((fired & truth).sum() / n) if n else None
            row["recall_of_label"] = float((fired & truth).sum() / truth.sum()) if truth.sum() else None
        rows.append(row)
    return pd.DataFrame(rows)


class RulesClassifier:
    """The labelling functions behind the classifier interface (score 1.0 or 0.0)."""

    def predict_scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        chosen = label_matrix(vote_matrix(list(texts)))
        return chosen.astype(float), chosen

    def predict_frame(self, texts: list[str]):
        from pipeline.inference import scores_frame

        texts = list(texts)
        return scores_frame(texts, *self.predict_scores(texts))
