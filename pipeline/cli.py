"""The ``zhenggai`` command: thin typer wrappers around the package, no logic of its own."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline import __version__
from pipeline.config import DEFAULT_INPUT, DEFAULT_OUTPUT, FORMATS, RunOptions

app = typer.Typer(
    help="Turn Chinese rectification notices (巡视/巡察/审计整改情况的通报) into tidy tables.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zhenggai {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """zhenggai: rectification notices in, tidy tables out."""


@app.command()
def run(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Notice files or folders (.txt, .html); folders are searched recursively. Default: data/raw."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder to write the tables into (default: data/processed)."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"Table format: {', '.join(FORMATS)}.")
    ] = "parquet",
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Measure classifier folder, or 'rules' (default: the shipped model in models/)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Worker processes (default: all cores).")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="local, or dask for a Dask distributed cluster.")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)."
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Start the output afresh instead of skipping documents already in it."
        ),
    ] = False,
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Files larger than this are refused as not notices.")
    ] = 20,
    flush_every: Annotated[
        int, typer.Option("--flush-every", help="Documents per committed part (what a killed run redoes).")
    ] = 200,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with code 1 when any input lands in errors.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Parse notices and write documents, sections, problems, measures, labels, entities, segments, errors.

    A re-run over the same --out skips documents already there and finishes an interrupted run.

    Identical inputs (same text after normalising) are processed once, listed under every path.
    """
    from pipeline import runner
    from pipeline.config import ENGINES, default_workers
    from pipeline.progress import Progress

    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    if engine not in ENGINES:
        raise typer.BadParameter(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    paths = inputs or [DEFAULT_INPUT]
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    for p in missing:
        typer.echo(f"zhenggai: {p}: no such file or folder", err=True)
    scratch = out is None  # the default folder: rebuilt, not refused, when another version wrote it
    out = out or DEFAULT_OUTPUT
    options = RunOptions(
        out=out,
        format=format,
        strict=strict,
        quiet=quiet,
        model=model,
        workers=workers or default_workers(),
        engine=engine,
        scheduler=scheduler,
        resume=not overwrite,
        max_bytes=int(max_mb * 1_000_000),
        flush_every=flush_every,
    )
    from pipeline.types import PipelineError

    found = [p for p in paths if p not in missing]

    def run_once(options: RunOptions):
        with Progress(enabled=not quiet) as progress:
            return runner.run(found, options, progress=progress.update)

    try:
        try:
            result, _ = run_once(options)
        except PipelineError as exc:
            if not (scratch and exc.error_type == "StaleOutput"):
                raise
            typer.echo(f"zhenggai: {out}: written by another version or model, rebuilt", err=True)
            result, _ = run_once(dataclasses.replace(options, resume=False))
    except (PipelineError, FileNotFoundError, ValueError) as exc:  # the whole run cannot start
        typer.echo(f"zhenggai: {exc.message if isinstance(exc, PipelineError) else exc}", err=True)
        raise typer.Exit(code=2) from None
    errors = len(result.errors) + len(missing)
    if not quiet:
        status_text = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items())) or "none"
        extra = f" · skipped {result.skipped} already written" if result.skipped else ""
        if result.duplicates:  # same text as a document already read: only the path is added
            extra += f" · identical inputs {result.duplicates} (listed with their first copy)"
        typer.echo(
            f"documents {result.documents} · problems {result.problems} · measures {result.measures} · "
            f"parse status: {status_text} · near-duplicates {result.near_duplicates} · "
            f"errors {errors}{extra} → {out}"
        )
    for e in result.errors:
        typer.echo(f"error: {e.message}", err=True)
    if strict and errors:
        raise typer.Exit(code=1)


def _print_table(frame, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="left" if column in ("label", "function") else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    Console(width=140).print(table)


@app.command()
def train(
    gold: Annotated[
        Path, typer.Argument(help="Gold table: data/labelled, annotation JSON, parquet/CSV/JSONL.")
    ] = Path("data/labelled"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")] = Path(
        "models/measures"
    ),
    c: Annotated[
        float, typer.Option("--C", help="Inverse regularisation of the logistic regressions.")
    ] = 4.0,
    folds: Annotated[int, typer.Option("--folds", help="Grouped cross-validation folds.")] = 5,
    cv: Annotated[bool, typer.Option("--cv/--no-cv", help="Also report grouped cross-validation.")] = True,
    report_on: Annotated[
        Path | None,
        typer.Option(
            "--report-on",
            help="An annotated notice (seed_gold.json) to score the saved model on; never trained on.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", help="Processes for the final fit and the CV folds (default: all cores)."
        ),
    ] = None,
) -> None:
    """Train the measure classifier and write model.skops, metrics.json and MODEL_CARD.md."""
    from pipeline import training

    info = training.train(gold, out, C=c, folds=folds, cv=cv, workers=workers)
    typer.echo(
        f"model {info['model_id']} · {info['training_data']['measures']} measures · "
        f"{info['train_seconds']} s → {out}"
    )
    if cv:
        macro = info["cross_validation"]["model"]["macro"]["f1"]
        rules_macro = info["cross_validation"]["rules"]["macro"]["f1"]
        typer.echo(f"grouped {folds}-fold CV macro-F1: model {macro:.3f} · rules {rules_macro:.3f}")
    if report_on is not None:
        held = training.report_held_out(out, report_on)
        typer.echo(
            f"{report_on.name} through zhenggai run: macro-F1 model {held['model']['macro']['f1']:.3f} · "
            f"rules {held['rules']['macro']['f1']:.3f}"
        )


@app.command()
def compare(
    gold: Annotated[Path, typer.Argument(help="Gold table to cross-validate on.")] = Path("data/labelled"),
    model: Annotated[Path, typer.Option("--model", help="Model folder whose card gets the table.")] = Path(
        "models/measures"
    ),
    held_out: Annotated[
        Path | None, typer.Option("--held-out", help="An annotated notice to score too.")
    ] = None,
    folds: Annotated[int, typer.Option("--folds")] = 5,
) -> None:
    """One table: the trained model vs spaCy textcat_multilabel vs the rules (slow: trains spaCy per fold)."""
    from pipeline import training
    from pipeline.corpus import load_gold

    table = training.compare(load_gold(gold), folds=folds, held_out=load_gold(held_out) if held_out else None)
    _print_table(table.round(3), "measure-type classifiers")
    if (model / "metrics.json").exists():
        training.add_to_metrics(model, "comparison", table.round(4).to_dict(orient="records"))
        training.write_card(model)


@app.command()
def curve(
    gold: Annotated[Path, typer.Argument(help="Gold table to grow.")] = Path("data/labelled"),
    held_out: Annotated[
        Path | None, typer.Option("--held-out", help="An annotated notice to score each model on too.")
    ] = None,
    sizes: Annotated[
        list[int] | None, typer.Option("--size", help="Notices to train on (repeatable); all are added.")
    ] = None,
    model: Annotated[Path, typer.Option("--model", help="Model folder whose card gets the curve.")] = Path(
        "models/measures"
    ),
) -> None:
    """Learning curve: does more annotation of the same kind still help (notices in written order)?"""
    import json

    from pipeline import training
    from pipeline.corpus import load_gold

    steps = [*(sizes or [20, 40, 60, 80]), None]
    held = load_gold(held_out) if held_out else None
    table = training.learning_curve(load_gold(gold), steps, held_out=held)
    _print_table(table.round(3), "learning curve")
    if (model / "metrics.json").exists():
        training.add_to_metrics(model, "learning_curve", json.loads(table.round(4).to_json(orient="records")))
        training.write_card(model)


@app.command()
def evaluate(
    gold: Annotated[Path, typer.Argument(help="Gold table, or a notice annotation like seed_gold.json.")],
    model: Annotated[str | None, typer.Option("--model", help="Model folder, or 'rules'.")] = None,
    run: Annotated[
        bool,
        typer.Option(
            "--run/--texts",
            help="For an annotated notice: score through the whole pipeline (default) "
            "or on the gold measure texts alone.",
        ),
    ] = True,
    min_support: Annotated[
        int, typer.Option(help="Labels with fewer gold measures are left out of macro.")
    ] = 5,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the tables as JSON.")] = None,
) -> None:
    """Per-label precision, recall, F1, support and confusion counts; macro and micro; model vs rules."""
    import json as _json

    from pipeline import classifier, rules, tag, training
    from pipeline.corpus import load_gold
    from pipeline.types import LABELS

    is_notice = gold.suffix == ".json" and "sections" in _json.loads(gold.read_text(encoding="utf-8"))
    if is_notice and run:
        result = training.evaluate_run(gold, model=model)
        typer.echo(
            f"{result['measures_found']}/{result['measures_gold']} gold measures found by the pipeline"
        )
        tables = {result["model_id"]: result["model"], "rules": result["rules"]}
    else:
        frame = load_gold(gold)
        truth = frame[list(LABELS)].to_numpy()
        tagger = tag.Tagger.default(model)
        pred = tagger.classifier.predict_frame(list(frame.text))[list(LABELS)].to_numpy()
        tables = {
            tagger.model_id: classifier.evaluate(truth, pred, min_support),
            "rules": classifier.evaluate(truth, rules.apply_rules(list(frame.text)).to_numpy(), min_support),
        }
    for name, table in tables.items():
        _print_table(table.round(3), f"{name} on {gold.name}")
    if json_out:
        json_out.write_text(
            _json.dumps(
                {k: v.to_dict(orient="records") for k, v in tables.items()}, ensure_ascii=False, indent=1
            ),
            encoding="utf-8",
        )


@app.command()
def agreement(
    first: Annotated[Path, typer.Argument(help="One annotator's gold table (any shape `evaluate` reads).")],
    second: Annotated[Path, typer.Argument(help="Another annotator's table over the same measures.")],
    disagreements_out: Annotated[
        Path | None,
        typer.Option("--disagreements", help="Also write the measures labelled differently (JSONL)."),
    ] = None,
) -> None:
    """Cohen's kappa per label between two annotation passes, matched by measure_id."""
    from pipeline.corpus import agreement as kappa_table
    from pipeline.corpus import disagreements, load_gold

    one, two = load_gold(first), load_gold(second)
    table = kappa_table(one, two)
    _print_table(table.round(3), f"agreement of {first.name} and {second.name}")
    if disagreements_out:
        differing = disagreements(one, two)
        differing.to_json(disagreements_out, orient="records", lines=True, force_ascii=False)
        typer.echo(f"{len(differing)} measures labelled differently → {disagreements_out}")


@app.command()
def label(
    inputs: Annotated[list[Path], typer.Argument(help="Notices (files or folders), or one gold table.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write weak labels (parquet) here.")] = None,
) -> None:
    """Apply the labelling functions: weak labels plus coverage, overlap and conflicts per function."""
    from pipeline import rules, runner
    from pipeline.corpus import load_gold, to_long
    from pipeline.types import LABELS

    gold = None
    if len(inputs) == 1 and inputs[0].suffix in (".parquet", ".csv", ".jsonl", ".json"):
        frame = gold = load_gold(inputs[0])
    else:
        _, tables = runner.run(inputs, RunOptions(model="rules"))
        frame = tables["measures"].to_pandas()[["doc_id", "measure_id", "text"]]
    texts = list(frame.text)
    _print_table(rules.summary(texts, gold).round(3), f"labelling functions over {len(texts)} measures")
    if out is not None:
        weak = frame[["doc_id", "measure_id"]].copy()
        votes = rules.apply_rules(texts)
        for lab in LABELS:
            weak[lab] = votes[lab].to_numpy()
        to_long(weak, source=rules.RULES_SOURCE).to_parquet(out, index=False)
        typer.echo(f"weak labels for {len(texts)} measures → {out}")


@app.command("export")
def export_cmd(
    to: Annotated[str, typer.Option("--to", help="label-studio, doccano, spacy or parquet.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    source: Annotated[
        Path, typer.Option("--from", help="A run's output folder, or a gold table.")
    ] = DEFAULT_OUTPUT,
    uncertain: Annotated[
        int | None, typer.Option("--uncertain", help="Only the N least certain measures.")
    ] = None,
) -> None:
    """Write measures with the model's predictions as pre-annotations for an annotation tool."""
    import json as _json

    from pipeline import export
    from pipeline.corpus import load_gold

    if source.is_dir() and any(source.glob("measure_labels.*")):
        frame = export.dataset_from_run(source)
    else:
        frame = export.dataset_from_gold(load_gold(source))
    if uncertain:
        thresholds = None
        metrics = Path("models/measures/metrics.json")
        if metrics.exists():
            thresholds = _json.loads(metrics.read_text(encoding="utf-8")).get("thresholds")
        frame = export.least_certain(frame, uncertain, thresholds)
    path = export.export(frame, to, out)
    typer.echo(f"{len(frame)} measures → {path}")


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A Label Studio JSON export or a doccano JSONL export.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Gold table to write (.parquet or .csv).")],
) -> None:
    """Read corrected annotations back into a gold table for train and evaluate."""
    from pipeline import export

    frame = export.read_doccano(file) if file.suffix == ".jsonl" else export.read_label_studio(file)
    if out.suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    typer.echo(f"{len(frame)} measures → {out}")


@app.command()
def report(
    out_dir: Annotated[
        Path, typer.Argument(help="A run's output folder (what `zhenggai run --out` wrote).")
    ] = (DEFAULT_OUTPUT),
) -> None:
    """Write OUT_DIR/report.html: counts, charts, parse status, errors, least certain measures."""
    import json as _json

    from pipeline.report import write_report

    thresholds = None
    metrics = Path("models/measures/metrics.json")
    if metrics.exists():
        thresholds = _json.loads(metrics.read_text(encoding="utf-8")).get("thresholds")
    typer.echo(f"report → {write_report(out_dir, thresholds)}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
