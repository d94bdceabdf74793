"""The demo's evaluation cache: a result is reused only for the very same settings and graph."""

from __future__ import annotations

import dataclasses

import pytest

from kgrec import demo
from kgrec.engine.data.graph import columns_from_tabular
from kgrec.engine.models import MODELS
from kgrec.engine.models.ease import EASE, EASEConfig
from kgrec.engine.training.config import TrainConfig
from kgrec.loaders.synthetic import generate_sample


@pytest.fixture(scope="module")
def columns():
    return columns_from_tabular(generate_sample(n_users=40, seed=3))


@pytest.fixture
def evaluations(monkeypatch):
    """Counts the real evaluations the demo runs (each returns an empty table)."""
    calls = []

    def run_evaluation(columns, config, ks, methods=None):
        calls.append(config)
        return {}

    monkeypatch.setattr("kgrec.engine.evaluation.evaluate.run_evaluation", run_evaluation)
    monkeypatch.setattr("kgrec.engine.evaluation.evaluate.format_table", lambda results, ks: "table")
    return calls


@pytest.mark.parametrize("change", [{"seed": 1}, {"device": "cpu"}])
def test_every_training_setting_is_part_of_the_cache_key(columns, evaluations, tmp_path, change):
    config = TrainConfig()
    demo._eval_table(columns, config, tmp_path)
    demo._eval_table(columns, config, tmp_path)
    assert len(evaluations) == 1, "the same settings must reuse the cached table"
    demo._eval_table(columns, dataclasses.replace(config, **change), tmp_path)
    assert len(evaluations) == 2, f"{change} must not reuse the table of other settings"


def test_a_models_option_defaults_are_part_of_the_cache_key(columns, monkeypatch):
    @dataclasses.dataclass
    class OtherDefaults(EASEConfig):
        default_lambda: float = 50.0

    before = demo.eval_cache_key(columns, TrainConfig(), ("ease",), (20,))
    monkeypatch.setitem(MODELS, "ease", type("OtherEASE", (EASE,), {"options_class": OtherDefaults}))
    assert demo.eval_cache_key(columns, TrainConfig(), ("ease",), (20,)) != before


def test_new_interactions_between_known_nodes_change_the_key(columns):
    config = TrainConfig()
    before = demo.eval_cache_key(columns, config, ("kgat",), (20,))
    key = next(iter(columns.edges))
    head, tail = columns.edges[key]
    changed = dataclasses.replace(columns, edges={**columns.edges, key: (head[::-1].copy(), tail)})
    assert changed.fingerprint() == columns.fingerprint()
    assert demo.eval_cache_key(changed, config, ("kgat",), (20,)) != before
    assert demo.eval_cache_key(columns, config, ("kgat", "ease"), (20,)) != before
