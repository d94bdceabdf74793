"""How good a model is: full-ranking metrics (:mod:`.metrics`), the offline comparison of every
registered model on one split (:mod:`.evaluate`, ``kgrec eval``), and whether the explanations
say what the frozen model used (:mod:`.faithfulness`, ``kgrec eval --explanations``)."""
