"""Ranking quality of the attention model against the baselines on the seeded synthetic sample
(no database), trained as ``kgrec eval`` trains it (default settings, early stopping).

800 users, three seeds, about 30 s in all. Measured NDCG@20 (identical on every run: training is
seeded), attention model / item-kNN / EASE / popularity:

    seed 0: 0.2633 / 0.2634 / 0.2564 / 0.1674
    seed 1: 0.3092 / 0.2990 / 0.2958 / 0.1719
    seed 2: 0.2785 / 0.2712 / 0.2722 / 0.1710

So over the three seeds the model is ahead of item-kNN (mean 0.2837 vs 0.2779, +2.1%) and EASE
(0.2748, +3.2%), but not on every seed (seed 0: level with item-kNN). Seeds 3-7 behave the same
way: ahead of item-kNN on four, behind on one (seed 7: 0.2618 vs 0.2728, -4%); over all eight
seeds the mean is 0.2715 against item-kNN's 0.2673 and EASE's 0.2677. The test asserts what holds
with room: clear of popularity on every seed (measured +0.09 to +0.14), within 5% of item-kNN on
every seed, and at least as good as item-kNN and EASE on the three-seed mean.
"""

import numpy as np
import pytest
import torch

from kgrec.engine.evaluate import run_evaluation
from kgrec.engine.graph import columns_from_tabular
from kgrec.engine.config import TrainConfig
from kgrec.loaders.synthetic import generate_sample

SEEDS = (0, 1, 2)
METHODS = ("kgat", "item_knn", "ease", "popularity")


@pytest.fixture(scope="module")
def ndcg() -> dict[str, np.ndarray]:
    """NDCG@20 per method, one entry per seed. One thread: small tensors run faster on one, and
    far faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = [run_evaluation(columns_from_tabular(generate_sample(n_users=800, seed=seed)), TrainConfig(seed=seed),
                               ks=(20,), methods=METHODS) for seed in SEEDS]
    finally:
        torch.set_num_threads(threads)
    return {method: np.array([run[method]["ndcg@20"] for run in runs]) for method in METHODS}


def test_clearly_beats_popularity_on_every_seed(ndcg):
    assert (ndcg["kgat"] >= ndcg["popularity"] + 0.05).all(), ndcg


def test_within_five_percent_of_item_knn_on_every_seed(ndcg):
    assert (ndcg["kgat"] >= 0.95 * ndcg["item_knn"]).all(), ndcg


@pytest.mark.parametrize("baseline", ["item_knn", "ease"])
def test_at_least_as_good_as_the_closed_form_baselines_over_the_seeds(ndcg, baseline):
    assert ndcg["kgat"].mean() >= ndcg[baseline].mean(), ndcg
