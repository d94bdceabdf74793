"""The recommender interface and the published attention model, without a database."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns, columns_from_tabular
from kgrec.engine.data.histories import Histories, histories_from_columns
from kgrec.engine.data.split import interaction_matrix, temporal_split
from kgrec.engine.evaluation.evaluate import fit_data, format_table, run_evaluation
from kgrec.engine.models import MODELS
from kgrec.engine.models.base import FitData, Recommender, create
from kgrec.engine.models import item_graph_attention
from kgrec.engine.models.ease import ease_from_gram, ease_weights, gram_matrix
from kgrec.engine.models.item_item import neighbourhood_ease, sparse_gram_matrix
from kgrec.engine.models.item_graph_attention import ItemGraphAttentionConfig, _initial_theta, _randomized_svd
from kgrec.engine.models.options import UnknownOptionError
from kgrec.engine.neo4j.persist import load_frozen, load_model, save_model
from kgrec.engine.output import EVIDENCE, ranked, strongest_evidence
from kgrec.engine.training.config import DeviceUnavailableError, TrainConfig
from kgrec.loaders import read_dataframes
from kgrec.loaders.synthetic import generate_sample

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def columns() -> GraphColumns:
    return columns_from_tabular(generate_sample(n_users=200, seed=3))


@pytest.fixture(scope="module")
def attention(columns):
    split = temporal_split(columns)
    return create("attention", TrainConfig(seed=0)).fit(fit_data(columns, split)), split


@pytest.fixture(scope="module")
def neighbourhood_attention(columns):
    """The published model with B solved on each item's 16 strongest partners, held sparse."""
    split = temporal_split(columns)
    options = {"item_item": "neighbourhood", "neighbours": "16"}
    return create("attention", TrainConfig(seed=0), options).fit(fit_data(columns, split)), split


def fitted(request, solve: str):
    """The module's attention model whose B is solved ``solve`` (dense or neighbourhood)."""
    model, split = request.getfixturevalue("attention" if solve == "dense" else "neighbourhood_attention")
    assert model.weights.sparse == (solve == "neighbourhood")
    return model, split


def implicit(columns: GraphColumns) -> GraphColumns:
    """The same graph as a plain (user, item) log: no rating, no timestamp, no weight."""
    return GraphColumns(columns.node_ids, columns.edges, {})


@pytest.mark.parametrize("name,options", [("attention", {"dim": 16, "steps": 20}), ("ease", {}), ("ease_recency", {}),
                                          ("item_knn", {}), ("popularity", {}), ("lightgcn", {"epochs": 2, "dim": 16})])
def test_every_model_fits_and_scores_histories(columns, name, options):
    model = create(name, TrainConfig(seed=0), options).fit(fit_data(columns, temporal_split(columns)))
    histories = histories_from_columns(columns, users=np.array([0, 5, 9]))
    scores = model.score(histories)
    assert scores.shape == (3, len(columns.node_ids["Item"])) and torch.isfinite(scores).all()


def test_histories_order_interactions_by_time(columns):
    histories = histories_from_columns(columns)
    ts = columns.edge_attrs[INTERACTION_KEY]["ts"]
    for row in (0, 17, 101):
        part = slice(histories.indptr[row], histories.indptr[row + 1])
        edges = histories.edges[part]
        assert (columns.edges[INTERACTION_KEY][0][edges] == row).all()
        order = np.argsort(histories.recency[part])[::-1]  # oldest first
        assert (np.diff(ts[edges][order]) >= 0).all()
    one = histories.without(3, histories.items[histories.indptr[3]:histories.indptr[3] + 2])
    assert len(one.items) == histories.indptr[4] - histories.indptr[3] - 2


@pytest.mark.parametrize("solve", ["dense", "neighbourhood"])
def test_attention_scores_split_exactly_into_contributions(columns, request, solve):
    model, _ = fitted(request, solve)
    histories = histories_from_columns(columns)
    for row in (2, 40, 150):
        scores = model.score(histories.select(np.array([row])))[0].numpy()
        targets = np.argsort(-scores)[:20]
        parts = model.contributions(histories.select(np.array([row])), targets[None, :])
        assert parts.shape == (histories.indptr[row + 1] - histories.indptr[row], 20)
        assert np.allclose(parts.sum(0), scores[targets], rtol=1e-4, atol=1e-6)


def test_evidence_ranked_for_a_batch_is_each_rows_own_ranking(columns, attention):
    """The write-back ranks the evidence of many users in one sort: per row and target, the
    row's strongest contributions first (ties in history order), -1 past the last and for a
    missing target."""
    model, _ = attention
    histories = histories_from_columns(columns)
    rows = np.array([2, 40, 150, 7])
    batch = histories.select(rows)
    targets, _ = ranked(model, batch, 8)
    targets[1, 5:] = -1
    evidence = strongest_evidence(model, batch, targets)
    items, weights = evidence.items, evidence.weights
    assert items.shape == weights.shape == evidence.interactions.shape == (4, 8, EVIDENCE)
    present = evidence.interactions >= 0
    assert (batch.items[evidence.interactions[present]] == items[present]).all()
    for b, row in enumerate(rows):
        one = histories.select(np.array([row]))
        parts = model.contributions(one, np.maximum(targets[b:b + 1], 0))
        for t in range(8):
            if targets[b, t] < 0:
                assert (items[b, t] == -1).all()
                continue
            order = np.argsort(-parts[:, t], kind="stable")[:EVIDENCE]
            assert items[b, t, :len(order)].tolist() == one.items[order].tolist()
            assert (items[b, t, len(order):] == -1).all()
            assert np.allclose(weights[b, t, :len(order)], parts[order, t])


@pytest.mark.parametrize("solve", ["dense", "neighbourhood"])
@pytest.mark.parametrize("loaded", [False, True])
def test_channels_split_each_contribution_exactly(columns, request, solve, loaded, tmp_path):
    """Collaborative + knowledge = the contribution, the named links are the largest parts of the
    knowledge term, each one the closed form of its (relation, entity) path; the same for the
    model the API loads from its checkpoint (no dense messages, no graph)."""
    model, _ = fitted(request, solve)
    if loaded:
        model = load_frozen(save_model(tmp_path / "m.pt", model, columns, "v1"), models_root=tmp_path).model
    batch = histories_from_columns(columns).select(np.array([2, 40, 150]))
    targets, _ = ranked(model, batch, 10)
    evidence = strongest_evidence(model, batch, targets)
    channels, present = evidence.channels, evidence.items >= 0
    assert np.allclose((channels.collaborative + channels.knowledge)[present], evidence.weights[present],
                       rtol=1e-4, atol=1e-7)
    links = model.channels(batch, targets, evidence.interactions, links=3).link_part
    assert (links[..., 0] >= links[..., 1]).all() and (links[..., 1] >= links[..., 2]).all()
    assert (links.sum(-1) <= channels.knowledge + 1e-9).all()
    assert (channels.link_relation[present][:, 0] >= 0).any(), "the sample's items share genres and tags"
    # one link by hand: alpha x gamma_r / (sqrt(d_r(i)) d(e) sqrt(d_r(j)))
    row, target, position = np.argwhere(present & (channels.link_relation[..., 0] >= 0))[0]
    r, e = channels.link_relation[row, target, position, 0], channels.link_entity[row, target, position, 0]
    items, entities, _, entity_degree, _ = model._links[r]
    evidence_item, target_item = evidence.items[row, target, position], targets[row, target]
    alpha = model._alpha(batch, model.theta).numpy()[evidence.interactions[row, target, position]]
    gamma = float(model.theta[5 + r].exp())
    degree = np.bincount(items, minlength=len(columns.node_ids["Item"]))
    expected = alpha * gamma / (np.sqrt(degree[evidence_item]) * entity_degree[e] * np.sqrt(degree[target_item]))
    assert np.isclose(channels.link_part[row, target, position, 0], expected, rtol=1e-4)
    relation = model.relations[r]
    ends = columns.edges[relation]
    assert ((ends[0] == target_item) & (ends[1] == e)).any() and ((ends[0] == evidence_item) & (ends[1] == e)).any()
    assert channels.entity_ids[r][e] == columns.node_ids[relation[2]][e]


def test_attention_is_a_distribution_per_user_and_per_item(columns, attention):
    model, _ = attention
    values = model.attention(columns, histories_from_columns(columns))
    users, _ = columns.edges[INTERACTION_KEY]
    per_user = np.bincount(users, weights=values[INTERACTION_KEY])
    assert np.allclose(per_user[np.bincount(users) > 0], 1.0, atol=1e-5)
    knowledge = [key for key in values if key != INTERACTION_KEY]
    assert {key[1] for key in knowledge} == {"IN_CATEGORY", "DIRECTED_BY", "HAS_TAG"}
    per_item = np.zeros(len(columns.node_ids["Item"]))
    for key in knowledge:
        assert ((values[key] >= 0) & (values[key] <= 1)).all()
        np.add.at(per_item, columns.edges[key][0], values[key])
    assert np.allclose(per_item[per_item > 0], 1.0, atol=1e-5)


def _walks(time_ordered: bool, users: int = 150, items: int = 60, steps: int = 25) -> GraphColumns:
    """Users walking along a ring of items one or two steps at a time: the latest interaction
    tells the next one, older ones tell less. With the timestamps shuffled, order tells nothing."""
    rng = np.random.default_rng(0)
    rows = []
    for user in range(users):
        item, seen = int(rng.integers(items)), set()
        times = np.arange(steps) if time_ordered else rng.permutation(steps)
        for ts in times:
            while item in seen:
                item = (item + 1) % items
            seen.add(item)
            rows.append((f"u{user}", f"i{item}", int(ts)))
            item = (item + 1 + int(rng.integers(2))) % items
    return columns_from_tabular(read_dataframes(interactions=pd.DataFrame(rows, columns=["user_id", "item_id", "ts"])))


def _recency_preference(model, columns: GraphColumns, theta: torch.Tensor) -> float:
    """Mean attention on each user's newest interaction over that on those 10 or more back."""
    histories = histories_from_columns(columns)
    alpha = model._alpha(histories, theta).numpy()
    return float(alpha[histories.recency == 0].mean() / alpha[histories.recency >= 10].mean())


def test_attention_learns_to_favour_recent_interactions():
    """Where order matters, the fitted attention weighs the newest interaction far more than its
    starting point does (about 4x); where it does not (the same walks, time shuffled), it learns
    a flatter curve than it started with. Both fail for a model that does not learn its curve."""
    preference = {}
    for time_ordered in (True, False):
        columns = _walks(time_ordered)
        model = create("attention", TrainConfig(seed=0)).fit(fit_data(columns, temporal_split(columns)))
        initial = _recency_preference(model, columns, _initial_theta(len(model.relations)))
        preference[time_ordered] = _recency_preference(model, columns, model.theta) / initial
    assert preference[True] > 10, preference
    assert preference[False] < 1, preference


@pytest.mark.parametrize("solve", ["dense", "neighbourhood"])
def test_attention_model_round_trips_through_a_safe_file(columns, request, solve, tmp_path):
    model, _ = fitted(request, solve)
    path = save_model(tmp_path / "m.pt", model, columns, "v1")
    loaded = load_model(path, columns, models_root=tmp_path)
    histories = histories_from_columns(columns, users=np.arange(10))
    assert torch.allclose(loaded.score(histories), model.score(histories), atol=1e-6)
    assert loaded.weights.sparse == model.weights.sparse
    assert torch.equal(loaded.weights.to_dense(), model.weights.to_dense())
    saved = torch.load(path, weights_only=True)
    assert saved["name"] == "attention"
    if solve == "neighbourhood":  # the checkpoint keeps B's non-zeros, not items x items
        assert len(saved["state"]["weights"]["data"]) == model.weights.matrix.nnz == 16 * model.weights.n_items


@pytest.mark.parametrize("solve", ["dense", "neighbourhood"])
def test_embedding_factors_are_the_whole_messages_factorised(columns, request, solve):
    """P Q^T is the items' whole messages B + K (full rank here: dim exceeds the catalogue),
    and a lower rank keeps their largest singular values, whether B is held dense or sparse."""
    model, _ = fitted(request, solve)
    messages = (model.weights.to_dense() + model._knowledge_messages(model.theta)).double()
    sources, targets = model._factors()
    assert sources.shape[1] == messages.shape[0] <= model.options.dim
    assert torch.allclose((sources @ targets.T).double(), messages, atol=1e-4 * messages.abs().max())
    rank = 8
    _, values, _ = _randomized_svd(lambda x, t: (messages.T if t else messages).float() @ x, messages.shape[0],
                                   rank, torch.Generator().manual_seed(0))
    exact = torch.linalg.svdvals(messages)[:rank]
    # a projection's singular values never exceed the matrix's; the leading ones converge first
    assert (values.double() <= exact * (1 + 1e-5)).all() and (values.double() >= 0.95 * exact).all()
    assert torch.allclose(values[:2].double(), exact[:2], rtol=1e-3)


def test_a_checkpoint_outside_the_models_folder_is_refused(columns, attention, tmp_path):
    from kgrec.engine.neo4j.persist import ModelNotAvailableError

    model, _ = attention
    path = save_model(tmp_path / "elsewhere" / "m.pt", model, columns, "v1")
    with pytest.raises(ModelNotAvailableError, match="outside the models folder"):
        load_model(path, columns, models_root=tmp_path / "models")


def test_attention_model_trains_on_an_implicit_log(columns):
    plain = implicit(columns)
    model = create("attention", TrainConfig(seed=0)).fit(fit_data(plain, temporal_split(plain)))
    histories = histories_from_columns(plain, users=np.array([1, 2]))
    assert np.isnan(histories.rating).all()
    assert torch.isfinite(model.score(histories)).all()


def test_fit_is_stable_and_seeded(columns):
    runs = [create("attention", TrainConfig(seed=4)).fit(fit_data(columns, temporal_split(columns))).theta
            for _ in range(2)]
    assert torch.equal(runs[0], runs[1]) and torch.isfinite(runs[0]).all()


class LeastPopular(Recommender):
    """A tiny model for the interface test: the least popular items first."""

    name = "tiny"

    def fit(self, data: FitData) -> "LeastPopular":
        self.counts = np.asarray(interaction_matrix(data.refit or data.columns).sum(0)).ravel()
        return self

    def score(self, histories: Histories) -> torch.Tensor:
        return torch.from_numpy(np.tile(-self.counts.astype(np.float32), (len(histories), 1)))


def test_a_registered_model_appears_in_the_evaluation_table(columns, monkeypatch):
    monkeypatch.setitem(MODELS, "tiny", LeastPopular)
    results = run_evaluation(columns, TrainConfig(), ks=(20,), methods=("tiny", "popularity"))
    assert set(results) == {"tiny", "popularity"}
    assert results["tiny"]["ndcg@20"] < results["popularity"]["ndcg@20"]
    assert "diversity@20" in results["tiny"] and "novelty@20" in results["tiny"]
    assert results["tiny"]["cold_items:users"] > 0
    assert results["tiny"]["cold_items:ndcg@20"] != results["popularity"]["cold_items:ndcg@20"]
    table = format_table(results, (20,)).splitlines()
    assert any(line.startswith("tiny") and line.count(" / ") == 2 for line in table[table.index(
        "segments, NDCG@20 / Recall@20:"):])


# -- the fast paths of fitting give what the direct computations give ------------------------


def test_the_gram_matrix_per_user_block_is_the_whole_product(columns):
    matrix = interaction_matrix(columns)
    whole = (matrix.T @ matrix).toarray()
    for block in (7, 4096):
        assert np.array_equal(gram_matrix(matrix, users_per_block=block).numpy(), whole)
        sparse = sparse_gram_matrix(matrix, items_per_block=block)
        assert sparse.has_sorted_indices and np.array_equal(sparse.toarray(), whole)


@pytest.mark.parametrize("lambda_reg", ItemGraphAttentionConfig().lambdas)
def test_item_weights_of_the_lambda_grid_are_the_direct_inverse(columns, lambda_reg):
    """One Gram matrix serves the whole grid: each penalty's B is the textbook float64 formula."""
    matrix = interaction_matrix(columns)
    gram = gram_matrix(matrix)
    kept = gram.clone()
    weights = ease_from_gram(gram, lambda_reg)
    assert torch.equal(gram, kept) and weights.is_contiguous()
    p = np.linalg.inv((matrix.T @ matrix).toarray().astype(np.float64) + lambda_reg * np.eye(matrix.shape[1]))
    direct = p / -np.diag(p)
    np.fill_diagonal(direct, 0.0)
    assert np.allclose(weights.numpy(), direct, rtol=1e-3, atol=1e-6 * np.abs(direct).max())
    assert torch.equal(ease_weights(matrix, lambda_reg), weights)


def test_neighbourhood_weights_are_ease_with_every_partner_and_a_ridge_on_the_strongest_with_fewer(columns):
    """The neighbourhood solve is EASE exactly when every other item is a partner; with k
    partners each column has at most k non-zeros, its own diagonal 0, and is the float64 ridge
    regression of the item on its k largest co-occurrences."""
    matrix = interaction_matrix(columns)
    gram, sparse = gram_matrix(matrix), sparse_gram_matrix(matrix)
    n_items, lambdas = gram.shape[0], (100.0, 1000.0)
    for whole, lambda_reg in zip(neighbourhood_ease(sparse, lambdas, n_items, items_per_block=37), lambdas):
        dense = ease_from_gram(gram, lambda_reg)
        assert torch.allclose(torch.from_numpy(whole.toarray()), dense, rtol=1e-3, atol=1e-5 * dense.abs().max())
    k = 10
    g = gram.numpy().astype(np.float64)
    for solved, lambda_reg in zip(neighbourhood_ease(sparse, lambdas, k, items_per_block=37), lambdas):
        assert (solved.getnnz(axis=0) == k).all()
        weights = solved.toarray()
        assert (np.diag(weights) == 0).all()
        for j in (0, 17, n_items - 1):
            counts = g[:, j].copy()
            counts[j] = -1
            partners = solved[:, j].nonzero()[0]
            assert counts[partners].min() >= np.sort(counts)[-k]
            ridge = np.linalg.solve(g[np.ix_(partners, partners)] + lambda_reg * np.eye(k), g[partners, j])
            assert np.allclose(weights[partners, j], ridge, rtol=1e-3, atol=1e-6)


def test_attention_with_neighbourhood_weights_splits_scores_exactly_and_auto_follows_the_catalogue_size(
        columns, monkeypatch):
    split = temporal_split(columns)
    options = {"dim": 16, "steps": 20, "lambdas": "100", "knowledge_shares": "0.1", "taus": "", "floors": ""}
    assert create("attention", TrainConfig(seed=0), options).fit(
        fit_data(columns, split)).params["item_item_solve"] == "dense"
    monkeypatch.setattr(item_graph_attention, "DENSE_ITEMS_MAX", 100)  # this catalogue has more
    model = create("attention", TrainConfig(seed=0), {**options, "neighbours": "8"}).fit(fit_data(columns, split))
    assert model.params["item_item_solve"] == "neighbourhood"
    assert model.weights.sparse and (model.weights.matrix.getnnz(axis=0) == 8).all()
    dense, sources, targets = model.weights.to_dense(), torch.tensor([0, 5, 5, 9, 120]), torch.tensor([3, 0, 7, 120])
    assert dense.count_nonzero() > 0
    assert torch.equal(model.weights.block(sources, targets), dense[sources[:, None], targets[None, :]])
    pairs = model.weights.matrix.nonzero()
    assert np.array_equal(model.weights.pairs(pairs[0], pairs[1]), dense.numpy()[pairs].astype(np.float64))
    histories = histories_from_columns(columns)
    for row in (2, 40):
        one = histories.select(np.array([row]))
        scores = model.score(one)[0].numpy()
        targets = np.argsort(-scores)[:20]
        parts = model.contributions(one, targets[None, :])
        assert np.allclose(parts.sum(0), scores[targets], rtol=1e-4, atol=1e-6)
    with pytest.raises(UnknownOptionError, match="item_item='sparse'"):
        create("attention", TrainConfig(seed=0), {"item_item": "sparse"})


def _dense_scores(model, histories: Histories, theta: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """The attention model's scores as first written: dense knowledge factors ``left`` (items x
    entities) and ``right`` (entities x items), a dense attention matrix."""
    n_items = histories.num_items
    alpha = model._alpha(histories, theta)
    dense = torch.zeros(len(histories), n_items).index_put(
        (torch.from_numpy(histories.row_of()), torch.from_numpy(histories.items)), alpha, accumulate=True)
    scores = dense @ model.weights.to_dense()[:, columns]
    for gamma, (items, entities, item_norm, entity_degree, _) in zip(theta[5:].exp(), model._links):
        links = np.zeros((n_items, len(entity_degree)), np.float32)
        links[items, entities] = 1.0
        left = torch.from_numpy(links * item_norm[:, None] / np.maximum(entity_degree, 1.0)[None, :])
        right = torch.from_numpy((links * item_norm[:, None]).T.copy())
        scores = scores + gamma * (dense @ left) @ right[:, columns]
    return scores


def test_sparse_scores_and_their_gradient_are_the_dense_ones(columns, attention):
    """What the Adam steps see (scores of some items, and the gradient to the attention's
    parameters) and what ranking sees (every item) are the dense computation's."""
    model, _ = attention
    histories = histories_from_columns(columns).select(np.arange(0, 200, 3))
    some = torch.from_numpy(np.random.default_rng(0).choice(histories.num_items, 40, replace=False))
    every = torch.arange(histories.num_items)
    theta = model.theta.clone().requires_grad_(True)
    fast = model._scores(histories, theta, some)
    (fast ** 2).sum().backward()
    fast_grad, theta.grad = theta.grad.clone(), None
    dense = _dense_scores(model, histories, theta, some)
    (dense ** 2).sum().backward()
    assert torch.allclose(fast, dense, rtol=1e-4, atol=1e-6) and torch.allclose(fast_grad, theta.grad, rtol=1e-3)
    with torch.no_grad():
        assert torch.allclose(model.score(histories), _dense_scores(model, histories, model.theta, every),
                              rtol=1e-4, atol=1e-6)


def test_the_device_is_the_configured_one_and_a_missing_gpu_is_one_message(columns, monkeypatch):
    model = create("attention", TrainConfig(seed=0, device="cpu")).fit(fit_data(columns, temporal_split(columns)))
    assert model.weights.matrix.device.type == "cpu" and all(hop.left.device.type == "cpu" for hop in model.hops)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert TrainConfig(device="auto").resolved_device().type == "cpu"
    with pytest.raises(DeviceUnavailableError, match="--device cuda: no CUDA GPU available.*--device cpu"):
        TrainConfig(device="cuda").resolved_device()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("progress", [True, False])
def test_fitting_shows_its_progress_on_a_terminal_only_when_asked(columns, monkeypatch, progress):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    data = fit_data(columns, temporal_split(columns))
    data.progress = progress
    create("attention", TrainConfig(seed=0)).fit(data)
    shown = terminal.getvalue()
    if progress:
        assert f"attention: learning:   0%|          | 0/{ItemGraphAttentionConfig().steps}" in shown  # then redrawn, and cleared at the end
        assert "attention: choosing lambda, knowledge share and shape:" in shown
    else:
        assert shown == ""


# -- the time-aware baselines and LightGCN: fitted on train, chosen on validation, refitted -------


class RecordingFit:
    """A FitData on ``columns``' temporal split whose validation callback records, per call, the
    score and what the model was then (via ``look``)."""

    def __init__(self, columns: GraphColumns, look=lambda model: None):
        self.split = temporal_split(columns)
        real = fit_data(columns, self.split)
        self.calls: list[tuple[float, object]] = []

        def validate(model):
            score = real.validate(model)
            self.calls.append((score, look(model)))
            return score

        self.data = FitData(real.columns, validate=validate, refit=real.refit)

    def interactions(self, which: str) -> int:
        return int(getattr(self.split, which).sum())


def test_ease_recency_chooses_on_validation_then_refits_on_train_and_validation(columns):
    from kgrec.engine.models.ease_recency import EASERecencyConfig

    grid = EASERecencyConfig().grid
    record = RecordingFit(columns, look=lambda model: ((model.lambda_reg, model.tau, model.floor),
                                                       model.weights.to_dense().clone()))
    model = create("ease_recency", TrainConfig()).fit(record.data)
    assert [option for _, (option, _) in record.calls] == list(grid)
    best_score, (best, _) = max(record.calls, key=lambda call: call[0])
    assert (model.params["lambda"], model.params["tau"], model.params["floor"]) == best
    # validated with B fitted on train alone, scored with B refitted on train + validation
    train = interaction_matrix(record.data.columns)
    for _, ((lambda_reg, _, _), weights) in record.calls[::len(grid) // 6]:
        assert torch.allclose(weights, ease_weights(train, lambda_reg), atol=1e-5)
    refit = interaction_matrix(record.data.refit)
    assert refit.nnz == record.interactions("train") + record.interactions("val") > train.nnz
    assert torch.allclose(model.weights.to_dense(), ease_weights(refit, model.params["lambda"]), atol=1e-5)


def test_ease_recency_weighs_the_latest_interactions_and_its_contributions_sum_to_its_scores(columns):
    model = create("ease_recency", TrainConfig()).fit(fit_data(columns, temporal_split(columns)))
    histories = histories_from_columns(columns)
    batch = histories.select(np.array([3, 60, 170]))
    scores = model.score(batch).numpy()
    targets = np.argsort(-scores, axis=1)[:, :15]
    parts = model.contributions(batch, targets)
    assert parts.shape == (len(batch.items), 15)
    sums = np.zeros((3, 15))
    np.add.at(sums, batch.row_of(), parts)
    assert np.allclose(sums, np.take_along_axis(scores, targets, 1), rtol=1e-4, atol=1e-6)
    # the same items, their timeline reversed: other weights, other scores
    reversed_ = batch.select(np.array([0]))
    reversed_.recency = reversed_.recency.max() - reversed_.recency
    assert not np.allclose(model.score(reversed_).numpy()[0], scores[0])


def test_sasrec_early_stops_on_validation_refits_and_scores_any_history(columns, monkeypatch):
    from kgrec.engine.data.histories import history_of
    from kgrec.engine.models import sasrec

    trained = []
    train_once = sasrec.SASRec._train

    def spy(self, histories, epochs, validate=None):
        trained.append((len(histories.items), epochs))
        return train_once(self, histories, epochs, validate)

    monkeypatch.setattr(sasrec.SASRec, "_train", spy)
    record = RecordingFit(columns)
    model = create("sasrec", TrainConfig(seed=0), {"max_epochs": 300}).fit(record.data)
    scores = [score for score, _ in record.calls]
    best = int(np.argmax(scores))
    assert model.params["best_epoch"] == (best + 1) * model.options.eval_every
    assert model.params["val_ndcg@20"] == scores[best]
    # stopped after the patience ran out, far before the cap
    assert len(scores) == best + 1 + model.options.patience
    assert model.params["epochs_run"] < 300
    # trained on train, then refitted on train + validation for the best epoch count
    assert trained == [(record.interactions("train"), 300),
                       (record.interactions("train") + record.interactions("val"), model.params["best_epoch"])]
    # a user is their history: an unknown user with user 5's timeline scores as user 5
    histories = histories_from_columns(record.data.refit)
    known = histories.select(np.array([5]))
    order = np.argsort(-known.recency)  # oldest first, with increasing timestamps
    stranger = history_of(known.items[order], np.arange(len(order), dtype=np.float64), known.rating[order],
                          known.num_items)
    assert stranger.users[0] == -1
    assert torch.allclose(model.score(stranger), model.score(known), atol=1e-5)
    assert torch.isfinite(model.score(stranger)).all() and model.score(stranger).std() > 0
    # the order matters: the same items in another order score otherwise
    shuffled = history_of(known.items[order][::-1].copy(), np.arange(len(order), dtype=np.float64),
                          known.rating[order], known.num_items)
    assert not torch.allclose(model.score(shuffled), model.score(known), atol=1e-3)
    # nobody: zero everywhere
    assert (model.score(history_of(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), known.num_items)) == 0).all()


def test_sasrec_trains_on_an_implicit_log_with_sampled_negatives(columns):
    plain = implicit(columns)
    model = create("sasrec", TrainConfig(seed=0), {"max_epochs": 3, "negatives": 20}).fit(
        fit_data(plain, temporal_split(plain)))
    assert model.params["best_epoch"] == 3
    assert torch.isfinite(model.score(histories_from_columns(plain, users=np.array([1, 2])))).all()


def test_lightgcn_is_refitted_on_train_and_validation_for_the_chosen_epochs(columns, monkeypatch):
    from kgrec.engine.models import lightgcn

    tasks = []
    build = lightgcn.LightGCNTask.__init__

    def spy(self, graph, options, config):
        build(self, graph, options, config)
        tasks.append((self, len(graph.edges[INTERACTION_KEY][0])))

    monkeypatch.setattr(lightgcn.LightGCNTask, "__init__", spy)
    record = RecordingFit(columns)
    model = create("lightgcn", TrainConfig(seed=0), {"epochs": 4, "dim": 16}).fit(record.data)
    assert len(record.calls) == 4  # one validation per epoch of the first fit, none in the refit
    assert [n for _, n in tasks] == [record.interactions("train"),
                                     record.interactions("train") + record.interactions("val")]
    assert model.params["refit_epochs"] == model.params["best_epoch"] >= 1
    # the vectors scored are the refitted ones: their propagation ran over the validation edges
    users, items = tasks[-1][0].embeddings()
    assert torch.equal(model.users, users) and torch.equal(model.items, items)
    edges = set(zip(*(tasks[-1][0].edge_index.numpy())))
    num_users = tasks[-1][0].num_users
    val_users, val_items = record.split.users[record.split.val], record.split.items[record.split.val]
    assert all((u, i + num_users) in edges for u, i in zip(val_users, val_items))


def test_attention_shape_is_chosen_on_validation_among_the_learned_and_the_grid(columns):
    """Validation NDCG decides the fading and floor (the learned pair is one candidate), at each
    penalty's best knowledge share; the model keeps the winner and its scores still split exactly."""
    options = {"steps": 10, "dim": 8, "lambdas": (100.0, 300.0), "taus": (2.0, 50.0), "floors": (0.2,)}
    record = RecordingFit(columns, look=lambda model: (
        model.weights.to_dense().clone(), model.attention_parameters()["tau"], model.attention_parameters()["floor"]))
    model = create("attention", TrainConfig(seed=0), options).fit(record.data)
    learned = tuple(model.params["learned_shape"])
    shapes = {(round(tau, 4), round(floor, 4)) for _, (_, tau, floor) in record.calls}
    expected = {(round(tau, 4), round(floor, 4)) for tau in (learned[0], 2.0, 50.0) for floor in (learned[1], 0.2)}
    assert shapes == expected
    best_score, (_, tau, floor) = max(record.calls, key=lambda call: call[0])
    assert model.params["val_ndcg@20"] == best_score
    assert (model.params["tau"], model.params["floor"]) == pytest.approx((tau, floor), rel=1e-4)
    histories = histories_from_columns(columns)
    scores = model.score(histories.select(np.array([7])))[0].numpy()
    targets = np.argsort(-scores)[:20]
    parts = model.contributions(histories.select(np.array([7])), targets[None, :])
    assert np.allclose(parts.sum(0), scores[targets], rtol=1e-4, atol=1e-6)


def test_an_item_added_to_a_sparse_model_scores_through_its_links_alone(columns, neighbourhood_attention, tmp_path):
    """A new item joins a sparse B with an empty row and column; it is scored for a user who
    interacted with an item linked like it, and its score is still the sum of the contributions."""
    model, _ = neighbourhood_attention
    model = load_model(save_model(tmp_path / "m.pt", model, columns, "v1"), columns, models_root=tmp_path)
    twin, n_items = 30, model.weights.n_items
    links = [(r, int(e)) for r, (items, entities, *_) in enumerate(model._links) for e in entities[items == twin]]
    model.add_items([links])
    assert model.weights.sparse and model.weights.n_items == n_items + 1
    assert model.weights.matrix[:, n_items].nnz == 0 and model.weights.matrix[n_items].nnz == 0
    histories = histories_from_columns(columns)
    row = int(histories.row_of()[np.flatnonzero(histories.items == twin)[0]])
    one = histories.select(np.array([row]))
    scores = model.score(one)[0].numpy()
    assert scores.shape == (n_items + 1,) and scores[n_items] > 0
    parts = model.contributions(one, np.array([[n_items]]))
    assert np.isclose(parts.sum(), scores[n_items], rtol=1e-4)
