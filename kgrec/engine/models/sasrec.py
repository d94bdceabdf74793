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

#: the architecture: embedding width, self-attention blocks, heads, longest sequence read (the
#: latest interactions of a longer history), dropout
SASREC_DIM, SASREC_BLOCKS, SASREC_HEADS, SASREC_MAX_LEN, SASREC_DROPOUT = 64, 2, 2, 200, 0.2
#: training: Adam's step, sequences per batch, the cap on epochs, validation every so many
#: epochs, and how many validations without improvement stop it
SASREC_LR, SASREC_BATCH, SASREC_MAX_EPOCHS, SASREC_EVAL_EVERY, SASREC_PATIENCE = 3e-3, 16, 60, 3, 3
#: items drawn uniformly per batch as the softmax's negatives (0: the whole catalogue, as
#: chosen: on ml-latest-small 1,024 drawn items were faster per epoch but needed more epochs and
#: ranked worse, see the README's quality section)
SASREC_NEGATIVES = 0
#: without a validation split: this many epochs
SASREC_DEFAULT_EPOCHS = 30


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
    cross-entropy of the next item over the whole catalogue (or, with :data:`SASREC_NEGATIVES`,
    over the target and that many items drawn uniformly per batch); :class:`SASRecNetwork` for
    the network. Adam, :data:`SASREC_LR`, batches of :data:`SASREC_BATCH` sequences of similar
    length.

    Fitting trains on the train interactions (one sequence per user, the latest
    :data:`SASREC_MAX_LEN` + 1, as in the paper), validates NDCG@20 every
    :data:`SASREC_EVAL_EVERY` epochs, stops after :data:`SASREC_PATIENCE` validations without
    improvement or at :data:`SASREC_MAX_EPOCHS`, keeps the best weights, then (as every other
    model refits on train + validation) trains a fresh network from the same seed on
    ``data.refit`` for the best epoch count. A user is scored from their history alone, its
    latest :data:`SASREC_MAX_LEN` interactions in timeline order (the stored order when the log
    has no timestamps), so a user the training graph never had is scored like any other. Reads
    ``seed`` and ``device`` of the config.
    """

    name = "sasrec"

    def __init__(self, config: TrainConfig):
        super().__init__(config)
        self.device = config.resolved_device()

    def _train(self, histories: Histories, epochs: int, validate=None) -> tuple[int, float, list]:
        """Train a fresh network on ``histories``' timelines for up to ``epochs``; with
        ``validate``, keep the best validated weights. Returns (best epoch, best score, history)."""
        seed_everything(self.config.seed)
        self.network = SASRecNetwork(histories.num_items, SASREC_DIM, SASREC_BLOCKS, SASREC_HEADS, SASREC_MAX_LEN,
                                     SASREC_DROPOUT).to(self.device)
        data = training_sequences(histories, SASREC_MAX_LEN)
        # batches of sequences of similar length (shuffled batch by batch), each cut to its longest
        lengths = (data.inputs > 0).sum(1)
        batches = torch.argsort(lengths, stable=True).split(SASREC_BATCH)
        optimizer = torch.optim.Adam(self.network.parameters(), lr=SASREC_LR, betas=(0.9, 0.98))
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
            if validate is None or (epoch % SASREC_EVAL_EVERY and epoch < epochs):
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
                if stale >= SASREC_PATIENCE:
                    break
        if best_state is not None:
            self.network.load_state_dict(best_state)
        self.network.eval()
        return best_epoch, best_score, trace

    def _loss(self, hidden: torch.Tensor, targets: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Cross-entropy of the next items ``targets`` after ``hidden``: over the whole catalogue,
        or over the target and :data:`SASREC_NEGATIVES` items drawn uniformly for the batch (a
        drawn item that is the target is left out of that row)."""
        num_items = self.network.items.num_embeddings - 1
        if not SASREC_NEGATIVES or SASREC_NEGATIVES >= num_items:
            return nn.functional.cross_entropy(self.network.logits(hidden), targets)
        drawn = torch.randint(num_items, (SASREC_NEGATIVES,), generator=generator).to(hidden.device)
        table = self.network.items.weight[1:]
        positive = (hidden * table[targets]).sum(-1, keepdim=True)
        negative = (hidden @ table[drawn].T).masked_fill(drawn[None, :] == targets[:, None], -torch.inf)
        logits = torch.cat([positive, negative], 1)
        return nn.functional.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.long, device=hidden.device))

    def fit(self, data: FitData) -> "SASRec":
        train = histories_from_columns(data.columns)
        if data.validate is None:
            self._train(train, SASREC_DEFAULT_EPOCHS)
            self.params = {"epochs": SASREC_DEFAULT_EPOCHS}
            return self
        best_epoch, best_score, trace = self._train(train, SASREC_MAX_EPOCHS, lambda: data.validate(self))
        self.params = {"best_epoch": best_epoch, "val_ndcg@20": best_score, "epochs_run": trace[-1]["epoch"]}
        if data.refit is not None:
            self._train(histories_from_columns(data.refit), best_epoch)
            self.params["refit_epochs"] = best_epoch
        return self

    @torch.no_grad()
    def score(self, histories: Histories, batch_size: int = 256) -> torch.Tensor:
        sequences = latest_sequences(histories, SASREC_MAX_LEN)
        scores = torch.zeros(len(histories), histories.num_items)
        for start in range(0, len(histories), batch_size):
            block = sequences[start:start + batch_size]
            block = block[:, -max(int((block > 0).sum(1).max()), 1):].to(self.device)
            has = (block > 0).any(1)
            if has.any():
                hidden = self.network(block[has])[:, -1]
                scores[start:start + batch_size][has.cpu()] = self.network.logits(hidden).cpu()
        return scores
