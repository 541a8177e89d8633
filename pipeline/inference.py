"""The trained measure classifier as plain arrays: numpy, a pandas hash index, one scipy sparse product.

``zhenggai train`` fits a scikit-learn ``Pipeline`` (``classifier.py``) and saves it
twice: ``model.skops`` for anyone who wants the estimator, and ``weights.npz`` plus
``vocabulary.json`` here. A run only needs the arrays, so a worker neither imports
scikit-learn nor pays its per-call validation; scoring a notice's measures is a few
array operations (n-grams coded as integers, looked up in a hash table) and one
sparse matrix product with the coefficients. The features are rebuilt
exactly as ``TfidfVectorizer`` builds them (char 1–3 grams, word 1–2 grams, sublinear tf,
idf, l2 norm per block, then the rule votes), and ``tests/test_classifier.py`` checks the
scores equal the estimator's.
"""

from __future__ import annotations

import json
import re
from itertools import chain, repeat
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from pipeline.ingest import match_form, match_forms
from pipeline.types import LABELS

WEIGHTS_FILE = "weights.npz"
VOCABULARY_FILE = "vocabulary.json"
_WHITE_SPACES = re.compile(r"\s\s+")  # TfidfVectorizer's own whitespace folding for char n-grams
_MARKER = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+是|\(\d+\)|\d+[).、.]|[①-⑳]|首先|其次|再次|最后|第[一二三四五六七八九十]+)[,:]?"
)
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def normalise_measure(text: str) -> str:
    """What the model sees: match form, no enumeration marker, numbers masked."""
    return _normalise_matched(match_form(text))


def _normalise_matched(matched: str) -> str:
    return _DIGITS.sub("0", _MARKER.sub("", matched))


def segment_words(text: str) -> list[str]:
    """Words of a normalised measure (rjieba with the domain dictionary), punctuation dropped."""
    from pipeline.segmenter import shared

    # a token is kept when it holds a word character other than "_": exactly what
    # ``not re.fullmatch(r"[\W_]+", t)`` tests, without a regex call per token (a
    # one-character token holds one when it is one: most punctuation is settled there)
    return [t for t in shared("rjieba").cut(text) if t.isalnum() or (len(t) > 1 and any(map(str.isalnum, t)))]


def scores_frame(texts: list[str], scores: np.ndarray, chosen: np.ndarray):
    """A tidy-friendly frame: ``text``, a score column and a boolean column per label."""
    import pandas as pd

    columns: dict[str, object] = {"text": texts}
    for j, label in enumerate(LABELS):
        columns[f"score_{label}"] = scores[:, j]
        columns[label] = chosen[:, j]
    return pd.DataFrame(columns)


def _gram_code(gram: str) -> int:
    """A char n-gram of up to three characters as one integer (code point + 1 per 21 bits)."""
    code = 0
    for i, ch in enumerate(gram):
        code |= (ord(ch) + 1) << (21 * (2 - i))
    return code


def _hash_index(codes: list[int]):
    """A hash table from integer codes to their positions (pandas' khash: C speed, no sort)."""
    import pandas as pd

    return pd.Index(np.array(codes, dtype=np.int64))


def _add_lookups(block: dict, terms: list[str]) -> None:
    """Integer codes for a block's terms, so a batch's n-grams are looked up as arrays.

    Char n-grams: up to three code points in one integer. Word bigrams "a b": the pair of
    their unigram columns in one integer (every bigram's words are terms themselves, as
    ``min_df`` keeps a word wherever it keeps a bigram holding it).
    """
    if block["name"] == "chars":
        block["lookup"] = _hash_index([_gram_code(t) for t in terms])
        return
    offset, width = block["offset"], len(terms)
    unigrams = {t: offset + i for i, t in enumerate(terms) if " " not in t}
    pairs = {}
    for i, term in enumerate(terms):
        first, _, second = term.partition(" ")
        if term.count(" ") == 1 and first in unigrams and second in unigrams:
            pairs[(unigrams[first] - offset) * width + unigrams[second] - offset] = offset + i
    block["unigrams"] = unigrams
    block["pairs"] = (_hash_index(list(pairs)), np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs)))


def _tfidf(rows: np.ndarray, cols: np.ndarray, block: dict, n_texts: int):
    """Sublinear tf times idf, l2-normalised per text, for one block's (row, column) hits."""
    width = len(block["idf"]) + block["offset"] + 1
    keys, count = np.unique(rows * width + cols, return_counts=True)
    row, col = keys // width, keys % width
    val = (np.log(count) + 1.0) * block["idf"][col - block["offset"]]
    norm = np.sqrt(np.bincount(row, weights=val * val, minlength=n_texts))
    val *= block["weight"] / norm[row]
    return row, col, val


class LinearMeasureModel:
    """Per-label logistic scores from saved vocabularies, idf weights and coefficients."""

    def __init__(self, blocks: list[dict], coef: np.ndarray, intercept: np.ndarray, thresholds, info):
        self.blocks = blocks  # [{"name", "ngram": (lo, hi), "idf", "weight", "offset", + lookups}]
        self.coef_t = np.ascontiguousarray(coef.T)  # (features, labels)
        self.intercept = intercept
        self.thresholds_ = np.asarray(thresholds, dtype=float)
        self.info = info
        self.use_rules = bool(info["use_rules"])
        self.rule_weight = float(info["rule_weight"])

    @classmethod
    def load(cls, folder: Path) -> LinearMeasureModel:
        """The arrays of a model folder; ``info`` (its ``metrics.json``) carries ``model_id``."""
        folder = Path(folder)
        if not (folder / WEIGHTS_FILE).exists():
            raise FileNotFoundError(
                f"{folder / WEIGHTS_FILE}: no model here (train one with `zhenggai train`)"
            )
        info = read_info(folder)
        with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as arrays:
            data = {k: arrays[k] for k in arrays.files}
        spec = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        if any(b["ngram"][1] > (3 if b["name"] == "chars" else 2) for b in spec["blocks"]):
            raise ValueError(f"{folder / VOCABULARY_FILE}: n-grams longer than 3 chars or 2 words")
        blocks, offset = [], 0
        for block in spec["blocks"]:
            terms = block["terms"]
            blocks.append(
                {
                    "name": block["name"],
                    "ngram": tuple(block["ngram"]),
                    "idf": data[f"idf_{block['name']}"],
                    "weight": float(block["weight"]),
                    "offset": offset,
                }
            )
            _add_lookups(blocks[-1], terms)
            offset += len(terms)
        spec.pop("blocks")
        return cls(blocks, data["coef"], data["intercept"], data["thresholds"], {**spec, **info})

    def _features(self, normalised: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, columns and values of the tf-idf blocks, each block l2-normalised per text."""
        parts = []
        for block in self.blocks:
            if block["name"] == "chars":
                rows, cols = self._char_hits(block, normalised)
            else:
                rows, cols = self._word_hits(block, normalised)
            parts.append(_tfidf(rows, cols, block, len(normalised)))
        return tuple(np.concatenate(p) for p in zip(*parts, strict=True))

    def _char_hits(self, block: dict, normalised: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known char n-gram, found with array arithmetic, no loop per gram."""
        low, high = block["ngram"]
        folded = [_WHITE_SPACES.sub(" ", text) for text in normalised]
        lengths = np.fromiter(map(len, folded), dtype=np.int64, count=len(folded))
        points = np.frombuffer("".join(folded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        points = np.concatenate([points.astype(np.int64) + 1, np.zeros(high, dtype=np.int64)])
        total = int(lengths.sum())
        row_of = np.repeat(np.arange(len(folded)), lengths)
        left = lengths[row_of] - (np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths))
        rows, codes = [], []
        code = np.zeros(total, dtype=np.int64)
        for n in range(1, high + 1):
            code |= points[n - 1 : n - 1 + total] << (21 * (3 - n))
            if n >= low:
                fits = left >= n  # the gram stays inside its own text
                rows.append(row_of[fits])
                codes.append(code[fits])
        position = block["lookup"].get_indexer(np.concatenate(codes))
        known = position >= 0
        return np.concatenate(rows)[known], position[known] + block["offset"]

    def _word_hits(self, block: dict, normalised: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known word unigram and bigram: one dict lookup per token."""
        offset, (low, high), width = block["offset"], block["ngram"], len(block["idf"])
        tokens = [segment_words(text) for text in normalised]
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        ids = np.fromiter(map(block["unigrams"].get, chain.from_iterable(tokens), repeat(-1)), dtype=np.int64)
        row_of = np.repeat(np.arange(len(tokens)), lengths)
        rows, cols = [], []
        if low <= 1:
            rows.append(row_of[ids >= 0])
            cols.append(ids[ids >= 0])
        if high >= 2 and len(ids) > 1:
            first, second = ids[:-1], ids[1:]
            both = (first >= 0) & (second >= 0) & (row_of[:-1] == row_of[1:])
            codes = (first[both] - offset) * width + second[both] - offset
            lookup, columns = block["pairs"]
            position = lookup.get_indexer(codes)
            known = position >= 0
            rows.append(row_of[:-1][both][known])
            cols.append(columns[position[known]])
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def predict_proba(self, texts) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(LABELS)))
        matched = match_forms(texts)
        rows, cols, vals = self._features([_normalise_matched(m) for m in matched])
        # one sparse product, as scikit-learn scores its sparse features: four times faster
        # than a weighted bincount per label
        features = csr_matrix((vals, (rows, cols)), shape=(len(texts), self.coef_t.shape[0]))
        decision = features @ self.coef_t + self.intercept
        if self.use_rules:
            from pipeline.rules import label_matrix, votes_of_match_forms

            votes = votes_of_match_forms(matched)
            dense = np.hstack([votes, label_matrix(votes)]).astype(float) * self.rule_weight
            decision += dense @ self.coef_t[-dense.shape[1] :]
        return 1.0 / (1.0 + np.exp(-decision))

    def predict_scores(self, texts) -> tuple[np.ndarray, np.ndarray]:
        scores = self.predict_proba(texts)
        return scores, scores >= self.thresholds_

    def predict_frame(self, texts):
        texts = list(texts)
        return scores_frame(texts, *self.predict_scores(texts))


def read_info(folder: Path) -> dict:
    """``metrics.json`` of a model folder, refusing a model trained with other labelling functions."""
    from pipeline.rules import rules_fingerprint

    path = Path(folder) / "metrics.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    saved = info.get("rules_fingerprint")
    if saved is not None and saved != rules_fingerprint():
        raise ValueError(
            f"{path}: trained with other labelling functions ({saved}, now {rules_fingerprint()}); "
            "retrain with `zhenggai train`"
        )
    return info


def export(estimator, folder: Path) -> None:
    """Write a fitted ``MeasureClassifier``'s arrays next to its skops file."""
    union = estimator.model_.named_steps["features"]
    ovr = estimator.model_.named_steps["clf"]
    weights = union.transformer_weights or {}
    blocks, arrays = [], {}
    for name, transformer in union.transformer_list:
        if name == "rules":
            continue
        vocabulary = transformer.vocabulary_
        terms = [None] * len(vocabulary)
        for term, col in vocabulary.items():
            terms[col] = term
        blocks.append(
            {
                "name": name,
                "ngram": list(transformer.ngram_range),
                "weight": weights.get(name, 1.0),
                "terms": terms,
            }
        )
        arrays[f"idf_{name}"] = transformer.idf_
    arrays["coef"] = np.vstack([e.coef_ for e in ovr.estimators_])
    arrays["intercept"] = np.concatenate([e.intercept_ for e in ovr.estimators_])
    arrays["thresholds"] = np.asarray(estimator.thresholds_, dtype=float)
    np.savez_compressed(Path(folder) / WEIGHTS_FILE, **arrays)
    spec = {
        "labels": list(LABELS),
        "use_rules": bool(estimator.use_rules),
        "rule_weight": float(estimator.rule_weight),
        "blocks": blocks,
    }
    (Path(folder) / VOCABULARY_FILE).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
