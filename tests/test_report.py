"""Charts, the HTML report and the notebooks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import RAW, REPO
from typer.testing import CliRunner

from pipeline import charts, write
from pipeline.cli import app


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert CliRunner().invoke(app, ["run", str(RAW), "--out", str(out), "-q"]).exit_code == 0
    return out


@pytest.mark.parametrize("name", sorted(charts.CHARTS))
def test_every_chart_has_a_title_labelled_axes_and_a_cjk_font(run_dir, name):
    figure = charts.CHARTS[name](write.read_tables(run_dir))
    for ax in figure.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), name
        assert re.search(r"[\u4e00-\u9fff]", ax.get_title())
        assert charts.font_name() in ax.title.get_fontfamily()


def test_report_is_self_contained_with_charts_and_tables(run_dir):
    result = CliRunner().invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "@font-face" in page and "data:font/ttf;base64," in page
    assert not re.search(r"(?:src|href)=['\"]https?://", page)
    for chart in ("label_counts", "labels_by_scope", "labels_by_focus_area", "timeline", "money_and_counts"):
        assert f"<figure id='{chart}'><svg" in page
    assert "最不确定的措施 Least certain measures" in page and "解析状态 Parse status" in page
    assert page.count("<tr>") > 20


def test_report_opens_in_headless_chromium(run_dir, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed here")
    CliRunner().invoke(app, ["report", str(run_dir)])
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", (run_dir / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0
    assert dom.stdout.count("<svg") >= 5 and "整改通报分析报告" in dom.stdout


@pytest.mark.parametrize("notebook", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
