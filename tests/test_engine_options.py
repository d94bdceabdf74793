"""A model's options: ``--set name=value`` text and checkpoint values become the model's own
dataclass, typed; a name the model does not read is refused; ``--help`` lists every model's.
No database: ``kgrec eval --sample`` runs on the synthetic sample."""

from __future__ import annotations

import json

import pytest

from kgrec.cli import main
from kgrec.engine.models.base import UnknownModelError, create
from kgrec.engine.models.ease import EASEConfig
from kgrec.engine.models.item_graph_attention import ItemGraphAttentionConfig
from kgrec.engine.models.kgat import KGATConfig
from kgrec.engine.models.options import UnknownOptionError, build_options
from kgrec.engine.training.config import TrainConfig


def test_text_values_are_converted_to_the_fields_types():
    options = build_options(ItemGraphAttentionConfig, "attention",
                            {"lambdas": "10, 30", "inner_holdout": "0.2", "steps": "7"})
    assert options == ItemGraphAttentionConfig(lambdas=(10.0, 30.0), inner_holdout=0.2, steps=7)
    assert build_options(KGATConfig, "kgat", {"fanouts": [4, 3]}).fanouts == (4, 3)  # a checkpoint's list
    assert build_options(ItemGraphAttentionConfig, "attention", {"taus": "", "floors": "0.1"}).taus == ()


def test_create_gives_the_model_its_options_and_the_run_its_config():
    model = create("ease", TrainConfig(seed=3), {"lambdas": "5,7", "default_lambda": "7"})
    assert model.options == EASEConfig(lambdas=(5.0, 7.0), default_lambda=7.0) and model.config.seed == 3


@pytest.mark.parametrize("values,message", [
    ({"epochs": "5"}, "model 'attention' does not read epochs; it reads: lambdas, knowledge_shares, inner_holdout, "
                      "steps, users_per_step, negatives, dim"),
    ({"steps": "many"}, "model 'attention': option steps='many'"),
    ({"lambdas": "1,x"}, "model 'attention': option lambdas='1,x'"),
])
def test_options_the_model_does_not_read_or_cannot_hold_are_refused(values, message):
    with pytest.raises(UnknownOptionError) as raised:
        create("attention", TrainConfig(), values)
    assert str(raised.value).startswith(message)


def test_an_unknown_model_is_a_kgrec_error_naming_the_registered_ones():
    with pytest.raises(UnknownModelError, match="unknown model 'nope'; the registered models are attention, kgat"):
        create("nope", TrainConfig())


def test_eval_set_reaches_the_models_that_read_it(tmp_path, capsys):
    out = tmp_path / "metrics.json"
    assert main(["eval", "--sample", "60", "--methods", "item_knn", "popularity", "--k", "20", "--threads", "1",
                 "--set", "sizes=3,5", "--set", "default_size=5", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["item_knn"]["params"]["k"] in (3, 5) and results["popularity"]["params"] == {}


@pytest.mark.parametrize("command", ["train", "eval"])
def test_help_lists_every_models_options(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    shown = capsys.readouterr().out
    assert done.value.code == 0 and "--set NAME=VALUE" in shown
    assert "attention     lambdas=100.0,300.0,1000.0 knowledge_shares=0.01,0.1,1.0" in shown
    assert "lightgcn      dim=64 layers=2 epochs=40" in shown and "popularity    (no options)" in shown
    # the longest name keeps a gap, and a default made by a factory shows its value
    assert "ease_recency  lambdas=" in shown and "default_lambda=200.0 default_tau" in shown
