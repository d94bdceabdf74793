"""How much ranking quality does the neighbourhood solve of the item-item weights cost? (#27; JSON on stdout)

EASE's column j is the ridge regression of item j on every other item. The neighbourhood solve
(:func:`kgrec.engine.models.item_item.neighbourhood_ease`) fits it on item j's k strongest
partners only: k non-zeros per column, one k x k solve per item, no items x items
factorisation. This runs ``kgrec eval``'s protocol (each method's penalty chosen on validation)
on real data for EASE and for the published model (``attention``, whose ``item_item=auto``
takes the neighbourhood solve past ``DENSE_ITEMS_MAX`` items), dense and with k partners, and
reports each NDCG@20 against its dense form. Speed at scale is bench_train.py's.

    python bench/bench_sparse_item_item.py --movielens ~/.cache/kgrec-data/ml-latest-small \\
        --out bench/results/sparse_item_item.json
"""

from __future__ import annotations

import argparse
import logging
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from kgrec.engine.data.graph import columns_from_tabular
from kgrec.engine.evaluation.evaluate import run_evaluation
from kgrec.engine.models import MODELS
from kgrec.engine.models.base import FitData, closed_form_fit, interaction_matrix
from kgrec.engine.models.ease import EASE, EASEConfig
from kgrec.engine.models.item_item import neighbourhood_ease, sparse_gram_matrix
from kgrec.engine.training.config import TrainConfig
from kgrec.loaders import read_movielens
from recording import print_and_record


@dataclass
class NeighbourhoodEASEConfig(EASEConfig):
    neighbours: int = 128


class NeighbourhoodEASE(EASE):
    """EASE with the neighbourhood solve (the baseline itself stays dense in ``kgrec eval``)."""

    name = "ease_neighbourhood"
    options_class = NeighbourhoodEASEConfig

    def fit(self, data: FitData) -> "NeighbourhoodEASE":
        gram: list = [None, None]

        def fit_on(train, lambda_reg) -> None:
            if gram[0] is not train:
                gram[:] = [train, sparse_gram_matrix(train)]
            solved = neighbourhood_ease(gram[1], (lambda_reg,), self.options.neighbours)[0]
            self.weights = torch.from_numpy(solved.toarray())  # EASE scores with a dense B

        self.params = {"lambda": closed_form_fit(data, self.options.lambdas, self.options.default_lambda, fit_on, self)}
        return self


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movielens", type=Path, required=True, help="a MovieLens folder (ml-latest-small)")
    parser.add_argument("--ease-neighbours", type=int, nargs="*", default=[64, 128, 256],
                        help="partners per item tried for EASE (default 64 128 256)")
    parser.add_argument("--attention-neighbours", type=int, nargs="*", default=[64, 128],
                        help="partners per item tried for the published model (default 64 128)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--out", type=Path, help="also record the run in this JSON file, keyed by dataset")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # one line per method fitted
    torch.set_num_threads(args.threads)
    columns = columns_from_tabular(read_movielens(args.movielens))
    methods, options, dense_of = ["ease", "attention"], {"attention": {"item_item": "dense"}}, {}
    for k in args.ease_neighbours:
        MODELS[f"ease_k{k}"] = NeighbourhoodEASE
        methods.append(f"ease_k{k}")
        options[f"ease_k{k}"], dense_of[f"ease_k{k}"] = {"neighbours": k}, "ease"
    for k in args.attention_neighbours:
        MODELS[f"attention_k{k}"] = MODELS["attention"]
        methods.append(f"attention_k{k}")
        options[f"attention_k{k}"] = {"item_item": "neighbourhood", "neighbours": k}
        dense_of[f"attention_k{k}"] = "attention"
    results = run_evaluation(columns, TrainConfig(seed=0), ks=(20,), methods=methods, options=options)
    table = {method: {"neighbours": options.get(method, {}).get("neighbours"),
                      "ndcg@20": round(r["ndcg@20"], 4), "recall@20": round(r["recall@20"], 4),
                      "ndcg@20_vs_dense": round(r["ndcg@20"] / results[dense_of.get(method, method)]["ndcg@20"], 4),
                      "lambda": r["params"]["lambda"], "fit_seconds": r["fit_seconds"]}
             for method, r in results.items()}
    result = {"benchmark": "sparse_item_item", "data": args.movielens.name, "python": platform.python_version(),
              "threads": args.threads, "items": interaction_matrix(columns).shape[1], "methods": table}
    print_and_record(result, args.out, args.movielens.name)


if __name__ == "__main__":
    main()
