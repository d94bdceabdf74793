"""bench/RESULTS.md and the README's result blocks are what ``bench/results_report.py`` makes of
``bench/results/*.json``, so a number has one source; these tests fail when a committed file is
stale and say which command makes it fresh."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("results_report", ROOT / "bench" / "results_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results(report) -> dict:
    return report.load_results()


def test_results_md_is_generated_from_the_json(report, results):
    committed = (ROOT / "bench" / "RESULTS.md").read_text()
    assert committed == report.render_results(results), \
        f"bench/RESULTS.md is stale (bench/results/*.json changed): run `{report.REGENERATE}`"


def test_readme_blocks_are_generated_from_the_json(report, results):
    readme = (ROOT / "README.md").read_text()
    for name in report.README_BLOCKS:
        begin, end = report.block_marks(name)
        assert readme.count(begin) == 1 and readme.count(end) == 1, f"README.md needs one {begin} block"
    assert readme == report.with_readme_blocks(readme, results), \
        f"README.md's result blocks are stale (bench/results/*.json changed): run `{report.REGENERATE}`"
    published = results["quality.json"]["datasets"]["ml-latest-small"]["attention"]["ndcg@20"]["mean"]
    assert f"{published:.4f}" in readme.split(report.block_marks("quality")[0])[1]
    fidelity = results["explanations.json"]["ml-latest-small"]["after"]["channel_fidelity"]
    assert report.number(fidelity) in readme.split(report.block_marks("explanations")[0])[1]


def test_every_results_file_has_a_section(report, results):
    text = report.render_results(results)
    for name in results:
        assert f"`{name}`" in text


def test_a_new_or_reshaped_file_still_renders_every_number(report, tmp_path):
    """A benchmark adds a run with keys no renderer knows, and a known file changes shape: both
    are shown, key by key, rather than dropped or failing the generator."""
    (tmp_path / "evidence_store.json").write_text(json.dumps({
        "after-5 (new layout)": {"benchmark": "evidence_store", "packed": {"median_seconds": 12.5,
                                                                           "median_new_measure_s": 3.25}}}))
    (tmp_path / "explain.json").write_text(json.dumps([{"p50_ms": 7.75}]))
    (tmp_path / "brand_new.json").write_text(json.dumps({"run": {"nested": {"rate_per_s": 4321}}}))
    text = report.render_results(report.load_results(tmp_path))
    assert "3.25" in text and "new_measure_s" in text
    assert "7.75" in text and "shown key by key" in text
    assert "4,321" in text and "`brand_new.json`" in text


def test_the_output_has_no_date_of_generation(report, results):
    """Regenerating unchanged JSON must give the same bytes, or the staleness test would flap."""
    assert report.render_results(results) == report.render_results(report.load_results())
