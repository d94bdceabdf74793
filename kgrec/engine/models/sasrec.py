"""SASRec (Kang & McAuley, ICDM 2018): the self-attentive sequential baseline."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from kgrec.engine.data.histories import Histories, histories_from_columns
from kgrec.engine.models.base import FitData, Recommender
from kgrec.engine.training.config import TrainConfig
from kgrec.engine.training.train import seed_everything

log = logging.getLogger(__name__)

@dataclass
class SASRecConfig:
    """The options of :class:`SASRec`.

    Attributes:
        dim, blocks, heads, max_len, dropout: the architecture: embedding width, self-attention
            blocks, heads, longest sequence read (the latest interactions of a longer history),
            dropout.
        lr, batch_size, max_epochs, eval_every, patience: training: Adam's step, sequences per
            batch, the cap on epochs, validation every so many epochs, and how many validations
            without improvement stop it.
        negatives: items drawn uniformly per batch as the softmax's negatives (0: the whole
            catalogue, as chosen: on ml-latest-small 1,024 drawn items were faster per epoch but
            needed more epochs and ranked worse, see bench/RESULTS.md).
        default_epochs: without a validation split, this many epochs.
    """

    dim: int = 64
    blocks: int = 2
    heads: int = 2
    max_len: int = 200
    dropout: float = 0.2
    lr: float = 3e-3
    batch_size: int = 16
    max_epochs: int = 60
    eval_every: int = 3
    patience: int = 3
    negatives: int = 0
    default_epochs: int = 30


@dataclass
class Sequences:
    """Left-padded item sequences (item index + 1; 0 is padding), oldest first."""

    inputs: torch.Tensor
    targets: torch.Tensor


def timelines(histories: Histories) -> list[np.ndarray]:
    """Each row's items, oldest first (by ``recency``: the stored order when untimed)."""
    order = np.lexsort((-histories.recency, histories.row_of()))
    items = histories.items[order]
    return [items[histories.indptr[row]:histories.indptr[row + 1]] for row in range(len(histories))]


def training_sequences(histories: Histories, max_len: int) -> Sequences:
    """Next-item training pairs of every timeline, as in the paper: one sequence per user, the
    latest ``max_len`` + 1 interactions, each target the item after its input."""
    inputs, targets = [], []
    for items in timelines(histories):
        if len(items) < 2:
            continue
        window = items[-max_len - 1:] + 1
        pad = max_len - (len(window) - 1)
        inputs.append(np.concatenate([np.zeros(pad, np.int64), window[:-1]]))
        targets.append(np.concatenate([np.zeros(pad, np.int64), window[1:]]))
    if not inputs:
        return Sequences(torch.zeros(0, max_len, dtype=torch.long), torch.zeros(0, max_len, dtype=torch.long))
    return Sequences(torch.from_numpy(np.stack(inputs)), torch.from_numpy(np.stack(targets)))


def latest_sequences(histories: Histories, max_len: int) -> torch.Tensor:
    """Each row's latest ``max_len`` items, left-padded (item index + 1; 0 is padding)."""
    rows = np.zeros((len(histories), max_len), np.int64)
    for row, items in enumerate(timelines(histories)):
        latest = items[-max_len:] + 1
        if len(latest):
            rows[row, -len(latest):] = latest
    return torch.from_numpy(rows)


class SASRecNetwork(nn.Module):
    r"""The self-attentive sequence encoder.

    :math:`h^0_t = \sqrt{d}\,E_{s_t} + P_t` (item and learned position embeddings, dropout), then
    ``blocks`` pre-norm Transformer blocks with causal self-attention (position :math:`t` sees
    :math:`s_1..s_t` only; padding is never attended to) and a point-wise feed-forward of width
    :math:`d`, then a layer norm. The score of item :math:`j` after :math:`s_1..s_t` is
    :math:`h_t \cdot E_j` (the item embeddings are shared between input and output).

    Args:
        num_items: catalogue size (embedding row 0 is padding).
        dim: :math:`d`.
        blocks: self-attention blocks.
        heads: attention heads per block.
        max_len: positions.
        dropout: on embeddings, attention and feed-forward.
    """

    def __init__(self, num_items: int, dim: int, blocks: int, heads: int, max_len: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.items = nn.Embedding(num_items + 1, dim, padding_idx=0)
        self.positions = nn.Embedding(max_len, dim)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.items.weight, std=self.items.embedding_dim ** -0.5)
        with torch.no_grad():
            self.items.weight[0].zero_()
        nn.init.normal_(self.positions.weight, std=0.02)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """(batch x length x dim) hidden states of left-padded ``sequences`` (batch x length, at
        most ``max_len``: the last ``length`` positions, so the latest item is always at the last
        one and a batch of short sequences costs no more than their length)."""
        batch, length = sequences.shape
        positions = torch.arange(self.positions.num_embeddings - length, self.positions.num_embeddings,
                                 device=sequences.device)
        hidden = self.items(sequences) * self.items.embedding_dim ** 0.5 + self.positions(positions)
        hidden = self.dropout(hidden * (sequences > 0).unsqueeze(-1))
        # causal, and no padded key; a padded query sees itself only (its output is never used),
        # so that no row of the attention is empty
        blocked = torch.triu(torch.ones(length, length, dtype=torch.bool, device=sequences.device), 1)
        blocked = blocked.unsqueeze(0) | (sequences == 0).unsqueeze(1)
        blocked &= ~torch.eye(length, dtype=torch.bool, device=sequences.device)
        mask = torch.zeros(blocked.shape, device=sequences.device).masked_fill(blocked, -torch.inf)
        hidden = self.encoder(hidden, mask=mask.repeat_interleave(self.heads, 0))
        return self.norm(hidden)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every item (not the padding row) for each hidden state (... x dim)."""
        return hidden @ self.items.weight[1:].T


class SASRec(Recommender):
    r"""SASRec trained with a full softmax: at every position of a training sequence,
    cross-entropy of the next item over the whole catalogue (or, with :attr:`SASRecConfig.negatives`,
    over the target and that many items drawn uniformly per batch); :class:`SASRecNetwork` for
    the network. Adam, :attr:`SASRecConfig.lr`, batches of :attr:`SASRecConfig.batch_size` sequences of similar
    length.

    Fitting trains on the train interactions (one sequence per user, the latest
    :attr:`SASRecConfig.max_len` + 1, as in the paper), validates NDCG@20 every
    :attr:`SASRecConfig.eval_every` epochs, stops after :attr:`SASRecConfig.patience` validations without
    improvement or at :attr:`SASRecConfig.max_epochs`, keeps the best weights, then (as every other
    model refits on train + validation) trains a fresh network from the same seed on
    ``data.refit`` for the best epoch count. A user is scored from their history alone, its
    latest :attr:`SASRecConfig.max_len` interactions in timeline order (the stored order when the log
    has no timestamps), so a user the training graph never had is scored like any other. Reads
    ``seed`` and ``device`` of the config.
    """

    name = "sasrec"

    options_class = SASRecConfig

    def __init__(self, options: SASRecConfig, config: TrainConfig):
        super().__init__(options, config)
        self.device = config.resolved_device()

    def _train(self, histories: Histories, epochs: int, validate=None) -> tuple[int, float, list]:
        """Train a fresh network on ``histories``' timelines for up to ``epochs``; with
        ``validate``, keep the best validated weights. Returns (best epoch, best score, history)."""
        seed_everything(self.config.seed)
        options = self.options
        self.network = SASRecNetwork(histories.num_items, options.dim, options.blocks, options.heads, options.max_len,
                                     options.dropout).to(self.device)
        data = training_sequences(histories, self.options.max_len)
        # batches of sequences of similar length (shuffled batch by batch), each cut to its longest
        lengths = (data.inputs > 0).sum(1)
        batches = torch.argsort(lengths, stable=True).split(self.options.batch_size)
        optimizer = torch.optim.Adam(self.network.parameters(), lr=self.options.lr, betas=(0.9, 0.98))
        generator = torch.Generator().manual_seed(self.config.seed)
        best_epoch, best_score, best_state, trace, stale = epochs, -1.0, None, [], 0
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            self.network.train()
            total = 0.0
            for order in torch.randperm(len(batches), generator=generator).tolist():
                batch = batches[order]
                length = int(lengths[batch].max())
                inputs = data.inputs[batch, -length:].to(self.device)
                targets = data.targets[batch, -length:].to(self.device)
                present = targets > 0
                loss = self._loss(self.network(inputs)[present], targets[present] - 1, generator)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item()
            if validate is None or (epoch % self.options.eval_every and epoch < epochs):
                continue
            self.network.eval()
            score = validate()
            trace.append({"epoch": epoch, "loss": total, "val_ndcg@20": score,
                          "seconds": time.perf_counter() - started})
            log.info("sasrec epoch %d  loss %.2f  val NDCG@20 %.4f", epoch, total, score)
            if score > best_score:
                best_epoch, best_score, stale = epoch, score, 0
                best_state = {k: v.detach().clone() for k, v in self.network.state_dict().items()}
            else:
                stale += 1
                if stale >= self.options.patience:
                    break
        if best_state is not None:
            self.network.load_state_dict(best_state)
        self.network.eval()
        return best_epoch, best_score, trace

    def _loss(self, hidden: torch.Tensor, targets: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Cross-entropy of the next items ``targets`` after ``hidden``: over the whole catalogue,
        or over the target and :attr:`SASRecConfig.negatives` items drawn uniformly for the batch (a
        drawn item that is the target is left out of that row)."""
        num_items = self.network.items.num_embeddings - 1
        if not self.options.negatives or self.options.negatives >= num_items:
            return nn.functional.cross_entropy(self.network.logits(hidden), targets)
        drawn = torch.randint(num_items, (self.options.negatives,), generator=generator).to(hidden.device)
        table = self.network.items.weight[1:]
        positive = (hidden * table[targets]).sum(-1, keepdim=True)
        negative = (hidden @ table[drawn].T).masked_fill(drawn[None, :] == targets[:, None], -torch.inf)
        logits = torch.cat([positive, negative], 1)
        return nn.functional.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.long, device=hidden.device))

    def fit(self, data: FitData) -> "SASRec":
        train = histories_from_columns(data.columns)
        if data.validate is None:
            self._train(train, self.options.default_epochs)
            self.params = {"epochs": self.options.default_epochs}
            return self
        best_epoch, best_score, trace = self._train(train, self.options.max_epochs, lambda: data.validate(self))
        self.params = {"best_epoch": best_epoch, "val_ndcg@20": best_score, "epochs_run": trace[-1]["epoch"]}
        if data.refit is not None:
            self._train(histories_from_columns(data.refit), best_epoch)
            self.params["refit_epochs"] = best_epoch
        return self

    @torch.no_grad()
    def score(self, histories: Histories, batch_size: int = 256) -> torch.Tensor:
        sequences = latest_sequences(histories, self.options.max_len)
        scores = torch.zeros(len(histories), histories.num_items)
        for start in range(0, len(histories), batch_size):
            block = sequences[start:start + batch_size]
            block = block[:, -max(int((block > 0).sum(1).max()), 1):].to(self.device)
            has = (block > 0).any(1)
            if has.any():
                hidden = self.network(block[has])[:, -1]
                scores[start:start + batch_size][has.cpu()] = self.network.logits(hidden).cpu()
        return scores
