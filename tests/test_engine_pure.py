"""Engine without a database: graph builder, split, metrics, baselines, attention layer, model API."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from kgrec.engine import co_raters as co_raters_module
from kgrec.engine.co_raters import CoRaterIndex
from kgrec.engine.data.graph import INTERACTION_KEY, columns_from_tabular, flatten
from kgrec.engine.data.split import temporal_split
from kgrec.engine.evaluation import metrics
from kgrec.engine.evaluation.evaluate import Validation, validation_users
from kgrec.engine.evaluation.metrics import evaluate, held_out_users, segments, top_k_lists
from kgrec.engine.models.attention_conv import KnowledgeAttentionConv
from kgrec.engine.models.ease import ease_weights
from kgrec.engine.models.item_knn import cosine_neighbours
from kgrec.engine.models.kgat import KGATConfig, KGATTask
from kgrec.engine.training.config import TrainConfig
from kgrec.engine.training.train import fit
from kgrec.loaders.synthetic import generate_sample

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def columns():
    return columns_from_tabular(generate_sample(n_users=150, seed=0))


def test_columns_id_maps_and_flat_view(columns):
    assert set(columns.node_ids) == {"User", "Item", "Category", "Person", "Tag"}
    users, items = columns.edges[INTERACTION_KEY]
    assert columns.edge_attrs[INTERACTION_KEY]["ts"].shape == (len(users),)
    assert items.max() < len(columns.node_ids["Item"])
    assert list(columns.node_ids["User"]) == sorted(columns.node_ids["User"])
    assert columns.index_of("User", [columns.node_ids["User"][7], "nobody"]).tolist() == [7, -1]
    flat = flatten(columns)
    assert flat.edge_index.shape[1] == 2 * sum(len(h) for h, _ in columns.edges.values())
    assert torch.all(flat.edge_index[1][1:] >= flat.edge_index[1][:-1])  # CSR order
    assert int(flat.ptr[-1]) == flat.edge_index.shape[1]


@pytest.mark.parametrize("chunk", [1, 50, co_raters_module.CHUNK])
def test_co_raters_are_counted_and_drawn_as_the_explanation_query_defines_them(columns, monkeypatch, chunk):
    """Every user who interacted with both items counts; the drawn one has the largest attention
    product, ties to the smallest id (half the attention values are tied at 0.5, some at 0). The
    index a checkpoint keeps counts the same; items added after training have no co-raters."""
    monkeypatch.setattr(co_raters_module, "CHUNK", chunk)
    users, items = columns.edges[INTERACTION_KEY]
    rng = np.random.default_rng(0)
    attention = np.where(rng.random(len(users)) < 0.5, 0.5, rng.random(len(users))).astype(np.float32)
    attention[rng.random(len(users)) < 0.05] = 0.0
    n_items = len(columns.node_ids["Item"])
    evidence = rng.integers(-1, n_items + 3, size=(30, 4, 3))  # the last three: added after training
    targets = rng.integers(-1, n_items + 3, size=(30, 4))
    index = CoRaterIndex.from_columns(columns, attention)
    found = index.count(evidence, targets)
    restored = CoRaterIndex.from_state(index.state()).count(evidence, targets)
    assert np.array_equal(restored.counts, found.counts) and np.array_equal(restored.drawn, found.drawn)
    weight = {(u, i): float(a) for u, i, a in zip(users.tolist(), items.tolist(), attention.tolist())}
    raters = {}
    for u, i in zip(users.tolist(), items.tolist()):
        raters.setdefault(i, set()).add(u)
    for (row, t, e), item in np.ndenumerate(evidence):
        target = targets[row, t]
        both = sorted(raters.get(item, set()) & raters.get(target, set())) if min(item, target) >= 0 else []
        assert found.counts[row, t, e] == len(both)
        expected = min(both, key=lambda v: (-weight[v, item] * weight[v, target], v)) if both else -1
        assert found.drawn[row, t, e] == expected
        assert found.drawn_ids(row)[t, e] == (columns.node_ids["User"][expected] if both else "")
    assert (found.counts > 1).sum() > 20 and (found.counts == 0).sum() > 10  # both cases were exercised


def test_temporal_split_has_no_leakage(columns):
    split = temporal_split(columns)
    assert not (split.train & split.test).any() and not (split.val & split.test).any()
    assert (split.train | split.val | split.test).all()
    ts = columns.edge_attrs[INTERACTION_KEY]["ts"]
    for user in range(0, split.num_users, 13):
        mine = split.users == user
        if split.test[mine].any():
            assert ts[mine & split.test].min() >= ts[mine & ~split.test].max()
            assert split.test[mine].sum() == int(np.ceil(0.2 * mine.sum()))
        if split.val[mine].any():
            assert ts[mine & split.val].min() >= ts[mine & split.train].max()
    train_cols = split.fit_columns(columns, split.train)
    assert len(train_cols.edges[INTERACTION_KEY][0]) == split.train.sum()


def test_metrics_on_hand_made_example():
    known = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], np.float32))
    held = sp.csr_matrix(np.array([[0, 1, 0, 0, 1], [0, 0, 1, 0, 0]], np.float32))
    scores = np.array([[9.0, 5, 4, 3, 1], [1, 2, 3, 4, 5]])  # user 0: ranking 1,2,3,4 (0 excluded)
    m = evaluate(lambda users: scores[users], known, held, ks=(1, 2))
    # user 0: hit at rank 1 (item 1) -> recall@1 1/2, ndcg@1 1; user 1: item 2 at rank 3 -> misses
    assert m["recall@1"] == pytest.approx((0.5 + 0) / 2)
    assert m["ndcg@1"] == pytest.approx(0.5)
    assert m["hit_rate@2"] == pytest.approx(0.5)
    assert m["ndcg@2"] == pytest.approx((1 / (1 + 1 / np.log2(3))) / 2)
    assert m["coverage@1"] == pytest.approx(2 / 5)  # items 1 and 4 shown


def test_validation_ranks_a_fixed_sample_of_its_users_past_the_cap(columns):
    split = temporal_split(columns)
    held = split.matrix(split.val)
    users = held_out_users(held)
    assert validation_users(held, len(users)) is held
    sampled = validation_users(held, 40)
    kept = held_out_users(sampled)
    assert len(kept) == 40 and np.isin(kept, users).all()
    assert (sampled[kept] != held[kept]).nnz == 0  # a kept user keeps every validation interaction
    assert np.array_equal(held_out_users(validation_users(held, 40)), kept)

    class Recorder:
        ranked: list = []

        def score(self, histories):
            Recorder.ranked.append(len(histories))
            return torch.rand(len(histories), histories.num_items)

    validate = Validation(columns, split, max_users=40)
    validate(Recorder())
    validate(Recorder())
    assert sum(Recorder.ranked) == 80  # 40 users at each call


def test_a_segment_is_measured_on_its_own_interactions_over_the_same_ranking(monkeypatch):
    monkeypatch.setattr(metrics, "COLD_ITEM_MAX", 1)
    monkeypatch.setattr(metrics, "SHORT_HISTORY_MAX", 2)
    monkeypatch.setattr(metrics, "LONG_HISTORY_MIN", 3)
    # known: item counts 0:2 1:2 2:1 3:0 4:0 5:2, so items 2, 3, 4 are cold; user 0 has a long
    # history (3), users 1 and 2 short ones (2)
    known = sp.csr_matrix(np.array([[1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 1]], np.float32))
    held = sp.csr_matrix(np.array([[0, 0, 0, 1, 0, 1], [0, 0, 0, 1, 1, 0], [1, 0, 0, 0, 0, 0]], np.float32))
    scores = np.array([[0, 0, 0, 1, 2, 3], [0, 9, 8, 7, 6, 0], [9, 0, 8, 7, 6, 0]], np.float32)
    users = held_out_users(held)
    lists = top_k_lists(lambda batch: scores[batch], known, users, 3)
    assert lists.tolist() == [[5, 4, 3], [1, 2, 3], [0, 2, 3]]
    m = segments(lists, users, held, known, k=3)
    ideal2 = 1 + 1 / np.log2(3)
    # cold items: user 0 finds its one cold item (3) at rank 3, not its warm one (5) at rank 1;
    # user 1 finds one of two at rank 3; user 2 has no cold held-out item and is left out
    assert m["cold_items:users"] == 2 and m["cold_items:interactions"] == 3
    assert m["cold_items:ndcg@3"] == pytest.approx((0.5 + 0.5 / ideal2) / 2)
    assert m["cold_items:recall@3"] == pytest.approx((1 + 0.5) / 2)
    overall = evaluate(lambda batch: scores[batch], known, held, ks=(3,))
    assert overall["ndcg@3"] != pytest.approx(m["cold_items:ndcg@3"])
    # short histories: users 1 and 2, all their held-out items
    assert m["short_history:users"] == 2 and m["short_history:interactions"] == 3
    assert m["short_history:ndcg@3"] == pytest.approx((0.5 / ideal2 + 1) / 2)
    assert m["short_history:recall@3"] == pytest.approx((0.5 + 1) / 2)
    # long history: user 0 alone
    assert m["long_history:users"] == 1
    assert m["long_history:ndcg@3"] == pytest.approx((1 + 0.5) / ideal2)
    assert m["long_history:recall@3"] == pytest.approx(1.0)
    monkeypatch.setattr(metrics, "LONG_HISTORY_MIN", 4)
    empty = segments(lists, users, held, known, k=3)
    assert empty["long_history:users"] == 0 and np.isnan(empty["long_history:ndcg@3"])


def test_ease_and_item_knn_sanity():
    x = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]], np.float32))
    weights = ease_weights(x, 0.5).numpy()
    assert np.allclose(np.diag(weights), 0)
    assert (np.array([[1, 0, 0, 0]], np.float32) @ weights)[0].argmax() == 1
    similarity = cosine_neighbours(x, k=1)
    assert similarity[0, 1] == pytest.approx(1.0) and similarity[0, 2] == 0


def test_attention_is_a_distribution_per_destination_and_has_gradients():
    torch.manual_seed(0)
    conv = KnowledgeAttentionConv(8, num_relations=3)
    x = torch.randn(6, 8, requires_grad=True)
    edge_index = torch.tensor([[1, 2, 3, 4, 5, 0, 0], [0, 0, 0, 1, 1, 2, 5]])
    edge_type = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    out, alpha = conv(x, edge_index, edge_type, torch.ones(6, dtype=torch.long))
    assert out.shape == (6, 8) and alpha.shape == (7,)
    # the attended mean is scaled by sqrt(true degree); the attention is not
    scaled, same_alpha = conv(x, edge_index, edge_type, torch.full((6,), 4))
    assert torch.allclose(scaled, 2 * out) and torch.equal(alpha, same_alpha)
    assert ((alpha >= 0) & (alpha <= 1)).all()
    sums = torch.zeros(6).index_add(0, edge_index[1], alpha)
    assert torch.allclose(sums[[0, 1, 2, 5]], torch.ones(4))
    out.sum().backward()
    assert x.grad.abs().sum() > 0 and conv.rel_weight.grad.abs().sum() > 0 and conv.rel_emb.grad.abs().sum() > 0


def test_kgat_trains_resumes_and_scores_edited_histories(columns, tmp_path):
    split = temporal_split(columns)
    train_cols = split.fit_columns(columns, split.train)
    config, options = TrainConfig(seed=1), KGATConfig(epochs=2, dim=16, batch_size=512)
    task = KGATTask(train_cols, options, config)
    result = fit(task, train_cols, None, options, config.seed, checkpoint_dir=tmp_path)
    assert result.epochs_run == 2 and (tmp_path / "last.pt").exists()
    # resuming a finished run with more epochs continues from epoch 2
    more = dataclasses.replace(options, epochs=3)
    task2 = KGATTask(train_cols, more, config)
    resumed = fit(task2, train_cols, None, more, config.seed, checkpoint_dir=tmp_path, resume=True)
    assert resumed.epochs_run == 3 and len(resumed.history) == 3

    frozen = task2.freeze()
    layers, attention = task2.model.propagate_all(task2.graph, max_edges=500)  # chunked == whole
    whole, attention_whole = task2.model.propagate_all(task2.graph)
    assert torch.allclose(layers[-1], whole[-1], atol=1e-5) and torch.allclose(attention, attention_whole, atol=1e-6)
    sums = torch.zeros(task2.graph.num_nodes).index_add(0, task2.graph.edge_index[1], attention)
    has_in = task2.graph.ptr[1:] > task2.graph.ptr[:-1]
    assert torch.allclose(sums[has_in], torch.ones(int(has_in.sum())), atol=1e-5)

    # the history-based user equals the propagated user for the training history
    train = split.matrix(split.train)
    user = 4
    history = train[user].indices

    def score(history: np.ndarray) -> torch.Tensor:  # one user, as KGATRecommender.score does
        return frozen.score_matrix(np.array([0, len(history)]), history)[0]

    scores = score(history)
    rep = torch.stack([x[task2.user_offset + user] for x in frozen.layers]).mean(0)
    assert torch.allclose(scores, frozen.item_representations @ rep, atol=1e-5)
    # deleting an interaction changes the scores without retraining
    edited = score(history[1:])
    assert not torch.allclose(scores, edited)


def test_layer_trimming_gives_the_seeds_the_same_representations_and_gradients(columns):
    task = KGATTask(columns, KGATConfig(dim=16, layers=3, fanouts=(4, 3, 2)), TrainConfig())
    seeds = torch.arange(0, task.graph.num_nodes, 37)
    sub = task.sampler.sample(seeds)
    assert sum(sub.num_sampled_nodes) == len(sub.n_id) and sum(sub.num_sampled_edges) == sub.edge_index.size(1)
    assert int(sub.seed_local.max()) < sub.num_sampled_nodes[0]
    degree = task.degree[sub.n_id]
    runs = []
    for hops in ((), (sub.num_sampled_nodes, sub.num_sampled_edges)):
        task.model.zero_grad()
        rep, _ = task.model(sub.n_id, sub.edge_index, sub.edge_type, degree, *hops)
        rep[sub.seed_local].pow(2).sum().backward()
        runs.append((rep[sub.seed_local].detach(), [p.grad.clone() for p in task.model.parameters()]))
    (full, full_grads), (trimmed, trimmed_grads) = runs
    assert torch.allclose(full, trimmed, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(full_grads, trimmed_grads))


def test_threads_default_to_the_cores_idle_now_not_a_minute_ago(monkeypatch):
    import os

    from kgrec.engine import commands

    cores = os.cpu_count() or 1
    assert 0.0 <= commands._busy_cores(0.2) <= cores + 1e-6  # a real sample of this machine
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 2.0, 2.0))  # the trail of a load that has ended
    monkeypatch.setattr(commands, "_busy_cores", lambda sample_s: 0.1)
    assert commands.idle_cores() == 2
    monkeypatch.setattr(commands, "_busy_cores", lambda sample_s: 1.8)
    assert commands.idle_cores() == 1
    monkeypatch.setattr(commands, "_busy_cores", lambda sample_s: None)  # no /proc: the load average
    assert commands.idle_cores() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert commands.idle_cores() == 2
