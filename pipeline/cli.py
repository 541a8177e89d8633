"""The ``zhenggai`` command: thin typer wrappers around the package, no logic of its own."""

from __future__ import annotations

import sys
from collections import Counter
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
        Path, typer.Option("--out", "-o", help="Folder to write the tables into.")
    ] = DEFAULT_OUTPUT,
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"Table format: {', '.join(FORMATS)}.")
    ] = "parquet",
    model: Annotated[
        str | None,
        typer.Option("--model", help="Measure classifier folder (default: the shipped model in models/)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with code 1 when any input lands in errors.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Parse notices and write documents, sections, problems, measures, labels, entities, segments, errors."""
    from pipeline import runner

    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    paths = inputs or [DEFAULT_INPUT]
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        typer.echo(f"zhenggai: {p}: no such file or folder", err=True)
    options = RunOptions(out=out, format=format, strict=strict, quiet=quiet, model=model)
    result, tables = runner.run([p for p in paths if p.exists()], options)
    errors = len(result.errors) + len(missing)
    if not quiet:
        statuses = Counter(n.parse_status.value for n in result.notices)
        status_text = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none"
        typer.echo(
            f"documents {len(result.notices)} · problems {tables['problems'].num_rows} · "
            f"measures {tables['measures'].num_rows} · parse status: {status_text} · errors {errors} → {out}"
        )
    for e in result.errors:
        typer.echo(f"error: {e.message}", err=True)
    if strict and errors:
        raise typer.Exit(code=1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
