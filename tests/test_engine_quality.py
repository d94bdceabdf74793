"""Ranking quality of the published attention model against the baselines on the seeded
synthetic sample (no database), fitted as ``kgrec eval`` fits it.

800 users, three seeds, a few seconds in all. The synthetic sample is not evidence of quality
(real data is: ``bench/bench_quality.py`` and the README's real-data table); this guards the
margins the sample shows against regressions. Over eight seeds (0-7) the model was 7-11% ahead
of the better of item-kNN and EASE on every seed (NDCG@20) and 0.10-0.15 ahead of popularity;
the test asserts what holds with room.
"""

import numpy as np
import pytest
import torch

from kgrec.engine.data.graph import columns_from_tabular
from kgrec.engine.evaluation.evaluate import run_evaluation
from kgrec.engine.training.config import TrainConfig
from kgrec.loaders.synthetic import generate_sample

SEEDS = (0, 1, 2)
METHODS = ("attention", "item_knn", "ease", "popularity")


@pytest.fixture(scope="module")
def ndcg() -> dict[str, np.ndarray]:
    """NDCG@20 per method, one entry per seed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = [run_evaluation(columns_from_tabular(generate_sample(n_users=800, seed=seed)), TrainConfig(seed=seed),
                               ks=(20,), methods=METHODS) for seed in SEEDS]
    finally:
        torch.set_num_threads(threads)
    return {method: np.array([run[method]["ndcg@20"] for run in runs]) for method in METHODS}


def test_clearly_beats_popularity_on_every_seed(ndcg):
    assert (ndcg["attention"] >= ndcg["popularity"] + 0.05).all(), ndcg


@pytest.mark.parametrize("baseline", ["item_knn", "ease"])
def test_ahead_of_the_closed_form_baselines_on_every_seed(ndcg, baseline):
    assert (ndcg["attention"] >= 1.03 * ndcg[baseline]).all(), ndcg
