"""The measure classifier, the rules, and the shipped model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO, SEED_GOLD
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold

import pipeline
from pipeline import classifier, inference, rules, training
from pipeline.corpus import load_gold
from pipeline.types import LABELS

MODEL_DIR = REPO / "models" / "measures"


@pytest.fixture(scope="module")
def corpus():
    return load_gold(REPO / "data" / "labelled")


def test_labelled_corpus_size_and_spread(corpus):
    assert corpus.doc_id.nunique() >= 40 and len(corpus) >= 1200
    assert set(corpus.scope) == {"problem", "general", "planned"}
    for label in LABELS:
        assert corpus[label].mean() > 0.08, label


def test_agreement_is_cohens_kappa_per_label():
    import math

    import pandas as pd
    from sklearn.metrics import cohen_kappa_score

    from pipeline.corpus import _wide, agreement

    def frame(label_sets):
        rows = [
            dict(doc_id="d", measure_id=f"d:m{i}", scope="problem", problem_no=None, text="t", labels=ls)
            for i, ls in enumerate(label_sets)
        ]
        return _wide(rows)

    a = frame([["study"], ["study", "meeting"], [], ["meeting"], ["study"]])
    b = frame([["study"], ["meeting"], [], ["meeting"], []])
    table = agreement(a, b.iloc[::-1])  # matched by measure_id, not by position
    study = table.set_index("label").loc["study"]
    assert study["first"] == 3 and study["second"] == 1 and study["agreement"] == 3 / 5
    assert study["kappa"] == pytest.approx(cohen_kappa_score([1, 1, 0, 0, 1], [1, 0, 0, 0, 0]))
    assert table.set_index("label").loc["meeting", "kappa"] == 1.0
    assert math.isnan(table.set_index("label").loc["leadership", "kappa"])  # nobody used it
    assert table.iloc[-1]["agreement"] == 3 / 5  # identical label sets on m0, m2, m3
    with pytest.raises(ValueError, match="share no measure_id"):
        agreement(a, frame([[]]).assign(measure_id="x:m0"))
    assert isinstance(table, pd.DataFrame)


def test_shipped_second_pass_covers_enough_measures_of_the_corpus(corpus):
    """The issue asks for a blind second pass on at least 250 measures, kappa per label."""
    from pipeline.corpus import agreement

    first = load_gold(REPO / "data" / "labelled" / "first_pass.jsonl")
    second = load_gold(REPO / "data" / "labelled" / "second_pass.jsonl")
    assert len(second) >= 250 and set(second.measure_id) == set(first.measure_id)
    texts = corpus.set_index("measure_id").text
    assert (second.set_index("measure_id").text == texts.loc[second.measure_id]).all()
    table = agreement(first, second).set_index("label")
    assert table.loc[list(LABELS), "kappa"].notna().all()


def test_agreement_command_lists_the_measures_labelled_differently(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.corpus import disagreements

    def write_pass(path, rows):
        frame = pd.DataFrame(rows, columns=["measure_id", "text", "labels"])
        frame.to_json(path, orient="records", lines=True, force_ascii=False)

    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_pass(first, [("d:m1", "甲", ["study"]), ("d:m2", "乙", []), ("d:m3", "丙", ["meeting"])])
    write_pass(
        second, [("d:m3", "丙", ["meeting"]), ("d:m1", "甲", ["study", "meeting"]), ("d:m2", "乙", [])]
    )
    out = tmp_path / "differ.jsonl"
    result = CliRunner().invoke(app, ["agreement", str(first), str(second), "--disagreements", str(out)])
    assert result.exit_code == 0, result.output
    assert "study" in result.output and "1 measures labelled differently" in result.output
    differ = pd.read_json(out, lines=True)
    assert differ.measure_id.tolist() == ["d:m1"]
    assert differ.loc[0, "first"] == ["study"] and differ.loc[0, "second"] == ["study", "meeting"]
    assert differ.loc[0, "labels"] == ["meeting"]
    assert disagreements(load_gold(first), load_gold(first)).empty


def test_unfitted_classifier_refuses_to_predict():
    with pytest.raises(NotFittedError):
        classifier.MeasureClassifier().predict(["一是召开党组会议"])


def test_fit_predict_and_skops_round_trip(corpus, tmp_path):
    small = corpus[corpus.doc_id.str[0].isin(["a", "b"])]
    clf = classifier.MeasureClassifier().fit(
        list(small.text), small[list(LABELS)].to_numpy(), groups=list(small.doc_id)
    )
    assert list(clf.classes_) == list(LABELS) and clf.thresholds_.shape == (7,)
    classifier.save(clf, tmp_path, {"model_id": "tiny"})
    loaded, info = classifier.load(tmp_path)
    texts = list(corpus.text[:40])
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts))
    assert info["model_id"] == "tiny"
    arrays = inference.LinearMeasureModel.load(tmp_path)  # what a run loads: no scikit-learn
    np.testing.assert_allclose(arrays.predict_proba(texts), clf.predict_proba(texts), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(arrays.thresholds_, clf.thresholds_)
    assert arrays.info["model_id"] == "tiny"


def test_the_model_id_names_data_features_and_settings():
    terms = ["chars:整改", "words:整改"]
    base = training.model_id_for("d1", terms, 4.0, 5)
    assert base.startswith("measures-lr-") and base == training.model_id_for("d1", list(terms), 4.0, 5)
    assert base != training.model_id_for("d2", terms, 4.0, 5)
    assert base != training.model_id_for("d1", terms[:1], 4.0, 5)  # other features, other model
    assert base != training.model_id_for("d1", terms, 1.0, 5)


def test_shipped_arrays_score_exactly_like_the_shipped_estimator(corpus):
    """The run scores with numpy alone; it must give the skops estimator's scores, to rounding."""
    estimator, _ = classifier.load(MODEL_DIR)
    arrays = inference.LinearMeasureModel.load(MODEL_DIR)
    texts = [*corpus.text, "", "。", "  一是  ", "１２３", "𠀀𠀁 整改\t\n 到位", "a"]
    np.testing.assert_allclose(
        arrays.predict_proba(texts), estimator.predict_proba(texts), rtol=0, atol=1e-12
    )
    _, chosen = arrays.predict_scores(texts)
    np.testing.assert_array_equal(chosen, estimator.predict(texts))


def test_a_run_imports_neither_scikit_learn_nor_spacy():
    """Cold start: a run's tagger is numpy, regexes and rjieba; the heavy libraries stay unloaded."""
    import subprocess
    import sys

    code = (
        "import sys; from pipeline import runner; "
        "t = runner.worker_tagger(None); "
        "print(t.model_id, sorted(m for m in ('sklearn', 'spacy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    model_id, loaded = out.stdout.strip().split(" ", 1)
    assert model_id.startswith("measures-") and loaded == "[]", out.stdout


def test_load_refuses_types_outside_the_trusted_list(tmp_path):
    import skops.io as sio

    sio.dump({"f": json.dumps}, tmp_path / "model.skops")
    (tmp_path / "metrics.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="refusing"):
        classifier.load(tmp_path)


def test_evaluate_counts_and_averages():
    truth = np.zeros((4, 7), dtype=bool)
    pred = np.zeros((4, 7), dtype=bool)
    truth[:2, 0] = True
    pred[1:3, 0] = True  # study: tp 1, fp 1, fn 1
    truth[:, 4] = pred[:, 4] = True  # meeting: perfect
    table = classifier.evaluate(truth, pred, min_support=1).set_index("label")
    assert table.loc["study", ["tp", "fp", "fn", "tn"]].tolist() == [1, 1, 1, 1]
    assert table.f1["study"] == pytest.approx(0.5)
    assert table.f1["macro"] == pytest.approx(0.75)  # only labels with support
    assert table.f1["micro"] == pytest.approx(2 * 5 / (2 * 5 + 1 + 1))


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("四是调查核实后，并经局党组会议研究决定，已对相关责任人予以处理", {"accountability"}),
        ("一是召开专题民主生活会，班子成员对照反馈意见开展批评和自我批评", {"meeting", "self_check"}),
        ("二是修订《财务管理制度》，规范报销审批流程", {"system_revision"}),
        ("三是已将多发放的补贴1.2万元全部退还", {"rectification"}),
        ("成立以党组书记为组长的巡察整改工作领导小组", {"leadership"}),
        ("组织全体干部集中学习《中国共产党纪律处分条例》", {"study"}),
        ("对发现问题的，及时严肃追责问责", set()),
    ],
)
def test_rules_follow_the_guide(text, labels):
    votes = rules.apply_rules([text]).iloc[0]
    assert {label for label in LABELS if votes[label]} == labels


def _pattern_ops(tree) -> set[str]:
    import re._parser as sre_parse

    found = set()
    for op, arg in tree:
        found.add(str(op))
        for item in arg if isinstance(arg, list | tuple) else [arg]:
            for sub in item if isinstance(item, list | tuple) else [item]:
                if isinstance(sub, sre_parse.SubPattern):
                    found |= _pattern_ops(sub)
    return found


def test_labelling_patterns_have_no_anchors_or_lookarounds():
    """Votes are found by scanning all texts joined together, which is only exact so."""
    import re._parser as sre_parse

    for lf in rules.LABELLING_FUNCTIONS:
        ops = _pattern_ops(sre_parse.parse(lf.pattern.pattern))
        assert "LITERAL" in ops, lf.name  # the walk reaches the pattern's atoms
        assert not ops & {"AT", "ASSERT", "ASSERT_NOT", "GROUPREF"}, lf.name
    assert "AT" in _pattern_ops(sre_parse.parse("(?:a|^b)"))
    assert "ASSERT" in _pattern_ops(sre_parse.parse("x(?=y)"))


def test_votes_over_joined_texts_equal_votes_text_by_text(corpus):
    from pipeline.ingest import match_form

    def one_by_one(texts):
        forms = [rules._TITLE.sub("《文件》", match_form(t)) for t in texts]
        return np.array([[lf(f) for lf in rules.LABELLING_FUNCTIONS] for f in forms], dtype=bool)

    texts = list(corpus.text)
    # a line break inside a text makes a match run across it: those functions go text by text
    broken = ["召开党组会\n议研究部署", "组织开展\n自查", "学习", "", "责令\n整改", "对发现的问题\n,将追责"]
    joined = "".join(broken)
    assert any("\n" in m.group() for lf in rules.LABELLING_FUNCTIONS for m in lf.pattern.finditer(joined))
    texts += broken
    fast = rules.vote_matrix(texts)
    assert fast.shape == (len(texts), len(rules.LABELLING_FUNCTIONS)) and fast.sum() > len(corpus)
    assert (fast == one_by_one(texts)).all()
    assert rules.vote_matrix([]).shape == (0, len(rules.LABELLING_FUNCTIONS))


def test_rule_summary_reports_every_function(corpus):
    table = rules.summary(list(corpus.text[:300]), corpus.iloc[:300])
    assert {"function", "label", "coverage", "overlap", "conflicts", "precision"} <= set(table.columns)
    assert len(table) == len(rules.LABELLING_FUNCTIONS)
    assert table.coverage.between(0, 1).all() and (table.fires > 0).sum() >= 15


def test_classify_returns_a_tidy_frame_for_any_texts():
    frame = pipeline.classify(
        ["一是召开党组会议，研究部署整改工作", "二是对2019年以来的会计凭证开展全面自查"]
    )
    assert list(frame.columns) == ["text_id", "text", "label", "score", "predicted", "source"]
    assert len(frame) == 14
    chosen = frame[frame.predicted]
    assert set(chosen[chosen.text_id == 0].label) == {"meeting"}
    assert "self_check" in set(chosen[chosen.text_id == 1].label)


def test_notice_labels_are_the_classifier_scores_in_table_order():
    """Labels are held as columns; iterating them and the table give the classifier's scores."""
    from pipeline import tag, write

    tagger = tag.Tagger.default()
    notice = pipeline.parse(
        "一、整改情况\n1.针对台账不全的问题。一是召开党组会议研究整改；二是开展全面自查。", tagger=tagger
    )
    scores, chosen = tagger.classifier.predict_scores([m.text for m in notice.measures])
    rows = list(notice.labels)
    assert len(rows) == len(notice.labels) == 7 * len(notice.measures) == 14
    assert [(r.measure_id, r.label) for r in rows] == [
        (m.measure_id, lb) for m in notice.measures for lb in LABELS
    ]
    assert [r.score for r in rows] == pytest.approx(np.asarray(scores).ravel().tolist())
    assert [r.predicted for r in rows] == np.asarray(chosen).ravel().tolist()
    table = write.rows_for(notice, "test")["measure_labels"]
    assert list(
        zip(table["measure_id"], table["label"], table["score"], table["predicted"], strict=True)
    ) == [(r.measure_id, r.label, r.score, r.predicted) for r in rows]
    assert set(table["source"]) == {tagger.model_id}


def test_a_classifier_giving_too_few_labels_is_refused():
    from pipeline import ingest, structure, tag

    class SixLabels:
        def predict_scores(self, texts):
            return np.zeros((len(texts), 6)), np.zeros((len(texts), 6), dtype=bool)

    notice = structure.parse_structure(ingest.text_from_string("一、整改情况\n一是补齐台账；二是开展自查。"))
    with pytest.raises(ValueError, match="7 labels"):
        tag.Tagger(SixLabels(), "six").label_measures([notice])
    assert len(notice.labels) == 0  # nothing half-labelled


def test_shipped_model_has_card_metrics_and_is_used_by_run():
    info = json.loads((MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))
    assert info["rules_fingerprint"] == rules.rules_fingerprint(), (
        "labelling functions changed: retrain the model"
    )
    assert (
        (MODEL_DIR / "MODEL_CARD.md")
        .read_text(encoding="utf-8")
        .startswith(f"# Model card: {info['model_id']}")
    )
    cv = info["cross_validation"]
    assert cv["model"]["macro"]["f1"] > cv["rules"]["macro"]["f1"]
    tables = pipeline.run([REPO / "data" / "raw" / "01_county_bureau.txt"])
    assert tables["documents"].model_id[0] == info["model_id"]
    labels = tables["measure_labels"]
    assert len(labels) == 7 * len(tables["measures"])
    assert set(labels.source) == {info["model_id"]}
    assert labels.score.between(0, 1).all()


def test_seed_notice_through_the_whole_run(seed_gold):
    """A regression floor on the real notice, which is never trained or tuned on.

    The target of issue 4 is macro-F1 >= 0.90 with every counted label >= 0.80 and the
    model ahead of the rules; the shipped model reaches 0.85, the rules 0.87 (see
    models/measures/MODEL_CARD.md), so this guards what both do today and fails if a
    change makes either clearly worse. Retraining on 64, 80 and 96 notices gave 0.858,
    0.849 and 0.853; the floor follows the shipped model, which was chosen without
    looking at this notice.
    """
    result = training.evaluate_run(SEED_GOLD)
    assert result["measures_found"] == result["measures_gold"] == 111
    model = result["model"].set_index("label")
    rule = result["rules"].set_index("label")
    assert model.f1["macro"] >= 0.84, model.f1.round(3).to_dict()
    assert rule.f1["macro"] >= 0.85, rule.f1.round(3).to_dict()
    for label in ("study", "self_check", "accountability", "meeting"):
        assert model.f1[label] >= 0.85, (label, model.f1[label])


def test_train_evaluate_and_label_commands_end_to_end(corpus, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    cli = CliRunner()
    small = corpus[corpus.doc_id.str[0].isin(["c", "d"])].copy()
    small["labels"] = small.apply(lambda r: json.dumps([lab for lab in LABELS if r[lab]]), axis=1)
    gold = tmp_path / "gold.csv"
    small[["doc_id", "measure_id", "scope", "text", "labels"]].to_csv(gold, index=False)
    model = tmp_path / "model"
    result = cli.invoke(app, ["train", str(gold), "--out", str(model), "--no-cv"])
    assert result.exit_code == 0, result.output
    info = json.loads((model / "metrics.json").read_text(encoding="utf-8"))
    assert info["training_data"]["measures"] == len(small) and (model / "MODEL_CARD.md").exists()
    run = cli.invoke(
        app, ["run", str(REPO / "data" / "raw"), "--out", str(tmp_path / "out"), "--model", str(model)]
    )
    assert run.exit_code == 0, run.output
    import pandas as pd

    assert set(pd.read_parquet(tmp_path / "out" / "documents.parquet").model_id) == {info["model_id"]}
    evaluated = cli.invoke(
        app, ["evaluate", str(gold), "--model", str(model), "--json", str(tmp_path / "e.json")]
    )
    assert evaluated.exit_code == 0 and "macro" in evaluated.output
    scores = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert set(scores) == {info["model_id"], "rules"}
    weak = tmp_path / "weak.parquet"
    labelled = cli.invoke(app, ["label", str(REPO / "data" / "raw"), "--out", str(weak)])
    assert labelled.exit_code == 0 and "rule_instrument" in labelled.output
    frame = pd.read_parquet(weak)
    assert set(frame.source) == {"rules"} and len(frame) % 7 == 0


def test_train_on_two_workers_writes_the_model_and_figures_of_one(corpus, tmp_path):
    """The final fit and the CV folds run as parallel jobs: the result must not depend on how many."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    small = corpus[corpus.doc_id.str[0].isin(["c", "d"])].copy()
    small["labels"] = small.apply(lambda r: json.dumps([lab for lab in LABELS if r[lab]]), axis=1)
    gold = tmp_path / "gold.csv"
    small[["doc_id", "measure_id", "scope", "text", "labels"]].to_csv(gold, index=False)
    one = training.train(gold, tmp_path / "one", folds=3, workers=1)
    result = CliRunner().invoke(
        app, ["train", str(gold), "--out", str(tmp_path / "two"), "--folds", "3", "-w", "2"]
    )
    assert result.exit_code == 0, result.output
    two = json.loads((tmp_path / "two" / "metrics.json").read_text(encoding="utf-8"))
    for key in ("model_id", "thresholds", "cross_validation", "training_data"):
        assert one[key] == two[key], key
    with np.load(tmp_path / "one" / "weights.npz") as a, np.load(tmp_path / "two" / "weights.npz") as b:
        assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files)
    frame = load_gold(gold)  # the figures are those of plain sequential out-of-fold predictions
    texts, y, groups = list(frame.text), frame[list(LABELS)].to_numpy(dtype=bool), list(frame.doc_id)
    expected = np.zeros_like(y)
    for train, test in GroupKFold(n_splits=3).split(texts, y, groups):
        fold = classifier.MeasureClassifier(folds=3)
        fold.fit([texts[i] for i in train], y[train], groups=[groups[i] for i in train])
        expected[test] = fold.predict([texts[i] for i in test])
    assert np.array_equal(training.cross_validate(frame, folds=3, workers=2)["model"], expected)
    macro = classifier.evaluate(y, expected).set_index("label").f1["macro"]
    assert two["cross_validation"]["model"]["macro"]["f1"] == round(float(macro), 4)


def test_learning_curve_trains_on_growing_prefixes_and_reaches_the_card(corpus, tmp_path):
    import shutil

    import pandas as pd
    from typer.testing import CliRunner

    from pipeline.cli import app

    small = corpus[corpus.doc_id.str[0].isin(["c", "d"])].copy()
    held = corpus[corpus.doc_id.str[0] == "f"].copy()
    for frame, name in ((small, "small.csv"), (held, "held.csv")):
        frame["labels"] = frame.apply(lambda r: json.dumps([lab for lab in LABELS if r[lab]]), axis=1)
        frame[["doc_id", "measure_id", "scope", "text", "labels"]].to_csv(tmp_path / name, index=False)
    docs = sorted(small.doc_id.unique())
    table = training.learning_curve(small, [5, 10, 1000, None], held_out=held)
    assert table.notices.tolist() == [5, 10, len(docs)]  # sizes past the corpus mean all of it, once
    assert table.rest_notices.tolist() == [len(docs) - 5, len(docs) - 10, 0]
    assert table.measures.is_monotonic_increasing and table.measures.iloc[-1] == len(small)
    assert table.held_out_macro_f1.between(0, 1).all() and pd.isna(table.rest_macro_f1.iloc[-1])
    first, rest = small[small.doc_id.isin(docs[:5])], small[~small.doc_id.isin(docs[:5])]
    alone = classifier.MeasureClassifier().fit(
        list(first.text), first[list(LABELS)].to_numpy(dtype=bool), groups=list(first.doc_id)
    )
    expected = classifier.evaluate(rest[list(LABELS)].to_numpy(dtype=bool), alone.predict(list(rest.text)), 5)
    assert table.rest_macro_f1.iloc[0] == pytest.approx(expected.set_index("label").f1["macro"])

    card = tmp_path / "m"
    card.mkdir()
    shutil.copy(MODEL_DIR / "metrics.json", card / "metrics.json")
    args = ["curve", str(tmp_path / "small.csv"), "--held-out", str(tmp_path / "held.csv")]
    result = CliRunner().invoke(app, [*args, "--size", "5", "--model", str(card)])
    assert result.exit_code == 0, result.output
    curve = json.loads((card / "metrics.json").read_text(encoding="utf-8"))["learning_curve"]
    assert [r["notices"] for r in curve] == [5, len(docs)]
    text = (card / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "## Learning curve" in text and "| 5 |" in text


def test_a_model_trained_with_other_rules_is_refused(tmp_path):
    import shutil

    shutil.copytree(MODEL_DIR, tmp_path / "m")
    metrics = tmp_path / "m" / "metrics.json"
    info = json.loads(metrics.read_text(encoding="utf-8"))
    info["rules_fingerprint"] = "0" * 16
    metrics.write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(ValueError, match="retrain"):
        classifier.load(tmp_path / "m")
    with pytest.raises(ValueError, match="retrain"):
        inference.LinearMeasureModel.load(tmp_path / "m")
