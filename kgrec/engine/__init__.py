"""The engine: from the graph in Neo4j to a published model, in the order the data flows.

- :mod:`~kgrec.engine.data`: what the graph is once pulled (columns, the flat view), users as
  interaction histories, the temporal split, and how training batches are sampled;
- :mod:`~kgrec.engine.training`: a run's options and the gradient training loop;
- :mod:`~kgrec.engine.models`: the :class:`~kgrec.engine.models.base.Recommender` interface, the
  registry, one file per model;
- :mod:`~kgrec.engine.evaluation`: ranking metrics, the offline comparison of every model, and
  the faithfulness of the explanations;
- :mod:`~kgrec.engine.neo4j`: everything that reads or writes the database: pull, write-back
  and its lock, saved models and the active one, the CSV export;
- :mod:`~kgrec.engine.pipeline`: train and publish, the one path through all of the above;
- :mod:`~kgrec.engine.fold_in`: one user's list from their current interactions with a saved
  model, without retraining (what the API serves after new interactions);
- :mod:`~kgrec.engine.commands`: the ``kgrec train / eval / recommend / export-recommendations``
  commands.

Each layer imports only the layers listed above it, never one below.
"""
